//! `call_later` / `call_at` and their `TimerHandle`.
//!
//! A callback waits in the timer wheel and, when its timer fires, is queued
//! on the loop as a `call_soon` callback would be (asyncio's `TimerHandle`
//! is a `Handle` too): not a task, so it is not listed among tasks and
//! debug mode reports it as a slow callback, named by where `call_later` /
//! `call_at` was called. The closure of the loop-thread form need not be
//! `Send`, so the wheel (shared with other threads) holds only a
//! `ParkedCallback`: a reference to the closure, which waits on the loop.

use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use eddy_core::task::{copy_context, ContextSnapshot};
use eddy_core::CallbackHandle;

use crate::driver::{Payload, TimeShared};
use crate::handle::current_shared;
use crate::instant::Instant;
use crate::loom::{AtomicBool, Ordering};

pub(crate) use eddy_core::__driver::ParkedCallback;

/// Shared between a thread-safe callback in the wheel and its
/// [`TimerHandle`].
#[derive(Debug)]
pub(crate) struct CallbackState {
    /// `cancel()` was called: the callback must not run.
    cancelled: AtomicBool,
    /// The timer fired: the callback left the wheel (set under the wheel
    /// lock, so `cancel` knows the key is no longer its own).
    fired: AtomicBool,
    /// Where `call_later`/`call_at` was called (debug mode names it).
    pub(crate) location: &'static Location<'static>,
}

impl CallbackState {
    fn new(location: &'static Location<'static>) -> CallbackState {
        CallbackState {
            cancelled: AtomicBool::new(false),
            fired: AtomicBool::new(false),
            location,
        }
    }
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }
    pub(crate) fn mark_fired(&self) {
        self.fired.store(true, Ordering::Release);
    }
}

/// A callback scheduled with [`call_later`] / [`call_at`] (or their
/// [`Handle`](crate::Handle) forms), asyncio's `TimerHandle`.
///
/// `Send + Sync`; dropping it does **not** cancel the callback.
///
/// # Example
///
/// ```
/// use std::{cell::Cell, rc::Rc, time::Duration};
/// eddy_time::run(async {
///     let hits = Rc::new(Cell::new(0));
///     let h = hits.clone();
///     let timer = eddy_time::call_later(Duration::from_millis(1), move || h.set(1));
///     timer.cancel();
///     eddy_time::sleep(Duration::from_millis(5)).await;
///     assert_eq!(hits.get(), 0);
/// });
/// ```
pub struct TimerHandle {
    when: Instant,
    kind: Kind,
}

enum Kind {
    /// A loop-thread callback: its closure waits on the loop (parked in
    /// eddy-core) and the wheel entry under `key` holds the
    /// `ParkedCallback` that `callback` is the handle of. The closure is
    /// dropped on the loop, whichever thread cancels it.
    Local {
        shared: Arc<TimeShared>,
        key: u32,
        callback: CallbackHandle,
    },
    /// A thread-safe callback stored in the wheel under `key`.
    Wheel {
        shared: Arc<TimeShared>,
        key: u32,
        state: Arc<CallbackState>,
    },
    /// Scheduled after shutdown: never runs.
    Dead,
}

