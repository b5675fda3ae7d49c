//! [`RwLock<T>`]: many readers or one writer, FIFO and writer-preferring.
//!
//! This file holds the lock and [`TryLockRwError`]. The guards are in
//! `guards` (the borrowed read and write guards), `owned` (the guards that
//! own an `Arc` of the lock) and `mapped` (write guards narrowed to a part
//! of the value).

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::raw_semaphore::RawSemaphore;

mod guards;
mod mapped;
mod owned;

pub use guards::{RwLockReadGuard, RwLockWriteGuard};
pub use mapped::{OwnedRwLockMappedWriteGuard, RwLockMappedWriteGuard};
pub use owned::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard};

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
