//! Guards narrowed to a part of the value: [`MappedMutexGuard`] (from
//! [`MutexGuard::map`]) and [`OwnedMappedMutexGuard`] (from
//! [`OwnedMutexGuard::map`]).

use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::Mutex;
#[cfg(doc)]
use super::{MutexGuard, OwnedMutexGuard};
use crate::raw_semaphore::RawSemaphore;

/// A [`MutexGuard`] narrowed to a part of the value by
/// [`MutexGuard::map`]: derefs to that part, unlocks the whole mutex on
/// drop.
///
/// # Examples
///
/// ```
/// use eddy_sync::{MappedMutexGuard, Mutex, MutexGuard};
/// let m = Mutex::new([0u8; 4]);
/// let mut tail: MappedMutexGuard<'_, [u8]> = MutexGuard::map(m.try_lock().unwrap(), |a| &mut a[2..]);
/// tail.fill(9);
/// drop(tail);
/// assert_eq!(*m.try_lock().unwrap(), [0, 0, 9, 9]);
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    pub(super) sem: &'a RawSemaphore,
    /// Points into the value the permit protects; valid while it is held.
    pub(super) value: *mut T,
    /// Borrows like the `&'a mut T` the pointer stands for.
    pub(super) _marker: PhantomData<&'a mut T>,
}

// SAFETY: the guard is a `&mut T` plus the right to release the mutex's
// semaphore (which is `Sync`): sending it sends the `&mut T`.
unsafe impl<T: ?Sized + Send> Send for MappedMutexGuard<'_, T> {}
// SAFETY: sharing the guard shares `&T`, which needs `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for MappedMutexGuard<'_, T> {}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// Narrows the guard further (see [`MutexGuard::map`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy_sync::{MappedMutexGuard, Mutex, MutexGuard};
    /// let m = Mutex::new((1, (2, 3)));
    /// let pair = MutexGuard::map(m.try_lock().unwrap(), |t| &mut t.1);
    /// let mut last = MappedMutexGuard::map(pair, |p| &mut p.1);
    /// *last = 4;
    /// drop(last);
    /// assert_eq!(*m.try_lock().unwrap(), (1, (2, 4)));
    /// ```
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let value: *mut U = f(&mut *this);
        let sem = this.sem;
        std::mem::forget(this); // its permit goes to the new guard
        MappedMutexGuard {
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
    /// use eddy_sync::{MappedMutexGuard, Mutex, MutexGuard};
    /// let m = Mutex::new((0, vec![1]));
    /// let v = MutexGuard::map(m.try_lock().unwrap(), |t| &mut t.1);
    /// let v = MappedMutexGuard::try_map(v, |v| v.get_mut(3)).unwrap_err();
    /// assert_eq!(*v, [1]);
    /// ```
    pub fn try_map<U: ?Sized, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(value) = f(&mut *this).map(|v| v as *mut U) else {
            return Err(this);
        };
        let sem = this.sem;
        std::mem::forget(this); // its permit goes to the new guard
        Ok(MappedMutexGuard {
            sem,
            value,
            _marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: `value` came from a `&mut` into the locked value, whose
        // only permit this guard holds; nothing else reaches that part.
        unsafe { &*self.value }
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this reference unique.
        unsafe { &mut *self.value }
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// An [`OwnedMutexGuard`] narrowed to a part `U` of the mutex's `T` by
/// [`OwnedMutexGuard::map`]: derefs to that part, keeps the `Arc`, unlocks
/// the whole mutex on drop.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use eddy_sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
/// let m = Arc::new(Mutex::new((1, 2)));
/// let g: OwnedMappedMutexGuard<(i32, i32), i32> =
///     OwnedMutexGuard::map(m.clone().try_lock_owned().unwrap(), |t| &mut t.0);
/// assert_eq!(*g, 1);
/// assert!(Arc::ptr_eq(g.mutex(), &m));
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedMappedMutexGuard<T: ?Sized, U: ?Sized = T> {
    pub(super) mutex: Arc<Mutex<T>>,
    /// Points into the value the permit protects; valid while it is held
    /// (and the `Arc` keeps the mutex alive).
    pub(super) value: *mut U,
}

// SAFETY: the guard is an `Arc<Mutex<T>>` (sendable when `T: Send`) plus a
// `&mut U` into it: sending it sends the `&mut U`.
unsafe impl<T: ?Sized + Send, U: ?Sized + Send> Send for OwnedMappedMutexGuard<T, U> {}
// SAFETY: sharing the guard shares `&Arc<Mutex<T>>` (fine when `T: Send`)
// and `&U`, which needs `U: Sync`.
unsafe impl<T: ?Sized + Send, U: ?Sized + Sync> Sync for OwnedMappedMutexGuard<T, U> {}

impl<T: ?Sized, U: ?Sized> OwnedMappedMutexGuard<T, U> {
    /// The mutex this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use eddy_sync::{Mutex, OwnedMutexGuard};
    /// let m = Arc::new(Mutex::new((0, 0)));
    /// let g = OwnedMutexGuard::map(m.clone().try_lock_owned().unwrap(), |t| &mut t.1);
    /// assert!(Arc::ptr_eq(g.mutex(), &m));
    /// ```
    pub fn mutex(&self) -> &Arc<Mutex<T>> {
        &self.mutex
    }

    /// Narrows the guard further (see [`OwnedMutexGuard::map`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use eddy_sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
    /// let m = Arc::new(Mutex::new((0, (1, 2))));
    /// let pair = OwnedMutexGuard::map(m.clone().try_lock_owned().unwrap(), |t| &mut t.1);
    /// let mut second = OwnedMappedMutexGuard::map(pair, |p| &mut p.1);
    /// *second = 5;
    /// drop(second);
    /// assert_eq!(*m.try_lock().unwrap(), (0, (1, 5)));
    /// ```
    pub fn map<V: ?Sized, F>(mut this: Self, f: F) -> OwnedMappedMutexGuard<T, V>
    where
        F: FnOnce(&mut U) -> &mut V,
    {
        let value: *mut V = f(&mut *this);
        OwnedMappedMutexGuard {
            mutex: this.into_mutex(),
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
    /// use eddy_sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
    /// let m = Arc::new(Mutex::new((0, None::<i32>)));
    /// let opt = OwnedMutexGuard::map(m.clone().try_lock_owned().unwrap(), |t| &mut t.1);
    /// let opt = OwnedMappedMutexGuard::try_map(opt, |o| o.as_mut()).unwrap_err();
    /// assert_eq!(*opt, None);
    /// ```
    pub fn try_map<V: ?Sized, F>(mut this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, V>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut V>,
    {
        let Some(value) = f(&mut *this).map(|v| v as *mut V) else {
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

impl<T: ?Sized, U: ?Sized> Deref for OwnedMappedMutexGuard<T, U> {
    type Target = U;
    #[inline]
    fn deref(&self) -> &U {
        // SAFETY: `value` came from a `&mut` into the locked value, whose
        // only permit this guard holds, and the `Arc` keeps it alive.
        unsafe { &*self.value }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedMappedMutexGuard<T, U> {
    #[inline]
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as in `deref`, and `&mut self` makes this reference unique.
        unsafe { &mut *self.value }
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedMappedMutexGuard<T, U> {
    #[inline]
    fn drop(&mut self) {
        self.mutex.sem.release(1);
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedMappedMutexGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
