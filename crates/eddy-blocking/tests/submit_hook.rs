//! `Builder::on_submit` and `Pool::spawn_with_guard`: what a job holds is
//! taken on the submitting thread and let go once the job is over — as it
//! ends when nobody waits for the result, with the result when a handle
//! waits, unrun with a cancelled job.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use common::eventually;
use eddy_blocking::Pool;
use futures::executor::block_on;

/// Counts live guards.
#[derive(Clone, Default)]
struct Live(Arc<AtomicUsize>);

struct Guard(Arc<AtomicUsize>);

impl Live {
    fn guard(&self) -> Guard {
        self.0.fetch_add(1, Ordering::SeqCst);
        Guard(self.0.clone())
    }
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn pool_with_hook(live: &Live, max_threads: usize) -> Pool {
    let live = live.clone();
    Pool::builder()
        .max_threads(max_threads)
        .on_submit(move || live.guard())
        .build()
        .unwrap()
}

/// A waker that records that it was woken, and what `live` was then.
struct Flag {
    woken: AtomicBool,
    live_at_wake: AtomicUsize,
    live: Live,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.live_at_wake.store(self.live.count(), Ordering::SeqCst);
        self.woken.store(true, Ordering::SeqCst);
    }
}

#[test]
fn the_hook_runs_on_the_submitting_thread_and_its_guard_lives_while_the_job_runs() {
    let live = Live::default();
    let (tx, rx) = mpsc::channel();
    let pool = Pool::builder()
        .on_submit({
            let live = live.clone();
            move || {
                tx.send(std::thread::current().id()).unwrap();
                live.guard()
            }
        })
        .build()
        .unwrap();
    let seen = block_on(pool.spawn({
        let live = live.clone();
        move || live.count()
    }))
    .unwrap();
    assert_eq!(rx.recv().unwrap(), std::thread::current().id());
    assert_eq!(seen, 1, "the guard was not held while the job ran");
    assert_eq!(live.count(), 0, "the guard outlived the job");
}

#[test]
fn a_waiting_handle_gets_the_result_before_the_guard_goes() {
    let live = Live::default();
    let pool = pool_with_hook(&live, 2);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let mut handle = pool.spawn(move || go_rx.recv().map(|()| 9));
    let flag = Arc::new(Flag {
        woken: AtomicBool::new(false),
        live_at_wake: AtomicUsize::new(usize::MAX),
        live: live.clone(),
    });
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    // Waiting for the result before the job ends.
    assert!(Pin::new(&mut handle).poll(&mut cx).is_pending());
    go_tx.send(()).unwrap();
    assert!(eventually(|| flag.woken.load(Ordering::SeqCst)));
    // Woken with the guard still alive, and still alive until it is read.
    assert_eq!(flag.live_at_wake.load(Ordering::SeqCst), 1);
    assert_eq!(live.count(), 1, "the guard went before the result was read");
    match Pin::new(&mut handle).poll(&mut cx) {
        Poll::Ready(out) => assert_eq!(out.unwrap().unwrap(), 9),
        Poll::Pending => panic!("woken but not ready"),
    }
    assert_eq!(live.count(), 0);
}

#[test]
fn a_waiting_handle_dropped_unread_lets_the_guard_go() {
    let live = Live::default();
    let pool = pool_with_hook(&live, 2);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let mut handle = pool.spawn(move || go_rx.recv().is_ok());
    let mut cx = Context::from_waker(Waker::noop());
    assert!(Pin::new(&mut handle).poll(&mut cx).is_pending());
    go_tx.send(()).unwrap();
    drop(handle);
    assert!(eventually(|| live.count() == 0));
}

#[test]
fn a_finished_job_nobody_waits_for_lets_the_guard_go_as_it_ends() {
    let live = Live::default();
    let pool = pool_with_hook(&live, 2);
    let handle = pool.spawn(|| 3);
    // Never polled: the guard goes on the pool thread as the job ends.
    assert!(eventually(|| live.count() == 0));
    assert_eq!(block_on(handle).unwrap(), 3);
}

#[test]
fn cancelled_jobs_drop_their_guard_unrun() {
    let live = Live::default();
    let pool = pool_with_hook(&live, 1);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let busy = pool.spawn(move || {
        started_tx.send(()).unwrap();
        go_rx.recv().ok()
    });
    started_rx.recv().unwrap();
    // Both queued behind `busy` on the only thread.
    let dropped = pool.spawn(|| ());
    let shut = pool.spawn(|| ());
    assert_eq!(live.count(), 3);
    drop(dropped);
    assert_eq!(
        live.count(),
        2,
        "a job cancelled by its handle kept its guard"
    );
    let _ = pool.shutdown_timeout(Duration::ZERO);
    assert_eq!(
        live.count(),
        1,
        "a job cancelled by the shutdown kept its guard"
    );
    assert!(block_on(shut).unwrap_err().is_shutdown());
    go_tx.send(()).unwrap();
    block_on(busy).unwrap();
    assert_eq!(live.count(), 0);
}

#[test]
fn spawn_with_guard_keeps_both_its_guard_and_the_hooks() {
    let live = Live::default();
    let pool = pool_with_hook(&live, 2);
    let mine = Live::default();
    let seen = block_on(pool.spawn_with_guard(mine.guard(), {
        let (live, mine) = (live.clone(), mine.clone());
        move || (live.count(), mine.count())
    }))
    .unwrap();
    assert_eq!(seen, (1, 1));
    assert_eq!((live.count(), mine.count()), (0, 0));
}

#[test]
#[cfg(feature = "fs")]
fn fs_calls_and_file_operations_take_the_hook_guard() {
    use futures::io::AsyncReadExt;
    let live = Live::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let pool = Pool::builder()
        .on_submit({
            let (live, calls) = (live.clone(), calls.clone());
            move || {
                calls.fetch_add(1, Ordering::SeqCst);
                live.guard()
            }
        })
        .build()
        .unwrap();
    let _entered = pool.enter();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, b"abc").unwrap();
    block_on(async {
        let bytes = eddy_blocking::fs::read(&path).await.unwrap();
        assert_eq!(bytes, b"abc");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let mut file = eddy_blocking::fs::File::open(&path).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let mut buf = String::new();
        file.read_to_string(&mut buf).await.unwrap();
        assert_eq!(buf, "abc");
        assert!(
            calls.load(Ordering::SeqCst) > 2,
            "File reads skipped the hook"
        );
        let n = eddy_blocking::to_thread({
            let live = live.clone();
            move || live.count()
        })
        .await
        .unwrap();
        assert!(n >= 1, "to_thread's job ran without its guard");
    });
    assert!(eventually(|| live.count() == 0));
}