impl TimerHandle {
    /// Prevents the callback from running if it has not started; from any
    /// thread. Its timer leaves the wheel at once. The closure of
    /// [`call_later`] / [`call_at`] (which need not be `Send`) is dropped
    /// on the loop thread: at once when cancelled there, else at the
    /// loop's next scheduling point, or when its turn in the queue comes
    /// if the timer had already fired. The `Send` closure of the
    /// [`Handle`](crate::Handle) forms is dropped by this call, on the
    /// thread that cancels, unless its timer had already fired (then on
    /// the loop, when its turn in the queue comes). Calling it again, or
    /// after the callback ran, does nothing.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let timer = eddy_time::call_later(Duration::ZERO, || unreachable!());
    ///     timer.cancel();
    ///     eddy_time::sleep(Duration::from_millis(2)).await;
    /// });
    /// ```
    pub fn cancel(&self) {
        match &self.kind {
            Kind::Local {
                shared,
                key,
                callback,
            } => {
                if callback.is_cancelled() {
                    return;
                }
                // Set first: a callback already queued (its timer fired)
                // sees it and does not run.
                callback.cancel();
                // The entry is ours while it holds our callback: after it
                // fired, or after another cancel removed it, the slab may
                // have handed `key` to another timer.
                let payload = {
                    let mut st = shared.state.lock();
                    let ours = !st.shut_down
                        && matches!(st.wheel.get(*key), Some(Payload::Local(p)) if p.is(callback));
                    if !ours {
                        return;
                    }
                    st.wheel.remove(*key)
                };
                // Dropped outside the lock: the closure is dropped on the
                // loop (now, on the loop thread; else at its next step).
                drop(payload);
            }
            Kind::Wheel { shared, key, state } => {
                // Only the first cancel may touch the wheel: after it
                // removed the entry, the slab may hand `key` to another
                // timer, which a second remove would take out (or find
                // vacant and panic). The swap also settles two threads
                // cancelling at once.
                if state.cancelled.swap(true, Ordering::AcqRel) {
                    return;
                }
                let payload = {
                    let mut st = shared.state.lock();
                    if st.shut_down || state.fired.load(Ordering::Acquire) {
                        return;
                    }
                    st.wheel.remove(*key)
                };
                // The closure is dropped outside the lock.
                drop(payload);
            }
            Kind::Dead => {}
        }
    }

