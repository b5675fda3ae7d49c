//! The pool: results, nesting, panics, cancellation, keep-alive, shutdown.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::eventually;
use eddy_blocking::{BlockingHandle, Pool};
use futures::executor::block_on;

#[test]
fn thousand_jobs_complete_with_correct_results() {
    let pool = Pool::new();
    let handles: Vec<BlockingHandle<u64>> =
        (0..1_000u64).map(|i| pool.spawn(move || i * i)).collect();
    let results: Vec<u64> = block_on(async {
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    });
    assert_eq!(results, (0..1_000u64).map(|i| i * i).collect::<Vec<_>>());
    assert!(pool.thread_count() <= 512);
}

#[test]
fn thousand_jobs_on_few_threads() {
    let pool = Pool::builder().max_threads(3).build().unwrap();
    let handles: Vec<_> = (0..1_000usize).map(|i| pool.spawn(move || i + 1)).collect();
    let sum: usize = block_on(async {
        let mut s = 0;
        for h in handles {
            s += h.await.unwrap();
        }
        s
    });
    assert_eq!(sum, (1..=1_000).sum::<usize>());
    assert!(pool.thread_count() <= 3);
}

#[test]
fn nested_submission_from_a_pool_thread() {
    let pool = Pool::builder().max_threads(4).build().unwrap();
    let inner = pool.clone();
    let h = pool.spawn(move || {
        // Pool::current() on a pool thread is the pool itself.
        assert!(Pool::try_current().is_some());
        let handles: Vec<_> = (0..10).map(|i| inner.spawn(move || i * 2)).collect();
        let nested = eddy_blocking::spawn_blocking(|| 100);
        let mut sum: i32 = handles.into_iter().map(|h| block_on(h).unwrap()).sum();
        sum += block_on(nested).unwrap();
        sum
    });
    assert_eq!(block_on(h).unwrap(), 90 + 100);
}

#[test]
fn nested_submission_with_one_thread_runs_from_the_local_deque() {
    // With a single thread the nested job can only run after its parent, on
    // the same thread, taken from that thread's own deque.
    let pool = Pool::builder().max_threads(1).build().unwrap();
    let inner = pool.clone();
    let h = pool.spawn(move || {
        let me = std::thread::current().id();
        inner.spawn(move || std::thread::current().id() == me)
    });
    let nested = block_on(h).unwrap();
    assert!(block_on(nested).unwrap());
}

#[test]
fn panics_come_back_as_join_error() {
    let pool = Pool::new();
    let err = block_on(pool.spawn(|| -> u8 { panic!("kaboom") })).unwrap_err();
    assert!(err.is_panic());
    assert!(!err.is_shutdown());
    assert!(err.to_string().contains("kaboom"), "{err}");
    let payload = err.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"kaboom"));
    // The pool still works afterwards.
    assert_eq!(block_on(pool.spawn(|| 5)).unwrap(), 5);
}

#[test]
fn dropping_the_handle_before_start_never_runs_the_job() {
    let pool = Pool::builder().max_threads(1).build().unwrap();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let blocker = pool.spawn(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
    });
    started_rx.recv().unwrap(); // the only thread is busy now

    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..10 {
        let ran = ran.clone();
        drop(pool.spawn(move || {
            ran.fetch_add(1, Ordering::SeqCst);
        }));
    }
    let ran2 = ran.clone();
    let kept = pool.spawn(move || ran2.fetch_add(100, Ordering::SeqCst));

    release_tx.send(()).unwrap();
    block_on(blocker).unwrap();
    block_on(kept).unwrap();
    // The pool is FIFO on one thread, so every dropped job was seen before.
    assert_eq!(ran.load(Ordering::SeqCst), 100);
}

#[test]
fn a_started_job_runs_to_completion_after_its_handle_is_dropped() {
    let pool = Pool::builder().max_threads(1).build().unwrap();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let h = pool.spawn(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        d.fetch_add(1, Ordering::SeqCst);
    });
    started_rx.recv().unwrap();
    drop(h);
    release_tx.send(()).unwrap();
    assert!(eventually(|| done.load(Ordering::SeqCst) == 1));
}

