//! The process-wide signal state: one `signal-hook-registry` handler per
//! signal number, a self-pipe, and per-signal generations with the wakers
//! of the listeners.
//!
//! The handler is async-signal-safe: it stores `true` in the signal's
//! `pending` flag and writes one byte to the non-blocking write end of a
//! socket pair (a full pipe is fine: a byte is already waiting). Every
//! listener holds its own `dup` of the read end, registered with the
//! reactor of the loop it runs on, so any loop (any thread) whose listener
//! sees the byte drains the pipe and *dispatches*: each signal whose
//! `pending` flag it swaps back to `false` gets its generation bumped and
//! all of its listeners' wakers woken (wakers are `Send`, so listeners on
//! other threads are woken through their loop's inject queue). Deliveries
//! that arrive faster than they are read coalesce into one generation
//! step, and none is lost entirely: `pending` is set before the byte is
//! written, and cleared only after the byte was read.
//!
//! A new listener dispatches what the pipe already holds before it reads
//! its starting generation, so a delivery that arrived while nobody
//! listened does not complete its first `recv`. A listener polled under
//! another reactor than the one it registered with — another thread's
//! loop (it is `Send`), or another runtime on the same thread while the
//! first one is idle — registers a fresh `dup` there, and so does one
//! whose reactor shut down: its deliveries never depend on a loop that no
//! longer polls it. Reactors are compared, not threads: two runtimes can
//! live on one thread.

use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;
use slab::Slab;

use crate::driver::poll_evented::PollEvented;
use crate::driver::Interest;

/// Signal numbers are `1..NSIG` (Linux: 64 signals, real-time ones included).
pub(crate) const NSIG: usize = 65;

struct Slot {
    pending: AtomicBool,
    /// Whether the handler is installed (installed once, never removed).
    registered: Mutex<bool>,
    state: Mutex<SlotState>,
}

struct SlotState {
    generation: u64,
    wakers: Slab<Option<Waker>>,
}

struct Globals {
    /// The write end, written by the handler.
    sender: UnixStream,
    /// The read end; listeners register `dup`s of it.
    receiver: UnixStream,
    slots: Box<[Slot]>,
}

fn globals() -> io::Result<&'static Globals> {
    static GLOBALS: OnceLock<Globals> = OnceLock::new();
    if let Some(g) = GLOBALS.get() {
        return Ok(g);
    }
    let (receiver, sender) = UnixStream::pair()?;
    receiver.set_nonblocking(true)?;
    sender.set_nonblocking(true)?;
    let slots = (0..NSIG)
        .map(|_| Slot {
            pending: AtomicBool::new(false),
            registered: Mutex::new(false),
            state: Mutex::new(SlotState {
                generation: 0,
                wakers: Slab::new(),
            }),
        })
        .collect();
    // A racing initialiser wins; our pair is then simply dropped.
    Ok(GLOBALS.get_or_init(|| Globals {
        sender,
        receiver,
        slots,
    }))
}

/// The name of a signal number, for error messages.
pub(crate) fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGWINCH => "SIGWINCH",
        _ => return format!("signal {sig}"),
    };
    name.to_owned()
}

/// Installs the handler for `sig` (once per process) after refusing the
/// signals that cannot or must not be handled.
fn ensure_registered(g: &'static Globals, sig: i32) -> io::Result<()> {
    if sig <= 0 || sig as usize >= NSIG {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{sig} is not a valid signal number (expected 1..{NSIG})"),
        ));
    }
    if signal_hook_registry::FORBIDDEN.contains(&sig) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} cannot be handled: SIGKILL and SIGSTOP cannot be caught, and \
                 SIGILL, SIGFPE and SIGSEGV must not be handled asynchronously",
                signal_name(sig)
            ),
        ));
    }
    let slot = &g.slots[sig as usize];
    let mut registered = slot.registered.lock();
    if *registered {
        return Ok(());
    }
    let fd: RawFd = g.sender.as_raw_fd();
    let action = move || {
        slot.pending.store(true, Ordering::SeqCst);
        let byte = 1u8;
        // SAFETY: write(2) is async-signal-safe; `fd` is the write end of
        // the global pair, which lives for the rest of the process (it is
        // in a static). The result is ignored on purpose: a full pipe
        // already holds a wake-up byte. errno is restored by the registry's
        // handler wrapper (signal-hook-registry saves and restores it).
        unsafe {
            libc::write(fd, std::ptr::addr_of!(byte).cast(), 1);
        }
    };
    // SAFETY: the action only does async-signal-safe things (an atomic
    // store and a write(2)), never allocates, locks or panics; `sig` is
    // valid and not in FORBIDDEN (checked above), so `register` cannot
    // panic.
    unsafe { signal_hook_registry::register(sig, action) }.map_err(|e| {
        let msg = if e.raw_os_error() == Some(libc::EINVAL) {
            // In 1..NSIG and not forbidden, yet refused: one the C library
            // keeps for itself (glibc: 32 and 33, below SIGRTMIN).
            format!(
                "{} cannot be handled: the C library reserves it for its own use \
                 (sigaction: {e}); pick another signal, real-time ones start at \
                 SIGRTMIN() = {}",
                signal_name(sig),
                libc::SIGRTMIN()
            )
        } else {
            format!("installing a handler for {}: {e}", signal_name(sig))
        };
        io::Error::new(e.kind(), msg)
    })?;
    *registered = true;
    Ok(())
}

