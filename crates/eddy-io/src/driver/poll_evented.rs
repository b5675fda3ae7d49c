//! [`PollEvented`]: a mio source registered with the current reactor, with
//! the read/write loops every socket type shares.
//!
//! The loops follow one rule: an operation that returns `WouldBlock`
//! clears the readiness it used (unless newer readiness arrived, see
//! `ScheduledIo`), and so does a *short* read or write — fewer bytes than
//! asked for means the kernel buffer is drained (or full), so the next
//! call would only return `WouldBlock`. That saves one syscall per
//! request/response exchange. A TCP read that fills its buffer asks the
//! kernel how much is left instead (see `in_queue`), so exact-size
//! messages save that syscall too. Vectored reads keep to the short-read
//! rule alone (see `poll_read_vectored`).

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use super::handle::Handle;
use super::in_queue::ReadHint;
use super::ready::Interest;
use super::scheduled_io::{ReadyEvent, ScheduledIo};

/// The most buffers one vectored system call takes (Linux's `UIO_MAXIOV`;
/// std hands the kernel no more than this many either).
pub(crate) const MAX_IOV: usize = 1024;

/// A mio source plus its registration. Deregisters on drop, before the
/// source (and its descriptor) is closed.
pub(crate) struct PollEvented<E: mio::event::Source> {
    io: Option<E>,
    handle: Handle,
    token: mio::Token,
    sched: Arc<ScheduledIo>,
    /// How reads learn that the socket is drained (TCP: see `in_queue`).
    read_hint: ReadHint,
}

impl<E: mio::event::Source> PollEvented<E> {
    /// Registers `io` with the current reactor for reading and writing.
    ///
    /// # Panics
    ///
    /// Outside a runtime (see [`Handle::current`]).
    #[track_caller]
    #[cfg_attr(not(feature = "net"), allow(dead_code))]
    pub(crate) fn new(io: E) -> io::Result<Self> {
        Self::with_interest(io, Interest::READABLE | Interest::WRITABLE)
    }

    #[track_caller]
    pub(crate) fn with_interest(mut io: E, interest: Interest) -> io::Result<Self> {
        let handle = Handle::current();
        let (token, sched) = handle.register(&mut io, interest)?;
        Ok(PollEvented {
            io: Some(io),
            handle,
            token,
            sched,
            read_hint: ReadHint::new(ReadHint::NONE),
        })
    }

    /// Whether a reactor other than the one this source is registered
    /// with is entered on this thread (another runtime's: a second runtime
    /// on the same thread, or the source moved to another thread). Events
    /// of this registration are then reported only when the reactor it
    /// was made with turns, which the loop polling now does not do.
    /// `false` with no reactor entered.
    #[cfg_attr(not(feature = "signal"), allow(dead_code))]
    pub(crate) fn registered_elsewhere(&self) -> bool {
        Handle::with_current(|current| current.is_some_and(|c| !c.same_reactor(&self.handle)))
    }

    /// Lets reads ask the kernel how much is still queued when they fill
    /// their buffer (TCP streams; see `in_queue`), instead of finding out
    /// with a read that returns `EAGAIN`.
    #[cfg_attr(not(feature = "net"), allow(dead_code))]
    pub(crate) fn use_in_queue_hint(&mut self) {
        self.read_hint = ReadHint::new(ReadHint::IDLE);
    }

    /// Deregisters the source and hands it back: the caller owns it now,
    /// and no event of this registration reaches anyone any more.
    #[cfg_attr(not(feature = "net"), allow(dead_code))]
    pub(crate) fn into_inner(mut self) -> E {
        let mut io = self.io.take().expect("source present until drop");
        self.handle.deregister(&mut io, self.token);
        io
    }

    pub(crate) fn get_ref(&self) -> &E {
        self.io.as_ref().expect("source present until drop")
    }

    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.sched.poll_ready(cx, interest)
    }

    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.sched.clear_readiness(event);
    }

    /// Waits until `interest` (one direction) is ready. Any number of
    /// tasks may wait at once (each in its own waiter entry).
    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<ReadyEvent> {
        let mut waiter = self.sched.waiter();
        poll_fn(|cx| waiter.poll_ready(cx, interest)).await
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for
    /// `interest` in between. Takes one unit of the task's cooperative
    /// budget per completed operation. Keeps one waker per direction: the
    /// last task to poll is the one woken.
    #[cfg_attr(
        not(any(feature = "net", feature = "signal", feature = "process")),
        allow(dead_code)
    )]
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let coop = ready!(eddy_core::coop::poll_proceed(cx));
        loop {
            let event = ready!(self.poll_ready(cx, interest))?;
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(event),
                res => {
                    coop.made_progress();
                    return Poll::Ready(res);
                }
            }
        }
    }

    /// Async form of [`poll_io`](Self::poll_io), except that it waits in
    /// its own waiter entry: any number of tasks may run it at once on one
    /// socket (e.g. several accepting on one listener), and each is woken
    /// by the events it waits for. `poll_io` keeps one waker per direction.
    pub(crate) async fn async_io<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut waiter = self.sched.waiter();
        poll_fn(|cx| {
            let coop = ready!(eddy_core::coop::poll_proceed(cx));
            loop {
                let event = ready!(waiter.poll_ready(cx, interest))?;
                match op(self.get_ref()) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(event),
                    res => {
                        coop.made_progress();
                        return Poll::Ready(res);
                    }
                }
            }
        })
        .await
    }

    /// Runs `op` once if `interest` is ready now; `WouldBlock` otherwise
    /// (clearing readiness when `op` itself would block). Registers no
    /// waker: a task parked on the same direction stays the one woken.
    #[cfg_attr(not(feature = "net"), allow(dead_code))]
    pub(crate) fn try_io<R>(
        &self,
        interest: Interest,
        op: impl FnOnce(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        let Some(event) = self.sched.ready_now(interest)? else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        let res = op(self.get_ref());
        if matches!(&res, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.clear_readiness(event);
        }
        res
    }
}

