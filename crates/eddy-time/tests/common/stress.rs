//! Std-only helpers for the randomized tests: a seeded PRNG and a hang
//! guard. eddy-time's tests use it through `common`; eddy-blocking's and
//! eddy-io's test helpers include this same file (it depends on nothing
//! but std), so there is one copy of each.
#![allow(dead_code)]

use std::sync::mpsc;
use std::time::Duration;

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-ish in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A random pause below `max` µs.
    pub fn micros(&mut self, max: u64) -> Duration {
        Duration::from_micros(self.below(max))
    }
    /// True about once in `n` calls.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

/// Runs `f` on a thread of its own and returns its result, failing the
/// test if it has not finished after `secs` (a hang guard, not a timing
/// assertion: a lost wake-up would otherwise hang the run). A panic in `f`
/// is resumed here.
pub fn guarded<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(out);
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(Ok(v)) => v,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("the test hung (> {secs} s): a wake-up, a delivery or a job was lost"),
    }
}
