//! [`RwLock<T>`]: many readers or one writer, FIFO and writer-preferring.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::raw_semaphore::RawSemaphore;

/// Permits a writer takes: all of them. Readers take one each, so at most
/// this many readers hold the lock at once.
const MAX_READERS: usize = u32::MAX as usize >> 3;

/// An async reader-writer lock.
///
/// Requests are served in FIFO order, which makes it **writer-preferring**:
/// once a writer waits, readers that arrive after it queue behind it instead
/// of joining the readers that hold the lock, so writers are never starved.
/// (Readers already holding the lock keep it until they drop their guards.)
///
/// A writer can [`downgrade`](RwLockWriteGuard::downgrade) its guard to a
/// read guard without letting go of the lock: the readers at the front of
/// the line get in with it, and a writer at the front waits until the
/// downgraded guard is dropped, with everyone behind it.
///
/// For a lock in an `Arc`, [`read_owned`](Self::read_owned) and
/// [`write_owned`](Self::write_owned) return guards that own a clone of the
/// `Arc` and have no lifetime, so they can move into a spawned task.
///
/// # Examples
///
/// ```
/// use eddy_sync::RwLock;
/// # futures::executor::block_on(async {
/// let lock = RwLock::new(1);
/// {
///     let a = lock.read().await;
///     let b = lock.read().await;
///     assert_eq!(*a + *b, 2);
/// }
/// *lock.write().await += 1;
/// assert_eq!(*lock.read().await, 2);
/// # });
/// ```
pub struct RwLock<T: ?Sized> {
    sem: RawSemaphore,
    value: UnsafeCell<T>,
}

// SAFETY: a writer gets exclusive access (all permits); readers share `&T`
// from several threads, so `T: Send + Sync` is required, like std's RwLock.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

/// Returned by [`RwLock::try_read`] and [`RwLock::try_write`] when the lock
/// cannot be taken right now.
///
/// # Examples
///
/// ```
/// let lock = eddy_sync::RwLock::new(());
/// let _w = lock.try_write().unwrap();
/// assert_eq!(lock.try_read().unwrap_err(), eddy_sync::TryLockRwError);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockRwError;

impl fmt::Display for TryLockRwError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("rwlock is held in a conflicting mode or has waiters; await read()/write()")
    }
}

impl std::error::Error for TryLockRwError {}

impl<T> RwLock<T> {
    /// A new, unlocked lock around `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = eddy_sync::RwLock::new(0u8);
    /// # drop(lock);
    /// ```
    pub fn new(value: T) -> Self {
        RwLock {
            sem: RawSemaphore::new(MAX_READERS),
            value: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(eddy_sync::RwLock::new(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared (read) access.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future leaves the line; access already
    /// granted to it passes on to the next waiters.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let lock = eddy_sync::RwLock::new(5);
    /// assert_eq!(*lock.read().await, 5);
    /// # });
    /// ```
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.sem.acquire(1).await;
        self.read_guard()
    }

    /// Waits for exclusive (write) access.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future leaves the line; any part of the
    /// lock already set aside for it passes on to the next waiters.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let lock = eddy_sync::RwLock::new(5);
    /// *lock.write().await = 6;
    /// assert_eq!(*lock.read().await, 6);
    /// # });
    /// ```
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.sem.acquire(MAX_READERS).await;
        RwLockWriteGuard { lock: self }
    }

    /// Takes shared access if no writer holds or awaits the lock.
    ///
    /// # Errors
    ///
    /// [`TryLockRwError`] if a writer holds the lock or anyone is waiting
    /// for it (a newcomer never jumps the line).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = eddy_sync::RwLock::new(());
    /// let _a = lock.try_read().unwrap();
    /// assert!(lock.try_read().is_ok());
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockRwError> {
        if self.sem.try_acquire(1) {
            Ok(self.read_guard())
        } else {
            Err(TryLockRwError)
        }
    }

    /// Takes exclusive access if nobody holds or awaits the lock.
    ///
    /// # Errors
    ///
    /// [`TryLockRwError`] if any guard holds the lock or anyone is waiting
    /// for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = eddy_sync::RwLock::new(());
    /// let _r = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_err());
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockRwError> {
        if self.sem.try_acquire(MAX_READERS) {
            Ok(RwLockWriteGuard { lock: self })
        } else {
            Err(TryLockRwError)
        }
    }

    /// Like [`read`](Self::read), for a lock in an `Arc`: the guard owns a
    /// clone of the `Arc` and has no lifetime (it can move into a task).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, like [`read`](Self::read): dropping the future leaves
    /// the line and passes on any access already granted to it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use eddy_sync::{OwnedRwLockReadGuard, RwLock};
    /// # futures::executor::block_on(async {
    /// let lock = Arc::new(RwLock::new(7));
    /// let g: OwnedRwLockReadGuard<i32> = lock.clone().read_owned().await;
    /// let worker = std::thread::spawn(move || *g + 1); // the guard moves
    /// assert_eq!(worker.join().unwrap(), 8);
    /// assert!(lock.try_write().is_ok(), "the guard was dropped on the worker");
    /// # });
    /// ```
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        self.sem.acquire(1).await;
        OwnedRwLockReadGuard::new(self)
    }

    /// Like [`write`](Self::write), for a lock in an `Arc`: the guard owns a
    /// clone of the `Arc` and has no lifetime (it can move into a task).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, like [`write`](Self::write): dropping the future leaves
    /// the line and passes on any part of the lock already set aside for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use eddy_sync::{OwnedRwLockWriteGuard, RwLock};
    /// # futures::executor::block_on(async {
    /// let lock = Arc::new(RwLock::new(Vec::new()));
    /// let mut g: OwnedRwLockWriteGuard<Vec<i32>> = lock.clone().write_owned().await;
    /// g.push(1);
    /// drop(g);
    /// assert_eq!(*lock.read().await, [1]);
    /// # });
    /// ```
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        self.sem.acquire(MAX_READERS).await;
        OwnedRwLockWriteGuard { lock: self }
    }

