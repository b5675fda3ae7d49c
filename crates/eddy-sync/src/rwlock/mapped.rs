//! Write guards narrowed to a part of the value: [`RwLockMappedWriteGuard`]
//! (from [`RwLockWriteGuard::map`]) and [`OwnedRwLockMappedWriteGuard`]
//! (from [`OwnedRwLockWriteGuard::map`]).

use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

#[cfg(doc)]
use super::{OwnedRwLockWriteGuard, RwLockWriteGuard};
use super::{RwLock, MAX_READERS};
use crate::raw_semaphore::RawSemaphore;

/// An [`RwLockWriteGuard`] narrowed to a part of the value by
/// [`RwLockWriteGuard::map`]: derefs to that part, releases the whole
/// write lock on drop.
///
/// # Examples
///
/// ```
/// use eddy_sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
/// let lock = RwLock::new([1u8, 2, 3]);
/// let mut head: RwLockMappedWriteGuard<'_, [u8]> =
///     RwLockWriteGuard::map(lock.try_write().unwrap(), |a| &mut a[..2]);
/// head.fill(0);
/// drop(head);
/// assert_eq!(*lock.try_read().unwrap(), [0, 0, 3]);
/// ```
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized> {
    pub(super) sem: &'a RawSemaphore,
    /// Points into the locked value; valid while every permit is held.
    pub(super) value: *mut T,
    /// Borrows like the `&'a mut T` the pointer stands for.
    pub(super) _marker: PhantomData<&'a mut T>,
}

// SAFETY: the guard is a `&mut T` plus the right to release the lock's
// semaphore (which is `Sync`): sending it sends the `&mut T`. (It cannot
// be downgraded, so no `&T` is ever shared from it with other readers.)
unsafe impl<T: ?Sized + Send> Send for RwLockMappedWriteGuard<'_, T> {}
// SAFETY: sharing the guard shares `&T`, which needs `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockMappedWriteGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    /// Narrows the guard further (see [`RwLockWriteGuard::map`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy_sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
    /// let lock = RwLock::new((0, (0, 0)));
    /// let pair = RwLockWriteGuard::map(lock.try_write().unwrap(), |t| &mut t.1);
    /// let mut first = RwLockMappedWriteGuard::map(pair, |p| &mut p.0);
    /// *first = 1;
    /// drop(first);
    /// assert_eq!(*lock.try_read().unwrap(), (0, (1, 0)));
    /// ```
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let value: *mut U = f(&mut *this);
        let sem = this.sem;
        std::mem::forget(this); // its permits go to the new guard
        RwLockMappedWriteGuard {
            sem,
            value,
            _marker: PhantomData,
        }
    }

    /// Like [`map`](Self::map), for a part that may not be there.
    ///
    /// # Errors
    ///
    /// The guard itself, unchanged, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy_sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
    /// let lock = RwLock::new((0, vec![0]));
    /// let v = RwLockWriteGuard::map(lock.try_write().unwrap(), |t| &mut t.1);
    /// let mut v = RwLockMappedWriteGuard::try_map(v, |v| v.get_mut(1)).unwrap_err();
    /// v.push(1);
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
        let sem = this.sem;
        std::mem::forget(this); // its permits go to the new guard
        Ok(RwLockMappedWriteGuard {
            sem,
            value,
            _marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Deref for RwLockMappedWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `value` came from a `&mut` into the locked value and the
        // guard holds every permit: no other access exists.
        unsafe { &*self.value }
    }
}

impl<T: ?Sized> DerefMut for RwLockMappedWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this reference unique.
        unsafe { &mut *self.value }
    }
}

impl<T: ?Sized> Drop for RwLockMappedWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.release(MAX_READERS);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockMappedWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// An [`OwnedRwLockWriteGuard`] narrowed to a part `U` of the lock's `T` by
/// [`OwnedRwLockWriteGuard::map`]: derefs to that part, keeps the `Arc`,
/// releases the whole write lock on drop.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use eddy_sync::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
/// let lock = Arc::new(RwLock::new((1, 2)));
/// let g: OwnedRwLockMappedWriteGuard<(i32, i32), i32> =
///     OwnedRwLockWriteGuard::map(lock.clone().try_write_owned().unwrap(), |t| &mut t.0);
/// assert_eq!(*g, 1);
/// assert!(Arc::ptr_eq(g.rwlock(), &lock));
/// ```
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockMappedWriteGuard<T: ?Sized, U: ?Sized = T> {
    pub(super) lock: Arc<RwLock<T>>,
    /// Points into the locked value; valid while every permit is held (and
    /// the `Arc` keeps the lock alive).
    pub(super) value: *mut U,
}

