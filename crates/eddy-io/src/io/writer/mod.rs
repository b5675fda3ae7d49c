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
//!
//! This file holds the writer and `write`; back-pressure (`drain`, the
//! water marks) is in `drain.rs`, closing in `close.rs`, the socket forms
//! and `sendfile` in their own files.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_io::AsyncWrite;

use super::WriteError;

mod close;
mod drain;
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