#[test]
fn keep_alive_expiry_shrinks_the_pool() {
    let pool = Pool::builder()
        .keep_alive(Duration::from_millis(50))
        .build()
        .unwrap();
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Arc::new(parking_lot::Mutex::new(rx));
    // Four jobs that all wait, so four threads must exist at once.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let rx = rx.clone();
            pool.spawn(move || {
                let _ = rx.lock().recv();
            })
        })
        .collect();
    assert!(eventually(|| pool.running_count() >= 1));
    for _ in 0..4 {
        tx.send(()).unwrap();
    }
    for h in handles {
        block_on(h).unwrap();
    }
    assert!(pool.thread_count() >= 1);
    assert!(
        eventually(|| pool.thread_count() == 0),
        "threads left: {}",
        pool.thread_count()
    );
    // And the pool grows again on demand.
    assert_eq!(block_on(pool.spawn(|| 1)).unwrap(), 1);
}

#[test]
fn a_trickle_of_jobs_lets_the_spare_threads_expire() {
    const N: usize = 8;
    let pool = Pool::builder()
        .keep_alive(Duration::from_millis(200))
        .build()
        .unwrap();
    // A burst of jobs that wait for each other: N threads at once.
    let barrier = Arc::new(std::sync::Barrier::new(N));
    let burst: Vec<_> = (0..N)
        .map(|_| {
            let b = barrier.clone();
            pool.spawn(move || {
                b.wait();
            })
        })
        .collect();
    for h in burst {
        block_on(h).unwrap();
    }
    assert!(eventually(|| pool.idle_count() == N));

    // Then a trickle: a short job every 10 ms, well below the keep-alive.
    // One thread is enough for it. If each job woke the thread idle the
    // longest (FIFO), every thread would get a job every N * 10 ms and
    // none would ever reach its keep-alive; waking the one idle the
    // shortest (LIFO) lets the others expire. At least 5 keep-alives of
    // trickle, then up to 15 s (no timing is asserted).
    let mut threads = N;
    for i in 0..1_500 {
        block_on(pool.spawn(|| ())).unwrap();
        std::thread::sleep(Duration::from_millis(10));
        threads = pool.thread_count();
        if i >= 100 && threads <= 2 {
            break;
        }
    }
    assert!(
        threads <= 2,
        "{threads} of {N} threads still alive under a trickle of jobs"
    );
}

#[test]
fn threads_are_named_and_idle_threads_are_counted() {
    let pool = Pool::builder().thread_name("blk").build().unwrap();
    let name = block_on(pool.spawn(|| std::thread::current().name().unwrap().to_owned())).unwrap();
    assert!(name.starts_with("blk-"), "{name}");
    assert!(eventually(|| pool.idle_count() == 1));
    assert_eq!(pool.thread_count(), 1);
}

#[test]
fn shutdown_reports_a_running_job_and_cancels_queued_ones() {
    let pool = Pool::builder().max_threads(1).build().unwrap();
    let (release_tx, running) = common::occupy(&pool, 7);
    let queued = pool.spawn(|| 8);

    let report = pool.shutdown_timeout(Duration::from_millis(20));
    assert_eq!(report.still_running, 1);
    assert_eq!(report.cancelled, 1);
    assert_eq!(report.threads_left, 1);
    let err = block_on(queued).unwrap_err();
    assert!(err.is_shutdown(), "{err}");

    // The running job was not interrupted.
    release_tx.send(()).unwrap();
    assert_eq!(block_on(running).unwrap(), 7);
    assert!(eventually(|| pool.thread_count() == 0));
}