/// Reads the pipe empty (from any listener's descriptor) and bumps the
/// generation of every signal that is pending, waking its listeners.
fn dispatch(
    g: &'static Globals,
    mut read: impl FnMut(&mut [u8]) -> io::Result<usize>,
) -> io::Result<()> {
    let mut buf = [0u8; 128];
    let mut any = false;
    let res = loop {
        match read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(_) => any = true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    if any {
        for slot in g.slots.iter() {
            if slot.pending.swap(false, Ordering::SeqCst) {
                let wakers: Vec<Waker> = {
                    let mut state = slot.state.lock();
                    state.generation = state.generation.wrapping_add(1);
                    state
                        .wakers
                        .iter_mut()
                        .filter_map(|(_, w)| w.take())
                        .collect()
                };
                for w in wakers {
                    w.wake();
                }
            }
        }
    }
    res
}

/// Reads the pipe empty through the global read end (not through any
/// registration) and dispatches what was pending.
fn drain(g: &'static Globals) {
    let _ = dispatch(g, |buf| (&g.receiver).read(buf));
}

/// A `dup` of the pipe's read end, registered with the current loop's
/// reactor.
fn register_pipe(g: &'static Globals) -> io::Result<PollEvented<mio::unix::pipe::Receiver>> {
    let fd: OwnedFd = g.receiver.try_clone()?.into();
    PollEvented::with_interest(mio::unix::pipe::Receiver::from(fd), Interest::READABLE)
}

/// One subscription to one signal number, registered with the reactor it
/// was created under (or, once polled under another reactor, that one).
pub(crate) struct Listener {
    g: &'static Globals,
    sig: usize,
    key: usize,
    seen: u64,
    /// Our `dup` of the pipe's read end, registered with the reactor we
    /// were created or last polled under.
    pipe: PollEvented<mio::unix::pipe::Receiver>,
}

impl Listener {
    /// Subscribes to `sig`, installing its handler if needed. Deliveries
    /// from now on are seen by [`poll_recv`](Self::poll_recv); earlier
    /// ones are not, even those nobody has dispatched yet.
    ///
    /// Panics outside a runtime (the pipe needs the reactor).
    #[track_caller]
    pub(crate) fn new(sig: i32) -> io::Result<Listener> {
        let g = globals()?;
        ensure_registered(g, sig)?;
        let pipe = register_pipe(g)?;
        // Deliveries that arrived while nobody listened are still in the
        // pipe: dispatch them now, so that they count as seen (the
        // generation read below includes them) instead of completing this
        // listener's first `recv`.
        drain(g);
        let slot = &g.slots[sig as usize];
        let (key, seen) = {
            let mut state = slot.state.lock();
            (state.wakers.insert(None), state.generation)
        };
        Ok(Listener {
            g,
            sig: sig as usize,
            key,
            seen,
            pipe,
        })
    }

    /// Registers a fresh `dup` with the current loop's reactor (if this
    /// thread has one) in place of ours, then dispatches what the pipe
    /// holds: bytes that arrived before the new registration are not
    /// reported by it.
    fn reregister(&mut self) {
        if crate::driver::Handle::try_current().is_none() {
            return;
        }
        if let Ok(pipe) = register_pipe(self.g) {
            self.pipe = pipe;
            drain(self.g);
        }
    }

    /// Drains the pipe and dispatches if our registration saw a byte;
    /// Pending once the pipe is empty (readiness cleared, waker stored),
    /// an error if the reactor is gone.
    fn poll_pipe(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let g = self.g;
        self.pipe.poll_io(cx, Interest::READABLE, |r| {
            let mut r = r;
            dispatch(g, |buf| r.read(buf))?;
            Err::<(), _>(io::ErrorKind::WouldBlock.into())
        })
    }

    /// Ready once a delivery newer than the last one seen was dispatched.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // Our registration belongs to the reactor we were created (or
        // last polled) under. Polled under another one — another thread's
        // loop, or another runtime on this same thread while the first is
        // idle — it would only report the pipe while that reactor turns,
        // and never again once it shut down: move it to this reactor.
        if self.pipe.registered_elsewhere() {
            self.reregister();
        }
        if let Poll::Ready(Err(_)) = self.poll_pipe(cx) {
            // The reactor we registered with shut down (the listener
            // outlived its runtime): register with the current one.
            self.reregister();
            let _ = self.poll_pipe(cx);
        }
        let g = self.g;
        let mut state = g.slots[self.sig].state.lock();
        if state.generation != self.seen {
            self.seen = state.generation;
            return Poll::Ready(());
        }
        let slot = &mut state.wakers[self.key];
        match slot {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.g.slots[self.sig].state.lock().wakers.remove(self.key);
    }
}
