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

/// Polls `call` once while `pool`'s only thread is held busy (so the call
/// is queued or in flight), drops it there, then lets the pool run on.
pub async fn drop_while_queued<F: std::future::Future>(pool: &eddy_blocking::Pool, call: F) {
    let (release, blocker) = occupy(pool, ());
    {
        let mut call = Box::pin(call);
        assert!(futures::poll!(&mut call).is_pending());
    }
    release.send(()).unwrap();
    blocker.await.unwrap();
}

/// Makes a FIFO (named pipe) at `path`, which must not exist.
pub fn mkfifo(path: &std::path::Path) {
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
}
