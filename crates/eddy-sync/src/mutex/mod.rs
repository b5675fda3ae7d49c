//! [`Mutex<T>`]: asyncio's `Lock`, holding the data it protects.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::raw_semaphore::{Acquire, RawSemaphore};

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
    mutex: Arc<Mutex<T>>,
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
    sem: &'a RawSemaphore,
    /// Points into the value the permit protects; valid while it is held.
    value: *mut T,
    /// Borrows like the `&'a mut T` the pointer stands for.
    _marker: PhantomData<&'a mut T>,
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
    mutex: Arc<Mutex<T>>,
    /// Points into the value the permit protects; valid while it is held
    /// (and the `Arc` keeps the mutex alive).
    value: *mut U,
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
