//! asyncio's "running in threads" topics, ported to eddy: to_thread,
//! run_in_executor with an executor of your own, and talking to the loop
//! from other threads (call_soon_threadsafe, run_coroutine_threadsafe).

mod common;

use common::port::guard;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn to_thread_returns_values_and_panics_as_errors() {
    eddy::run(async {
        let words = eddy::to_thread(|| "a blocking read".split(' ').count())
            .await
            .unwrap();
        assert_eq!(words, 3);
        let err = eddy::to_thread(|| -> u32 { panic!("the driver crashed") })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        assert!(err.to_string().contains("panic"), "{err}");
    });
}

#[test]
fn the_loop_keeps_running_while_a_thread_blocks() {
    eddy::run(async {
        let (tx, rx) = std::sync::mpsc::channel::<u32>();
        // The job blocks its thread until a task on the loop answers.
        let job = eddy::to_thread(move || rx.recv().unwrap() + 1);
        let ticker = eddy::spawn(async move {
            let mut ticks = 0;
            while ticks < 5 {
                eddy::sleep(Duration::from_millis(1)).await;
                ticks += 1;
            }
            tx.send(41).unwrap();
            ticks
        });
        assert_eq!(guard("job", job).await.unwrap(), 42);
        assert_eq!(ticker.await.unwrap(), 5);
    });
}

#[test]
fn many_blocking_calls_run_side_by_side() {
    eddy::run(async {
        // Ten jobs that can only finish once all ten are running: they
        // would deadlock if the pool ran them one by one.
        let barrier = Arc::new(std::sync::Barrier::new(10));
        let jobs = (0..10).map(|i| {
            let b = barrier.clone();
            eddy::to_thread(move || {
                b.wait();
                i
            })
        });
        let out = guard("jobs", eddy::gather_all(jobs)).await;
        let out: Vec<_> = out.into_iter().map(Result::unwrap).collect();
        assert_eq!(out, (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn run_in_executor_with_a_pool_of_our_own_caps_its_threads() {
    let pool = eddy::blocking::Pool::builder()
        .max_threads(2)
        .thread_name("db")
        .build()
        .unwrap();
    eddy::run(async {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let handle = eddy::Handle::current();
        let jobs: Vec<_> = (0..6)
            .map(|i| {
                let (running, peak) = (running.clone(), peak.clone());
                handle.run_in_executor(&pool, move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                    running.fetch_sub(1, Ordering::SeqCst);
                    let name = std::thread::current().name().map(str::to_string);
                    (i, name)
                })
            })
            .collect();
        let out = guard("jobs", eddy::gather_all(jobs)).await;
        for (i, r) in out.into_iter().enumerate() {
            let (j, name) = r.unwrap();
            assert_eq!(i, j);
            assert!(name.unwrap().starts_with("db"));
        }
        assert!(peak.load(Ordering::SeqCst) <= 2);
    });
    pool.shutdown_timeout(Duration::from_secs(5));
}

#[test]
fn a_timed_out_thread_call_finishes_in_the_background() {
    eddy::run(async {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let finished = Arc::new(AtomicUsize::new(0));
        let f = finished.clone();
        let job = eddy::to_thread(move || {
            rx.recv().unwrap();
            f.fetch_add(1, Ordering::SeqCst);
        });
        // asyncio: wait_for(to_thread(f), t) raises TimeoutError, but the
        // thread cannot be stopped and runs on.
        assert!(eddy::wait_for(job, Duration::from_millis(10))
            .await
            .is_err());
        tx.send(()).unwrap();
        guard("background finish", async {
            while finished.load(Ordering::SeqCst) == 0 {
                eddy::sleep(Duration::from_millis(1)).await;
            }
        })
        .await;
    });
}

#[test]
fn a_thread_runs_a_coroutine_on_the_loop_and_waits_for_it() {
    eddy::run(async {
        let handle = eddy::Handle::current();
        // asyncio.run_coroutine_threadsafe(coro, loop).result()
        let from_thread = eddy::to_thread(move || {
            let task = handle
                .spawn(async {
                    eddy::sleep(Duration::from_millis(1)).await;
                    "computed on the loop"
                })
                .unwrap();
            futures::executor::block_on(task).unwrap()
        });
        assert_eq!(
            guard("thread", from_thread).await.unwrap(),
            "computed on the loop"
        );
    });
}

#[test]
fn call_soon_threadsafe_wakes_the_loop() {
    eddy::run(async {
        let handle = eddy::Handle::current();
        let (tx, rx) = eddy::sync::oneshot::channel();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            handle.call_soon(move || {
                let _ = tx.send(std::thread::current().id());
            });
        });
        // The loop is idle (parked) until the callback arrives.
        let ran_on = guard("callback", rx).await.unwrap();
        assert_eq!(ran_on, std::thread::current().id());
        thread.join().unwrap();
    });
}

#[test]
fn blocking_file_io_through_eddy_fs() {
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.txt");
        eddy::fs::write(&path, "line one\nline two\n")
            .await
            .unwrap();
        let text = eddy::fs::read_to_string(&path).await.unwrap();
        assert_eq!(text.lines().count(), 2);
        let err = eddy::fs::read(dir.path().join("missing"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    });
}

#[test]
fn shutdown_does_not_wait_forever_for_a_stuck_thread() {
    // asyncio.run() waits for the default executor (with a timeout in
    // 3.12+). A runtime with a short blocking shutdown timeout returns
    // while a job is still stuck.
    let rt = eddy::Builder::new()
        .blocking_shutdown_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let (s, f) = (started.clone(), finished.clone());
    rt.block_on(async move {
        eddy::to_thread(move || {
            s.fetch_add(1, Ordering::SeqCst);
            // Bounded, so that a shutdown that does wait cannot hang the
            // test; it then fails the check below instead.
            let _ = rx.recv_timeout(Duration::from_secs(30));
            f.fetch_add(1, Ordering::SeqCst);
        })
        .detach();
        guard("job started", async {
            while started.load(Ordering::SeqCst) == 0 {
                eddy::sleep(Duration::from_millis(1)).await;
            }
        })
        .await;
    });
    rt.shutdown();
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "shutdown waited for the stuck job"
    );
    let _ = tx.send(());
}

#[test]
fn a_thread_feeds_a_queue_that_a_task_drains() {
    // asyncio needs loop.call_soon_threadsafe(q.put_nowait, x) for this;
    // eddy's queues are thread-safe, so the thread puts directly.
    eddy::run(async {
        let q = Arc::new(eddy::sync::Queue::new(4));
        let q2 = q.clone();
        let producer = std::thread::spawn(move || {
            for i in 0..1000u64 {
                futures::executor::block_on(q2.put(i)).unwrap();
            }
            q2.shutdown(false);
        });
        let mut sum = 0;
        while let Ok(i) = guard("get", q.get()).await {
            sum += i;
        }
        producer.join().unwrap();
        assert_eq!(sum, 999 * 1000 / 2);
    });
}
