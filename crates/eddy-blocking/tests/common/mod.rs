//! Helpers shared by the pool tests.
#![allow(dead_code)]

use std::time::Duration;

/// The seeded PRNG and the hang guard: eddy-time's std-only copy.
#[path = "../../../eddy-time/tests/common/stress.rs"]
pub mod stress;

/// Polls `cond` every few ms, up to a generous bound (no timing asserts).
pub fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..2_000 {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}
