//! `sleep`, `sleep_until` and the `Sleep` future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use eddy_core::coop;

use crate::driver::{Payload, TimeShared};
use crate::handle::current_shared;
use crate::instant::Instant;

/// Waits until `duration` has elapsed on the eddy clock (asyncio's `sleep`).
///
/// `sleep(Duration::ZERO)` yields to the loop once without touching the
/// timer wheel (asyncio's `sleep(0)`); `Duration::MAX` sleeps forever.
///
/// # Cancel safety
///
/// Cancel safe: dropping the `Sleep` (on any thread) removes its timer and
/// loses nothing.
///
/// # Panics
///
/// With no eddy runtime on this thread ("no eddy runtime on this thread:
/// call inside eddy::run / #\[eddy::main\]").
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// eddy_time::run(async {
///     let start = eddy_time::Instant::now();
///     eddy_time::sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let shared = current_shared();
    let now = shared.clock.now();
    if duration.is_zero() {
        return Sleep {
            shared,
            deadline: now,
            state: State::YieldOnce,
        };
    }
    Sleep::new(shared, now + duration)
}

/// Waits until `deadline` on the eddy clock; a deadline already past
/// completes at once (or at the loop's next tick).
///
/// # Cancel safety
///
/// Cancel safe, as [`sleep`].
///
/// # Panics
///
/// With no eddy runtime on this thread.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use eddy_time::Instant;
/// eddy_time::run(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     eddy_time::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(current_shared(), deadline)
}

/// The future of [`sleep`] / [`sleep_until`].
///
/// `Send`, `Unpin` and resettable. Its timer is registered on the first
/// poll and removed when it completes or is dropped (dropping it on another
/// thread than the loop is fine). A poll that finds it elapsed counts
/// against the task's cooperative budget.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// eddy_time::run(async {
///     let mut sleep = eddy_time::sleep(Duration::from_secs(3600));
///     // Changed our mind: wake much sooner.
///     sleep.reset(eddy_time::Instant::now() + Duration::from_millis(1));
///     sleep.await;
/// });
/// ```
#[must_use = "a Sleep does nothing until awaited"]
pub struct Sleep {
    pub(crate) shared: Arc<TimeShared>,
    deadline: Instant,
    state: State,
}

/// Where a `Sleep` stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not in the wheel yet; `force` = register even if the deadline
    /// already passed (so it fires from the driver, after older timers).
    Unregistered { force: bool },
    /// In the wheel under this key (pending, or fired and not yet seen).
    Registered(u32),
    /// `sleep(ZERO)` before its first poll.
    YieldOnce,
    /// Completed (for `sleep(ZERO)`: yielded once already).
    Done,
}

impl Sleep {
    pub(crate) fn new(shared: Arc<TimeShared>, deadline: Instant) -> Sleep {
        Sleep {
            shared,
            deadline,
            state: State::Unregistered { force: false },
        }
    }

    /// A sleep that is done at once if `deadline` is already here (for a
    /// timeout or deadline scope made in the past or with zero time: it
    /// expires after the operation's first step, as asyncio's
    /// `timeout(0)` does). Plain [`new`](Self::new) rounds the deadline up
    /// to the wheel's next millisecond, which let such an operation run
    /// for up to a millisecond more (thousands of steps of a future that
    /// wakes itself). Costs a clock read, so only for those.
    pub(crate) fn new_or_due(shared: Arc<TimeShared>, deadline: Instant) -> Sleep {
        let due = deadline <= shared.clock.now();
        Sleep {
            shared,
            deadline,
            state: if due {
                State::Done
            } else {
                State::Unregistered { force: false }
            },
        }
    }

    /// A sleep that always goes through the driver, even for a past
    /// deadline (used by `advance`).
    pub(crate) fn new_forced(shared: Arc<TimeShared>, deadline: Instant) -> Sleep {
        Sleep {
            shared,
            deadline,
            state: State::Unregistered { force: true },
        }
    }

