//! The per-registration readiness cell shared by the reactor (which sets
//! readiness) and the socket (which waits on it and clears it).
//!
//! # The state word
//!
//! `state` packs three things so that setting and clearing readiness are
//! single atomic operations:
//!
//! | bits    | meaning |
//! |---------|---------|
//! | 0..=4   | readiness ([`Ready`]): readable, writable, read-closed, write-closed, error |
//! | 8       | `SHUTDOWN`: the reactor is gone; every wait fails from now on |
//! | 16..=31 | the *tick*: which reactor turn last added readiness |
//!
//! The tick is what makes clearing safe. A socket that got `WouldBlock`
//! (or a short read) clears readiness only if the tick it saw when it
//! started is still the current one; if an event arrived in between, the
//! tick moved on and the fresh readiness is kept, so the event is never
//! lost.
//!
//! # Wakers
//!
//! One waker slot per direction (a reader and a writer may wait at once,
//! e.g. the two halves of a split stream). A waiter stores its waker under
//! the lock and then re-reads the state word; the reactor publishes
//! readiness first and takes the wakers under the same lock after, so one
//! of the two always sees the other.

use std::io;
use std::task::{Context, Poll, Waker};

use super::ready::{Interest, Ready};
use crate::loom::{AtomicUsize, Mutex, Ordering};

const SHUTDOWN: usize = 1 << 8;
const TICK_SHIFT: u32 = 16;
const TICK_MASK: usize = 0xffff << TICK_SHIFT;

/// Readiness observed by a waiter, with the tick it was observed at (for
/// [`ScheduledIo::clear_readiness`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    pub(crate) ready: Ready,
    tick: u16,
}

#[derive(Default)]
struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
}

/// See the module docs.
pub(crate) struct ScheduledIo {
    state: AtomicUsize,
    waiters: Mutex<Waiters>,
}

fn tick_of(state: usize) -> u16 {
    ((state & TICK_MASK) >> TICK_SHIFT) as u16
}

pub(crate) fn shutdown_error() -> io::Error {
    io::Error::other(
        "the eddy runtime that owned this I/O object has shut down; \
         create sockets inside the runtime that uses them",
    )
}

impl ScheduledIo {
    pub(crate) fn new() -> ScheduledIo {
        ScheduledIo {
            state: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// Readiness for `interest` if any is set now, without registering.
    fn ready_now(&self, interest: Interest) -> Result<Option<ReadyEvent>, io::Error> {
        let state = self.state.load(Ordering::Acquire);
        if state & SHUTDOWN != 0 {
            return Err(shutdown_error());
        }
        let ready = Ready::from_bits(state) & interest.mask();
        if ready.is_empty() {
            Ok(None)
        } else {
            Ok(Some(ReadyEvent {
                ready,
                tick: tick_of(state),
            }))
        }
    }

    /// Ready when the descriptor has readiness for `interest` (one
    /// direction: READABLE or WRITABLE); otherwise stores the waker of
    /// `cx` in that direction's slot and returns `Pending`.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<ReadyEvent>> {
        if let Some(ev) = self.ready_now(interest)? {
            return Poll::Ready(Ok(ev));
        }
        {
            let mut waiters = self.waiters.lock();
            let slot = if interest.is_readable() {
                &mut waiters.reader
            } else {
                &mut waiters.writer
            };
            match slot {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
        }
        // Readiness may have arrived between the first check and storing
        // the waker; the reactor then found no waker to take.
        match self.ready_now(interest)? {
            Some(ev) => Poll::Ready(Ok(ev)),
            None => Poll::Pending,
        }
    }

    /// Clears the readable/writable bits of `event` unless newer readiness
    /// arrived since it was observed. Closed and error bits stay: they are
    /// final.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let clear = event.ready & (Ready::READABLE | Ready::WRITABLE);
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                if tick_of(state) != event.tick {
                    None
                } else {
                    Some(state & !clear.bits())
                }
            });
    }

    /// Called by the reactor: adds `ready` at `tick` and wakes the waiters
    /// it concerns, through `wake` (so the caller can wake outside its own
    /// locks).
    pub(crate) fn set_readiness(&self, ready: Ready, tick: u16, mut wake: impl FnMut(Waker)) {
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                Some((state & !TICK_MASK) | ready.bits() | ((tick as usize) << TICK_SHIFT))
            });
        let (reader, writer) = {
            let mut waiters = self.waiters.lock();
            let reader = if !(ready & Interest::READABLE.mask()).is_empty() {
                waiters.reader.take()
            } else {
                None
            };
            let writer = if !(ready & Interest::WRITABLE.mask()).is_empty() {
                waiters.writer.take()
            } else {
                None
            };
            (reader, writer)
        };
        if let Some(w) = reader {
            wake(w);
        }
        if let Some(w) = writer {
            wake(w);
        }
    }

    /// Called when the reactor goes away: every present and future wait
    /// fails with [`shutdown_error`].
    pub(crate) fn shutdown(&self) {
        self.state.fetch_or(SHUTDOWN, Ordering::AcqRel);
        let (reader, writer) = {
            let mut waiters = self.waiters.lock();
            (waiters.reader.take(), waiters.writer.take())
        };
        for w in [reader, writer].into_iter().flatten() {
            w.wake();
        }
    }
}

/// Loom models of the readiness word: run with
/// `RUSTFLAGS="--cfg loom" cargo test -p eddy-io --lib loom_`.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::Arc;
    use std::task::{Context, Wake, Waker};

    use super::*;

    struct Flag(loom::sync::atomic::AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// A waiter racing the reactor either sees the readiness or is woken.
    #[test]
    fn loom_readiness_is_seen_or_the_waiter_is_woken() {
        loom::model(|| {
            let io = loom::sync::Arc::new(ScheduledIo::new());
            let reactor = {
                let io = io.clone();
                loom::thread::spawn(move || io.set_readiness(Ready::READABLE, 1, |w| w.wake()))
            };
            let flag = Arc::new(Flag(loom::sync::atomic::AtomicBool::new(false)));
            let waker = Waker::from(flag.clone());
            let mut cx = Context::from_waker(&waker);
            let ready = io.poll_ready(&mut cx, Interest::READABLE).is_ready();
            reactor.join().unwrap();
            assert!(
                ready || flag.0.load(Ordering::SeqCst),
                "a readiness event was lost"
            );
        });
    }

    /// Clearing with a stale tick never erases readiness that arrived after
    /// the waiter looked.
    #[test]
    fn loom_clear_with_a_stale_tick_keeps_new_readiness() {
        loom::model(|| {
            let io = loom::sync::Arc::new(ScheduledIo::new());
            io.set_readiness(Ready::READABLE, 1, drop);
            let waker = futures_util::task::noop_waker();
            let mut cx = Context::from_waker(&waker);
            let seen = match io.poll_ready(&mut cx, Interest::READABLE) {
                Poll::Ready(Ok(ev)) => ev,
                _ => panic!("readiness was set"),
            };
            let reactor = {
                let io = io.clone();
                loom::thread::spawn(move || io.set_readiness(Ready::READABLE, 2, drop))
            };
            // The waiter got WouldBlock for the tick-1 event and clears it.
            io.clear_readiness(seen);
            reactor.join().unwrap();
            assert!(
                io.poll_ready(&mut cx, Interest::READABLE).is_ready(),
                "the tick-2 event was erased by a clear for tick 1"
            );
        });
    }
}
