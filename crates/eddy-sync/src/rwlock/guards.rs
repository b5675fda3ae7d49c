//! The borrowed guards of an [`RwLock`]: [`RwLockReadGuard`] (shared
//! access) and [`RwLockWriteGuard`] (exclusive access, which can be
//! downgraded to a read guard), and their `map`/`try_map`.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use super::{RwLock, RwLockMappedWriteGuard, MAX_READERS};
use crate::raw_semaphore::RawSemaphore;

/// Shared access to an [`RwLock`]'s value; released on drop.
///
/// # Examples
///
/// ```
/// let lock = eddy_sync::RwLock::new(1);
/// let g: eddy_sync::RwLockReadGuard<'_, i32> = lock.try_read().unwrap();
/// assert_eq!(*g, 1);
/// ```
#[must_use = "the read lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    pub(super) sem: &'a RawSemaphore,
    /// The locked value, or a part of it (see [`map`](Self::map)); valid
    /// for reading while the read permit is held.
    pub(super) value: *const T,
    /// Borrows like the `&'a T` the pointer stands for.
    pub(super) _marker: PhantomData<&'a T>,
}

// SAFETY: the guard is a `&T` plus the right to release one permit of the
// lock's semaphore (which is `Sync`): sending it sends the `&T`, which
// needs `T: Sync`.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: the guard only gives `&T`; sharing it needs `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// Narrows the guard to a part of the value (a field, an element),
    /// keeping the read lock: the returned guard releases it on drop.
    ///
    /// An associated function (`RwLockReadGuard::map(guard, f)`), so that
    /// it cannot shadow a method of `T`. If `f` panics, the lock is
    /// released.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy_sync::{RwLock, RwLockReadGuard};
    /// # futures::executor::block_on(async {
    /// let lock = RwLock::new((String::from("eddy"), 1));
    /// let name: RwLockReadGuard<'_, str> = RwLockReadGuard::map(lock.read().await, |t| t.0.as_str());
    /// assert_eq!(&*name, "eddy");
    /// assert!(lock.try_write().is_err(), "still read-locked");
    /// # });
    /// ```
    pub fn map<U: ?Sized, F>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let value: *const U = f(&*this);
        let sem = this.sem;
        std::mem::forget(this); // its permit goes to the new guard
        RwLockReadGuard {
            sem,
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
    /// use eddy_sync::{RwLock, RwLockReadGuard};
    /// let lock = RwLock::new(vec![1, 2, 3]);
    /// let g = RwLockReadGuard::try_map(lock.try_read().unwrap(), |v| v.get(7)).unwrap_err();
    /// let last = RwLockReadGuard::try_map(g, |v| v.last()).unwrap();
    /// assert_eq!(*last, 3);
    /// ```
    pub fn try_map<U: ?Sized, F>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let Some(value) = f(&*this).map(|v| v as *const U) else {
            return Err(this);
        };
        let sem = this.sem;
        std::mem::forget(this); // its permit goes to the new guard
        Ok(RwLockReadGuard {
            sem,
            value,
            _marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `value` points into the locked value and a read permit is
        // held, so no writer exists; readers only create shared references.
        unsafe { &*self.value }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to an [`RwLock`]'s value; released on drop.
///
/// # Examples
///
/// ```
/// let lock = eddy_sync::RwLock::new(1);
/// let mut g: eddy_sync::RwLockWriteGuard<'_, i32> = lock.try_write().unwrap();
/// *g = 2;
/// ```
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    pub(super) lock: &'a RwLock<T>,
}

// SAFETY: sharing the guard shares `&T`, which needs `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns the write lock into a read lock without releasing it: no
    /// writer can take the lock in between.
    ///
    /// The readers at the front of the line (up to the first writer waiting)
    /// get the lock at once, alongside the returned guard. A writer at the
    /// front keeps its place and waits until the returned guard (and every
    /// other reader) is dropped; readers queued behind it keep waiting too,
    /// as the lock's FIFO, writer-preferring rule says.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let lock = eddy_sync::RwLock::new(1);
    /// let mut w = lock.write().await;
    /// *w = 2;
    /// let r = w.downgrade();
    /// assert_eq!(*r, 2);
    /// assert!(lock.try_read().is_ok(), "other readers can join");
    /// assert!(lock.try_write().is_err(), "writers cannot");
    /// # });
    /// ```
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let lock = self.lock;
        std::mem::forget(self);
        // The read guard exists before the release: if a woken waker
        // panics, unwinding drops it and its permit comes back.
        let read = lock.read_guard();
        // Keep one permit (the read guard's) and hand back the others,
        // to the waiters at the front first: the lock is never free.
        lock.sem.release(MAX_READERS - 1);
        read
    }

    /// Narrows the guard to a part of the value, keeping the write lock:
    /// the [`RwLockMappedWriteGuard`] releases it on drop.
    ///
    /// An associated function (`RwLockWriteGuard::map(guard, f)`), so that
    /// it cannot shadow a method of `T`. If `f` panics, the lock is
    /// released. A mapped guard cannot be downgraded (downgrade first, then
    /// map the read guard).
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy_sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
    /// # futures::executor::block_on(async {
    /// let lock = RwLock::new((0, vec![1]));
    /// let mut v: RwLockMappedWriteGuard<'_, Vec<i32>> =
    ///     RwLockWriteGuard::map(lock.write().await, |t| &mut t.1);
    /// v.push(2);
    /// assert!(lock.try_read().is_err(), "still write-locked");
    /// drop(v);
    /// assert_eq!(lock.read().await.1, [1, 2]);
    /// # });
    /// ```
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let value: *mut U = f(&mut *this);
        let lock = this.lock;
        std::mem::forget(this); // its permits go to the mapped guard
        RwLockMappedWriteGuard {
            sem: &lock.sem,
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
    /// use eddy_sync::{RwLock, RwLockWriteGuard};
    /// let lock = RwLock::new(Some(1));
    /// let mut n = RwLockWriteGuard::try_map(lock.try_write().unwrap(), |o| o.as_mut()).unwrap();
    /// *n += 1;
    /// drop(n);
    /// assert_eq!(*lock.try_read().unwrap(), Some(2));
    /// ```
    pub fn try_map<U: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(value) = f(&mut *this).map(|v| v as *mut U) else {
            return Err(this);
        };
        let lock = this.lock;
        std::mem::forget(this); // its permits go to the mapped guard
        Ok(RwLockMappedWriteGuard {
            sem: &lock.sem,
            value,
            _marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the writer holds every permit: no other access exists.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the writer holds every permit and `&mut self` is unique.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(MAX_READERS);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
