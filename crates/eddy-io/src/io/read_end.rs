//! How closing a socket's [`StreamWriter`](super::StreamWriter) ends its
//! [`StreamReader`](super::StreamReader), as asyncio's `transport.close()`
//! ends the protocol's reader.
//!
//! The socket forms (`open_connection`, a server's handler pair and their
//! Unix versions) wrap the read half in [`EndOnClose`] and give the writer
//! the other end, a [`ReadEnd`]. An explicit `close()`/`abort()` (by the
//! writer or its server) calls [`ReadEnd::end`]: from then on the read half
//! reports end of stream without touching the socket, and a task waiting to
//! read is woken. What the `StreamReader` already buffered stays readable.
//!
//! Nothing is shut down at the socket (no `SHUT_RD`): on Linux, data that
//! arrives after `shutdown(SHUT_RD)` resets the connection, while here it
//! just waits in the kernel until the socket is dropped, as it does under
//! asyncio, whose `close()` stops reading and later closes the socket.
//! Dropping the writer without `close()` ends nothing, so a half-close
//! (`write_eof()`, or simply dropping the writer) keeps the reader going.

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_io::AsyncRead;

/// The state an [`EndOnClose`] reader shares with the writer's [`ReadEnd`].
#[derive(Default)]
struct Shared {
    /// Set once by [`ReadEnd::end`]; never cleared.
    ended: Cell<bool>,
    /// The task last told `Pending` by the reader, woken by `end`.
    waker: Cell<Option<Waker>>,
}

/// The writer's side: ends the paired reader. Dropping it ends nothing.
pub(crate) struct ReadEnd(Rc<Shared>);

impl ReadEnd {
    /// Makes the paired reader report end of stream from now on and wakes
    /// a task waiting on it. Idempotent.
    pub(crate) fn end(&self) {
        self.0.ended.set(true);
        if let Some(w) = self.0.waker.take() {
            w.wake();
        }
    }
}

/// A read half that reports end of stream once its [`ReadEnd`] was ended.
pub(crate) struct EndOnClose<R> {
    inner: R,
    shared: Rc<Shared>,
}

/// Wraps `inner`; the [`ReadEnd`] goes to the writer.
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub(crate) fn end_on_close<R>(inner: R) -> (EndOnClose<R>, ReadEnd) {
    let shared = Rc::new(Shared::default());
    (
        EndOnClose {
            inner,
            shared: shared.clone(),
        },
        ReadEnd(shared),
    )
}

impl<R> EndOnClose<R> {
    /// Remembers `cx`'s waker for [`ReadEnd::end`] (the inner read has
    /// registered it with the socket too).
    fn wait(&self, cx: &mut Context<'_>) {
        let old = self.shared.waker.take();
        let waker = match old {
            Some(w) if w.will_wake(cx.waker()) => w,
            _ => cx.waker().clone(),
        };
        self.shared.waker.set(Some(waker));
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for EndOnClose<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.shared.ended.get() {
            return Poll::Ready(Ok(0));
        }
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if polled.is_pending() {
            self.wait(cx);
        }
        polled
    }

    fn poll_read_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [io::IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.shared.ended.get() {
            return Poll::Ready(Ok(0));
        }
        let polled = Pin::new(&mut self.inner).poll_read_vectored(cx, bufs);
        if polled.is_pending() {
            self.wait(cx);
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    use super::*;

    /// A reader that is never ready.
    struct Never;

    impl AsyncRead for Never {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Pending
        }
    }

    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn ending_wakes_the_waiting_reader_and_reads_return_end_of_stream() {
        let (mut reader, end) = end_on_close(Never);
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut buf = [0u8; 4];
        assert!(Pin::new(&mut reader)
            .poll_read(&mut cx, &mut buf)
            .is_pending());
        assert!(!flag.0.load(Ordering::SeqCst));
        end.end();
        assert!(
            flag.0.load(Ordering::SeqCst),
            "the waiting task was not woken"
        );
        match Pin::new(&mut reader).poll_read(&mut cx, &mut buf) {
            Poll::Ready(Ok(0)) => {}
            other => panic!("expected end of stream, got {other:?}"),
        }
    }

    #[test]
    fn data_before_the_end_is_read_and_dropping_the_end_ends_nothing() {
        let (mut reader, end) = end_on_close(&b"abc"[..]);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut buf = [0u8; 2];
        drop(end);
        match Pin::new(&mut reader).poll_read(&mut cx, &mut buf) {
            Poll::Ready(Ok(2)) => assert_eq!(&buf, b"ab"),
            other => panic!("expected two bytes, got {other:?}"),
        }
    }
}
