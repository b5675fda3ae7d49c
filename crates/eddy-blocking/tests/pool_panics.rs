//! Panics the pool runs into outside a job's closure: the destructor of an
//! output nobody will collect (the handle was dropped while the job ran),
//! and the destructor of a queued job's captures when shutdown cancels it.
//! The pool thread must survive, every handle must resolve, and shutdown
//! must cancel every queued job.

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

#[test]
fn a_panicking_output_destructor_does_not_take_the_pool_thread_down() {
    guarded(60, || {
        let pool = Pool::builder().max_threads(1).build().unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            let (release, blocker) = common::occupy(&pool, ());
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

#[test]
fn a_panicking_capture_destructor_does_not_derail_shutdown() {
    guarded(60, || {
        let pool = Pool::builder().max_threads(1).build().unwrap();
        let (release, blocker) = common::occupy(&pool, ());
        let drops = Arc::new(AtomicUsize::new(0));
        let bad = PanicOnDrop(drops.clone());
        let first = pool.spawn(move || {
            let _keep = &bad;
            1
        });
        let second = pool.spawn(|| 2);
        // Both queued jobs are cancelled; the first one's capture panics as
        // it is dropped, which must neither escape shutdown_timeout nor stop
        // the second from being cancelled.
        let report = pool.shutdown_timeout(Duration::from_millis(20));
        assert_eq!(report.cancelled, 2, "{report:?}");
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert!(block_on(first).unwrap_err().is_shutdown());
        assert!(block_on(second).unwrap_err().is_shutdown());
        release.send(()).unwrap();
        block_on(blocker).unwrap();
        assert!(eventually(|| pool.thread_count() == 0));
    });
}

#[test]
fn a_job_queued_on_a_pool_thread_at_shutdown_is_cancelled_even_if_its_capture_panics() {
    guarded(60, || {
        let pool = Pool::builder().max_threads(1).build().unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let (nested_tx, nested_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let inner = pool.clone();
        let d = drops.clone();
        // The parent pushes a job onto its own thread's deque and waits
        // until shutdown has started; shutdown (stealing from that deque)
        // or the thread itself (finding it after the parent) cancels it.
        let parent = pool.spawn(move || {
            let bad = PanicOnDrop(d);
            let nested = inner.spawn(move || {
                let _keep = &bad;
            });
            nested_tx.send(nested).unwrap();
            go_rx.recv().unwrap();
        });
        let nested = nested_rx.recv().unwrap();
        let shutdown = {
            let pool = pool.clone();
            std::thread::spawn(move || pool.shutdown_timeout(Duration::from_secs(30)))
        };
        assert!(eventually(|| pool.is_shutdown()));
        go_tx.send(()).unwrap();
        block_on(parent).unwrap();
        assert!(block_on(nested).unwrap_err().is_shutdown());
        let report = shutdown.join().unwrap();
        assert_eq!(report.threads_left, 0, "{report:?}");
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}
