//! One place that picks std/parking_lot or loom, so the same code runs under
//! the loom model checker (`RUSTFLAGS="--cfg loom"`).

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A mutex with parking_lot's shape (`lock()` returns the guard directly).
#[cfg(not(loom))]
pub(crate) type Mutex<T> = parking_lot::Mutex<T>;

/// A mutex with parking_lot's shape (`lock()` returns the guard directly).
#[cfg(loom)]
#[derive(Debug, Default)]
pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

#[cfg(loom)]
impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Mutex(loom::sync::Mutex::new(value))
    }
    pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
        self.0.lock().unwrap()
    }
}

/// Declares the thread-local that holds the entered time handle: std's
/// (const-initialised, no lazy init check) normally, loom's under the model
/// checker (loom threads share one OS thread).
macro_rules! handle_thread_local {
    ($name:ident: $ty:ty = $init:expr) => {
        #[cfg(not(loom))]
        std::thread_local! {
            static $name: $ty = const { $init };
        }
        #[cfg(loom)]
        loom::thread_local! {
            static $name: $ty = $init;
        }
    };
}
pub(crate) use handle_thread_local;

/// The guard of [`Mutex`].
#[cfg(not(loom))]
pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

/// The guard of [`Mutex`].
#[cfg(loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;
