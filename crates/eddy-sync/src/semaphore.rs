//! [`Semaphore`] and [`BoundedSemaphore`]: asyncio's counting semaphores,
//! FIFO-fair, with RAII permits.

use std::fmt;
use std::sync::Arc;

use crate::raw_semaphore::{RawSemaphore, MAX_PERMITS};

/// A counting semaphore (asyncio's `Semaphore`), **FIFO-fair**: `acquire`
/// waits whenever someone is already waiting, even if permits are free, so
/// a large `acquire_many` is never starved by small ones.
///
/// Permits come back when the [`SemaphorePermit`] is dropped. Uncontended
/// acquire and release are one atomic compare-and-swap each.
///
/// # Examples
///
/// ```
/// use eddy_sync::Semaphore;
/// # futures::executor::block_on(async {
/// let sem = Semaphore::new(2);
/// let a = sem.acquire().await;
/// let b = sem.acquire().await;
/// assert_eq!(sem.available_permits(), 0);
/// assert!(sem.try_acquire().is_err());
/// drop((a, b));
/// assert_eq!(sem.available_permits(), 2);
/// # });
/// ```
pub struct Semaphore {
    raw: RawSemaphore,
}

/// Returned by [`Semaphore::try_acquire`] (and the `BoundedSemaphore` form)
/// when not enough permits are free or other tasks are waiting for them.
///
/// # Examples
///
/// ```
/// let sem = eddy_sync::Semaphore::new(0);
/// assert_eq!(sem.try_acquire().unwrap_err(), eddy_sync::TryAcquireError);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryAcquireError;

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not enough free permits (or others are waiting); await `acquire()` to wait")
    }
}

impl std::error::Error for TryAcquireError {}

impl Semaphore {
    /// The largest number of permits a semaphore can hold.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(eddy_sync::Semaphore::MAX_PERMITS >= u32::MAX as usize);
    /// ```
    pub const MAX_PERMITS: usize = MAX_PERMITS;

