//! The guards that own an `Arc` of their [`RwLock`] and have no lifetime
//! (from [`RwLock::read_owned`] and [`RwLock::write_owned`]):
//! [`OwnedRwLockReadGuard`] and [`OwnedRwLockWriteGuard`], and their
//! `map`/`try_map`.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::{OwnedRwLockMappedWriteGuard, RwLock, MAX_READERS};
#[cfg(doc)]
use super::{RwLockReadGuard, RwLockWriteGuard};

/// An [`RwLockReadGuard`] that owns an `Arc` of its lock (see
/// [`RwLock::read_owned`]): shared access, released on drop.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// let lock = Arc::new(eddy_sync::RwLock::new(1));
/// let g: eddy_sync::OwnedRwLockReadGuard<i32> = lock.clone().try_read_owned().unwrap();
/// assert_eq!(*g, 1);
/// assert!(Arc::ptr_eq(g.rwlock(), &lock));
/// ```
#[must_use = "the read lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockReadGuard<T: ?Sized, U: ?Sized = T> {
    lock: Arc<RwLock<T>>,
    /// The locked value, or a part of it (see [`map`](Self::map)); valid
    /// for reading while the read permit is held (and the `Arc` keeps the
    /// lock alive).
    value: *const U,
}

// SAFETY: the guard is an `Arc<RwLock<T>>` (sendable and shareable when
// `T: Send + Sync`) plus a `&U` into it, which needs `U: Sync` to cross
// threads or be shared.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Send for OwnedRwLockReadGuard<T, U> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Sync for OwnedRwLockReadGuard<T, U> {}

