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
//! lost. `WouldBlock` clears the error bit too (the error it reported has
//! been returned by then); the read-closed and write-closed bits are final.
//!
//! # Wakers
//!
//! Two kinds of waiter, both per direction:
//!
//! - the `poll_*` API (`AsyncRead`/`AsyncWrite`, `poll_accept`) has no
//!   future to remember a place in a list, so it gets one waker slot per
//!   direction and the last task to poll wins, as with any `poll_*` method
//!   (a reader and a writer still wait at once, e.g. the two halves of a
//!   split stream);
//! - the async fns (`accept`, `recv`, `readable`, ...) wait through a
//!   [`Waiter`], which holds its own entry in a list, so any number of
//!   tasks can wait on one socket at once (several tasks accepting on one
//!   listener, several receiving on one UDP socket). An event wakes every
//!   waiter it concerns; the ones that find nothing left get `WouldBlock`
//!   and wait again. A `Waiter` removes its entry when dropped.
//!
//! A waiter stores its waker under the lock and then re-reads the state
//! word; the reactor publishes readiness first and takes the wakers under
//! the same lock after, so one of the two always sees the other.

use std::io;
use std::task::{Context, Poll, Waker};

use slab::Slab;

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
    /// The `poll_*` API's slots: one task per direction.
    reader: Option<Waker>,
    writer: Option<Waker>,
    /// [`Waiter`]s' entries: any number per direction.
    list: Slab<ListEntry>,
}

/// One [`Waiter`]'s place in [`Waiters::list`].
struct ListEntry {
    /// What it waits for; any of these bits wakes it.
    interest: Interest,
    /// `None` once woken (the entry stays until its `Waiter` drops).
    waker: Option<Waker>,
}

/// A wait for readiness that keeps its own entry in the waiter list, so it
/// never displaces another task's wait (see the module docs). Removes its
/// entry on drop, so a cancelled wait leaves nothing behind.
pub(crate) struct Waiter<'a> {
    io: &'a ScheduledIo,
    key: Option<usize>,
}

impl Waiter<'_> {
    /// As [`ScheduledIo::poll_ready`], but waiting in this waiter's own
    /// list entry instead of a direction's single slot; `interest` may
    /// name both directions.
    pub(crate) fn poll_ready(
        &mut self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<ReadyEvent>> {
        if let Some(ev) = self.io.ready_now(interest)? {
            return Poll::Ready(Ok(ev));
        }
        {
            let mut waiters = self.io.waiters.lock();
            match self.key.and_then(|k| waiters.list.get_mut(k)) {
                Some(entry) => {
                    entry.interest = interest;
                    match &entry.waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => entry.waker = Some(cx.waker().clone()),
                    }
                }
                None => {
                    self.key = Some(waiters.list.insert(ListEntry {
                        interest,
                        waker: Some(cx.waker().clone()),
                    }));
                }
            }
        }
        // As in `ScheduledIo::poll_ready`: readiness may have arrived
        // before the waker was stored.
        match self.io.ready_now(interest)? {
            Some(ev) => Poll::Ready(Ok(ev)),
            None => Poll::Pending,
        }
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.io.waiters.lock().list.try_remove(key);
        }
    }
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
        "the eddy runtime that owned this I/O object has shut down (sockets, a child's \
         pipes and AsyncFds stay with the runtime they were made in); create sockets, and \
         spawn children whose pipes you use, inside the runtime that uses them",
    )
}