    /// The instant this sleep completes at.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let deadline = eddy_time::Instant::now() + Duration::from_secs(1);
    ///     assert_eq!(eddy_time::sleep_until(deadline).deadline(), deadline);
    /// });
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline was reached (the timer fired or the sleep
    /// completed).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let mut sleep = eddy_time::sleep(Duration::from_millis(1));
    ///     assert!(!sleep.is_elapsed());
    ///     (&mut sleep).await;
    ///     assert!(sleep.is_elapsed());
    /// });
    /// ```
    pub fn is_elapsed(&self) -> bool {
        match self.state {
            State::Done => true,
            State::Registered(key) => {
                let st = self.shared.state.lock();
                !st.shut_down && st.wheel.is_fired(key)
            }
            State::Unregistered { .. } | State::YieldOnce => false,
        }
    }

    /// Moves the deadline (earlier or later), also after the sleep has
    /// completed; it is pending again until the new deadline. A past
    /// deadline completes at the next poll or the loop's next tick. Works
    /// from any thread.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use eddy_time::Instant;
    /// eddy_time::run(async {
    ///     let mut sleep = eddy_time::sleep(Duration::from_millis(1));
    ///     (&mut sleep).await;
    ///     let again = Instant::now() + Duration::from_millis(2);
    ///     sleep.reset(again);
    ///     sleep.await;
    ///     assert!(Instant::now() >= again);
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        match self.state {
            State::Registered(key) => {
                let tick = self.shared.clock.deadline_tick(deadline);
                let mut st = self.shared.state.lock();
                if st.shut_down {
                    // The entry is gone; the next poll reports shutdown.
                    self.state = State::Unregistered { force: false };
                    return;
                }
                st.wheel.reset(key, tick);
                self.shared.wake_for(&mut st, tick);
            }
            State::Unregistered { .. } | State::YieldOnce | State::Done => {
                self.state = State::Unregistered { force: false };
            }
        }
    }

    /// `poll` without the cooperative budget (for `Timeout` and scopes,
    /// whose inner future already paid for this poll).
    pub(crate) fn poll_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.state {
            State::Done => Poll::Ready(()),
            State::YieldOnce => {
                self.state = State::Done;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            State::Unregistered { force } => {
                let tick = self.shared.clock.deadline_tick(self.deadline);
                let mut st = self.shared.lock_live();
                if !force && tick <= st.wheel.elapsed() {
                    // Already due: done at once, the wheel is not touched.
                    drop(st);
                    self.state = State::Done;
                    return Poll::Ready(());
                }
                let key = st
                    .wheel
                    .insert(tick, Payload::Waker(Some(cx.waker().clone())));
                self.shared.wake_for(&mut st, tick);
                self.state = State::Registered(key);
                Poll::Pending
            }
            State::Registered(key) => {
                let mut st = self.shared.lock_live();
                if st.wheel.is_fired(key) {
                    let payload = st.wheel.remove(key);
                    drop(st);
                    drop(payload);
                    self.state = State::Done;
                    return Poll::Ready(());
                }
                let old = match st.wheel.payload_mut(key) {
                    Payload::Waker(slot) => match slot {
                        Some(w) if w.will_wake(cx.waker()) => None,
                        _ => slot.replace(cx.waker().clone()),
                    },
                    Payload::Callback(..) | Payload::Local(_) => {
                        unreachable!("a Sleep's entry holds a waker")
                    }
                };
                drop(st);
                drop(old);
                Poll::Pending
            }
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let coop = match coop::poll_proceed(cx) {
            Poll::Ready(coop) => coop,
            Poll::Pending => return Poll::Pending,
        };
        let this = self.get_mut();
        let out = this.poll_unbudgeted(cx);
        if out.is_ready() {
            coop.made_progress();
        }
        out
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let State::Registered(key) = self.state {
            let payload = {
                let mut st = self.shared.state.lock();
                if st.shut_down {
                    return;
                }
                st.wheel.remove(key)
            };
            // The waker is dropped outside the lock.
            drop(payload);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("state", &self.state)
            .finish()
    }
}
