//! [`Mutex<T>`]: asyncio's `Lock`, holding the data it protects.
//!
//! This file holds the mutex, its [`Lock`] future and [`TryLockError`].
//! The guards are in `guard` ([`MutexGuard`]), `owned` ([`OwnedMutexGuard`],
//! which owns an `Arc` of the mutex) and `mapped` (guards narrowed to a part
//! of the value).

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::raw_semaphore::{Acquire, RawSemaphore};

mod guard;
mod mapped;
mod owned;

pub use guard::MutexGuard;
pub use mapped::{MappedMutexGuard, OwnedMappedMutexGuard};
pub use owned::OwnedMutexGuard;

/// An async mutual-exclusion lock around a `T` (asyncio's `Lock`, with data).
///
/// **FIFO-fair**: tasks get the lock in the order they asked for it, and a
/// newcomer never jumps a task that is already waiting, even at the moment
/// the lock is free. Unlocking hands the lock straight to the first waiter.
///
/// Uncontended `lock` and unlock are a single atomic compare-and-swap each.
/// Works under any executor and across threads.
///
/// # Examples
///
/// ```
/// use eddy_sync::Mutex;
/// # futures::executor::block_on(async {
/// let m = Mutex::new(0);
/// *m.lock().await += 1;
/// assert_eq!(*m.lock().await, 1);
/// # });
/// ```
pub struct Mutex<T: ?Sized> {
    pub(crate) sem: RawSemaphore,
    value: UnsafeCell<T>,
}

// SAFETY: the mutex hands out at most one guard at a time (one permit), so
// `&Mutex<T>` gives exclusive access to `T` across threads: `T: Send` is
// enough, like `std::sync::Mutex`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above; only one thread at a time can reach the `T`.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Returned by [`Mutex::try_lock`] when the lock is held or someone waits
/// for it.
///
/// # Examples
///
/// ```
/// use eddy_sync::{Mutex, TryLockError};
/// let m = Mutex::new(());
/// let _held = m.try_lock().unwrap();
/// assert_eq!(m.try_lock().unwrap_err(), TryLockError);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError;

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("lock is held or has waiters; await `lock()` to wait for it")
    }
}

impl std::error::Error for TryLockError {}

impl<T> Mutex<T> {
    /// A new, unlocked mutex holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = eddy_sync::Mutex::new(String::new());
    /// # drop(m);
    /// ```
    pub fn new(value: T) -> Self {
        Mutex {
            sem: RawSemaphore::new(1),
            value: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex and returns the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = eddy_sync::Mutex::new(5);
    /// assert_eq!(m.into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock and returns a guard that unlocks on drop.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe. Dropping the future gives up the place in line; if the
    /// lock had already been handed to it, the lock passes to the next
    /// waiter. Nothing is held after the drop.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let m = eddy_sync::Mutex::new(vec![1]);
    /// m.lock().await.push(2);
    /// assert_eq!(*m.lock().await, [1, 2]);
    /// # });
    /// ```
    #[inline]
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            acquire: self.sem.acquire(1),
            mutex: self,
        }
    }

    /// Takes the lock if it is free and nobody is waiting for it.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if a guard holds the lock or anyone is waiting for
    /// it (a newcomer never jumps the line).
    ///
    /// # Examples
    ///
    /// ```
    /// let m = eddy_sync::Mutex::new(1);
    /// let g = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(g);
    /// assert!(m.try_lock().is_ok());
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        if self.sem.try_acquire(1) {
            Ok(MutexGuard { mutex: self })
        } else {
            Err(TryLockError)
        }
    }

    /// `true` while some guard holds the lock (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// let m = eddy_sync::Mutex::new(());
    /// let g = m.try_lock().unwrap();
    /// assert!(m.is_locked());
    /// drop(g);
    /// assert!(!m.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.sem.available() == 0
    }

    /// Mutable access without locking: `&mut self` proves nobody else holds it.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = eddy_sync::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// Like [`lock`](Self::lock), for a mutex in an `Arc`: the guard owns a
    /// clone of the `Arc` and has no lifetime (it can move into a task).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, like [`lock`](Self::lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # futures::executor::block_on(async {
    /// let m = Arc::new(eddy_sync::Mutex::new(0));
    /// let mut g = m.clone().lock_owned().await;
    /// *g += 1;
    /// drop(g);
    /// assert_eq!(*m.lock().await, 1);
    /// # });
    /// ```
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        self.sem.acquire(1).await;
        OwnedMutexGuard { mutex: self }
    }

    /// Like [`try_lock`](Self::try_lock), returning an owned guard.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if a guard holds the lock or anyone is waiting for
    /// it; the `Arc` passed in is dropped then.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(eddy_sync::Mutex::new(0));
    /// let g = m.clone().try_lock_owned().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(g);
    /// ```
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        if self.sem.try_acquire(1) {
            Ok(OwnedMutexGuard { mutex: self })
        } else {
            Err(TryLockError)
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(g) => d.field("value", &&*g),
            Err(_) => d.field("value", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Future of [`Mutex::lock`].
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let m = eddy_sync::Mutex::new(());
/// let fut: eddy_sync::Lock<'_, ()> = m.lock();
/// drop(fut.await);
/// # });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Lock<'a, T: ?Sized> {
    acquire: Acquire<'a>,
    mutex: &'a Mutex<T>,
}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let mutex = self.mutex;
        Pin::new(&mut self.acquire)
            .poll(cx)
            .map(|()| MutexGuard { mutex })
    }
}

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock").finish_non_exhaustive()
    }
}
