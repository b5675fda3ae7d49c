//! How closing a socket's [`StreamWriter`](super::StreamWriter) ends its
//! [`StreamReader`](super::StreamReader), as asyncio's `transport.close()`
//! ends the protocol's reader, and how aborting it closes the socket.
//!
//! The socket forms (`open_connection`, a server's handler pair and their
//! Unix versions) wrap the read half in [`EndOnClose`] and the write half
//! in [`ResetOnAbort`], and give the writer a [`ReadEnd`]. An explicit
//! `close()`/`abort()` (by the writer or its server) calls [`ReadEnd::end`]:
//! from then on the read half reports end of stream without touching the
//! socket, and a task waiting to read is woken. What the `StreamReader`
//! already buffered stays readable.
//!
//! Nothing is shut down at the socket by `close` (no `SHUT_RD`): on Linux,
//! data that arrives after `shutdown(SHUT_RD)` resets the connection, while
//! here it just waits in the kernel until the socket is dropped, as it does
//! under asyncio, whose `close()` stops reading and later closes the socket.
//! Dropping the writer without `close()` ends nothing, so a half-close
//! (`write_eof()`, or simply dropping the writer) keeps the reader going.
//!
//! `abort()` calls [`ReadEnd::abort`]: the read half is dropped at once
//! and the write half goes without its orderly shutdown, so the socket
//! itself is closed as soon as the writer lets go of the stream, as
//! asyncio's `transport.abort()` closes its socket: the kernel resets the
//! connection if data we never read is queued, and sends an end of stream
//! otherwise. (Shutting the write side first, as a graceful close does,
//! would tell the peer "finished" before the reset, and a peer that reads
//! first could not tell an abort from a complete reply.)

// Only the socket forms (behind `net`) wrap halves; without them a
// writer merely carries an empty `Option<ReadEnd>`.
#![cfg_attr(not(feature = "net"), allow(dead_code))]

use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use futures_io::{AsyncRead, AsyncWrite};

/// What the reader, the write half and the writer's [`ReadEnd`] share.
#[derive(Default)]
struct Flags {
    /// Set once by [`ReadEnd::end`]; never cleared.
    ended: Cell<bool>,
    /// Set once by [`ReadEnd::abort`]: close the socket, do not shut its
    /// write side down first.
    aborted: Cell<bool>,
    /// The task last told `Pending` by the reader, woken by `end`.
    waker: Cell<Option<Waker>>,
}

impl Flags {
    fn end(&self) {
        self.ended.set(true);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

/// The read half, owned by the reader (so it lives exactly as long as
/// the reader, unless an abort drops it first); `None` once dropped.
type Slot<R> = RefCell<Option<R>>;

/// Drops a read half whatever its type: what [`ReadEnd::abort`] needs.
trait Release {
    fn release(&self);
}

impl<R> Release for Slot<R> {
    fn release(&self) {
        // Never borrowed here: only a poll of the read half borrows it, and
        // nothing in that poll aborts a writer. Were it borrowed, that poll
        // sees `aborted` next time and drops the half itself.
        if let Ok(mut half) = self.try_borrow_mut() {
            drop(half.take());
        }
    }
}

/// The writer's side: ends the paired reader. Dropping it ends nothing.
pub(crate) struct ReadEnd {
    flags: Rc<Flags>,
    half: Weak<dyn Release>,
}

impl ReadEnd {
    /// Makes the paired reader report end of stream from now on and wakes
    /// a task waiting on it. Idempotent.
    pub(crate) fn end(&self) {
        self.flags.end();
    }

    /// As [`end`](Self::end), and also drops the read half now and makes
    /// the write half skip its orderly shutdown when it is dropped: the
    /// socket closes as soon as the writer drops its stream (see the
    /// module docs). Idempotent.
    pub(crate) fn abort(&self) {
        self.flags.aborted.set(true);
        self.flags.end();
        if let Some(half) = self.half.upgrade() {
            half.release();
        }
    }
}

/// A write half that can be dropped without shutting its direction down
/// first (a socket's owned write half does that shutdown in its `Drop`).
pub(crate) trait SkipShutdown {
    /// Makes the coming drop leave the socket as it is: no FIN.
    fn skip_shutdown(&mut self);
}

/// A read half that reports end of stream once its [`ReadEnd`] was ended.
pub(crate) struct EndOnClose<R> {
    flags: Rc<Flags>,
    half: Rc<Slot<R>>,
}

/// A write half that, after [`ReadEnd::abort`], is dropped without its
/// orderly shutdown.
pub(crate) struct ResetOnAbort<W: SkipShutdown> {
    inner: W,
    flags: Rc<Flags>,
}

/// Wraps a socket's halves; the [`ReadEnd`] goes to the writer.
pub(crate) fn end_on_close<R: 'static, W: SkipShutdown>(
    read: R,
    write: W,
) -> (EndOnClose<R>, ResetOnAbort<W>, ReadEnd) {
    let flags = Rc::new(Flags::default());
    let half = Rc::new(RefCell::new(Some(read)));
    let weak: Weak<Slot<R>> = Rc::downgrade(&half);
    let end = ReadEnd {
        flags: flags.clone(),
        half: weak,
    };
    let write = ResetOnAbort {
        inner: write,
        flags: flags.clone(),
    };
    (EndOnClose { flags, half }, write, end)
}

impl<R> EndOnClose<R> {
    /// Remembers `cx`'s waker for [`ReadEnd::end`] (the inner read has
    /// registered it with the socket too).
    fn wait(&self, cx: &mut Context<'_>) {
        let old = self.flags.waker.take();
        let waker = match old {
            Some(w) if w.will_wake(cx.waker()) => w,
            _ => cx.waker().clone(),
        };
        self.flags.waker.set(Some(waker));
    }