#[test]
fn shutdown_does_not_count_jobs_whose_handle_was_dropped_as_cancelled() {
    let pool = Pool::builder().max_threads(1).build().unwrap();
    let (release_tx, running) = common::occupy(&pool, ());
    // Cancelled by their dropped handles while queued: they leave entries
    // behind in the queue, but the shutdown cancels none of them.
    drop((pool.spawn(|| 1), pool.spawn(|| 2), pool.spawn(|| 3)));
    let queued = pool.spawn(|| 4);

    let report = pool.shutdown_timeout(Duration::from_millis(20));
    release_tx.send(()).unwrap();
    block_on(running).unwrap();
    assert!(block_on(queued).unwrap_err().is_shutdown());
    // Counted 4 before: the three dropped jobs' queue entries too.
    assert_eq!(report.cancelled, 1, "{report:?}");
}

#[test]
fn submit_after_shutdown_errors() {
    let pool = Pool::new();
    block_on(pool.spawn(|| ())).unwrap();
    let report = pool.shutdown_timeout(Duration::from_secs(10));
    assert_eq!(report.still_running, 0);
    assert_eq!(report.threads_left, 0);
    assert!(pool.is_shutdown());

    let err = block_on(pool.spawn(|| 1)).unwrap_err();
    assert!(err.is_shutdown());
    assert!(err.to_string().contains("shut down"), "{err}");

    let err = pool.try_spawn(|| 1).unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");
    let _: &dyn std::error::Error = &err;
}

#[test]
fn max_threads_zero_is_refused() {
    let err = Pool::builder().max_threads(0).build().unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("max_threads(0)"), "{msg}");
    assert!(msg.contains("at least 1"), "{msg}");
}

#[test]
fn a_thread_name_with_a_nul_byte_is_refused() {
    let err = Pool::builder().thread_name("io\0pool").build().unwrap_err();
    assert!(err.to_string().contains("NUL byte"), "{err}");
    // Refused at build: accepted, the first spawn panicked on the
    // submitter and left the pool counting a thread that never started.
    let pool = Pool::builder().thread_name("io-pool").build().unwrap();
    assert_eq!(block_on(pool.spawn(|| 1)).unwrap(), 1);
}

#[test]
fn dropping_the_last_pool_lets_threads_exit() {
    let pool = Pool::new();
    let h = pool.spawn(|| 3);
    let weak_probe = pool.spawn(|| ());
    drop(pool);
    assert_eq!(block_on(h).unwrap(), 3);
    block_on(weak_probe).unwrap();
}

#[test]
fn current_pool_and_free_functions() {
    assert!(Pool::try_current().is_none());
    let pool = Pool::new();
    {
        let _g = pool.enter();
        assert_eq!(block_on(eddy_blocking::to_thread(|| 1)).unwrap(), 1);
        assert_eq!(block_on(eddy_blocking::spawn_blocking(|| 2)).unwrap(), 2);
        let other = Pool::new();
        {
            let _g2 = other.enter();
            assert!(Pool::try_current().is_some());
        }
        assert!(Pool::try_current().is_some());
    }
    assert!(Pool::try_current().is_none());
}

#[test]
fn no_current_pool_panics_with_a_clear_message() {
    let err = std::panic::catch_unwind(|| {
        drop(eddy_blocking::spawn_blocking(|| ()));
    })
    .unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap();
    assert!(
        msg.contains("no eddy blocking pool on this thread: call inside an eddy runtime or enter a Pool with Pool::enter"),
        "{msg}"
    );
}

#[test]
fn pool_is_send_sync_clone_and_handles_are_send() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<Pool>();
    assert_send::<BlockingHandle<String>>();
}

