//! Exit watching and reaping.
//!
//! A [`Reaper`] owns the `std::process::Child` and learns of its exit
//! without a thread per child: through a pidfd (Linux ≥ 5.3: the
//! descriptor becomes readable when the process exits) registered with the
//! loop's reactor, or, where `pidfd_open` is missing, through a SIGCHLD
//! listener that re-checks `waitpid(pid, WNOHANG)` on every delivery.
//! The watch is made on the first wait that finds the child running, with
//! the reactor of the loop that polls it; a child waited under another
//! reactor later — another thread's loop (a `Child` is `Send`), or another
//! runtime on the same thread while the first is idle — makes a new one
//! there, and so does one whose first loop shut down, so a wait never
//! depends on a loop that no longer turns for it. Reactors are compared,
//! not threads: two runtimes can live on one thread.
//!
//! No zombies: a `Child` dropped before its exit was collected hands its
//! reaper to [`adopt`], which spawns a small task on the current loop that
//! awaits the exit (pidfd or SIGCHLD) and reaps it. Without a loop, or if
//! the loop shuts down before the child exits, the reaper goes on a global
//! orphan list that every later `spawn` sweeps with `waitpid(WNOHANG)`.

use std::future::poll_fn;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{ready, Context, Poll};

use parking_lot::Mutex;

use crate::driver::poll_evented::PollEvented;
use crate::driver::Interest;
use crate::signal::Listener;

/// How a reaper learns of the exit.
enum Watch {
    /// Registered with the reactor of the loop that first waited.
    Pidfd(PollEvented<mio::unix::pipe::Receiver>),
    /// Moves itself to the reactor it is polled under (see `Listener`).
    Sigchld(Listener),
}

pub(crate) struct Reaper {
    child: std::process::Child,
    status: Option<ExitStatus>,
    watch: Option<Watch>,
}

/// Set once `pidfd_open` reported `ENOSYS`/`EPERM`-like failure.
static NO_PIDFD: AtomicBool = AtomicBool::new(false);

pub(crate) fn disable_pidfd() {
    NO_PIDFD.store(true, Ordering::Relaxed);
}

fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    if NO_PIDFD.load(Ordering::Relaxed) {
        return None;
    }
    // SAFETY: pidfd_open(pid, flags) takes two integers and returns a new
    // descriptor or -1; no memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        let err = io::Error::last_os_error();
        if matches!(
            err.raw_os_error(),
            Some(libc::ENOSYS) | Some(libc::EPERM) | Some(libc::EINVAL)
        ) {
            NO_PIDFD.store(true, Ordering::Relaxed);
        }
        return None;
    }
    // SAFETY: `fd` is a fresh descriptor returned by the kernel that nothing
    // else owns (pidfds are created close-on-exec).
    Some(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

impl Reaper {
    pub(crate) fn new(child: std::process::Child) -> Reaper {
        Reaper {
            child,
            status: None,
            watch: None,
        }
    }

    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn status(&self) -> Option<ExitStatus> {
        self.status
    }

    pub(crate) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(s) = self.status {
            return Ok(Some(s));
        }
        let s = self.child.try_wait()?;
        if s.is_some() {
            self.status = s;
            // The pidfd / listener is no longer needed.
            self.watch = None;
        }
        Ok(s)
    }

    fn watch(&mut self) -> io::Result<&mut Watch> {
        if self.watch.is_none() {
            let watch = match pidfd_open(self.child.id()) {
                Some(fd) => Watch::Pidfd(PollEvented::with_interest(
                    mio::unix::pipe::Receiver::from(fd),
                    Interest::READABLE,
                )?),
                None => Watch::Sigchld(Listener::new(libc::SIGCHLD)?),
            };
            self.watch = Some(watch);
        }
        Ok(self.watch.as_mut().expect("just set"))
    }

    /// Ready with the exit status once the child has exited (and was reaped).
    pub(crate) fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        if let Some(s) = self.status {
            return Poll::Ready(Ok(s));
        }
        // A pidfd registered with another reactor (the child was waited
        // under another runtime, on another thread or on this one) is only
        // reported while that reactor turns, and never once it shut down:
        // start over with this loop's reactor.
        if let Some(Watch::Pidfd(pidfd)) = &self.watch {
            if pidfd.registered_elsewhere() {
                self.watch = None;
            }
        }
        let mut fresh = false;
        loop {
            if self.watch.is_none() {
                // Already exited? Then no pidfd or listener is needed at all
                // (the common case when waiting on short-lived children).
                if let Some(s) = self.try_wait()? {
                    return Poll::Ready(Ok(s));
                }
                // Register, then check again (in the poll below): an exit
                // between the two is reported by the registration.
                self.watch()?;
                fresh = true;
            }
            match ready!(self.poll_watch(cx)) {
                Ok(res) => {
                    if let Ok(s) = res {
                        self.status = Some(s);
                        self.watch = None;
                    }
                    return Poll::Ready(res);
                }
                // The reactor the pidfd was registered with shut down (the
                // child outlived the runtime that first waited for it):
                // register again, once, with the current one.
                Err(e) => {
                    self.watch = None;
                    if fresh || crate::driver::Handle::try_current().is_none() {
                        return Poll::Ready(Err(e));
                    }
                }
            }
        }
    }

    /// Polls the watch: the outer error is the watch's own (its reactor is
    /// gone), the inner result `waitpid`'s.
    fn poll_watch(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<io::Result<ExitStatus>>> {
        let Reaper { child, watch, .. } = self;
        match watch.as_mut().expect("watch set by the caller") {
            Watch::Pidfd(pidfd) => {
                pidfd.poll_io(cx, Interest::READABLE, |_| match child.try_wait() {
                    Ok(Some(s)) => Ok(Ok(s)),
                    Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
                    Err(e) => Ok(Err(e)),
                })
            }
            Watch::Sigchld(listener) => loop {
                match child.try_wait() {
                    Ok(Some(s)) => break Poll::Ready(Ok(Ok(s))),
                    Ok(None) => ready!(listener.poll_recv(cx)),
                    Err(e) => break Poll::Ready(Ok(Err(e))),
                }
            },
        }
    }

    pub(crate) fn send_signal(&mut self, sig: i32) -> io::Result<()> {
        // Already reaped: the pid may belong to someone else now.
        if self.try_wait()?.is_some() {
            return Ok(());
        }
        // SAFETY: kill(2) takes two integers. The pid is still ours: the
        // child has not been reaped (only this reaper reaps it).
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        if rc == 0 {
            Ok(())
        } else {
            let err = io::Error::last_os_error();
            // ESRCH cannot happen for an unreaped child, but be lenient.
            if err.raw_os_error() == Some(libc::ESRCH) {
                Ok(())
            } else {
                Err(err)
            }
        }
    }
}

static ORPHANS: Mutex<Vec<std::process::Child>> = Mutex::new(Vec::new());

/// Reaps the orphans that have exited (called on every spawn).
pub(crate) fn reap_orphans() {
    let Some(mut orphans) = ORPHANS.try_lock() else {
        return;
    };
    if orphans.is_empty() {
        return;
    }
    orphans.retain_mut(|c| matches!(c.try_wait(), Ok(None)));
}

/// Puts a reaper back on the global list when its task is dropped
/// before the child exited.
struct OrphanGuard(Option<Reaper>);

impl Drop for OrphanGuard {
    fn drop(&mut self) {
        if let Some(mut r) = self.0.take() {
            if matches!(r.try_wait(), Ok(None)) {
                r.watch = None;
                ORPHANS.lock().push(r.child);
            }
        }
    }
}

/// Takes over a child nobody will wait for: it is reaped in the
/// background (see the module docs).
pub(crate) fn adopt(mut reaper: Reaper) {
    if !matches!(reaper.try_wait(), Ok(None)) {
        return;
    }
    let on_loop = eddy_core::Handle::try_current().is_some()
        && crate::driver::Handle::try_current().is_some();
    let mut guard = OrphanGuard(Some(reaper));
    if on_loop {
        drop(eddy_core::spawn(async move {
            let r = guard.0.as_mut().expect("present until reaped");
            if poll_fn(|cx| r.poll_wait(cx)).await.is_ok() {
                let _ = guard.0.take();
            }
            // On error the guard's drop puts the child on the orphan list.
        }));
    }
    // Otherwise the guard drops here and the child joins the orphan list.
}
