//! asyncio's runner topics, ported to eddy: asyncio.run cleaning up after
//! itself, asyncio.Runner reused across calls, misuse (a loop inside a
//! loop, no loop at all) failing with a message that says what to do, the
//! unhandled-exception policy, and the test attribute with a paused clock.

mod common;

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::port::panic_text;

/// Sets its flag when dropped: the Rust form of a `finally:` block.
struct Finally(Arc<AtomicBool>);
impl Drop for Finally {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn run_cancels_the_tasks_left_behind_and_runs_their_cleanup() {
    let cleaned = Arc::new(AtomicBool::new(false));
    let c = cleaned.clone();
    let port = eddy::run(async move {
        // A background server task the program forgets to stop.
        let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        eddy::spawn(async move {
            let _finally = Finally(c);
            loop {
                let _ = listener.accept().await;
            }
        });
        eddy::yield_now().await;
        port
    });
    assert!(
        cleaned.load(Ordering::SeqCst),
        "the leftover task was not dropped"
    );
    // Its listening socket is closed too: the port can be bound again.
    std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
}

#[test]
fn a_panicking_main_still_cleans_up_its_tasks() {
    let cleaned = Arc::new(AtomicBool::new(false));
    let c = cleaned.clone();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        eddy::run(async move {
            eddy::spawn(async move {
                let _finally = Finally(c);
                std::future::pending::<()>().await
            });
            eddy::yield_now().await;
            panic!("main failed");
        })
    }));
    assert_eq!(panic_text(&*caught.unwrap_err()), "main failed");
    assert!(cleaned.load(Ordering::SeqCst));
}

#[test]
fn a_reused_runtime_keeps_its_tasks_between_calls() {
    // asyncio.Runner: several run() calls on one loop.
    let rt = eddy::Runtime::new().unwrap();
    let ticks = Rc::new(Cell::new(0u32));
    let t = ticks.clone();
    // Spawned inside one block_on, returned out of it.
    // (In an array: clippy flags an async block that yields a future.)
    let [ticker] = rt.block_on(async move {
        let ticker = eddy::spawn(async move {
            loop {
                eddy::sleep(Duration::from_millis(1)).await;
                t.set(t.get() + 1);
            }
        });
        eddy::yield_now().await;
        [ticker]
    });
    let before = ticks.get();
    rt.block_on(async {
        let start = ticks.get();
        while ticks.get() < start + 3 {
            eddy::sleep(Duration::from_millis(1)).await;
        }
    });
    assert!(ticks.get() >= before + 3);
    // The handle from the first call still works in a later one.
    rt.block_on(async move {
        ticker.cancel();
        assert!(ticker.await.unwrap_err().is_cancelled());
    });
    rt.shutdown();
}

#[test]
fn run_inside_a_running_loop_is_refused_with_advice() {
    let caught = catch_unwind(|| {
        eddy::run(async {
            eddy::run(async { 1 });
        })
    });
    let msg = panic_text(&*caught.unwrap_err());
    assert!(msg.contains("inside a running eddy loop"), "{msg}");
    assert!(msg.contains(".await") || msg.contains("spawn"), "{msg}");
}

#[test]
fn using_the_loop_outside_any_runtime_says_how_to_fix_it() {
    let msg = panic_text(&*catch_unwind(|| drop(eddy::spawn(async {}))).unwrap_err());
    assert!(msg.contains("no eddy runtime"), "spawn: {msg}");
    let msg = panic_text(&*catch_unwind(|| drop(eddy::sleep(Duration::from_secs(1)))).unwrap_err());
    assert!(msg.contains("no eddy runtime"), "sleep: {msg}");
    assert!(eddy::Handle::try_current().is_none());
    eddy::run(async {
        assert!(eddy::Handle::try_current().is_some());
    });
}

#[test]
fn a_panic_in_a_detached_task_is_survived_by_default() {
    // asyncio logs "Task exception was never retrieved" and goes on.
    let out = eddy::run(async {
        drop(eddy::spawn(async {
            panic!("a background task failed");
        }));
        eddy::sleep(Duration::from_millis(5)).await;
        "the program carried on"
    });
    assert_eq!(out, "the program carried on");
}

#[test]
fn the_shutdown_policy_stops_the_runtime_on_an_unjoined_panic() {
    let rt = eddy::Builder::new()
        .unhandled_panic(eddy::UnhandledPanic::ShutdownRuntime)
        .build()
        .unwrap();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async {
            drop(eddy::spawn(async {
                panic!("fatal background failure");
            }));
            // Would wait forever without the policy.
            std::future::pending::<()>().await
        })
    }));
    let msg = panic_text(&*caught.unwrap_err());
    assert!(!msg.is_empty());
}

#[test]
fn a_handle_from_another_thread_can_feed_the_loop() {
    let rt = eddy::Runtime::new().unwrap();
    let handle = rt.handle();
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let thread = std::thread::spawn(move || {
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let d = d.clone();
                handle
                    .spawn(async move {
                        d.fetch_add(1, Ordering::SeqCst);
                        i
                    })
                    .unwrap()
            })
            .collect();
        tasks
    });
    let tasks = thread.join().unwrap();
    let out = rt.block_on(eddy::gather_all(tasks));
    assert_eq!(
        out.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
    assert_eq!(done.load(Ordering::SeqCst), 10);
    let handle = rt.handle();
    rt.shutdown();
    assert!(handle.is_shutdown());
    assert!(handle.spawn(async {}).is_err());
}

#[eddy::test(start_paused = true)]
async fn test_attribute_with_a_paused_clock() {
    let start = eddy::time::Instant::now();
    eddy::sleep(Duration::from_secs(24 * 3600)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(24 * 3600));
}

#[eddy::test]
async fn test_attribute_runs_tasks() -> std::io::Result<()> {
    let server = eddy::io::start_server(
        "127.0.0.1:0",
        |_r: eddy::io::StreamReader, mut w: eddy::io::StreamWriter| async move {
            let _ = w.write(b"hi\n");
        },
    )
    .await?;
    let (mut r, _w) = eddy::io::open_connection(&server.local_addr().unwrap().to_string()).await?;
    assert_eq!(r.read_line().await?, b"hi\n");
    Ok(())
}