    /// Like [`try_read`](Self::try_read), returning an owned guard.
    ///
    /// # Errors
    ///
    /// [`TryLockRwError`] if a writer holds the lock or anyone is waiting
    /// for it; the `Arc` passed in is dropped then.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(eddy_sync::RwLock::new(1));
    /// let g = lock.clone().try_read_owned().unwrap();
    /// assert!(lock.clone().try_read_owned().is_ok(), "readers share");
    /// assert!(lock.clone().try_write_owned().is_err());
    /// drop(g);
    /// ```
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockRwError> {
        if self.sem.try_acquire(1) {
            Ok(OwnedRwLockReadGuard::new(self))
        } else {
            Err(TryLockRwError)
        }
    }

    /// Like [`try_write`](Self::try_write), returning an owned guard.
    ///
    /// # Errors
    ///
    /// [`TryLockRwError`] if any guard holds the lock or anyone is waiting
    /// for it; the `Arc` passed in is dropped then.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(eddy_sync::RwLock::new(1));
    /// let mut g = lock.clone().try_write_owned().unwrap();
    /// *g = 2;
    /// assert!(lock.clone().try_read_owned().is_err());
    /// drop(g);
    /// assert_eq!(*lock.try_read().unwrap(), 2);
    /// ```
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockRwError> {
        if self.sem.try_acquire(MAX_READERS) {
            Ok(OwnedRwLockWriteGuard { lock: self })
        } else {
            Err(TryLockRwError)
        }
    }

    /// Mutable access without locking: `&mut self` proves nobody holds it.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = eddy_sync::RwLock::new(1);
    /// *lock.get_mut() += 1;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// The guard of a read permit just taken.
    fn read_guard(&self) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard {
            sem: &self.sem,
            value: self.value.get(),
            _marker: PhantomData,
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(g) => d.field("value", &&*g),
            Err(_) => d.field("value", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

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
    sem: &'a RawSemaphore,
    /// The locked value, or a part of it (see [`map`](Self::map)); valid
    /// for reading while the read permit is held.
    value: *const T,
    /// Borrows like the `&'a T` the pointer stands for.
    _marker: PhantomData<&'a T>,
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
    lock: &'a RwLock<T>,
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
    fn new(lock: Arc<RwLock<T>>) -> Self {
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
    lock: Arc<RwLock<T>>,
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
    sem: &'a RawSemaphore,
    /// Points into the locked value; valid while every permit is held.
    value: *mut T,
    /// Borrows like the `&'a mut T` the pointer stands for.
    _marker: PhantomData<&'a mut T>,
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
    lock: Arc<RwLock<T>>,
    /// Points into the locked value; valid while every permit is held (and
    /// the `Arc` keeps the lock alive).
    value: *mut U,
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
