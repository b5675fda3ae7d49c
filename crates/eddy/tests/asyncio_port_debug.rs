//! asyncio's debug mode, ported to eddy: a blocking call inside a task, a
//! callback or the main future is reported through `tracing` (asyncio logs
//! "Executing <Task ...> took 0.2 seconds"), a watchdog reports a loop
//! that is still blocked, and a panic nobody retrieves is logged ("Task
//! exception was never retrieved").
//!
//! The log is captured by a small `tracing` subscriber of our own
//! (eddy-time's tests/common/capture.rs, one global subscriber for the
//! whole file: the watchdog logs from its own thread). Each test looks
//! for lines naming its own task or text.

#[path = "../../eddy-time/tests/common/capture.rs"]
mod capture;
mod common;

use std::time::Duration;

use capture::{all_lines, capture, lines_with};
use common::port::connect;

fn debug_runtime(threshold_ms: u64) -> eddy::Runtime {
    capture();
    eddy::Builder::new()
        .debug(true)
        .slow_poll_threshold(Duration::from_millis(threshold_ms))
        .build()
        .unwrap()
}

#[test]
fn a_blocking_call_in_a_task_is_reported_with_its_name_and_place() {
    let rt = debug_runtime(20);
    rt.block_on(async {
        eddy::task::Builder::new()
            .name("fetch-prices")
            .spawn(async {
                // A synchronous call that should have gone to to_thread.
                std::thread::sleep(Duration::from_millis(60));
            })
            .await
            .unwrap();
    });
    let found = lines_with(&["slow poll", "fetch-prices"]);
    assert!(!found.is_empty(), "no report: {}", all_lines());
    assert!(
        found[0].contains("asyncio_port_debug.rs"),
        "the spawn location is missing: {found:?}"
    );
    assert!(
        found[0].contains("to_thread"),
        "no hint at the fix: {found:?}"
    );
}

#[test]
fn the_same_work_through_to_thread_is_not_reported() {
    // A high threshold: a loaded machine may pause the loop thread for
    // a while, which is not what this test is about.
    let rt = debug_runtime(250);
    rt.block_on(async {
        eddy::task::Builder::new()
            .name("offloaded-prices")
            .spawn(async {
                eddy::to_thread(|| std::thread::sleep(Duration::from_millis(300)))
                    .await
                    .unwrap();
            })
            .await
            .unwrap();
    });
    assert!(
        lines_with(&["offloaded-prices"]).is_empty(),
        "{}",
        all_lines()
    );
}

