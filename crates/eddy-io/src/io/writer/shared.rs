//! The state a [`StreamWriter`](super::StreamWriter) shares with its
//! flusher task, the flusher's poll loop, and the abort handle a server
//! keeps for each connection.

use std::any::Any;
use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use futures_io::AsyncWrite;

use crate::io::read_end::ReadEnd;
use crate::io::WriteError;

use super::DEFAULT_HIGH_WATER;

/// The largest emptied buffer kept for reuse under the default water
/// marks (twice the high-water mark; more when that is raised).
const KEEP_AT_MOST: usize = 2 * DEFAULT_HIGH_WATER;

/// Where the flusher task is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flusher {
    /// No flusher yet (nothing was ever written).
    NotSpawned,
    /// Parked on `flusher_waker` with an empty buffer; not polling the
    /// stream, so the writer may write directly.
    Idle,
    /// Woken or waiting on the stream's write readiness: only it touches
    /// the stream.
    Running,
    /// Finished (stream shut down, aborted or failed).
    Exited,
}

pub(crate) struct Shared<W> {
    /// The stream; `None` once closed, aborted or failed.
    pub(super) io: Option<W>,
    /// `buf[start..]` is waiting to be written.
    pub(super) buf: Vec<u8>,
    pub(super) start: usize,
    /// Bytes went to the stream since its `poll_flush` last completed. A
    /// socket keeps nothing back, but a wrapper may (TLS, compression,
    /// `BufWriter`): the writer flushes it whenever its own buffer empties,
    /// or the end of the data could stay inside the wrapper for good.
    pub(super) unflushed: bool,
    pub(super) high: usize,
    pub(super) low: usize,
    pub(super) flusher: Flusher,
    pub(super) flusher_waker: Option<Waker>,
    /// The writer's task waiting in `drain`/`flush`.
    pub(super) waiter: Option<Waker>,
    /// Tasks in `wait_closed`.
    pub(super) closed_waiters: Vec<Waker>,
    /// First write error (kind and text; `io::Error` is not `Clone`).
    pub(super) error: Option<(io::ErrorKind, String)>,
    /// `close` was called or the writer was dropped: shut down and drop the
    /// stream once the buffer is sent.
    pub(super) closing: bool,
    /// `write_eof` was called: shut down the write side once the buffer is
    /// sent.
    pub(super) eof: bool,
    /// The stream's `poll_close` completed.
    pub(super) shut_down: bool,
    /// Drop everything now (`abort`, server `abort_clients`). Once set,
    /// every write, drain, flush and close reports
    /// [`WriteError::Aborted`].
    pub(super) abort: bool,
    /// How many buffered bytes the abort dropped.
    pub(super) discarded: usize,
    /// Dropped when the stream is closed (`finish`), or with the shared
    /// state: lets a server count live connections, even while a closed
    /// writer's value is still kept somewhere.
    pub(super) _guard: Option<Box<dyn Any>>,
    /// For a socket's writer: ends the paired reader on an explicit
    /// `close` or `abort` (see `io::read_end`). Taken by `abort`, the last
    /// thing it can do.
    pub(super) read_end: Option<ReadEnd>,
    /// A `sendfile` is writing to the socket directly: a `close` from
    /// elsewhere (the server's `close_clients`) must not shut the stream
    /// down under it, so the flusher waits for it as it waits for buffered
    /// bytes; the transfer kicks the flusher when it ends.
    pub(super) file_in_flight: bool,
}

