//! `Instant`: a point in time that follows the runtime's test clock.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// How far past "now" an overflowing `Instant + Duration` lands: about
/// 285,000 years, which every timer treats as "never".
pub(crate) const FAR_FUTURE: Duration = Duration::from_millis(1 << 53);

/// A measurement of the eddy clock: `std::time::Instant` that follows the
/// runtime's test clock ([`pause`](crate::pause), [`advance`](crate::advance)).
///
/// Outside a runtime (or with the clock running) it reads the system's
/// monotonic clock. Adding a huge `Duration` saturates to a far-future
/// instant that timers treat as "never", instead of panicking.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use eddy_time::Instant;
///
/// let start = Instant::now();
/// let never = start + Duration::MAX; // saturates, no panic
/// assert!(never > start + Duration::from_secs(1_000_000));
/// assert_eq!(start.duration_since(never), Duration::ZERO);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(std::time::Instant);

impl Instant {
    /// The current time of the eddy clock entered on this thread (the test
    /// clock when paused), or the system clock outside a runtime.
    ///
    /// # Example
    ///
    /// ```
    /// let a = eddy_time::Instant::now();
    /// let b = eddy_time::Instant::now();
    /// assert!(b >= a);
    /// ```
    pub fn now() -> Instant {
        crate::handle::with_current(|shared| shared.clock.now())
            .unwrap_or_else(|| Instant(std::time::Instant::now()))
    }

    /// Wraps a `std::time::Instant`.
    ///
    /// # Example
    ///
    /// ```
    /// let std_now = std::time::Instant::now();
    /// let ours = eddy_time::Instant::from_std(std_now);
    /// assert_eq!(ours.into_std(), std_now);
    /// ```
    pub fn from_std(instant: std::time::Instant) -> Instant {
        Instant(instant)
    }

    /// The underlying `std::time::Instant`.
    ///
    /// # Example
    ///
    /// ```
    /// let now = eddy_time::Instant::now();
    /// let _std: std::time::Instant = now.into_std();
    /// ```
    pub fn into_std(self) -> std::time::Instant {
        self.0
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// let a = eddy_time::Instant::now();
    /// let b = a + Duration::from_secs(2);
    /// assert_eq!(b.duration_since(a), Duration::from_secs(2));
    /// assert_eq!(a.duration_since(b), Duration::ZERO);
    /// ```
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// Time from `earlier` to `self`, `None` if `earlier` is later.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// let a = eddy_time::Instant::now();
    /// assert_eq!(a.checked_duration_since(a + Duration::from_secs(1)), None);
    /// ```
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.0.checked_duration_since(earlier.0)
    }

    /// Time elapsed since `self` on the eddy clock (zero if `self` is in
    /// the future).
    ///
    /// # Example
    ///
    /// ```
    /// let start = eddy_time::Instant::now();
    /// assert!(start.elapsed() < std::time::Duration::from_secs(3600));
    /// ```
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    /// `self + duration`, or `None` if that overflows the platform's clock.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// let now = eddy_time::Instant::now();
    /// assert!(now.checked_add(Duration::from_secs(1)).is_some());
    /// assert!(now.checked_add(Duration::MAX).is_none());
    /// ```
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_add(duration).map(Instant)
    }

    /// `self - duration`, or `None` if that underflows the platform's clock.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// let now = eddy_time::Instant::now();
    /// assert!(now.checked_sub(Duration::MAX).is_none());
    /// ```
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_sub(duration).map(Instant)
    }

    /// `self + duration`, saturating to a far-future instant (about 285,000
    /// years ahead) that every eddy timer treats as "never".
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// let now = eddy_time::Instant::now();
    /// assert!(now.saturating_add(Duration::MAX) > now);
    /// ```
    pub fn saturating_add(&self, duration: Duration) -> Instant {
        match self.0.checked_add(duration) {
            Some(t) => Instant(t),
            None => Instant(self.0.checked_add(FAR_FUTURE).unwrap_or(self.0)),
        }
    }
}

impl From<std::time::Instant> for Instant {
    fn from(instant: std::time::Instant) -> Instant {
        Instant(instant)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.0
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Saturates (see [`Instant::saturating_add`]) instead of panicking.
    fn add(self, rhs: Duration) -> Instant {
        self.saturating_add(rhs)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    /// # Panics
    ///
    /// If the result would precede the platform's earliest instant (as
    /// `std`); use [`Instant::checked_sub`] to handle that case.
    fn sub(self, rhs: Duration) -> Instant {
        self.checked_sub(rhs).unwrap_or_else(|| {
            panic!("Instant - {rhs:?} goes before the clock's earliest instant; use checked_sub")
        })
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturates at zero when `rhs` is later.
    fn sub(self, rhs: Instant) -> Duration {
        self.duration_since(rhs)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