    /// Whether [`TimerHandle::cancel`] was called (or the runtime was shut
    /// down before the callback was scheduled).
    ///
    /// # Example
    ///
    /// ```
    /// eddy_time::run(async {
    ///     let timer = eddy_time::call_later(std::time::Duration::from_secs(1), || {});
    ///     assert!(!timer.is_cancelled());
    ///     timer.cancel();
    ///     assert!(timer.is_cancelled());
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        match &self.kind {
            Kind::Local { callback, .. } => callback.is_cancelled(),
            Kind::Wheel { state, .. } => state.is_cancelled(),
            Kind::Dead => true,
        }
    }

    /// When the callback is due (asyncio's `TimerHandle.when()`).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let at = eddy_time::Instant::now() + Duration::from_secs(5);
    ///     let timer = eddy_time::call_at(at, || {});
    ///     assert_eq!(timer.when(), at);
    ///     timer.cancel();
    /// });
    /// ```
    pub fn when(&self) -> Instant {
        self.when
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("when", &self.when)
            .field("cancelled", &self.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// Runs `f` on this loop after `delay` (asyncio's `loop.call_later`).
/// Callbacks with equal deadlines run in the order they were scheduled;
/// a zero delay runs it at the loop's next tick, `Duration::MAX` never.
/// `f` need not be `Send`: it never leaves the loop thread. Use
/// [`Handle::call_later`](crate::Handle::call_later) from other threads.
///
/// The callback is not a task (asyncio's `TimerHandle` is a callback
/// handle too): it is not listed by `task::all`, and debug mode reports it
/// when slow as a slow callback queued at the place `call_later` was
/// called, as it does a [`call_soon`](eddy_core::call_soon) callback. A
/// panic in `f` goes to the runtime's unhandled-panic policy when it
/// happens, whether or not the [`TimerHandle`] is kept. Callbacks still
/// pending when the runtime shuts down are dropped unrun, on the loop
/// thread.
///
/// # Ordering
///
/// Callbacks run in deadline order, equal deadlines in the order they were
/// scheduled. Each is queued as a `call_soon` callback when its timer
/// fires, and task steps and the future given to `block_on`/`run` take
/// their turns in the same FIFO queue, as asyncio's main task does. So a
/// callback due before a sleep of that future has run when the sleep
/// returns, even when both timers fire in the same loop turn (a busy loop).
///
/// Deadlines are rounded up to the millisecond, and timers due in the same
/// millisecond fire in the order they were registered. A callback's timer
/// is registered when `call_later` is called: a sleep started after it and
/// due in the same millisecond resumes after the callback ran.
///
/// # Panics
///
/// With no eddy runtime on this thread.
///
/// # Example
///
/// ```
/// use std::{cell::RefCell, rc::Rc, time::Duration};
/// eddy_time::run(async {
///     let log = Rc::new(RefCell::new(Vec::new()));
///     for (i, ms) in [(0, 3), (1, 1), (2, 3)] {
///         let log = log.clone();
///         eddy_time::call_later(Duration::from_millis(ms), move || log.borrow_mut().push(i));
///     }
///     eddy_time::sleep(Duration::from_millis(10)).await;
///     assert_eq!(*log.borrow(), [1, 0, 2]);
/// });
/// ```
#[track_caller]
pub fn call_later(delay: Duration, f: impl FnOnce() + 'static) -> TimerHandle {
    let shared = current_shared();
    let when = shared.clock.now() + delay;
    schedule_local(shared, when, f)
}

/// Runs `f` on this loop at `when` (asyncio's `loop.call_at`); a past
/// instant runs it at the loop's next tick. See [`call_later`].
///
/// # Panics
///
/// With no eddy runtime on this thread.
///
/// # Example
///
/// ```
/// use std::{cell::Cell, rc::Rc, time::Duration};
/// eddy_time::run(async {
///     let done = Rc::new(Cell::new(false));
///     let d = done.clone();
///     let at = eddy_time::Instant::now() + Duration::from_millis(2);
///     eddy_time::call_at(at, move || d.set(true));
///     eddy_time::sleep_until(at + Duration::from_millis(5)).await;
///     assert!(done.get());
/// });
/// ```
#[track_caller]
pub fn call_at(when: Instant, f: impl FnOnce() + 'static) -> TimerHandle {
    schedule_local(current_shared(), when, f)
}

#[track_caller]
fn schedule_local(
    shared: Arc<TimeShared>,
    when: Instant,
    f: impl FnOnce() + 'static,
) -> TimerHandle {
    let location = Location::caller();
    let tick = shared.clock.deadline_tick(when);
    // The closure waits on the loop; the wheel only refers to it.
    let (parked, callback) = ParkedCallback::new(location, f);
    let mut st = shared.state.lock();
    if st.shut_down {
        drop(st);
        callback.cancel();
        // Dropped on the loop, now.
        drop(parked);
        return TimerHandle {
            when,
            kind: Kind::Dead,
        };
    }
    // In the wheel from now on, so equal deadlines keep the order they
    // were scheduled in, whether with call_later/call_at or their Handle
    // forms.
    let key = st.wheel.insert(tick, Payload::Local(parked));
    shared.wake_for(&mut st, tick);
    drop(st);
    TimerHandle {
        when,
        kind: Kind::Local {
            shared,
            key,
            callback,
        },
    }
}

/// A thread-safe callback as the wheel holds it: one allocation with its
/// state, behind a thin `Box<dyn RemoteCallback>` (the wheel entries stay
/// small).
pub(crate) trait RemoteCallback: Send {
    fn state(&self) -> &Arc<CallbackState>;
    /// Runs the callback unless it was cancelled.
    fn run(self: Box<Self>);
}

struct Remote<F> {
    state: Arc<CallbackState>,
    f: F,
    /// The context the callback was scheduled from (asyncio's callbacks
    /// run in a copy of it, as eddy-core's `call_soon` ones do).
    context: ContextSnapshot,
}

impl<F: FnOnce() + Send> RemoteCallback for Remote<F> {
    fn state(&self) -> &Arc<CallbackState> {
        &self.state
    }
    fn run(self: Box<Self>) {
        if !self.state.is_cancelled() {
            let Remote { f, mut context, .. } = *self;
            context.run(f)
        }
    }
}

/// The thread-safe form: the callback waits in the wheel.
#[track_caller]
pub(crate) fn schedule_remote(
    shared: &Arc<TimeShared>,
    when: Instant,
    f: impl FnOnce() + Send + 'static,
) -> TimerHandle {
    let state = Arc::new(CallbackState::new(Location::caller()));
    let tick = shared.clock.deadline_tick(when);
    let callback = Box::new(Remote {
        state: state.clone(),
        f,
        context: copy_context(),
    });
    let mut st = shared.state.lock();
    if st.shut_down {
        drop(st);
        state.cancelled.store(true, Ordering::Release);
        // The closure is dropped outside the lock.
        drop(callback);
        return TimerHandle {
            when,
            kind: Kind::Dead,
        };
    }
    let key = st.wheel.insert(tick, Payload::Callback(callback));
    shared.wake_for(&mut st, tick);
    drop(st);
    TimerHandle {
        when,
        kind: Kind::Wheel {
            shared: shared.clone(),
            key,
            state,
        },
    }
}
