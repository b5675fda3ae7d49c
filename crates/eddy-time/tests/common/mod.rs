//! Runtime helpers shared by the integration tests.
#![allow(dead_code)]

pub mod stress;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

use eddy_core::park::ThreadPark;
use eddy_time::{DriverBuilder, Handle};

/// eddy-core's loop on a time driver (paused clock or not).
pub fn runtime(paused: bool) -> (eddy_core::Runtime, Handle) {
    let driver = DriverBuilder::new()
        .start_paused(paused)
        .build(ThreadPark::new());
    let handle = driver.handle();
    let rt = eddy_core::Builder::new()
        .build_with_driver(Box::new(driver))
        .unwrap();
    (rt, handle)
}

/// Runs `f` on a fresh runtime with the time handle entered, as the facade
/// does, and shuts it down (still entered) afterwards.
pub fn block_on<F: Future>(paused: bool, f: F) -> F::Output {
    let (rt, handle) = runtime(paused);
    let _guard = handle.enter();
    let out = rt.block_on(f);
    drop(rt);
    out
}

/// A waker that counts its wakes.
#[derive(Default)]
pub struct CountingWaker(pub AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl CountingWaker {
    pub fn new() -> (Arc<CountingWaker>, Waker) {
        let c = Arc::new(CountingWaker::default());
        let w = Waker::from(c.clone());
        (c, w)
    }
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}
