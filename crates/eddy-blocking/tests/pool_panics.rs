//! Panics the pool runs into outside a job's closure: the destructor of an
//! output nobody will collect (the handle was dropped while the job ran).
//! The pool thread must survive and every handle must resolve.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::eventually;
use common::stress::guarded;
use eddy_blocking::Pool;
use futures::executor::block_on;

/// Panics when dropped (counting the drop first).
struct PanicOnDrop(Arc<AtomicUsize>);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("a destructor panicked (expected in this test)");
    }
}

/// Occupies the pool's only thread until the returned sender is used.
fn occupy(pool: &Pool) -> (mpsc::Sender<()>, eddy_blocking::BlockingHandle<()>) {
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let blocker = pool.spawn(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
    });
    started_rx.recv().unwrap();
    (release_tx, blocker)
}

#[test]
fn a_panicking_output_destructor_does_not_take_the_pool_thread_down() {
    guarded(60, || {
        let pool = Pool::builder().max_threads(1).build().unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            let (release, blocker) = occupy(&pool);
            let d = drops.clone();
            // Queued behind the blocker; its handle is dropped while it
            // runs, so its output is dropped on the pool thread.
            let (running_tx, running_rx) = mpsc::channel::<()>();
            let (go_tx, go_rx) = mpsc::channel::<()>();
            let h = pool.spawn(move || {
                running_tx.send(()).unwrap();
                go_rx.recv().unwrap();
                PanicOnDrop(d)
            });
            release.send(()).unwrap();
            block_on(blocker).unwrap();
            running_rx.recv().unwrap();
            drop(h);
            go_tx.send(()).unwrap();
        }
        assert!(eventually(|| drops.load(Ordering::SeqCst) == 3));
        // The thread is still there (or replaced) and still takes work.
        let sum: u32 = (0..100u32)
            .map(|i| pool.spawn(move || i))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| block_on(h).unwrap())
            .sum();
        assert_eq!(sum, 4_950);
        assert!(pool.thread_count() <= 1);
        assert!(eventually(|| pool.running_count() == 0));
        let report = pool.shutdown_timeout(Duration::from_secs(10));
        assert_eq!(report.threads_left, 0, "{report:?}");
    });
}
