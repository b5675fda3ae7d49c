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
    drop_while_all_held(pool, 1, call).await;
}

/// [`drop_while_queued`] for a pool of `threads` threads: all of them are
/// held busy while `call` is polled once and dropped.
pub async fn drop_while_all_held<F: std::future::Future>(
    pool: &eddy_blocking::Pool,
    threads: usize,
    call: F,
) {
    let held: Vec<_> = (0..threads).map(|_| occupy(pool, ())).collect();
    {
        let mut call = Box::pin(call);
        assert!(futures::poll!(&mut call).is_pending());
    }
    for (release, blocker) in held {
        release.send(()).unwrap();
        blocker.await.unwrap();
    }
}

/// Reads `n` bytes from `f` so that the rest of the file (up to 64 bytes)
/// sits read ahead: a bigger read is dropped while its job is queued (all
/// `threads` of `pool` held; its job still fetches), then the small read is
/// served from that buffer. A plain `read_exact` would fetch only what its
/// buffer holds and leave nothing read ahead.
#[cfg(feature = "fs")]
pub async fn read_leaving_read_ahead(
    pool: &eddy_blocking::Pool,
    threads: usize,
    f: &mut eddy_blocking::fs::File,
    n: usize,
) -> Vec<u8> {
    use futures::AsyncReadExt;
    let mut big = [0u8; 64];
    drop_while_all_held(pool, threads, f.read(&mut big)).await;
    let mut got = vec![0u8; n];
    f.read_exact(&mut got).await.unwrap();
    got
}

/// Makes a FIFO (named pipe) at `path`, which must not exist.
pub fn mkfifo(path: &std::path::Path) {
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
}

/// Opens `path` for reading and writing (it must exist).
pub async fn open_rw(path: &std::path::Path) -> eddy_blocking::fs::File {
    eddy_blocking::fs::File::options()
        .read(true)
        .write(true)
        .open(path)
        .await
        .unwrap()
}