impl ScheduledIo {
    pub(crate) fn new() -> ScheduledIo {
        ScheduledIo {
            state: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// Readiness for `interest` if any is set now, without registering a
    /// waker (so a non-blocking attempt never displaces a waiting task).
    pub(crate) fn ready_now(&self, interest: Interest) -> Result<Option<ReadyEvent>, io::Error> {
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

    /// A [`Waiter`] on this registration, for the async fns.
    pub(crate) fn waiter(&self) -> Waiter<'_> {
        Waiter {
            io: self,
            key: None,
        }
    }

    /// Ready when the descriptor has readiness for `interest` (one
    /// direction: READABLE or WRITABLE); otherwise stores the waker of
    /// `cx` in that direction's slot and returns `Pending`. One task per
    /// direction: a second task polling displaces the first (use a
    /// [`Waiter`] where several may wait).
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

    /// After an operation returned `WouldBlock`: clears the readable,
    /// writable and error bits of `event` unless newer readiness arrived
    /// since it was observed. The error bit goes too: `EPOLLERR` reports a
    /// pending `SO_ERROR`, which the next operation returns and consumes,
    /// so `WouldBlock` proves it is gone (a new error brings a new event);
    /// kept, it would make every wait return at once and the operation
    /// loop spin. The closed bits stay: they are final.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.clear(event, Ready::READABLE | Ready::WRITABLE | Ready::ERROR);
    }

    /// After a short read or write (the kernel buffer drained or filled):
    /// clears only the readable/writable bits of `event`, under the same
    /// tick rule; a pending error stays, for the next operation to return.
    pub(crate) fn clear_drained(&self, event: ReadyEvent) {
        self.clear(event, Ready::READABLE | Ready::WRITABLE);
    }

    fn clear(&self, event: ReadyEvent, bits: Ready) {
        let clear = event.ready & bits;
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

    /// Called by the reactor: adds `ready` at `tick` and hands the wakers
    /// of the waiters it concerns to `wake`, so the caller can wake them
    /// outside its own locks. `wake` runs under this registration's waiter
    /// lock: it must only collect the wakers, not wake them.
    pub(crate) fn set_readiness(&self, ready: Ready, tick: u16, mut wake: impl FnMut(Waker)) {
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                Some((state & !TICK_MASK) | ready.bits() | ((tick as usize) << TICK_SHIFT))
            });
        let for_readers = !(ready & Interest::READABLE.mask()).is_empty();
        let for_writers = !(ready & Interest::WRITABLE.mask()).is_empty();
        let mut waiters = self.waiters.lock();
        if for_readers {
            if let Some(w) = waiters.reader.take() {
                wake(w);
            }
        }
        if for_writers {
            if let Some(w) = waiters.writer.take() {
                wake(w);
            }
        }
        for (_, entry) in waiters.list.iter_mut() {
            if !(ready & entry.interest.mask()).is_empty() {
                if let Some(w) = entry.waker.take() {
                    wake(w);
                }
            }
        }
    }

    /// Called when the reactor goes away: every present and future wait
    /// fails with [`shutdown_error`].
    pub(crate) fn shutdown(&self) {
        self.state.fetch_or(SHUTDOWN, Ordering::AcqRel);
        let wakers: Vec<Waker> = {
            let mut waiters = self.waiters.lock();
            let mut wakers: Vec<Waker> = [waiters.reader.take(), waiters.writer.take()]
                .into_iter()
                .flatten()
                .collect();
            wakers.extend(waiters.list.iter_mut().filter_map(|(_, e)| e.waker.take()));
            wakers
        };
        for w in wakers {
            w.wake();
        }
    }
}

/// Loom models of the readiness word: run with
/// `RUSTFLAGS="--cfg loom" cargo test -p eddy-io --lib loom_`.
#[cfg(all(test, loom))]
pub(crate) mod loom_tests {
    use std::sync::Arc;
    use std::task::{Context, Wake, Waker};

    use super::*;

    /// A waker that records that it was woken (shared with the reactor's
    /// models).
    pub(crate) struct Flag(pub(crate) loom::sync::atomic::AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// The reactor's side of a model: on another thread, marks `io`
    /// readable and wakes whoever that concerns.
    fn fire_readable(io: loom::sync::Arc<ScheduledIo>) -> loom::thread::JoinHandle<()> {
        loom::thread::spawn(move || {
            let mut wakers = Vec::new();
            io.set_readiness(Ready::READABLE, 1, |w| wakers.push(w));
            wakers.into_iter().for_each(Waker::wake);
        })
    }

    /// A waiter racing the reactor either sees the readiness or is woken.
    #[test]
    fn loom_readiness_is_seen_or_the_waiter_is_woken() {
        loom::model(|| {
            let io = loom::sync::Arc::new(ScheduledIo::new());
            let reactor = fire_readable(io.clone());
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

    /// Two tasks waiting on one direction through their own waiters: an
    /// event racing the second's registration wakes the first, and the
    /// second either sees it or is woken too.
    #[test]
    fn loom_an_event_wakes_every_listed_waiter() {
        loom::model(|| {
            let io = loom::sync::Arc::new(ScheduledIo::new());
            let first = Arc::new(Flag(loom::sync::atomic::AtomicBool::new(false)));
            let first_waker = Waker::from(first.clone());
            let mut w1 = io.waiter();
            assert!(w1
                .poll_ready(&mut Context::from_waker(&first_waker), Interest::READABLE)
                .is_pending());
            let reactor = fire_readable(io.clone());
            let second = Arc::new(Flag(loom::sync::atomic::AtomicBool::new(false)));
            let second_waker = Waker::from(second.clone());
            let mut w2 = io.waiter();
            let ready = w2
                .poll_ready(&mut Context::from_waker(&second_waker), Interest::READABLE)
                .is_ready();
            reactor.join().unwrap();
            assert!(
                first.0.load(Ordering::SeqCst),
                "the first waiter was displaced"
            );
            assert!(
                ready || second.0.load(Ordering::SeqCst),
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
