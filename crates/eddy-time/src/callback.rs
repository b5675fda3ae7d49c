//! `call_later` / `call_at` and their `TimerHandle`.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Duration;

use crate::driver::{Payload, TimeShared};
use crate::handle::current_shared;
use crate::instant::Instant;
use crate::loom::{AtomicBool, Mutex, Ordering};
use crate::sleep::Sleep;

/// Shared between a scheduled callback and its [`TimerHandle`].
#[derive(Debug, Default)]
pub(crate) struct CallbackState {
    /// `cancel()` was called: the callback must not run.
    cancelled: AtomicBool,
    /// The timer fired: a wheel callback left the wheel (set under the
    /// wheel lock, so `cancel` knows the key is no longer its own).
    fired: AtomicBool,
    /// A loop-thread callback's task while it waits for its timer: `cancel`
    /// wakes it so it ends (and its timer leaves the wheel).
    waiter: Mutex<Option<Waker>>,
}

impl CallbackState {
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }
    pub(crate) fn mark_fired(&self) {
        self.fired.store(true, Ordering::Release);
    }
}

/// Empties the waiter slot when a loop-thread callback's task ends (ran,
/// was cancelled, or was dropped at shutdown), so a kept `TimerHandle` does
/// not keep the finished task's memory alive.
struct ClearWaiter<'a>(&'a CallbackState);

impl Drop for ClearWaiter<'_> {
    fn drop(&mut self) {
        let waker = self.0.waiter.lock().take();
        drop(waker);
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
    state: Arc<CallbackState>,
    kind: Kind,
}

enum Kind {
    /// A loop-thread callback: a small detached task that sleeps, then runs
    /// it (so the closure need not be `Send` and only ever lives on the
    /// loop). Nobody joins that task, so a panic in the callback goes to
    /// the unhandled-panic policy when it happens; `cancel` wakes the task
    /// through [`CallbackState::waiter`] and it ends without running it.
    Task,
    /// A thread-safe callback stored in the wheel under `key`.
    Wheel { shared: Arc<TimeShared>, key: u32 },
    /// Scheduled after shutdown: never runs.
    Dead,
}

impl TimerHandle {
    /// Prevents the callback from running if it has not started; from any
    /// thread. Its timer leaves the wheel (a loop-thread callback's at the
    /// loop's next scheduling point). Calling it again, or after the
    /// callback ran, does nothing.
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
        // Only the first cancel may touch the wheel: after it removed the
        // entry, the slab may hand `key` to another timer, which a second
        // remove would take out (or find vacant and panic). The swap also
        // settles two threads cancelling at once.
        if self.state.cancelled.swap(true, Ordering::AcqRel) {
            return;
        }
        match &self.kind {
            Kind::Task => {
                let waiter = self.state.waiter.lock().take();
                if let Some(w) = waiter {
                    w.wake();
                }
            }
            Kind::Wheel { shared, key } => {
                let payload = {
                    let mut st = shared.state.lock();
                    if st.shut_down || self.state.fired.load(Ordering::Acquire) {
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
        self.state.is_cancelled()
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
/// A panic in `f` goes to the runtime's unhandled-panic policy when it
/// happens, whether or not the [`TimerHandle`] is kept.
///
/// # Ordering
///
/// Callbacks run in deadline order, equal deadlines in the order they were
/// scheduled. Each runs as a small task of its own, queued when its timer
/// fires, and the future given to `block_on`/`run` takes its turn in the
/// same FIFO queue, as asyncio's main task does. So a callback due before a
/// sleep of that future has run when the sleep returns, even when both
/// timers fire in the same loop turn (a busy loop).
///
/// Deadlines are rounded up to the millisecond, and timers due in the same
/// millisecond fire in the order they were registered. A callback's timer
/// is registered when its task first runs, after the poll that called
/// `call_later`: a sleep started in that same poll and due in the same
/// millisecond resumes the future first.
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
    let state = Arc::new(CallbackState::default());
    let st = state.clone();
    // In the wheel from now on (the task's first poll gives it a waker), so
    // equal deadlines keep the order they were scheduled in, whether with
    // call_later/call_at or their Handle forms.
    let mut sleep = Sleep::new_registered(shared, when);
    // Detached: a panic in `f` must reach the unhandled-panic policy now,
    // not wait in a join handle that nobody can read.
    drop(eddy_core::spawn(async move {
        let clear = ClearWaiter(&st);
        let fired = poll_fn(|cx| {
            if st.is_cancelled() {
                return Poll::Ready(false);
            }
            let replaced = {
                let mut waiter = st.waiter.lock();
                if waiter.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    None
                } else {
                    waiter.replace(cx.waker().clone())
                }
            };
            // The old waker is dropped outside the lock.
            drop(replaced);
            // `cancel` sets the flag before it takes the waker: a cancel
            // that took the slot before we filled it is seen here.
            if st.is_cancelled() {
                return Poll::Ready(false);
            }
            Pin::new(&mut sleep).poll(cx).map(|()| true)
        })
        .await;
        drop(clear);
        // The timer leaves the wheel now, before `f` runs.
        drop(sleep);
        if fired && !st.is_cancelled() {
            st.mark_fired();
            f();
        }
    }));
    TimerHandle {
        when,
        state,
        kind: Kind::Task,
    }
}

/// The thread-safe form: the callback waits in the wheel.
#[track_caller]
pub(crate) fn schedule_remote(
    shared: &Arc<TimeShared>,
    when: Instant,
    f: Box<dyn FnOnce() + Send>,
) -> TimerHandle {
    let state = Arc::new(CallbackState::default());
    let tick = shared.clock.deadline_tick(when);
    let mut st = shared.state.lock();
    if st.shut_down {
        drop(st);
        state.cancelled.store(true, Ordering::Release);
        return TimerHandle {
            when,
            state,
            kind: Kind::Dead,
        };
    }
    let key = st.wheel.insert(tick, Payload::Callback(f, state.clone()));
    shared.wake_for(&mut st, tick);
    drop(st);
    TimerHandle {
        when,
        state,
        kind: Kind::Wheel {
            shared: shared.clone(),
            key,
        },
    }
}
