//! [`RwLock<T>`]: many readers or one writer, FIFO and writer-preferring.

use std::cell::UnsafeCell;
use std::fmt;
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
        RwLockReadGuard { lock: self }
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
            Ok(RwLockReadGuard { lock: self })
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
        OwnedRwLockReadGuard { lock: self }
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
            Ok(OwnedRwLockReadGuard { lock: self })
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
    lock: &'a RwLock<T>,
}

// SAFETY: the guard only gives `&T`; sharing it needs `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read permit is held, so no writer exists; readers only
        // create shared references.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
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
        let read = RwLockReadGuard { lock };
        // Keep one permit (the read guard's) and hand back the others,
        // to the waiters at the front first: the lock is never free.
        lock.sem.release(MAX_READERS - 1);
        read
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
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
}

impl<T: ?Sized> OwnedRwLockReadGuard<T> {
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
}

impl<T: ?Sized> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read permit is held, so no writer exists; readers only
        // create shared references.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for OwnedRwLockReadGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T> {
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
        let read = OwnedRwLockReadGuard { lock };
        // Keep one permit (the read guard's), hand back the others.
        read.lock.sem.release(MAX_READERS - 1);
        read
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