    /// A semaphore with `permits` free permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = eddy_sync::Semaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Self {
        Semaphore {
            raw: RawSemaphore::new(permits),
        }
    }

    /// Free permits right now (0 while anyone waits).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = eddy_sync::Semaphore::new(1);
    /// let p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// # drop(p);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.raw.available()
    }

    /// asyncio's `locked()`: `true` when an `acquire` would have to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = eddy_sync::Semaphore::new(1);
    /// let _p = sem.try_acquire().unwrap();
    /// assert!(sem.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.raw.available() == 0
    }

    /// Waits for one permit.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future leaves the line, and a permit already
    /// handed to it goes to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let sem = eddy_sync::Semaphore::new(1);
    /// let permit = sem.acquire().await;
    /// drop(permit); // back to the semaphore
    /// # });
    /// ```
    pub async fn acquire(&self) -> SemaphorePermit<'_> {
        self.raw.acquire(1).await;
        SemaphorePermit {
            sem: self,
            permits: 1,
        }
    }

    /// Waits for `n` permits at once (taken in FIFO order: nobody behind
    /// it gets a permit before it is served).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: permits already set aside for this call (it may hold some
    /// while waiting for the rest) go to the next waiters.
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let sem = eddy_sync::Semaphore::new(5);
    /// let p = sem.acquire_many(3).await;
    /// assert_eq!((p.num_permits(), sem.available_permits()), (3, 2));
    /// # });
    /// ```
    pub async fn acquire_many(&self, n: usize) -> SemaphorePermit<'_> {
        assert!(
            n <= MAX_PERMITS,
            "cannot acquire more than {MAX_PERMITS} permits"
        );
        self.raw.acquire(n).await;
        SemaphorePermit {
            sem: self,
            permits: n,
        }
    }

    /// Takes one permit if one is free and nobody waits.
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
    /// let sem = eddy_sync::Semaphore::new(1);
    /// assert!(sem.try_acquire().is_ok());
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody waits.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError`] when fewer than `n` permits are free (always, if
    /// `n` exceeds [`Semaphore::MAX_PERMITS`]), or when tasks are waiting.
    /// Nothing is taken; await [`acquire_many`](Self::acquire_many) to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = eddy_sync::Semaphore::new(2);
    /// assert!(sem.try_acquire_many(3).is_err());
    /// assert!(sem.try_acquire_many(2).is_ok());
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        if self.raw.try_acquire(n) {
            Ok(SemaphorePermit {
                sem: self,
                permits: n,
            })
        } else {
            Err(TryAcquireError)
        }
    }

    /// Like [`acquire`](Self::acquire), for a semaphore in an `Arc`; the
    /// permit owns an `Arc` clone and can move into a task.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, like [`acquire`](Self::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # futures::executor::block_on(async {
    /// let sem = Arc::new(eddy_sync::Semaphore::new(1));
    /// let p = sem.clone().acquire_owned().await;
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(p);
    /// # });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> OwnedSemaphorePermit {
        self.raw.acquire(1).await;
        OwnedSemaphorePermit {
            sem: self,
            permits: 1,
        }
    }

    /// Like [`acquire_many`](Self::acquire_many), returning an owned permit.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, like [`acquire_many`](Self::acquire_many).
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # futures::executor::block_on(async {
    /// let sem = Arc::new(eddy_sync::Semaphore::new(4));
    /// let p = sem.clone().acquire_many_owned(4).await;
    /// assert_eq!(p.num_permits(), 4);
    /// # });
    /// ```
    pub async fn acquire_many_owned(self: Arc<Self>, n: usize) -> OwnedSemaphorePermit {
        assert!(
            n <= MAX_PERMITS,
            "cannot acquire more than {MAX_PERMITS} permits"
        );
        self.raw.acquire(n).await;
        OwnedSemaphorePermit {
            sem: self,
            permits: n,
        }
    }

    /// Like [`try_acquire`](Self::try_acquire), returning an owned permit.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire); the `Arc` is dropped with
    /// the error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(eddy_sync::Semaphore::new(1));
    /// assert!(sem.clone().try_acquire_owned().is_ok());
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        if self.raw.try_acquire(1) {
            Ok(OwnedSemaphorePermit {
                sem: self,
                permits: 1,
            })
        } else {
            Err(TryAcquireError)
        }
    }

    /// Adds `n` permits (handed to waiters first, in FIFO order). This grows
    /// the semaphore; see [`BoundedSemaphore`](crate::BoundedSemaphore) for one that refuses to.
    ///
    /// # Panics
    ///
    /// If the count would exceed [`Semaphore::MAX_PERMITS`] (counting what
    /// is left once the waiters are served). Nothing changes then: no
    /// waiter is served and no permit is added.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = eddy_sync::Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, n: usize) {
        self.raw.release(n);
    }

    /// asyncio's `release()`: adds one permit.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = eddy_sync::Semaphore::new(0);
    /// sem.release();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn release(&self) {
        self.raw.release(1);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available_permits", &self.available_permits())
            .finish()
    }
}

/// Permits borrowed from a [`Semaphore`]; dropping returns them.
///
/// # Examples
///
/// ```
/// let sem = eddy_sync::Semaphore::new(1);
/// let p: eddy_sync::SemaphorePermit<'_> = sem.try_acquire().unwrap();
/// assert_eq!(p.num_permits(), 1);
/// ```
#[must_use = "permits go back to the semaphore as soon as they are dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: usize,
}

impl SemaphorePermit<'_> {
    /// Number of permits held.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = eddy_sync::Semaphore::new(2);
    /// assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Keeps the permits out of the semaphore for good (asyncio's
    /// `acquire()` without a matching `release()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = eddy_sync::Semaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.sem.raw.release(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

/// Permits owning an `Arc` of their [`Semaphore`]; dropping returns them.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// let sem = Arc::new(eddy_sync::Semaphore::new(1));
/// let p: eddy_sync::OwnedSemaphorePermit = sem.try_acquire_owned().unwrap();
/// assert_eq!(p.num_permits(), 1);
/// ```
#[must_use = "permits go back to the semaphore as soon as they are dropped"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: usize,
}

impl OwnedSemaphorePermit {
    /// Number of permits held.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(eddy_sync::Semaphore::new(1));
    /// assert_eq!(sem.try_acquire_owned().unwrap().num_permits(), 1);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits belong to.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(eddy_sync::Semaphore::new(1));
    /// let p = sem.clone().try_acquire_owned().unwrap();
    /// assert!(Arc::ptr_eq(p.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Keeps the permits out of the semaphore for good.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(eddy_sync::Semaphore::new(1));
    /// sem.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for OwnedSemaphorePermit {
    #[inline]
    fn drop(&mut self) {
        self.sem.raw.release(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}
