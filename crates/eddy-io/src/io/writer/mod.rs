//! [`StreamWriter`]: asyncio's `StreamWriter` over any `AsyncWrite`.
//!
//! Like an asyncio transport, the writer sends in the background: `write`
//! only appends to a buffer, and a small per-writer *flusher* task (spawned
//! on the first write) pushes the buffer into the stream whenever the loop
//! gets to it. So data goes out even if nobody awaits `drain`, and a batch
//! of `write` calls made in one go leaves in one system call.
//!
//! `drain` is the back-pressure point. When the flusher is idle it writes
//! directly (saving a task switch); otherwise it waits for the flusher to
//! bring the buffer under the low-water mark.
//!
//! State lives in an `Rc<RefCell<Shared>>` held by the writer and the
//! flusher; the writer's drop asks the flusher to finish sending and shut
//! the stream down, so `write(b"bye")` followed by returning delivers
//! `bye`.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_io::AsyncWrite;

use super::WriteError;

mod extra_info;
mod file_source;
mod sendfile;
#[cfg(feature = "net")]
mod sendfile_direct;
mod shared;
#[cfg(feature = "net")]
mod socket;

pub(crate) use file_source::{FileSource, FALLBACK_BUF};
pub(crate) use shared::AbortHandle;
use shared::{kick, Flusher, Shared};
#[cfg(feature = "net")]
pub(crate) use socket::SocketLink;
#[cfg(feature = "net")]
pub use socket::TransportSocket;

use super::read_end::ReadEnd;

/// The write half type behind a socket-backed [`StreamWriter`]. Box any
/// writer into it to hand a test double, a file or a pipe to code written
/// for socket writers.
///
/// # Example
///
/// ```
/// use eddy_io::io::{BoxedWriter, StreamWriter};
///
/// eddy_core::run(async {
///     let boxed: BoxedWriter = Box::new(futures::io::sink());
///     let mut writer: StreamWriter = StreamWriter::new(boxed);
///     writer.write(b"PONG\r\n").unwrap();
///     writer.drain().await.unwrap();
/// });
/// ```
pub type BoxedWriter = Box<dyn AsyncWrite + Unpin>;

/// The default high-water mark: 64 KiB, as in asyncio. `drain` waits while
/// more than this is buffered; the low-water mark defaults to a quarter of
/// it. Change both with [`StreamWriter::set_write_buffer_limits`].
///
/// # Example
///
/// ```
/// use eddy_io::io::{StreamWriter, DEFAULT_HIGH_WATER};
///
/// let writer = StreamWriter::new(futures::io::sink());
/// assert_eq!(writer.write_buffer_limits(), (DEFAULT_HIGH_WATER / 4, DEFAULT_HIGH_WATER));
/// ```
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;

/// asyncio's `StreamWriter`: buffered writes with a background flusher and
/// high/low-water back-pressure, over any [`AsyncWrite`].
///
/// [`write`](Self::write) never waits; await [`drain`](Self::drain) after
/// writing to respect back-pressure (it returns at once unless more than
/// the high-water mark is buffered). Writers must be created and used on an
/// eddy loop thread (the flusher is an eddy task).
///
/// Dropping the writer without [`close`](Self::close) still sends what is
/// buffered, then shuts the stream down (dropped where no loop runs any
/// more, a stream that cannot shut down at once is dropped as it is).
///
/// The buffer holds the unsent bytes, not what was sent before them, and
/// once a large write has been handed to the stream in full its memory is
/// freed rather than kept for the writer's life (a buffer of up to twice
/// the high-water mark is kept for reuse).
///
/// # Example
///
/// ```
/// use eddy_io::io::StreamWriter;
///
/// eddy_core::run(async {
///     let mut writer = StreamWriter::new(futures::io::Cursor::new(Vec::new()));
///     writer.write(b"hello ").unwrap();
///     writer.write(b"world").unwrap();
///     writer.drain().await.unwrap();
///     writer.close();
///     writer.wait_closed().await;
///     assert!(writer.is_closing());
/// });
/// ```
pub struct StreamWriter<W: AsyncWrite + Unpin + 'static = BoxedWriter> {
    shared: Rc<RefCell<Shared<W>>>,
    peer: Option<SocketAddr>,
    /// The local address, once asked for (asyncio's `sockname`).
    local: Cell<Option<SocketAddr>>,
    /// The socket, for the socket forms (see `socket.rs`).
    #[cfg(feature = "net")]
    socket: Option<SocketLink>,
}

