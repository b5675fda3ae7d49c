//! One place that picks std/parking_lot or loom, so the same code runs under
//! the loom model checker (`RUSTFLAGS="--cfg loom"`).
//!
//! Only the types the waiter lists and primitives share live here: atomics,
//! `Arc` for channel allocations, and a mutex with parking_lot's shape
//! (`lock()` hands back the guard directly).

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::Arc;

/// A mutex with parking_lot's shape (`lock()` returns the guard directly).
#[cfg(not(loom))]
pub(crate) type Mutex<T> = parking_lot::Mutex<T>;
/// The guard of [`Mutex`].
#[cfg(not(loom))]
pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

/// A mutex with parking_lot's shape (`lock()` returns the guard directly).
#[cfg(loom)]
#[derive(Debug, Default)]
pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);
/// The guard of [`Mutex`].
#[cfg(loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

#[cfg(loom)]
impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Mutex(loom::sync::Mutex::new(value))
    }
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap()
    }
}

/// A reader-writer lock with parking_lot's shape (`read()`/`write()`
/// return the guards directly), for values that readers borrow for a
/// while (a `watch` channel's value). Reader-biased: a read lock is
/// granted while other readers hold the lock even if a writer waits, so a
/// thread holding one read lock can take another without deadlocking.
#[cfg(not(loom))]
pub(crate) type RwLock<T> = parking_lot::RecursiveRwLock<T>;
/// The read guard of [`RwLock`].
#[cfg(not(loom))]
pub(crate) type RwLockReadGuard<'a, T> = parking_lot::RecursiveRwLockReadGuard<'a, T>;

/// A reader-writer lock with parking_lot's shape (`read()`/`write()`
/// return the guards directly).
#[cfg(loom)]
#[derive(Debug, Default)]
pub(crate) struct RwLock<T>(loom::sync::RwLock<T>);
/// The read guard of [`RwLock`].
#[cfg(loom)]
pub(crate) type RwLockReadGuard<'a, T> = loom::sync::RwLockReadGuard<'a, T>;

#[cfg(loom)]
impl<T> RwLock<T> {
    pub(crate) fn new(value: T) -> Self {
        RwLock(loom::sync::RwLock::new(value))
    }
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
        self.0.read().unwrap()
    }
    pub(crate) fn write(&self) -> loom::sync::RwLockWriteGuard<'_, T> {
        self.0.write().unwrap()
    }
}

/// `UnsafeCell` with loom's closure-based access API, so loom can check
/// that accesses never overlap; under std it compiles to a plain cell.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
