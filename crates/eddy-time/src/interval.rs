//! `interval`, `interval_at`, `Interval` and `MissedTickBehavior`.

use std::fmt;
use std::future::poll_fn;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;

use crate::handle::current_shared;
use crate::instant::Instant;
use crate::sleep::Sleep;

/// What an [`Interval`] does when ticks were missed (the consumer was late
/// by a whole period or more).
///
/// # Example
///
/// ```
/// use eddy_time::MissedTickBehavior;
/// assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Burst);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MissedTickBehavior {
    /// Deliver the missed ticks as fast as possible, then keep the original
    /// schedule (`start + n * period`).
    #[default]
    Burst,
    /// Restart the schedule: the next tick is one period after the late one
    /// was delivered.
    Delay,
    /// Drop the missed ticks: the next tick is the next point of the
    /// original schedule after now.
    Skip,
}

impl MissedTickBehavior {
    /// The deadline after a tick scheduled at `scheduled`, delivered `now`.
    fn next(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        let on_schedule = scheduled + period;
        if now < on_schedule {
            return on_schedule;
        }
        match self {
            MissedTickBehavior::Burst => on_schedule,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                let late = (now - scheduled).as_nanos();
                let period_ns = period.as_nanos();
                let periods = late / period_ns + 1;
                // In u128 nanoseconds: u64 ones end at ~584 years, and a
                // clamped skip would land before `now`.
                scheduled + duration_from_nanos(period_ns.saturating_mul(periods))
            }
        }
    }
}

/// `nanos` as a `Duration`, saturating at `Duration::MAX`.
fn duration_from_nanos(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    match u64::try_from(nanos / NANOS_PER_SEC) {
        Ok(secs) => Duration::new(secs, (nanos % NANOS_PER_SEC) as u32),
        Err(_) => Duration::MAX,
    }
}

/// Ticks every `period`, the first tick at once.
///
/// # Panics
///
/// If `period` is zero (an interval with a zero period would tick in a busy
/// loop; use `eddy::yield_now` for that), or with no eddy runtime on this
/// thread.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// eddy_time::run(async {
///     let start = eddy_time::Instant::now();
///     let mut every = eddy_time::interval(Duration::from_millis(2));
///     for _ in 0..3 {
///         every.tick().await;
///     }
///     assert!(start.elapsed() >= Duration::from_millis(4));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    check_period(period);
    let shared = current_shared();
    let start = shared.clock.now();
    Interval::new(Sleep::new(shared, start), period, true)
}

/// Ticks every `period` from `start` (the first tick at `start`).
///
/// # Panics
///
/// If `period` is zero, or with no eddy runtime on this thread.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// eddy_time::run(async {
///     let start = eddy_time::Instant::now() + Duration::from_millis(3);
///     let mut every = eddy_time::interval_at(start, Duration::from_millis(1));
///     assert_eq!(every.tick().await, start);
/// });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    check_period(period);
    let shared = current_shared();
    let due = start <= shared.clock.now();
    Interval::new(Sleep::new(shared, start), period, due)
}

#[track_caller]
fn check_period(period: Duration) {
    assert!(
        !period.is_zero(),
        "interval period must be non-zero: a zero period would tick in a busy loop \
         (use eddy::yield_now() to give other tasks a turn)"
    );
}

/// A stream of ticks every `period` (see [`interval`]): await
/// [`Interval::tick`], or use it as a `futures` `Stream` of the scheduled
/// instants.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use futures::StreamExt;
/// eddy_time::run(async {
///     let ticks: Vec<_> = eddy_time::interval(Duration::from_millis(1)).take(3).collect().await;
///     assert_eq!(ticks.len(), 3);
///     assert!(ticks[0] < ticks[1] && ticks[1] < ticks[2]);
/// });
/// ```
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
    /// The first tick is due now: deliver it without waiting for the
    /// driver's next tick.
    first_due: bool,
}

impl Interval {
    fn new(sleep: Sleep, period: Duration, first_due: bool) -> Interval {
        Interval {
            sleep,
            period,
            missed: MissedTickBehavior::default(),
            first_due,
        }
    }

