//! [`RwLock<T>`]: many readers or one writer, FIFO and writer-preferring.

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};

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