impl<W: AsyncWrite + Unpin> Shared<W> {
    pub(super) fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Queues `data` behind the unsent bytes. The bytes already sent
    /// (`buf[..start]`) are dropped first once they are at least as many
    /// as the unsent ones: a writer that `drain`s at the low-water mark
    /// and writes again seldom sees its buffer run empty, the only other
    /// point where they go, and kept them all, growing with everything it
    /// ever sent. Moving at most as many bytes as were sent keeps the cost
    /// at one copy per byte, and the buffer at most about twice the
    /// unsent bytes plus the write.
    pub(super) fn append(&mut self, data: &[u8]) {
        if self.start > 0 && self.start >= self.buffered() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    pub(super) fn done(&self) -> bool {
        self.io.is_none()
    }

    pub(super) fn fail(&mut self, e: io::Error) {
        if self.error.is_none() {
            self.error = Some((e.kind(), e.to_string()));
        }
        self.finish();
    }

    /// An explicit `close`: the paired reader, if any, reports end of
    /// stream from now on.
    pub(super) fn end_reader(&mut self) {
        if let Some(end) = &self.read_end {
            end.end();
        }
    }

    /// An `abort`: the paired reader, if any, reports end of stream and
    /// lets go of its half of the socket, and the write half will be
    /// dropped without shutting down, so the socket closes (resetting the
    /// connection if unread data is queued) once the stream is dropped.
    /// Also after a graceful close, which keeps the reader's half open.
    pub(super) fn abort_reader(&mut self) {
        if let Some(end) = self.read_end.take() {
            end.abort();
        }
    }

    /// Drops the stream (and the server's guard) and wakes everyone.
    pub(super) fn finish(&mut self) {
        self.io = None;
        self.buf = Vec::new();
        self.start = 0;
        self._guard = None;
        if let Some(w) = self.waiter.take() {
            w.wake();
        }
        // An idle flusher must exit too, or it would keep `Shared` alive.
        if let Some(w) = self.flusher_waker.take() {
            w.wake();
        }
        for w in self.closed_waiters.drain(..) {
            w.wake();
        }
    }

    /// Why the writer can take and deliver no more data, if it cannot: an
    /// earlier write failure, else an abort. (A graceful close is not an
    /// error here: everything written was delivered.)
    pub(super) fn error(&self) -> Option<WriteError> {
        if let Some((kind, msg)) = &self.error {
            return Some(WriteError::Io(io::Error::new(*kind, msg.clone())));
        }
        self.abort.then_some(WriteError::Aborted {
            discarded: self.discarded,
        })
    }

    /// Writes until the buffer is empty, then flushes the stream if it was
    /// handed anything since its last flush. Returns `Pending` when the
    /// stream is not ready to take more or to finish the flush (its waker
    /// is `cx`).
    pub(super) fn poll_write_buf(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while self.buffered() > 0 {
            let Some(io) = self.io.as_mut() else {
                return Poll::Ready(());
            };
            match Pin::new(io).poll_write(cx, &self.buf[self.start..]) {
                Poll::Ready(Ok(0)) => {
                    self.fail(io::ErrorKind::WriteZero.into());
                    return Poll::Ready(());
                }
                Poll::Ready(Ok(n)) => {
                    self.start += n;
                    self.unflushed = true;
                    if self.buffered() <= self.low {
                        if let Some(w) = self.waiter.take() {
                            w.wake();
                        }
                    }
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => {
                    self.fail(e);
                    return Poll::Ready(());
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        // Everything was handed over. A buffer that one large write made
        // big is freed rather than kept for the life of the connection (as
        // the reader gives such memory back); one of up to twice the
        // high-water mark, what a writer that drains works with, is reused.
        if self.buf.capacity() > self.high.saturating_mul(2).max(KEEP_AT_MOST) {
            self.buf = Vec::new();
        } else {
            self.buf.clear();
        }
        self.start = 0;
        while self.unflushed {
            let Some(io) = self.io.as_mut() else {
                return Poll::Ready(());
            };
            match Pin::new(io).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => {
                    self.fail(e);
                    return Poll::Ready(());
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(())
    }

    /// Nothing is left on the writer's side: the buffer is empty and the
    /// stream has flushed what it was given.
    pub(super) fn settled(&self) -> bool {
        self.buffered() == 0 && !self.unflushed
    }

    /// One poll of the flusher task.
    pub(super) fn poll_flusher(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // Kept while the flusher waits on the stream too, so `finish` (an
        // abort or a failure seen by `drain`) can wake it to exit.
        match &self.flusher_waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => self.flusher_waker = Some(cx.waker().clone()),
        }
        if self.abort || self.done() {
            self.flusher = Flusher::Exited;
            self.finish();
            return Poll::Ready(());
        }
        self.flusher = Flusher::Running;
        if self.poll_write_buf(cx).is_pending() {
            return Poll::Pending;
        }
        if self.done() {
            self.flusher = Flusher::Exited;
            return Poll::Ready(());
        }
        if let Some(w) = self.waiter.take() {
            w.wake();
        }
        if (self.closing || self.eof) && !self.shut_down {
            if self.file_in_flight {
                self.flusher = Flusher::Idle;
                return Poll::Pending;
            }
            let io = self.io.as_mut().expect("checked above");
            match Pin::new(io).poll_close(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) if self.closing => {
                    // The peer may already be gone; closing anyway.
                    tracing::debug!("stream shutdown on close failed: {e}");
                }
                Poll::Ready(Err(e)) => {
                    self.fail(e);
                    self.flusher = Flusher::Exited;
                    return Poll::Ready(());
                }
                Poll::Ready(Ok(())) => {}
            }
            self.shut_down = true;
        }
        if self.closing {
            self.flusher = Flusher::Exited;
            self.finish();
            return Poll::Ready(());
        }
        self.flusher = Flusher::Idle;
        Poll::Pending
    }
}

/// Makes sure the flusher will run: spawns it or wakes it.
pub(super) fn kick<W: AsyncWrite + Unpin + 'static>(shared: &Rc<RefCell<Shared<W>>>) {
    let mut s = shared.borrow_mut();
    match s.flusher {
        Flusher::NotSpawned => {
            drop(s);
            let task_shared = shared.clone();
            // Detached: it ends when the stream is closed or fails. With
            // no runtime this panics before anything changed, so the
            // writer stays usable on a runtime later (the task cannot run
            // before the state below is set: it runs on this thread).
            drop(eddy_core::spawn(poll_fn(move |cx| {
                task_shared.borrow_mut().poll_flusher(cx)
            })));
            shared.borrow_mut().flusher = Flusher::Running;
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

/// Closes or aborts a writer from elsewhere (a server's `close_clients`
/// and `abort_clients`), wherever the `StreamWriter` value itself is.
pub(crate) struct AbortHandle<W>(pub(super) Weak<RefCell<Shared<W>>>);

impl<W> Clone for AbortHandle<W> {
    fn clone(&self) -> Self {
        AbortHandle(self.0.clone())
    }
}

impl<W: AsyncWrite + Unpin + 'static> AbortHandle<W> {
    /// As [`StreamWriter::close`](super::StreamWriter::close): what is
    /// buffered is still sent, then the stream is shut down. (Only the
    /// server, behind the `net` feature, closes writers from elsewhere.)
    #[cfg_attr(not(feature = "net"), allow(dead_code))]
    pub(crate) fn close(&self) {
        let Some(shared) = self.0.upgrade() else {
            return;
        };
        let mut s = shared.borrow_mut();
        s.end_reader();
        if s.closing || s.done() {
            return;
        }
        s.closing = true;
        drop(s);
        kick(&shared);
    }

    /// Buffered data is dropped and the stream closed at once (asyncio's
    /// `transport.abort()`). May drop the server's connection guard, so
    /// call it with no borrow of the server's state held.
    pub(crate) fn abort(&self) {
        let Some(shared) = self.0.upgrade() else {
            return;
        };
        let mut s = shared.borrow_mut();
        s.abort_reader();
        if s.abort || s.done() {
            // Aborted already, or closed (gracefully or by a failure, which
            // already reports its own error): nothing left to drop.
            return;
        }
        s.discarded = s.buffered();
        s.abort = true;
        s.closing = true;
        s.finish();
        if let Some(w) = s.flusher_waker.take() {
            w.wake();
        }
    }
}