    /// Waits for the next tick and returns the instant it was scheduled for.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it completes consumes no
    /// tick; the next `tick()` delivers it.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let mut every = eddy_time::interval(Duration::from_millis(1));
    ///     let first = every.tick().await;
    ///     let second = every.tick().await;
    ///     assert_eq!(second - first, Duration::from_millis(1));
    /// });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick (for hand-written futures).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let mut every = eddy_time::interval(Duration::from_millis(1));
    ///     let first = std::future::poll_fn(|cx| every.poll_tick(cx)).await;
    ///     assert!(first <= eddy_time::Instant::now());
    /// });
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if self.first_due {
            let coop = match eddy_core::coop::poll_proceed(cx) {
                Poll::Ready(coop) => coop,
                Poll::Pending => return Poll::Pending,
            };
            coop.made_progress();
            self.first_due = false;
        } else if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.sleep.deadline();
        let now = self.sleep.shared.clock.now();
        let next = self.missed.next(scheduled, now, self.period);
        self.sleep.reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let mut every = eddy_time::interval(Duration::from_millis(1));
    ///     every.tick().await;
    ///     every.reset();
    ///     every.tick().await;
    /// });
    /// ```
    pub fn reset(&mut self) {
        let now = self.sleep.shared.clock.now();
        self.reset_at(now + self.period);
    }

    /// Makes the next tick due now (tokio's `reset_immediately`): the next
    /// `tick()` returns at once, and the schedule goes on a period after
    /// it.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let mut every = eddy_time::interval(Duration::from_secs(3600));
    ///     every.tick().await;
    ///     every.reset_immediately();
    ///     every.tick().await; // no hour-long wait
    /// });
    /// ```
    pub fn reset_immediately(&mut self) {
        let now = self.sleep.shared.clock.now();
        self.reset_at(now);
    }

    /// Makes the next tick due `after` from now (tokio's `reset_after`);
    /// the schedule goes on a period after it.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use eddy_time::Instant;
    /// eddy_time::run(async {
    ///     let mut every = eddy_time::interval(Duration::from_secs(3600));
    ///     every.tick().await;
    ///     let asked = Instant::now();
    ///     every.reset_after(Duration::from_millis(2));
    ///     assert!(every.tick().await >= asked + Duration::from_millis(2));
    /// });
    /// ```
    pub fn reset_after(&mut self, after: Duration) {
        let now = self.sleep.shared.clock.now();
        self.reset_at(now + after);
    }

    /// Makes the next tick due at `deadline` (tokio's `reset_at`); the
    /// schedule goes on a period after it. A deadline already past makes
    /// the next tick due at once, returning `deadline`; if it is more than
    /// a period past, the [`MissedTickBehavior`] decides the ticks after
    /// it, as for any late tick (`Burst` keeps `deadline`'s grid, `Delay`
    /// and `Skip` count from the late tick).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use eddy_time::Instant;
    /// eddy_time::run(async {
    ///     let mut every = eddy_time::interval(Duration::from_secs(3600));
    ///     every.tick().await;
    ///     let at = Instant::now() + Duration::from_millis(2);
    ///     every.reset_at(at);
    ///     assert_eq!(every.tick().await, at);
    /// });
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) {
        self.first_due = deadline <= self.sleep.shared.clock.now();
        self.sleep.reset(deadline);
    }

    /// The period.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let every = eddy_time::interval(Duration::from_secs(2));
    ///     assert_eq!(every.period(), Duration::from_secs(2));
    /// });
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The missed-tick behaviour (default [`MissedTickBehavior::Burst`]).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let every = eddy_time::interval(Duration::from_secs(1));
    ///     assert_eq!(every.missed_tick_behavior(), eddy_time::MissedTickBehavior::Burst);
    /// });
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets the missed-tick behaviour.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use eddy_time::MissedTickBehavior;
    /// eddy_time::run(async {
    ///     let mut every = eddy_time::interval(Duration::from_secs(1));
    ///     every.set_missed_tick_behavior(MissedTickBehavior::Skip);
    ///     assert_eq!(every.missed_tick_behavior(), MissedTickBehavior::Skip);
    /// });
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }
}

impl Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("period", &self.period)
            .field("missed_tick_behavior", &self.missed)
            .field("next", &self.sleep.deadline())
            .finish()
    }
}
