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

/// Occupies one of `pool`'s threads with a job that returns `result` once
/// the returned sender is used (or dropped); returns after the job started.
pub fn occupy<T: Send + 'static>(
    pool: &eddy_blocking::Pool,
    result: T,
) -> (
    std::sync::mpsc::Sender<()>,
    eddy_blocking::BlockingHandle<T>,
) {
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let blocker = pool.spawn(move || {
        started_tx.send(()).unwrap();
        let _ = release_rx.recv();
        result
    });
    started_rx.recv().unwrap();
    (release_tx, blocker)
}
