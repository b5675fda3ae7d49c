//! The driver's clock: real time, or a paused test clock that only moves
//! when told to (or when the idle loop jumps it to the next deadline).

use std::time::Duration;

use crate::instant::Instant;
use crate::loom::{AtomicBool, Mutex, Ordering};

/// Timer ticks are whole milliseconds since the clock's origin.
pub(crate) type Tick = u64;

/// The tick of a deadline that never fires. Deadlines at or past
/// [`NEVER_THRESHOLD`] (about 142,000 years out) map to it.
pub(crate) const NEVER: Tick = u64::MAX;
const NEVER_THRESHOLD: u64 = 1 << 52;

pub(crate) struct Clock {
    /// Tick 0.
    origin: std::time::Instant,
    /// Set once the clock was ever paused; until then `now` reads the
    /// system clock without taking the lock.
    virtualized: AtomicBool,
    state: Mutex<ClockState>,
}

/// `now = base_virtual` while paused, else `base_virtual + (real_now - base_real)`.
struct ClockState {
    paused: bool,
    base_real: std::time::Instant,
    base_virtual: std::time::Instant,
}

impl Clock {
    pub(crate) fn new(start_paused: bool) -> Clock {
        let origin = std::time::Instant::now();
        Clock {
            origin,
            virtualized: AtomicBool::new(start_paused),
            state: Mutex::new(ClockState {
                paused: start_paused,
                base_real: origin,
                base_virtual: origin,
            }),
        }
    }

    #[inline]
    pub(crate) fn now(&self) -> Instant {
        if !self.virtualized.load(Ordering::Acquire) {
            return Instant::from_std(std::time::Instant::now());
        }
        let st = self.state.lock();
        Instant::from_std(st.now())
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.virtualized.load(Ordering::Acquire) && self.state.lock().paused
    }

    /// Freezes the clock; a no-op when already paused. True if it ran.
    ///
    /// It freezes on the next whole millisecond of the timer ticks (less
    /// than 1 ms ahead, as if the pause came that much later): timers fire
    /// on whole ticks, so a clock frozen between two would overshoot every
    /// `advance` and every jump to a deadline by the remainder.
    pub(crate) fn pause(&self) -> bool {
        let mut st = self.state.lock();
        let was_running = !st.paused;
        if was_running {
            let now = Instant::from_std(st.now());
            let tick = self.deadline_tick(now);
            st.base_virtual = if tick == NEVER {
                now
            } else {
                self.tick_instant(tick)
            }
            .into_std();
            st.paused = true;
        }
        self.virtualized.store(true, Ordering::Release);
        was_running
    }

    /// Lets the clock run again from where it stands; a no-op when running.
    pub(crate) fn resume(&self) {
        let mut st = self.state.lock();
        if st.paused {
            st.base_real = std::time::Instant::now();
            st.paused = false;
        }
    }

    /// Moves a paused clock forward; false (and nothing changes) if it runs.
    pub(crate) fn advance(&self, by: Duration) -> bool {
        let mut st = self.state.lock();
        if !st.paused {
            return false;
        }
        st.base_virtual = Instant::from_std(st.base_virtual)
            .saturating_add(by)
            .into_std();
        true
    }

    /// Moves a paused clock forward to `to` if that is later; the idle
    /// loop's jump to the next deadline. False if the clock runs.
    pub(crate) fn advance_to(&self, to: Instant) -> bool {
        let mut st = self.state.lock();
        if !st.paused {
            return false;
        }
        if to.into_std() > st.base_virtual {
            st.base_virtual = to.into_std();
        }
        true
    }

    /// The tick at which `deadline` fires: rounded up so a timer never
    /// fires early; [`NEVER`] for deadlines ~142,000 years out or more.
    pub(crate) fn deadline_tick(&self, deadline: Instant) -> Tick {
        let d = deadline.into_std().saturating_duration_since(self.origin);
        // u64 arithmetic (no u128 division): whole seconds, then the
        // sub-second part rounded up to a millisecond.
        let ms = d
            .as_secs()
            .saturating_mul(1000)
            .saturating_add(u64::from(d.subsec_nanos().div_ceil(1_000_000)));
        if ms >= NEVER_THRESHOLD {
            NEVER
        } else {
            ms
        }
    }

    /// The tick `now` falls in (rounded down).
    pub(crate) fn now_tick(&self, now: Instant) -> Tick {
        let d = now.into_std().saturating_duration_since(self.origin);
        let ms = d
            .as_secs()
            .saturating_mul(1000)
            .saturating_add(u64::from(d.subsec_millis()));
        ms.min(NEVER_THRESHOLD - 1)
    }

    /// The instant a tick starts at.
    pub(crate) fn tick_instant(&self, tick: Tick) -> Instant {
        Instant::from_std(self.origin) + Duration::from_millis(tick)
    }
}

impl ClockState {
    fn now(&self) -> std::time::Instant {
        if self.paused {
            self.base_virtual
        } else {
            self.base_virtual + std::time::Instant::now().saturating_duration_since(self.base_real)
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_and_far_ones_never_fire() {
        let clock = Clock::new(true);
        let t0 = clock.now();
        assert_eq!(clock.deadline_tick(t0), 0);
        assert_eq!(clock.deadline_tick(t0 + Duration::from_micros(1)), 1);
        assert_eq!(clock.deadline_tick(t0 + Duration::from_millis(5)), 5);
        assert_eq!(clock.deadline_tick(t0 + Duration::MAX), NEVER);
        let years = Duration::from_secs(10 * 365 * 86_400);
        assert_eq!(clock.deadline_tick(t0 + years), years.as_millis() as Tick);
    }

    #[test]
    fn paused_clock_moves_only_when_told() {
        let clock = Clock::new(true);
        let t0 = clock.now();
        assert_eq!(clock.now(), t0);
        assert!(clock.advance(Duration::from_secs(3600)));
        assert_eq!(clock.now(), t0 + Duration::from_secs(3600));
        assert!(clock.advance_to(t0)); // never backwards
        assert_eq!(clock.now(), t0 + Duration::from_secs(3600));
        clock.resume();
        assert!(!clock.advance(Duration::from_secs(1)));
        assert!(clock.now() >= t0 + Duration::from_secs(3600));
        clock.pause();
        let frozen = clock.now();
        assert_eq!(clock.now(), frozen);
        assert!(clock.is_paused());
        // Frozen on a whole tick, so whole-millisecond steps stay on them.
        let tick = clock.now_tick(frozen);
        assert_eq!(clock.tick_instant(tick), frozen);
        assert_eq!(clock.deadline_tick(frozen), tick);
    }
}