impl<T: ?Sized> OwnedRwLockReadGuard<T> {
    /// The guard of a read permit just taken.
    pub(super) fn new(lock: Arc<RwLock<T>>) -> Self {
        OwnedRwLockReadGuard {
            value: lock.value.get(),
            lock,
        }
    }
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockReadGuard<T, U> {
    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(eddy_sync::RwLock::new(()));
    /// let g = lock.clone().try_read_owned().unwrap();
    /// assert!(Arc::ptr_eq(g.rwlock(), &lock));
    /// ```
    pub fn rwlock(&self) -> &Arc<RwLock<T>> {
        &self.lock
    }

    /// Narrows the guard to a part of the value, keeping the read lock
    /// (and the `Arc`). An associated function, like
    /// [`RwLockReadGuard::map`]; if `f` panics, the lock is released.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use eddy_sync::{OwnedRwLockReadGuard, RwLock};
    /// # futures::executor::block_on(async {
    /// let lock = Arc::new(RwLock::new((1, String::from("x"))));
    /// let s: OwnedRwLockReadGuard<(i32, String), str> =
    ///     OwnedRwLockReadGuard::map(lock.clone().read_owned().await, |t| t.1.as_str());
    /// let worker = std::thread::spawn(move || s.len()); // it moves
    /// assert_eq!(worker.join().unwrap(), 1);
    /// # });
    /// ```
    pub fn map<V: ?Sized, F>(this: Self, f: F) -> OwnedRwLockReadGuard<T, V>
    where
        F: FnOnce(&U) -> &V,
    {
        let value: *const V = f(&*this);
        OwnedRwLockReadGuard {
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
    /// use eddy_sync::{OwnedRwLockReadGuard, RwLock};
    /// let lock = Arc::new(RwLock::new(vec![4, 5]));
    /// let g = lock.clone().try_read_owned().unwrap();
    /// let g = OwnedRwLockReadGuard::try_map(g, |v| v.get(9)).unwrap_err();
    /// let first = OwnedRwLockReadGuard::try_map(g, |v| v.first()).unwrap();
    /// assert_eq!(*first, 4);
    /// ```
    pub fn try_map<V: ?Sized, F>(this: Self, f: F) -> Result<OwnedRwLockReadGuard<T, V>, Self>
    where
        F: FnOnce(&U) -> Option<&V>,
    {
        let Some(value) = f(&*this).map(|v| v as *const V) else {
            return Err(this);
        };
        Ok(OwnedRwLockReadGuard {
            lock: this.into_lock(),
            value,
        })
    }

    /// Takes the `Arc` out without running the guard's `Drop` (the caller
    /// takes over the permit).
    fn into_lock(self) -> Arc<RwLock<T>> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped or used again, so the `Arc` is
        // moved out of it exactly once.
        unsafe { std::ptr::read(&this.lock) }
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedRwLockReadGuard<T, U> {
    type Target = U;
    fn deref(&self) -> &U {
        // SAFETY: `value` points into the locked value (kept alive by the
        // `Arc`) and a read permit is held, so no writer exists; readers
        // only create shared references.
        unsafe { &*self.value }
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedRwLockReadGuard<T, U> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// An [`RwLockWriteGuard`] that owns an `Arc` of its lock (see
/// [`RwLock::write_owned`]): exclusive access, released on drop.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// let lock = Arc::new(eddy_sync::RwLock::new(1));
/// let mut g: eddy_sync::OwnedRwLockWriteGuard<i32> = lock.clone().try_write_owned().unwrap();
/// *g = 2;
/// drop(g);
/// assert_eq!(*lock.try_read().unwrap(), 2);
/// ```
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    pub(super) lock: Arc<RwLock<T>>,
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(eddy_sync::RwLock::new(()));
    /// let g = lock.clone().try_write_owned().unwrap();
    /// assert!(Arc::ptr_eq(g.rwlock(), &lock));
    /// ```
    pub fn rwlock(&self) -> &Arc<RwLock<T>> {
        &self.lock
    }

    /// Turns the write lock into a read lock without releasing it, like
    /// [`RwLockWriteGuard::downgrade`]: no writer can take the lock in
    /// between, the readers at the front of the line get in with it, and a
    /// writer at the front (with everyone behind it) waits for the returned
    /// guard to be dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # futures::executor::block_on(async {
    /// let lock = Arc::new(eddy_sync::RwLock::new(0));
    /// let mut w = lock.clone().write_owned().await;
    /// *w += 1;
    /// let r = w.downgrade();
    /// assert_eq!(*lock.read().await, 1);
    /// assert!(lock.try_write().is_err());
    /// drop(r);
    /// assert!(lock.try_write().is_ok());
    /// # });
    /// ```
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let lock = self.into_lock();
        // The read guard exists before the release: if a woken waker
        // panics, unwinding drops it and its permit comes back.
        let read = OwnedRwLockReadGuard::new(lock);
        // Keep one permit (the read guard's), hand back the others.
        read.lock.sem.release(MAX_READERS - 1);
        read
    }

    /// Narrows the guard to a part of the value, keeping the write lock
    /// (and the `Arc`). An associated function, like
    /// [`RwLockWriteGuard::map`]; if `f` panics, the lock is released.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use eddy_sync::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
    /// # futures::executor::block_on(async {
    /// let lock = Arc::new(RwLock::new((0, 0)));
    /// let mut second: OwnedRwLockMappedWriteGuard<(i32, i32), i32> =
    ///     OwnedRwLockWriteGuard::map(lock.clone().write_owned().await, |t| &mut t.1);
    /// *second = 3;
    /// drop(second);
    /// assert_eq!(*lock.read().await, (0, 3));
    /// # });
    /// ```
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let value: *mut U = f(&mut *this);
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
    /// use eddy_sync::{OwnedRwLockWriteGuard, RwLock};
    /// let lock = Arc::new(RwLock::new(None::<u8>));
    /// let g = lock.clone().try_write_owned().unwrap();
    /// let mut g = OwnedRwLockWriteGuard::try_map(g, |o| o.as_mut()).unwrap_err();
    /// *g = Some(1);
    /// ```
    pub fn try_map<U: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(value) = f(&mut *this).map(|v| v as *mut U) else {
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

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the writer holds every permit: no other access exists.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the writer holds every permit and `&mut self` is unique.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(MAX_READERS);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