#[test]
fn jobs_no_thread_could_be_started_for_fail_saying_so() {
    // A stack no system can map: every spawn fails.
    let pool = Pool::builder().stack_size(1 << 62).build().unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let h = pool.spawn(move || r.fetch_add(1, Ordering::SeqCst));
    let h2 = pool.spawn(|| 2); // the next submission tries again, and fails again
    assert_eq!(pool.thread_count(), 0);
    // These waited for a thread that never came (forever, unless the pool
    // was dropped or shut down: then they said it was shut down).
    for err in [within_10s(h).unwrap_err(), within_10s(h2).unwrap_err()] {
        assert!(
            err.is_no_thread() && !err.is_shutdown() && !err.is_panic(),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("could not start"), "{msg}");
        assert!(msg.contains("ulimit"), "what to do: {msg}");
        let os = std::error::Error::source(&err).expect("the OS error");
        assert!(os.is::<std::io::Error>());
        assert!(msg.contains(&os.to_string()), "{msg}");
    }
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    // Nothing was left queued for the shutdown to cancel.
    let report = pool.shutdown_timeout(Duration::from_secs(1));
    assert_eq!(report.cancelled, 0);
    assert_eq!(report.threads_left, 0);

    // Nor for dropping the pool, which said it was shut down.
    let pool = Pool::builder().stack_size(1 << 62).build().unwrap();
    let h = pool.spawn(|| 3);
    drop(pool);
    assert!(within_10s(h).unwrap_err().is_no_thread());
}

/// Awaits `h` on another thread, for at most 10 s (a hang fails the test).
fn within_10s<T: Send + 'static>(h: BlockingHandle<T>) -> Result<T, eddy_blocking::JoinError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(block_on(h));
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the job neither ran nor failed")
}

#[test]
fn queued_jobs_do_not_wait_behind_running_ones_while_threads_are_free() {
    // Each job waits for all the others: they must run at the same time,
    // so the pool has to wake or start a thread for every one of them.
    for round in 0..20 {
        let pool = Pool::builder().max_threads(8).build().unwrap();
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let b = barrier.clone();
                pool.spawn(move || {
                    b.wait();
                    i
                })
            })
            .collect();
        let sum: usize = handles.into_iter().map(|h| block_on(h).unwrap()).sum();
        assert_eq!(sum, 28, "round {round}");
    }
}

#[test]
fn many_submitting_threads_on_a_small_pool() {
    let pool = Pool::builder().max_threads(2).build().unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let submitters: Vec<_> = (0..4)
        .map(|_| {
            let pool = pool.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                let handles: Vec<_> = (0..500)
                    .map(|_| {
                        let done = done.clone();
                        pool.spawn(move || {
                            done.fetch_add(1, Ordering::SeqCst);
                        })
                    })
                    .collect();
                for h in handles {
                    block_on(h).unwrap();
                }
            })
        })
        .collect();
    for s in submitters {
        s.join().unwrap();
    }
    assert_eq!(done.load(Ordering::SeqCst), 2_000);
}

/// Counts drops of whatever a job captured.
struct Captured(Arc<AtomicUsize>);
impl Drop for Captured {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn handles_dropped_at_random_and_a_racing_shutdown_run_each_job_at_most_once() {
    let pool = Pool::builder().max_threads(2).build().unwrap();
    let made = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicUsize::new(0));
    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..6_000).map(|_| AtomicUsize::new(0)).collect());
    let submitters: Vec<_> = (0..3u64)
        .map(|t| {
            let pool = pool.clone();
            let (made, dropped, ran) = (made.clone(), dropped.clone(), ran.clone());
            let runs = runs.clone();
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                for i in 0..2_000u64 {
                    made.fetch_add(1, Ordering::SeqCst);
                    let captured = Captured(dropped.clone());
                    let (ran, runs) = (ran.clone(), runs.clone());
                    let id = (t * 2_000 + i) as usize;
                    let handle = pool.spawn(move || {
                        let _captured = captured;
                        runs[id].fetch_add(1, Ordering::SeqCst);
                        ran.fetch_add(1, Ordering::SeqCst)
                    });
                    // Drop about a third of the handles at once (cancelling
                    // the job unless it already started).
                    if (i * 7 + t) % 3 != 0 {
                        kept.push(handle);
                    }
                }
                kept
            })
        })
        .collect();
    // Shut down while the submitters are still at it.
    std::thread::sleep(Duration::from_millis(1));
    let report = pool.shutdown_timeout(Duration::from_secs(60));
    assert_eq!(report.still_running, 0);
    let kept: Vec<_> = submitters
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect();
    let mut completed = 0;
    for h in kept {
        match block_on(h) {
            Ok(_) => completed += 1,
            Err(e) => assert!(e.is_shutdown(), "{e}"),
        }
    }
    // Every job's captures are dropped exactly once, whether it ran, was
    // cancelled with its handle, cancelled by shutdown or refused.
    assert!(eventually(
        || dropped.load(Ordering::SeqCst) == made.load(Ordering::SeqCst)
    ));
    // No job ran twice, and every kept handle that says Ok really ran.
    assert!(runs.iter().all(|r| r.load(Ordering::SeqCst) <= 1));
    assert!(completed <= ran.load(Ordering::SeqCst));
    eprintln!(
        "{} jobs made, {} ran, {completed} kept handles completed ({:?})",
        made.load(Ordering::SeqCst),
        ran.load(Ordering::SeqCst),
        report
    );
}

