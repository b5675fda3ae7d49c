//! [`MutexGuard`]: the proof of holding a [`Mutex`], and its
//! `map`/`try_map`.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use super::{MappedMutexGuard, Mutex};

/// Proof of holding a [`Mutex`]: derefs to the data, unlocks on drop
/// (handing the lock to the first waiter, if any).
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let m = eddy_sync::Mutex::new(1);
/// let mut g: eddy_sync::MutexGuard<'_, i32> = m.lock().await;
/// *g += 1;
/// # });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    pub(crate) mutex: &'a Mutex<T>,
}

// SAFETY: sharing a guard across threads shares `&T`, which needs `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Narrows the guard to a part of the value (a field, an element),
    /// keeping the lock: the [`MappedMutexGuard`] unlocks on drop.
    ///
    /// An associated function (`MutexGuard::map(guard, f)`), so that it
    /// cannot shadow a method of `T`. If `f` panics, the lock is released.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy_sync::{MappedMutexGuard, Mutex, MutexGuard};
    /// # futures::executor::block_on(async {
    /// let m = Mutex::new((String::from("name"), 0));
    /// let mut count: MappedMutexGuard<'_, i32> = MutexGuard::map(m.lock().await, |v| &mut v.1);
    /// *count += 1;
    /// assert!(m.try_lock().is_err(), "still locked");
    /// drop(count);
    /// assert_eq!(*m.lock().await, (String::from("name"), 1));
    /// # });
    /// ```
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let value: *mut U = f(&mut *this);
        let mutex = this.mutex;
        std::mem::forget(this); // its permit goes to the mapped guard
        MappedMutexGuard {
            sem: &mutex.sem,
            value,
            _marker: PhantomData,
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
    /// use eddy_sync::{Mutex, MutexGuard};
    /// # futures::executor::block_on(async {
    /// let m = Mutex::new(vec![1, 2]);
    /// let g = MutexGuard::try_map(m.lock().await, |v| v.get_mut(5)).unwrap_err();
    /// let mut first = MutexGuard::try_map(g, |v| v.first_mut()).unwrap();
    /// *first = 10;
    /// drop(first);
    /// assert_eq!(*m.lock().await, [10, 2]);
    /// # });
    /// ```
    pub fn try_map<U: ?Sized, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(value) = f(&mut *this).map(|v| v as *mut U) else {
            return Err(this);
        };
        let mutex = this.mutex;
        std::mem::forget(this); // its permit goes to the mapped guard
        Ok(MappedMutexGuard {
            sem: &mutex.sem,
            value,
            _marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit, so no other
        // reference to the value exists while it lives.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this reference unique.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.mutex.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
