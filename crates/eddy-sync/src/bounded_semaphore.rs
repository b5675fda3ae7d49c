//! [`BoundedSemaphore`]: asyncio's semaphore whose count cannot grow.

use std::fmt;

use crate::loom::{AtomicUsize, Ordering};
use crate::raw_semaphore::RawSemaphore;
use crate::semaphore::TryAcquireError;

/// asyncio's `BoundedSemaphore`: like [`Semaphore`](crate::Semaphore), but its count can never
/// grow past the initial value. Permits normally come back by dropping the
/// [`BoundedPermit`]; [`release`](Self::release) returns one that was
/// [`forget`](BoundedPermit::forget)-ed (asyncio's manual
/// `acquire()`/`release()` pairs), and is an error when there is none to
/// return.
///
/// # Examples
///
/// ```
/// use eddy_sync::BoundedSemaphore;
/// # futures::executor::block_on(async {
/// let sem = BoundedSemaphore::new(1);
/// assert!(sem.release().is_err()); // would grow past 1
/// sem.acquire().await.forget();   // asyncio: await sem.acquire()
/// assert!(sem.release().is_ok()); // asyncio: sem.release()
/// assert_eq!(sem.available_permits(), 1);
/// # });
/// ```
pub struct BoundedSemaphore {
    raw: RawSemaphore,
    initial: usize,
    /// Permits taken out with `forget` and not yet `release`d.
    detached: AtomicUsize,
}

/// Returned by [`BoundedSemaphore::release`] when releasing would raise the
/// count above its initial value (a release without a matching acquire).
///
/// # Examples
///
/// ```
/// let sem = eddy_sync::BoundedSemaphore::new(2);
/// let err = sem.release().unwrap_err();
/// assert_eq!(err.initial, 2);
/// println!("{err}");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverRelease {
    /// The semaphore's initial (and maximum) count.
    pub initial: usize,
}

impl fmt::Display for OverRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BoundedSemaphore released too many times (initial count {}): \
             release() must match an acquired permit that was forget()-ed",
            self.initial
        )
    }
}

impl std::error::Error for OverRelease {}

impl BoundedSemaphore {
    /// A bounded semaphore with `permits` permits, also its maximum.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`](crate::Semaphore::MAX_PERMITS).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = eddy_sync::BoundedSemaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Self {
        BoundedSemaphore {
            raw: RawSemaphore::new(permits),
            initial: permits,
            detached: AtomicUsize::new(0),
        }
    }

    /// The initial (and maximum) count.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(eddy_sync::BoundedSemaphore::new(3).initial_permits(), 3);
    /// ```
    pub fn initial_permits(&self) -> usize {
        self.initial
    }

    /// Free permits right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = eddy_sync::BoundedSemaphore::new(1);
    /// let _p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.raw.available()
    }

    /// `true` when an `acquire` would have to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = eddy_sync::BoundedSemaphore::new(0);
    /// assert!(sem.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.raw.available() == 0
    }

    /// Waits for a permit (FIFO).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a permit already handed to the dropped future goes to the
    /// next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let sem = eddy_sync::BoundedSemaphore::new(1);
    /// let p = sem.acquire().await;
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(p);
    /// # });
    /// ```
    pub async fn acquire(&self) -> BoundedPermit<'_> {
        self.raw.acquire(1).await;
        BoundedPermit {
            sem: self,
            live: true,
        }
    }

    /// Takes a permit if one is free and nobody waits.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError`] when no permit is free, or when tasks are
    /// waiting (they keep their FIFO turn). Nothing is taken; await
    /// [`acquire`](Self::acquire) to wait instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = eddy_sync::BoundedSemaphore::new(1);
    /// let p = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_err());
    /// # drop(p);
    /// ```
    pub fn try_acquire(&self) -> Result<BoundedPermit<'_>, TryAcquireError> {
        if self.raw.try_acquire(1) {
            Ok(BoundedPermit {
                sem: self,
                live: true,
            })
        } else {
            Err(TryAcquireError)
        }
    }

    /// Returns one permit that was taken with [`BoundedPermit::forget`].
    ///
    /// # Errors
    ///
    /// [`OverRelease`] when no forgotten permit is outstanding: the count
    /// would exceed its initial value. Nothing changes in that case.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = eddy_sync::BoundedSemaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// sem.release().unwrap();
    /// assert!(sem.release().is_err());
    /// ```
    pub fn release(&self) -> Result<(), OverRelease> {
        let mut cur = self.detached.load(Ordering::Relaxed);
        loop {
            if cur == 0 {
                return Err(OverRelease {
                    initial: self.initial,
                });
            }
            match self.detached.compare_exchange_weak(
                cur,
                cur - 1,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        self.raw.release(1);
        Ok(())
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("available_permits", &self.available_permits())
            .field("initial", &self.initial)
            .finish()
    }
}

/// A permit of a [`BoundedSemaphore`]; dropping returns it.
///
/// # Examples
///
/// ```
/// let sem = eddy_sync::BoundedSemaphore::new(1);
/// let p: eddy_sync::BoundedPermit<'_> = sem.try_acquire().unwrap();
/// drop(p);
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "the permit goes back to the semaphore as soon as it is dropped"]
pub struct BoundedPermit<'a> {
    sem: &'a BoundedSemaphore,
    live: bool,
}

impl BoundedPermit<'_> {
    /// Detaches the permit: it stays taken until
    /// [`BoundedSemaphore::release`] returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = eddy_sync::BoundedSemaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// sem.release().unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.live = false;
        self.sem.detached.fetch_add(1, Ordering::AcqRel);
    }
}

impl Drop for BoundedPermit<'_> {
    fn drop(&mut self) {
        if self.live {
            self.sem.raw.release(1);
        }
    }
}

impl fmt::Debug for BoundedPermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedPermit").finish_non_exhaustive()
    }
}
