//! A runtime kept in a `thread_local!` (one loop per thread, built on
//! first use) is dropped while the thread exits, possibly after the
//! drivers' own thread-locals are gone. That must not abort the process,
//! and must not panic at all: the drivers' enter/current accessors treat a
//! destroyed thread-local as "nothing entered".
//! (Its own test binary: the old behaviour was an abort, which takes every
//! test of the binary down with it.)

use std::time::Duration;

thread_local! {
    static LOOP: eddy::Runtime = eddy::Runtime::new().unwrap();
}

/// Set in the child process that runs [`scenario_in_child`].
const CHILD_ENV: &str = "EDDY_THREAD_LOCAL_RUNTIME_CHILD";
/// Printed by the child once the worker thread has exited.
const CHILD_DONE: &str = "thread-local runtime scenario done";

/// A thread that keeps its runtime in a `thread_local!` and exits with
/// tasks, a timer, a socket and a pool thread still alive.
fn run_scenario() {
    let worker = std::thread::spawn(|| {
        LOOP.with(|rt| {
            rt.block_on(async {
                eddy::sleep(Duration::from_millis(1)).await;
                eddy::to_thread(|| ()).await.unwrap();
                let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                // Still alive when the thread exits: a timer and a socket
                // registration that its drop releases.
                drop(eddy::spawn(async move {
                    let _listener = listener;
                    eddy::sleep(Duration::from_secs(3600)).await;
                }));
                eddy::yield_now().await;
            })
        });
    });
    worker
        .join()
        .expect("the thread holding the runtime panicked");
}

#[test]
fn a_runtime_in_a_thread_local_is_dropped_at_thread_exit_without_aborting() {
    // Joining at all is the test: an abort never gets here.
    run_scenario();
}

/// The child half of [`a_runtime_in_a_thread_local_is_dropped_without_any_panic`].
#[test]
#[ignore = "run in a child process by a_runtime_in_a_thread_local_is_dropped_without_any_panic"]
fn scenario_in_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    run_scenario();
    println!("{CHILD_DONE}");
}

#[test]
fn a_runtime_in_a_thread_local_is_dropped_without_any_panic() {
    // In a child process, so that its stderr can be read: a panic caught
    // on the way still prints through the panic hook.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "scenario_in_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(CHILD_DONE),
        "the child failed: {stdout}\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "dropping the runtime at thread exit panicked (even if caught):\n{stderr}"
    );
}