#[test]
fn shutdown_from_inside_a_job_does_not_wait_for_its_own_thread() {
    let pool = Pool::builder().max_threads(2).build().unwrap();
    let (release_tx, other) = common::occupy(&pool, 3);
    let inner = pool.clone();
    let job = pool.spawn(move || {
        // Let the other job finish once the shutdown has started: the
        // shutdown waits for its thread, not for the calling one.
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            release_tx.send(()).unwrap();
        });
        let report = inner.shutdown_timeout(Duration::MAX);
        releaser.join().unwrap();
        report
    });
    // A hang guard: with the old code the job waited for its own thread
    // to exit, which it cannot do before the job returns.
    let report = common::stress::guarded(60, move || block_on(job).unwrap());
    assert_eq!(block_on(other).unwrap(), 3);
    // The calling job still runs on its thread while the report is made.
    assert_eq!(report.still_running, 1, "{report:?}");
    assert_eq!(report.threads_left, 1, "{report:?}");
    assert_eq!(report.cancelled, 0, "{report:?}");
    assert!(eventually(|| pool.thread_count() == 0));
}

#[test]
fn two_jobs_shutting_their_pool_down_at_once_do_not_wait_for_each_other() {
    let pool = Pool::builder().max_threads(2).build().unwrap();
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let jobs: Vec<_> = (0..2)
        .map(|_| {
            let (inner, barrier) = (pool.clone(), barrier.clone());
            pool.spawn(move || {
                barrier.wait();
                inner.shutdown_timeout(Duration::MAX)
            })
        })
        .collect();
    let reports = common::stress::guarded(60, move || {
        jobs.into_iter()
            .map(|h| block_on(h).unwrap())
            .collect::<Vec<_>>()
    });
    for report in reports {
        assert!(report.threads_left >= 1, "{report:?}");
        assert!(report.still_running >= 1, "{report:?}");
    }
    assert!(eventually(|| pool.thread_count() == 0));
}

#[test]
fn a_job_still_running_after_the_last_pool_is_dropped_can_submit_more() {
    let pool = Pool::builder().max_threads(2).build().unwrap();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let job = pool.spawn(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        // Every Pool handle is gone now: the pool is draining, and the
        // nested job joins what it still runs.
        let nested = eddy_blocking::spawn_blocking(|| 5);
        let through_current = Pool::current().spawn(|| 6);
        block_on(nested).unwrap() + block_on(through_current).unwrap()
    });
    started_rx.recv().unwrap();
    drop(pool);
    release_tx.send(()).unwrap();
    // Panicked with "no eddy blocking pool on this thread" before.
    let out = common::stress::guarded(60, move || block_on(job));
    assert_eq!(out.unwrap(), 11);
}

#[test]
fn a_draining_single_thread_pool_runs_a_nested_job_after_its_parent() {
    let pool = Pool::builder().max_threads(1).build().unwrap();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let job = pool.spawn(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        eddy_blocking::to_thread(|| "nested")
    });
    started_rx.recv().unwrap();
    drop(pool);
    release_tx.send(()).unwrap();
    let nested = block_on(job).unwrap();
    // The only thread runs it from its own deque once the parent is done.
    let out = common::stress::guarded(60, move || block_on(nested));
    assert_eq!(out.unwrap(), "nested");
}
