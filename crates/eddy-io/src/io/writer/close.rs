//! Closing a [`StreamWriter`]: `write_eof`, `close`, `abort`,
//! `is_closing`, `wait_closed`, and what dropping the writer does (send
//! what is buffered, then shut the stream down).

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncWrite;

use super::{kick, Flusher, StreamWriter};
#[cfg(doc)]
use crate::io::WriteError;

impl<W: AsyncWrite + Unpin + 'static> StreamWriter<W> {
    /// Sends what is buffered, then shuts down the write direction (a TCP
    /// FIN); the peer reads end of file while this side can still read.
    /// Further writes fail with [`WriteError::Closing`].
    ///
    /// # Panics
    ///
    /// With no eddy runtime on this thread when the writer has not started
    /// sending yet (closing starts the task that sends), as
    /// [`write`](Self::write).
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
    /// # Panics
    ///
    /// With no eddy runtime on this thread when the writer has not started
    /// sending yet (closing starts the task that sends), as
    /// [`write`](Self::write).
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