impl<W: AsyncWrite + Unpin + 'static> StreamWriter<W> {
    /// Wraps `io` with the default water marks (high 64 KiB, low 16 KiB).
    ///
    /// # Example
    ///
    /// ```
    /// let writer = eddy_io::io::StreamWriter::new(futures::io::sink());
    /// assert_eq!(writer.write_buffer_limits(), (16 * 1024, 64 * 1024));
    /// ```
    pub fn new(io: W) -> StreamWriter<W> {
        StreamWriter {
            shared: Rc::new(RefCell::new(Shared {
                io: Some(io),
                buf: Vec::new(),
                start: 0,
                unflushed: false,
                high: DEFAULT_HIGH_WATER,
                low: DEFAULT_HIGH_WATER / 4,
                flusher: Flusher::NotSpawned,
                flusher_waker: None,
                waiter: None,
                closed_waiters: Vec::new(),
                error: None,
                closing: false,
                eof: false,
                shut_down: false,
                abort: false,
                discarded: 0,
                _guard: None,
                read_end: None,
                file_in_flight: false,
            })),
            peer: None,
            local: Cell::new(None),
            #[cfg(feature = "net")]
            socket: None,
        }
    }

    /// Appends `data` to the write buffer; never waits. When nothing was
    /// queued, the stream is tried at once (as asyncio's transports do) and
    /// only what it does not take is left to the flusher, which sends it as
    /// the stream becomes writable.
    ///
    /// # Errors
    ///
    /// [`WriteError::Closing`] after [`close`](Self::close) or
    /// [`write_eof`](Self::write_eof); [`WriteError::Aborted`] after
    /// [`abort`](Self::abort) (or the server's `abort_clients`);
    /// [`WriteError::Io`] if an earlier write failed. In every case `data`
    /// is not buffered.
    ///
    /// # Panics
    ///
    /// With no eddy runtime on this thread (the first write spawns the
    /// flusher task).
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut writer = eddy_io::io::StreamWriter::new(futures::io::sink());
    ///     // The sink takes everything, so nothing stays queued.
    ///     writer.write(b"sent").unwrap();
    ///     assert_eq!(writer.buffered_len(), 0);
    /// });
    /// ```
    pub fn write(&mut self, data: &[u8]) -> Result<(), WriteError> {
        {
            let mut s = self.shared.borrow_mut();
            if let Some(e) = s.error() {
                return Err(e);
            }
            if s.closing || s.eof || s.done() {
                return Err(WriteError::Closing);
            }
            if data.is_empty() {
                return Ok(());
            }
            let was_empty = s.buffered() == 0;
            s.append(data);
            // Like asyncio's transports: with nothing queued and no flusher
            // at work, try the stream right away. Most writes of a
            // request/response exchange finish here, without a flusher
            // task poll; only what does not fit is left to the flusher.
            if was_empty && matches!(s.flusher, Flusher::Idle | Flusher::NotSpawned) {
                let waker = futures_util::task::noop_waker();
                if s.poll_write_buf(&mut Context::from_waker(&waker))
                    .is_ready()
                {
                    return Ok(());
                }
            }
        }
        kick(&self.shared);
        Ok(())
    }

    /// Writes every buffer of `parts` (asyncio's `writelines`).
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut writer = eddy_io::io::StreamWriter::new(futures::io::sink());
    ///     writer.write_all_parts(&[b"a", b"bc"]).unwrap();
    ///     writer.flush().await.unwrap();
    ///     assert_eq!(writer.buffered_len(), 0);
    /// });
    /// ```
    pub fn write_all_parts(&mut self, parts: &[&[u8]]) -> Result<(), WriteError> {
        for p in parts {
            self.write(p)?;
        }
        Ok(())
    }

    /// Waits for the write buffer to drain enough: returns at once while at
    /// most the high-water mark is buffered; above it, waits until the
    /// buffer falls to the low-water mark.
    ///
    /// # Errors
    ///
    /// * [`WriteError::Io`] if writing failed (the connection is unusable).
    /// * [`WriteError::Aborted`] if the writer was aborted, before or
    ///   while waiting ([`abort`](Self::abort), or the server's
    ///   `abort_clients`): what was buffered was thrown away, as asyncio's
    ///   `drain` raises `ConnectionResetError` then.
    ///
    /// After a graceful [`close`](Self::close) has finished, everything
    /// written was sent, so `drain` returns `Ok` (asyncio would raise
    /// `ConnectionResetError` even then).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it loses no data; the flusher keeps sending
    /// the buffer in the background.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut writer = eddy_io::io::StreamWriter::new(futures::io::Cursor::new(Vec::new()));
    ///     writer.write(&[0; 100_000]).unwrap();
    ///     writer.drain().await.unwrap();
    ///     assert!(writer.buffered_len() <= 16 * 1024);
    /// });
    /// ```
    pub async fn drain(&mut self) -> Result<(), WriteError> {
        let mut waiting = false;
        poll_fn(|cx| self.poll_drain(cx, &mut waiting, false)).await
    }

    /// Like [`drain`](Self::drain) but waits for an empty buffer
    /// (everything handed to the stream).
    ///
    /// # Errors
    ///
    /// As [`drain`](Self::drain): [`WriteError::Io`] if writing failed,
    /// [`WriteError::Aborted`] if the writer was aborted.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as `drain`.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut writer = eddy_io::io::StreamWriter::new(futures::io::sink());
    ///     writer.write(b"x").unwrap();
    ///     writer.flush().await.unwrap();
    ///     assert_eq!(writer.buffered_len(), 0);
    /// });
    /// ```
    pub async fn flush(&mut self) -> Result<(), WriteError> {
        let mut waiting = true;
        poll_fn(|cx| self.poll_drain(cx, &mut waiting, true)).await
    }

    fn poll_drain(
        &mut self,
        cx: &mut Context<'_>,
        waiting: &mut bool,
        to_empty: bool,
    ) -> Poll<Result<(), WriteError>> {
        let mut s = self.shared.borrow_mut();
        if let Some(e) = s.error() {
            return Poll::Ready(Err(e));
        }
        let direct = matches!(s.flusher, Flusher::Idle | Flusher::NotSpawned);
        if direct && !s.settled() && s.poll_write_buf(cx).is_pending() {
            // The stream is full: hand over to the flusher, which
            // re-registers its own waker with the stream.
            drop(s);
            kick(&self.shared);
            s = self.shared.borrow_mut();
        }
        if let Some(e) = s.error() {
            return Poll::Ready(Err(e));
        }
        if !*waiting && s.buffered() <= s.high {
            return Poll::Ready(Ok(()));
        }
        *waiting = true;
        let enough = if to_empty {
            s.settled()
        } else {
            s.buffered() <= s.low
        };
        if enough || s.done() {
            return Poll::Ready(Ok(()));
        }
        s.waiter = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Bytes buffered and not yet handed to the stream (asyncio's
    /// `transport.get_write_buffer_size()`).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(eddy_io::io::StreamWriter::new(futures::io::sink()).buffered_len(), 0);
    /// ```
    pub fn buffered_len(&self) -> usize {
        self.shared.borrow().buffered()
    }

    /// Sets the water marks: `drain` waits while more than `high` bytes are
    /// buffered, until at most `low` are (default `high / 4`).
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `low > high`; the marks are unchanged.
    ///
    /// # Example
    ///
    /// ```
    /// let mut writer = eddy_io::io::StreamWriter::new(futures::io::sink());
    /// writer.set_write_buffer_limits(1000, None).unwrap();
    /// assert_eq!(writer.write_buffer_limits(), (250, 1000));
    /// assert!(writer.set_write_buffer_limits(10, Some(20)).is_err());
    /// ```
    pub fn set_write_buffer_limits(&mut self, high: usize, low: Option<usize>) -> io::Result<()> {
        let low = low.unwrap_or(high / 4);
        if low > high {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("low-water mark {low} is above high-water mark {high}; pass low <= high"),
            ));
        }
        let mut s = self.shared.borrow_mut();
        s.high = high;
        s.low = low;
        Ok(())
    }

    /// The `(low, high)` water marks (asyncio's
    /// `get_write_buffer_limits()`).
    ///
    /// # Example
    ///
    /// ```
    /// let writer = eddy_io::io::StreamWriter::new(futures::io::sink());
    /// assert_eq!(writer.write_buffer_limits(), (16384, 65536));
    /// ```
    pub fn write_buffer_limits(&self) -> (usize, usize) {
        let s = self.shared.borrow();
        (s.low, s.high)
    }

    /// Sends what is buffered, then shuts down the write direction (a TCP
    /// FIN); the peer reads end of file while this side can still read.
    /// Further writes fail with [`WriteError::Closing`].
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut writer = eddy_io::io::StreamWriter::new(futures::io::sink());
    ///     writer.write_eof();
    ///     assert!(writer.write(b"x").is_err());
    /// });
    /// ```
    pub fn write_eof(&mut self) {
        let mut s = self.shared.borrow_mut();
        if s.eof || s.closing {
            return;
        }
        s.eof = true;
        drop(s);
        kick(&self.shared);
    }

    /// Starts closing: what is buffered is still sent, then the stream is
    /// shut down and dropped. Await [`wait_closed`](Self::wait_closed) to
    /// know when that is done.
    ///
    /// On a socket's writer (from [`open_connection`](crate::io::open_connection),
    /// a server's handler, or their Unix forms) it ends the connection both
    /// ways, as asyncio's `close()` does: the paired
    /// [`StreamReader`](crate::io::StreamReader) returns what it already
    /// holds, then end of stream, at once, even while another task waits
    /// on it; what the peer sends afterwards is not read. To stop writing
    /// but keep reading the peer's answer, use
    /// [`write_eof`](Self::write_eof). Dropping the writer without `close`
    /// also only shuts the write side.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut writer = eddy_io::io::StreamWriter::new(futures::io::sink());
    ///     writer.close();
    ///     assert!(writer.is_closing());
    ///     writer.wait_closed().await;
    /// });
    /// ```
    pub fn close(&mut self) {
        let mut s = self.shared.borrow_mut();
        s.end_reader();
        if s.closing {
            return;
        }
        s.closing = true;
        drop(s);
        kick(&self.shared);
    }

    /// Closes at once, dropping whatever is buffered (asyncio's
    /// `transport.abort()`): use it for a peer that stopped reading.
    /// From then on [`write`](Self::write), [`drain`](Self::drain),
    /// [`flush`](Self::flush) and `AsyncWrite::poll_close` fail with
    /// [`WriteError::Aborted`], which says how many bytes were dropped.
    /// On a writer that has already closed or failed it drops nothing.
    /// Like [`close`](Self::close), it ends a socket's paired reader.
    ///
    /// On a socket's writer (from [`open_connection`](crate::io::open_connection),
    /// a server's handler, or their Unix forms) the socket is closed at
    /// once, even while the paired reader is kept, and without the orderly
    /// shutdown of [`close`](Self::close) first: as after asyncio's
    /// `abort()`, the peer sees a reset if data it sent was still unread
    /// here, and an end of stream otherwise.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_io::io::{StreamWriter, WriteError};
    ///
    /// eddy_core::run(async {
    ///     let mut writer = StreamWriter::new(futures::io::sink());
    ///     writer.write(b"sent").unwrap(); // the sink takes it at once
    ///     writer.abort();
    ///     assert_eq!(writer.buffered_len(), 0);
    ///     assert!(matches!(writer.drain().await, Err(WriteError::Aborted { discarded: 0 })));
    ///     assert!(matches!(writer.write(b"late"), Err(WriteError::Aborted { .. })));
    ///     writer.wait_closed().await;
    /// });
    /// ```
    pub fn abort(&mut self) {
        self.abort_handle().abort();
    }

    /// True after [`close`](Self::close), or once the stream failed or was
    /// closed by its server.
    ///
    /// # Example
    ///
    /// ```
    /// let writer = eddy_io::io::StreamWriter::new(futures::io::sink());
    /// assert!(!writer.is_closing());
    /// ```
    pub fn is_closing(&self) -> bool {
        let s = self.shared.borrow();
        s.closing || s.done()
    }

    /// Waits until the stream is closed: after [`close`](Self::close) once
    /// the buffer is sent and the stream shut down, or after a write error.
    ///
    /// [`write_eof`](Self::write_eof) alone does not close the stream (the
    /// peer may still answer), so after it this waits until `close` or an
    /// error, as asyncio's `wait_closed` does. To wait until what was
    /// written before `write_eof` has been handed to the stream, await
    /// [`flush`](Self::flush).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only observes; closing goes on in the background.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut writer = eddy_io::io::StreamWriter::new(futures::io::sink());
    ///     writer.write(b"bye").unwrap();
    ///     writer.close();
    ///     writer.wait_closed().await;
    ///     assert_eq!(writer.buffered_len(), 0);
    /// });
    /// ```
    pub async fn wait_closed(&self) {
        poll_fn(|cx| {
            let mut s = self.shared.borrow_mut();
            if s.done() {
                return Poll::Ready(());
            }
            crate::io::wait_on(&mut s.closed_waiters, cx.waker());
            Poll::Pending
        })
        .await
    }

    /// Attaches `guard`, dropped when the stream is closed (or failed, or
    /// aborted), or else when the writer and its flusher are both gone
    /// (the server counts live connections with it).
    #[cfg_attr(not(feature = "net"), allow(dead_code))]
    pub(crate) fn set_guard(&mut self, guard: Box<dyn Any>) {
        self.shared.borrow_mut()._guard = Some(guard);
    }

    /// Pairs the writer with a reader that an explicit `close`/`abort`
    /// ends (see `io::read_end`): the socket forms do this.
    #[cfg_attr(not(feature = "net"), allow(dead_code))]
    pub(crate) fn set_read_end(&mut self, end: ReadEnd) {
        self.shared.borrow_mut().read_end = Some(end);
    }

    /// A handle that can close or abort the writer from elsewhere.
    pub(crate) fn abort_handle(&self) -> AbortHandle<W> {
        AbortHandle(Rc::downgrade(&self.shared))
    }
}

