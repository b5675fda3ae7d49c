//! The `block_on` future takes FIFO turns with tasks and callbacks.
//!
//! asyncio runs the main coroutine as a task: each time it is woken, its
//! next step goes to the back of the ready queue, after every task step and
//! callback already there. eddy does the same, at most once at a time:
//!
//! - a wake on the loop thread first moves everything other threads have
//!   already submitted (the inject queue, remote callbacks) into the local
//!   queue, then queues the future's turn: a [`Runnable::Main`] marker at
//!   the back of the run queue, or, when the queue is empty (a loop woken
//!   by its driver, mostly), just the [`Turn::Next`] state, which the loop
//!   checks before it pops anything;
//! - a wake from another thread sets a flag and unparks the loop; the loop
//!   swaps the flag off *before* it drains the remote queues, so whatever
//!   that thread submitted before the wake is drained ahead of the turn.
//!
//! The first poll is queued the same way when `block_on` starts.

use std::cell::Cell;
use std::ptr;
use std::sync::Arc as StdArc;
use std::task::{Wake, Waker};

use super::context::{self, Local, Runnable};
use super::Shared;
use crate::loom::{Arc, AtomicBool, Ordering};

/// The flag a wake from another thread sets.
///
/// The waking thread submits its work (inject queue, remote callbacks)
/// before [`RemoteWake::set`]; the loop calls [`RemoteWake::take`] before
/// it drains those queues, so a wake it sees comes with everything that
/// thread submitted earlier (loom model `loom_remote_wake_brings_earlier_work`).
#[derive(Default)]
pub(crate) struct RemoteWake(AtomicBool);

impl RemoteWake {
    pub(crate) fn set(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Clears the flag; whether it was set.
    pub(crate) fn take(&self) -> bool {
        // A plain load first: the loop checks far more often than other
        // threads wake it, and a swap would write the cache line each time.
        self.0.load(Ordering::Relaxed) && self.0.swap(false, Ordering::AcqRel)
    }

    pub(crate) fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Wakes the `block_on` future.
pub(crate) struct MainWaker {
    /// Woken from another thread since the loop last looked.
    remote: RemoteWake,
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: StdArc<Self>) {
        self.wake_inner();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        self.wake_inner();
    }
}

impl MainWaker {
    #[inline(always)]
    fn wake_inner(self: &StdArc<Self>) {
        // Only this waker's own loop, running its `block_on`, points at it.
        let queued = context::with_local(|l| {
            let current = l.main.is_current(self);
            if current {
                l.queue_main();
            }
            current
        });
        if queued != Some(true) {
            // Another thread (or a waker that outlived its `block_on`,
            // whose flag nobody reads any more).
            self.remote.set();
            self.shared.unparker.unpark();
        }
    }
}

/// Where the `block_on` future's next poll stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Turn {
    /// Not due: it waits for a wake.
    Idle,
    /// Due before everything in the run queue: it was woken while the
    /// queue was empty, so it needs no marker (the common case of a loop
    /// woken by its driver); the loop checks this before popping.
    Next,
    /// Due at its [`Runnable::Main`] marker in the run queue.
    Queued,
}

/// The loop thread's record of the running `block_on` future.
pub(crate) struct MainSlot {
    /// The running `block_on` future's waker; null outside `block_on`.
    /// Only [`MainScope`] sets it, and it holds a reference to the waker
    /// until it has reset the pointer.
    waker: Cell<*const MainWaker>,
    turn: Cell<Turn>,
}

impl Default for MainSlot {
    fn default() -> MainSlot {
        MainSlot {
            waker: Cell::new(ptr::null()),
            turn: Cell::new(Turn::Idle),
        }
    }
}

impl MainSlot {
    #[inline]
    fn is_current(&self, waker: &StdArc<MainWaker>) -> bool {
        ptr::eq(self.waker.get(), StdArc::as_ptr(waker))
    }

    #[inline(always)]
    fn current(&self) -> Option<&MainWaker> {
        let waker = self.waker.get();
        // SAFETY: a non-null pointer was set by `MainScope::enter`, whose
        // scope owns a reference to the waker until it resets the pointer.
        (!waker.is_null()).then(|| unsafe { &*waker })
    }

    /// Takes a wake from another thread, if one arrived.
    #[inline(always)]
    fn take_remote_wake(&self) -> bool {
        self.current().is_some_and(|w| w.remote.take())
    }

    /// Whether the future is due ahead of the whole run queue.
    #[inline(always)]
    pub(crate) fn is_next(&self) -> bool {
        self.turn.get() == Turn::Next
    }

    /// Whether the future is due without a marker, or another thread woke
    /// it since the loop last looked: the loop must not block.
    #[inline]
    pub(crate) fn wants_poll(&self) -> bool {
        self.is_next() || self.current().is_some_and(|w| w.remote.is_set())
    }

    /// Its turn came (the flag or the marker): the future is about to be
    /// polled, and a wake from now on queues it again.
    #[inline]
    pub(crate) fn polling(&self) {
        self.turn.set(Turn::Idle);
    }
}

impl Local {
    /// Queues the main future's next poll behind everything already
    /// submitted, locally or from other threads.
    #[inline]
    pub(crate) fn queue_main(&self) {
        if self.main.turn.get() != Turn::Idle {
            return;
        }
        self.pull_remote(usize::MAX);
        let mut queue = self.run_queue.borrow_mut();
        if queue.is_empty() {
            self.main.turn.set(Turn::Next);
        } else {
            queue.push_back(Runnable::Main);
            self.main.turn.set(Turn::Queued);
        }
    }

    /// Moves remote work into the local queue: at most `batch` tasks when
    /// nothing else is due, but all of it when another thread woke the main
    /// future (the flag is taken first, so everything submitted before that
    /// wake is drained ahead of the future's turn). Whether anything was
    /// queued or the future became due.
    #[inline(always)]
    pub(crate) fn pull_remote_checking_main(&self, batch: usize) -> bool {
        let main = self.main.take_remote_wake();
        if main {
            self.queue_main();
        }
        self.pull_remote(batch) || main
    }
}

/// Installs a `block_on` future's waker on the loop for the duration of
/// `block_on` and queues its first poll; on drop (return or unwind) it
/// forgets the waker and removes a marker still queued.
pub(crate) struct MainScope<'a> {
    local: &'a Local,
    /// Keeps the waker `local.main` points to alive.
    waker: Waker,
}

impl<'a> MainScope<'a> {
    pub(crate) fn enter(local: &'a Local) -> MainScope<'a> {
        let main = StdArc::new(MainWaker {
            remote: RemoteWake::default(),
            shared: local.shared.clone(),
        });
        let previous = local.main.waker.replace(StdArc::as_ptr(&main));
        debug_assert!(previous.is_null(), "block_on is not reentrant");
        local.main.turn.set(Turn::Idle);
        let scope = MainScope {
            local,
            waker: Waker::from(main),
        };
        local.queue_main();
        scope
    }

    pub(crate) fn waker(&self) -> &Waker {
        &self.waker
    }
}

impl Drop for MainScope<'_> {
    fn drop(&mut self) {
        let main = &self.local.main;
        // Before `self.waker` (and with it the scope's reference) goes.
        main.waker.set(ptr::null());
        if main.turn.replace(Turn::Idle) == Turn::Queued {
            // The future woke itself and then finished (or panicked): its
            // marker must not poll the next `block_on`'s future.
            self.local
                .run_queue
                .borrow_mut()
                .retain(|r| !matches!(r, Runnable::Main));
        }
    }
}
