//! Helpers for driving futures by hand, so tests control exactly who polls
//! when.
#![allow(dead_code)]

pub mod stress;
pub mod touchy;
pub mod wakers;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A waker that counts its wakes.
#[derive(Default)]
pub struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future under manual control with its own counting waker.
pub struct Manual<'a, T> {
    fut: Pin<Box<dyn Future<Output = T> + 'a>>,
    counter: Arc<CountWaker>,
    waker: Waker,
}

impl<'a, T> Manual<'a, T> {
    pub fn new(fut: impl Future<Output = T> + 'a) -> Self {
        let counter = Arc::new(CountWaker::default());
        let waker = Waker::from(counter.clone());
        Manual {
            fut: Box::pin(fut),
            counter,
            waker,
        }
    }

    pub fn poll(&mut self) -> Poll<T> {
        let mut cx = Context::from_waker(&self.waker);
        self.fut.as_mut().poll(&mut cx)
    }

    /// Polls and expects `Pending`.
    #[track_caller]
    pub fn pending(&mut self) {
        assert!(self.poll().is_pending(), "expected Pending");
    }

    /// Polls and expects `Ready`, returning the output.
    #[track_caller]
    pub fn ready(&mut self) -> T {
        match self.poll() {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("expected Ready"),
        }
    }

    /// Number of wakes so far.
    pub fn wakes(&self) -> usize {
        self.counter.0.load(Ordering::SeqCst)
    }

    pub fn woken(&self) -> bool {
        self.wakes() > 0
    }
}