impl<W: AsyncWrite + Unpin + 'static> Drop for StreamWriter<W> {
    fn drop(&mut self) {
        let Ok(mut s) = self.shared.try_borrow_mut() else {
            return;
        };
        s.closing = true;
        match s.flusher {
            // No flusher (nothing ever waited): everything written went out
            // directly. Shut the stream down now; only a stream that
            // cannot close at once needs the flusher for it.
            Flusher::NotSpawned => {
                if s.shut_down || s.done() {
                    return;
                }
                let waker = futures_util::task::noop_waker();
                let io = s.io.as_mut().expect("checked above");
                match Pin::new(io).poll_close(&mut Context::from_waker(&waker)) {
                    Poll::Ready(_) => {
                        s.shut_down = true;
                        s.finish();
                    }
                    // Finishing needs the flusher task; a writer dropped
                    // where no loop runs (it outlived its runtime) has none
                    // to run it, and spawning would panic in a destructor:
                    // the stream is dropped as it is.
                    Poll::Pending if eddy_core::Handle::try_current().is_none() => s.finish(),
                    Poll::Pending => {
                        drop(s);
                        kick(&self.shared);
                    }
                }
            }
            Flusher::Idle => {
                s.flusher = Flusher::Running;
                if let Some(w) = s.flusher_waker.take() {
                    w.wake();
                }
            }
            Flusher::Running | Flusher::Exited => {}
        }
    }
}

impl<W: AsyncWrite + Unpin + 'static> std::fmt::Debug for StreamWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.shared.borrow();
        f.debug_struct("StreamWriter")
            .field("buffered", &s.buffered())
            .field("closing", &s.closing)
            .field("peer", &self.peer)
            .finish()
    }
}

impl<W: AsyncWrite + Unpin + 'static> AsyncWrite for StreamWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let over = {
            let s = this.shared.borrow();
            s.buffered() > s.high
        };
        if over {
            let mut waiting = true;
            std::task::ready!(this.poll_drain(cx, &mut waiting, false))?;
        }
        this.write(data)?;
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut waiting = true;
        self.get_mut()
            .poll_drain(cx, &mut waiting, true)
            .map_err(io::Error::from)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.close();
        let mut s = this.shared.borrow_mut();
        if s.done() {
            return Poll::Ready(match s.error() {
                Some(e) => Err(e.into()),
                None => Ok(()),
            });
        }
        crate::io::wait_on(&mut s.closed_waiters, cx.waker());
        Poll::Pending
    }
}