// SAFETY: the guard is an `Arc<RwLock<T>>` (sendable when `T: Send + Sync`)
// plus a `&mut U` into it: sending it sends the `&mut U`.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send> Send for OwnedRwLockMappedWriteGuard<T, U> {}
// SAFETY: sharing the guard shares `&Arc<RwLock<T>>` (fine when
// `T: Send + Sync`) and `&U`, which needs `U: Sync`.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Sync for OwnedRwLockMappedWriteGuard<T, U> {}

impl<T: ?Sized, U: ?Sized> OwnedRwLockMappedWriteGuard<T, U> {
    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use eddy_sync::{OwnedRwLockWriteGuard, RwLock};
    /// let lock = Arc::new(RwLock::new((0, 0)));
    /// let g = OwnedRwLockWriteGuard::map(lock.clone().try_write_owned().unwrap(), |t| &mut t.1);
    /// assert!(Arc::ptr_eq(g.rwlock(), &lock));
    /// ```
    pub fn rwlock(&self) -> &Arc<RwLock<T>> {
        &self.lock
    }

    /// Narrows the guard further (see [`OwnedRwLockWriteGuard::map`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use eddy_sync::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
    /// let lock = Arc::new(RwLock::new((0, (0, 0))));
    /// let pair = OwnedRwLockWriteGuard::map(lock.clone().try_write_owned().unwrap(), |t| &mut t.1);
    /// let mut b = OwnedRwLockMappedWriteGuard::map(pair, |p| &mut p.1);
    /// *b = 2;
    /// drop(b);
    /// assert_eq!(*lock.try_read().unwrap(), (0, (0, 2)));
    /// ```
    pub fn map<V: ?Sized, F>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, V>
    where
        F: FnOnce(&mut U) -> &mut V,
    {
        let value: *mut V = f(&mut *this);
        OwnedRwLockMappedWriteGuard {
            lock: this.into_lock(),
            value,
        }
    }

    /// Like [`map`](Self::map), for a part that may not be there.
    ///
    /// # Errors
    ///
    /// The guard itself, unchanged, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use eddy_sync::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
    /// let lock = Arc::new(RwLock::new((0, None::<i32>)));
    /// let o = OwnedRwLockWriteGuard::map(lock.clone().try_write_owned().unwrap(), |t| &mut t.1);
    /// let mut o = OwnedRwLockMappedWriteGuard::try_map(o, |o| o.as_mut()).unwrap_err();
    /// *o = Some(1);
    /// ```
    pub fn try_map<V: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, V>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut V>,
    {
        let Some(value) = f(&mut *this).map(|v| v as *mut V) else {
            return Err(this);
        };
        Ok(OwnedRwLockMappedWriteGuard {
            lock: this.into_lock(),
            value,
        })
    }

    /// Takes the `Arc` out without running the guard's `Drop` (the caller
    /// takes over the permits).
    fn into_lock(self) -> Arc<RwLock<T>> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped or used again, so the `Arc` is
        // moved out of it exactly once.
        unsafe { std::ptr::read(&this.lock) }
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedRwLockMappedWriteGuard<T, U> {
    type Target = U;
    fn deref(&self) -> &U {
        // SAFETY: `value` came from a `&mut` into the locked value (kept
        // alive by the `Arc`) and the guard holds every permit.
        unsafe { &*self.value }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedRwLockMappedWriteGuard<T, U> {
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as in `deref`, and `&mut self` makes this reference unique.
        unsafe { &mut *self.value }
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedRwLockMappedWriteGuard<T, U> {
    fn drop(&mut self) {
        self.lock.sem.release(MAX_READERS);
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockMappedWriteGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