#[test]
fn the_watchdog_reports_a_loop_while_it_is_still_blocked() {
    let rt = debug_runtime(20);
    let seen_while_blocked = rt.block_on(async {
        eddy::task::Builder::new()
            .name("stuck-in-a-loop")
            .spawn(async {
                // Spin (blocking) until the report shows up, or give up.
                let start = std::time::Instant::now();
                while start.elapsed() < Duration::from_secs(10) {
                    if !lines_with(&["event loop blocked", "stuck-in-a-loop"]).is_empty() {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                false
            })
            .await
            .unwrap()
    });
    assert!(seen_while_blocked, "{}", all_lines());
}

#[test]
fn a_blocking_call_soon_callback_is_reported() {
    let rt = debug_runtime(20);
    let line = line!() + 2;
    rt.block_on(async {
        eddy::call_soon(|| {
            std::thread::sleep(Duration::from_millis(60));
        });
        eddy::yield_now().await;
    });
    let place = format!("asyncio_port_debug.rs:{line}");
    assert!(
        !lines_with(&["slow callback", &place]).is_empty(),
        "{}",
        all_lines()
    );
}

/// A call_later callback that blocks, run on its own runtime with a
/// threshold no other test uses; returns that runtime's reports and the
/// callback's place in this file.
fn blocking_call_later(threshold_ms: u64) -> (Vec<String>, String) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let rt = debug_runtime(threshold_ms);
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let line = line!() + 2;
    rt.block_on(async move {
        eddy::call_later(Duration::from_millis(1), move || {
            std::thread::sleep(Duration::from_millis(60));
            r.store(true, Ordering::SeqCst);
        });
        eddy::sleep(Duration::from_millis(200)).await;
    });
    assert!(ran.load(Ordering::SeqCst), "the callback never ran");
    let threshold = format!("threshold_ms={threshold_ms}.0");
    (
        lines_with(&["slow", &threshold]),
        format!("asyncio_port_debug.rs:{line}"),
    )
}

/// asyncio's debug mode times every handle the loop runs, timer handles
/// included ("Executing <TimerHandle when=... cb()> took 0.060 seconds").
#[test]
fn a_blocking_call_later_callback_is_reported() {
    let (slow, place) = blocking_call_later(23);
    assert!(
        slow.iter().any(|l| l.contains(&place)),
        "a call_later callback held the loop for 60 ms unreported: {}",
        all_lines()
    );
}

/// call_soon callbacks are reported as "slow callback ... <callback>";
/// a call_later callback is a callback too, but is reported as "slow
/// poll: a task held the event loop" with `task.name=<unnamed>`.
#[test]
fn a_blocking_call_later_callback_is_reported_as_a_callback() {
    let (slow, place) = blocking_call_later(29);
    assert!(
        slow.iter()
            .any(|l| l.contains(&place) && l.contains("slow callback")),
        "{slow:#?}"
    );
}

#[test]
fn a_blocking_main_future_is_reported() {
    let rt = debug_runtime(20);
    rt.block_on(async {
        eddy::yield_now().await;
        std::thread::sleep(Duration::from_millis(60));
        eddy::yield_now().await;
    });
    assert!(
        !lines_with(&["slow poll", "block_on"]).is_empty(),
        "{}",
        all_lines()
    );
}

/// asyncio names the handler's task by its coroutine and where it runs
/// (`<Task ... coro=<handle_client() running at server.py:12>>`); eddy's
/// report should lead to the handler, or at least to the `start_server`
/// call, not into eddy's own accept loop.
#[test]
fn a_blocking_connection_handler_is_reported_at_the_users_code() {
    use eddy::io::{start_server, StreamReader, StreamWriter};
    // A threshold no other test uses, to pick out this runtime's reports.
    let rt = debug_runtime(37);
    rt.block_on(async {
        let server = start_server(
            "127.0.0.1:0",
            |mut r: StreamReader, mut w: StreamWriter| async move {
                let line = r.read_line().await.unwrap();
                // A synchronous database call in the handler.
                std::thread::sleep(Duration::from_millis(60));
                w.write(&line).unwrap();
            },
        )
        .await
        .unwrap();
        let (mut r, mut w) = connect(&server).await;
        w.write(b"query\n").unwrap();
        assert_eq!(r.read_line().await.unwrap(), b"query\n");
        server.close();
        server.wait_closed().await;
    });
    let reports = lines_with(&["slow poll", "threshold_ms=37.0"]);
    assert!(!reports.is_empty(), "no report at all: {}", all_lines());
    assert!(
        reports.iter().all(|l| l.contains("asyncio_port_debug.rs")),
        "the report does not point at the handler or where the server was started: {reports:#?}"
    );
}

#[test]
fn a_panic_nobody_joins_is_logged() {
    let rt = debug_runtime(1000);
    rt.block_on(async {
        let task = eddy::task::Builder::new()
            .name("forgotten-task")
            .spawn(async {
                eddy::yield_now().await;
                panic!("nobody will see this");
            });
        drop(task); // detached: its panic has no one to go to
        for _ in 0..10 {
            eddy::yield_now().await;
        }
    });
    let found = lines_with(&["forgotten-task", "nobody will see this"]);
    assert!(!found.is_empty(), "{}", all_lines());
    assert!(found[0].starts_with("ERROR"), "{found:?}");
}