    /// Polls the read half with `op`, unless the reader was ended.
    fn poll_with(
        &self,
        cx: &mut Context<'_>,
        op: impl FnOnce(Pin<&mut R>, &mut Context<'_>) -> Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>>
    where
        R: Unpin,
    {
        if self.flags.ended.get() {
            if self.flags.aborted.get() {
                // The abort found the half borrowed (see `Release`).
                drop(self.half.borrow_mut().take());
            }
            return Poll::Ready(Ok(0));
        }
        let mut half = self.half.borrow_mut();
        let Some(inner) = half.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        let polled = op(Pin::new(inner), cx);
        if polled.is_pending() {
            self.wait(cx);
        }
        polled
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for EndOnClose<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_with(cx, |r, cx| r.poll_read(cx, buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [io::IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_with(cx, |r, cx| r.poll_read_vectored(cx, bufs))
    }
}

impl<W: AsyncWrite + SkipShutdown + Unpin> AsyncWrite for ResetOnAbort<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

impl<W: SkipShutdown> Drop for ResetOnAbort<W> {
    fn drop(&mut self) {
        if self.flags.aborted.get() {
            self.inner.skip_shutdown();
        }
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

    /// A write half that records whether its drop was told to skip the
    /// shutdown.
    struct Half(Rc<Cell<bool>>);

    impl SkipShutdown for Half {
        fn skip_shutdown(&mut self) {
            self.0.set(true);
        }
    }

    fn half() -> (Half, Rc<Cell<bool>>) {
        let skipped = Rc::new(Cell::new(false));
        (Half(skipped.clone()), skipped)
    }

    /// A reader that records being dropped.
    struct Dropped(Rc<Cell<bool>>);

    impl AsyncRead for Dropped {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Pending
        }
    }

    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn ending_wakes_the_waiting_reader_and_reads_return_end_of_stream() {
        let (mut reader, _write, end) = end_on_close(Never, half().0);
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
        let (mut reader, _write, end) = end_on_close(&b"abc"[..], half().0);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut buf = [0u8; 2];
        drop(end);
        match Pin::new(&mut reader).poll_read(&mut cx, &mut buf) {
            Poll::Ready(Ok(2)) => assert_eq!(&buf, b"ab"),
            other => panic!("expected two bytes, got {other:?}"),
        }
    }

    #[test]
    fn ending_keeps_both_halves_and_their_shutdown() {
        let read_dropped = Rc::new(Cell::new(false));
        let (half, skipped) = half();
        let (reader, write, end) = end_on_close(Dropped(read_dropped.clone()), half);
        end.end();
        assert!(!read_dropped.get(), "a close must leave the read half open");
        drop(write);
        assert!(!skipped.get(), "a close must shut the write side down");
        drop(reader);
        assert!(read_dropped.get());
    }

    #[test]
    fn aborting_drops_the_read_half_at_once_and_skips_the_shutdown() {
        let read_dropped = Rc::new(Cell::new(false));
        let (half, skipped) = half();
        let (mut reader, write, end) = end_on_close(Dropped(read_dropped.clone()), half);
        end.abort();
        assert!(read_dropped.get(), "the abort left the read half open");
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        match Pin::new(&mut reader).poll_read(&mut cx, &mut [0u8; 4]) {
            Poll::Ready(Ok(0)) => {}
            other => panic!("expected end of stream, got {other:?}"),
        }
        drop(write);
        assert!(skipped.get(), "the abort still shut the write side down");
    }
}