impl<E: mio::event::Source + AsRawFd> PollEvented<E>
where
    for<'a> &'a E: Read,
{
    /// Reads into `buf`; a read known to have drained the socket (a short
    /// one, or one the kernel's in-queue count says emptied it) clears read
    /// readiness. End of stream does not: it stays readable.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_transfer(cx, Interest::READABLE, buf.len(), |mut s| {
            let fd = s.as_raw_fd();
            self.read_hint.read(fd, buf, |buf| s.read(buf))
        })
    }

    /// Vectored read (one `readv`) into `bufs`, in order. A read that
    /// comes back shorter than all the buffers together clears read
    /// readiness, as a short [`poll_read`](Self::poll_read) does; one
    /// that fills them all keeps it, so the next read goes to the kernel
    /// (and gets the rest, or `EAGAIN`, which clears it then). End of
    /// stream (0) keeps it too.
    ///
    /// This path never asks for the TCP in-queue count (`in_queue`) and
    /// leaves the socket's [`ReadHint`] as it is: `readv` carries no
    /// control message, the short-read rule already settles every read
    /// that does not fill the buffers, and a full vectored read costs at
    /// most the one `EAGAIN` read that plain reads paid before the hint.
    /// The hint is the plain-read path's policy; vectored reads neither
    /// use nor steer it, and `TCP_INQ` being on does not change what
    /// `readv` returns.
    ///
    /// Only the first [`MAX_IOV`] buffers are offered (see
    /// [`poll_write_vectored`](Self::poll_write_vectored)): counting the
    /// rest would make a read that filled every offered buffer look short
    /// and clear readiness with bytes still queued, and the next read
    /// would wait for an event that never comes.
    #[cfg_attr(not(any(feature = "net", feature = "process")), allow(dead_code))]
    pub(crate) fn poll_read_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let offered = bufs.len().min(MAX_IOV);
        let bufs = &mut bufs[..offered];
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        self.poll_transfer(cx, Interest::READABLE, len, |mut s| {
            s.read_vectored(bufs).map(|n| (n, n > 0 && n < len))
        })
    }
}

impl<E: mio::event::Source> PollEvented<E>
where
    for<'a> &'a E: Write,
{
    /// Writes from `buf`; a short write clears write readiness.
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let len = buf.len();
        self.poll_transfer(cx, Interest::WRITABLE, len, |mut s| {
            s.write(buf).map(|n| (n, n < len))
        })
    }

    /// Vectored write; a short write clears write readiness. Only the
    /// first [`MAX_IOV`] buffers are offered: the kernel looks at no more
    /// in one call, and counting the rest would make every such write look
    /// short, clearing readiness on a socket with room — the next write
    /// would then wait for a writable event that never comes.
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let bufs = &bufs[..bufs.len().min(MAX_IOV)];
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        self.poll_transfer(cx, Interest::WRITABLE, len, |mut s| {
            s.write_vectored(bufs).map(|n| (n, n < len))
        })
    }
}

impl<E: mio::event::Source> PollEvented<E> {
    /// The loop behind the reads and writes above: waits for `interest`, runs `op`
    /// (moving up to `len` bytes; it returns the count and whether the
    /// kernel is known to have no more), and clears readiness when drained,
    /// so the next call waits for a new event instead of making a system
    /// call that would return `EAGAIN`. Takes one unit of the task's
    /// cooperative budget.
    #[inline]
    fn poll_transfer(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        len: usize,
        mut op: impl FnMut(&E) -> io::Result<(usize, bool)>,
    ) -> Poll<io::Result<usize>> {
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        let coop = ready!(eddy_core::coop::poll_proceed(cx));
        loop {
            let event = ready!(self.poll_ready(cx, interest))?;
            match op(self.get_ref()) {
                Ok((n, drained)) => {
                    if drained {
                        self.sched.clear_drained(event);
                    }
                    coop.made_progress();
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(event),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl<E: mio::event::Source> Drop for PollEvented<E> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            self.handle.deregister(&mut io, self.token);
        }
    }
}

impl<E: mio::event::Source + fmt::Debug> fmt::Debug for PollEvented<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PollEvented").field(&self.io).finish()
    }
}
