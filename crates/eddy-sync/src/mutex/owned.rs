//! [`OwnedMutexGuard`]: a guard that owns an `Arc` of its [`Mutex`] and
//! has no lifetime (from [`Mutex::lock_owned`]), and its `map`/`try_map`.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

#[cfg(doc)]
use super::MutexGuard;
use super::{Mutex, OwnedMappedMutexGuard};

/// A [`MutexGuard`] that owns an `Arc` of its mutex (see
/// [`Mutex::lock_owned`]).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// # futures::executor::block_on(async {
/// let m = Arc::new(eddy_sync::Mutex::new(1));
/// let g: eddy_sync::OwnedMutexGuard<i32> = m.lock_owned().await;
/// assert_eq!(*g, 1);
/// # });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    pub(super) mutex: Arc<Mutex<T>>,
}

// SAFETY: sharing the guard shares `&T`, which needs `T: Sync`; the guard is
// `Send` through `Arc<Mutex<T>>` already (needs `T: Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(eddy_sync::Mutex::new(()));
    /// let g = m.clone().try_lock_owned().unwrap();
    /// assert!(Arc::ptr_eq(g.mutex(), &m));
    /// ```
    pub fn mutex(&self) -> &Arc<Mutex<T>> {
        &self.mutex
    }

    /// Narrows the guard to a part of the value, keeping the lock (and the
    /// `Arc`): the [`OwnedMappedMutexGuard`] unlocks on drop. An associated
    /// function, like [`MutexGuard::map`]; if `f` panics, the lock is
    /// released.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use eddy_sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
    /// # futures::executor::block_on(async {
    /// let m = Arc::new(Mutex::new((0u8, vec![1])));
    /// let mut v: OwnedMappedMutexGuard<(u8, Vec<i32>), Vec<i32>> =
    ///     OwnedMutexGuard::map(m.clone().lock_owned().await, |t| &mut t.1);
    /// let worker = std::thread::spawn(move || v.push(2)); // it moves
    /// worker.join().unwrap();
    /// assert_eq!(m.lock().await.1, [1, 2]);
    /// # });
    /// ```
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> OwnedMappedMutexGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let value: *mut U = f(&mut *this);
        OwnedMappedMutexGuard {
            mutex: this.into_mutex(),
            value,
        }
    }

    /// Like [`map`](Self::map), for a part that may not be there: when `f`
    /// returns `None`, the original guard comes back (still locked).
    ///
    /// # Errors
    ///
    /// The guard itself, unchanged, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use eddy_sync::{Mutex, OwnedMutexGuard};
    /// let m = Arc::new(Mutex::new(Some(1)));
    /// let g = m.clone().try_lock_owned().unwrap();
    /// let mut inner = OwnedMutexGuard::try_map(g, |o| o.as_mut()).unwrap();
    /// *inner = 2;
    /// drop(inner);
    /// *m.try_lock().unwrap() = None;
    /// let g = m.clone().try_lock_owned().unwrap();
    /// assert!(OwnedMutexGuard::try_map(g, |o| o.as_mut()).is_err());
    /// ```
    pub fn try_map<U: ?Sized, F>(mut this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(value) = f(&mut *this).map(|v| v as *mut U) else {
            return Err(this);
        };
        Ok(OwnedMappedMutexGuard {
            mutex: this.into_mutex(),
            value,
        })
    }

    /// Takes the `Arc` out without running the guard's `Drop` (the caller
    /// takes over the permit).
    fn into_mutex(self) -> Arc<Mutex<T>> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped or used again, so the `Arc` is
        // moved out of it exactly once.
        unsafe { std::ptr::read(&this.mutex) }
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit and `&mut self`
        // makes this reference unique.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    #[inline]
    fn drop(&mut self) {
        self.mutex.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
