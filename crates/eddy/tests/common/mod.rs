//! Helpers shared by the facade's stress tests (io_cancel_stress.rs,
//! stream_cancel_wiring.rs).

#![allow(dead_code)]

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// A small deterministic PRNG (xorshift64*).
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
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn micros(&mut self, max: u64) -> Duration {
        Duration::from_micros(self.below(max))
    }
}

/// Runs `f` on its own thread; fails if it has not finished after `secs`
/// (a hang guard, not a timing assertion).
pub fn guarded<F: FnOnce() + Send + 'static>(secs: u64, f: F) {
    let (tx, rx) = mpsc::channel();
    let t = thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) => t.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(p) = t.join() {
                std::panic::resume_unwind(p)
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test hung (> {secs} s)"),
    }
}
