//! Helpers of the multi-threaded and randomized tests: a seeded PRNG, a
//! "give up after a while" race, a runner for N threads each under its own
//! executor, and a hang guard.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use futures::future::{select, Either};

/// Threads the stress tests run on.
pub const THREADS: usize = 4;

/// A small xorshift generator, seeded per thread, so runs differ by thread
/// but each is reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: usize) -> Self {
        Rng(0x9E37_79B9_7F4A_7C15 ^ (seed as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9))
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Ready after being polled `n + 1` times (it wakes itself in between):
/// the "give up" side of a race with a wait.
pub struct YieldTimes(pub u64);

impl Future for YieldTimes {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Runs `wait` until it finishes or `patience` polls of the other side
/// pass, whichever is first; `None` when it was given up (dropped).
pub async fn within<F: Future + Unpin>(wait: F, patience: u64) -> Option<F::Output> {
    match select(wait, YieldTimes(patience)).await {
        Either::Left((out, _)) => Some(out),
        Either::Right(((), wait)) => {
            drop(wait);
            None
        }
    }
}

/// Runs `f(i)` on [`THREADS`] threads at once and waits for them all.
pub fn on_threads(f: impl Fn(usize) + Send + Sync + 'static) {
    let f = Arc::new(f);
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let f = f.clone();
            thread::spawn(move || f(i))
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// Runs `f` on a thread of its own and returns its result, failing the
/// test if it has not finished after `secs` (a hang guard, not a timing
/// assertion: a lost wake-up or a deadlock would otherwise hang the run).
/// A panic in `f` is resumed here.
pub fn guarded<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(out);
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(Ok(v)) => v,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("the test hung (> {secs} s): a wake-up was lost or a lock deadlocked"),
    }
}
