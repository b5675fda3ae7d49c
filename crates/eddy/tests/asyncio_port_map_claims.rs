//! Rows of docs/asyncio-map.md taken at their word, one program each:
//! thread-safe scheduling order, the paused clock around executor jobs,
//! a writer's abort, shutdown of queued blocking jobs, callbacks that
//! panic, and SIGINT seen by every listener.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::port::{connect, guard, paused, silent};
use eddy::io::{start_server, WriteError};

/// "`loop.call_soon_threadsafe(cb)` → `Handle::call_soon(f)`: runs in
/// submission order with the thread's `Handle::spawn`s, as in asyncio".
#[test]
fn call_soon_and_spawn_from_a_thread_run_in_submission_order() {
    eddy::run(async {
        let log = Arc::new(Mutex::new(Vec::new()));
        let handle = eddy::Handle::current();
        let l = log.clone();
        let thread = std::thread::spawn(move || {
            let mut tasks = Vec::new();
            for i in 0..20 {
                let l = l.clone();
                if i % 2 == 0 {
                    handle.call_soon(move || l.lock().unwrap().push(i));
                } else {
                    tasks.push(
                        handle
                            .spawn(async move { l.lock().unwrap().push(i) })
                            .unwrap(),
                    );
                }
            }
            tasks
        });
        let tasks = thread.join().unwrap();
        guard("tasks", eddy::gather_all(tasks)).await;
        assert_eq!(*log.lock().unwrap(), (0..20).collect::<Vec<_>>());
    });
}

/// "`loop.run_in_executor(executor, f)` → `Handle::run_in_executor(&pool,
/// f)`: a paused test clock is held while the job runs".
#[test]
fn a_paused_clock_waits_for_an_executor_job() {
    let pool = eddy::blocking::Pool::builder()
        .max_threads(1)
        .build()
        .unwrap();
    let rt = paused();
    rt.block_on(async {
        let job = eddy::Handle::current().run_in_executor(&pool, || {
            std::thread::sleep(Duration::from_millis(30));
            "slow query done"
        });
        let out = eddy::wait_for(job, Duration::from_millis(1)).await;
        assert_eq!(out.unwrap().unwrap(), "slow query done");
        // Plain to_thread too.
        let out = eddy::wait_for(
            eddy::to_thread(|| std::thread::sleep(Duration::from_millis(30))),
            Duration::from_millis(1),
        )
        .await;
        assert!(out.is_ok());
    });
    pool.shutdown_timeout(Duration::from_secs(5));
}

/// "`StreamWriter.transport.abort()` → `StreamWriter::abort()`: drops the
/// buffer; later write/drain/flush give `WriteError::Aborted { discarded
/// }` (an `io::Error` of kind `ConnectionReset`)".
#[test]
fn abort_drops_the_buffer_and_reports_it() {
    eddy::run(async {
        let server = start_server("127.0.0.1:0", silent).await.unwrap();
        let (_r, mut w) = connect(&server).await;
        w.write(&vec![0u8; 32 << 20]).unwrap();
        assert!(w.buffered_len() > 0);
        w.abort();
        assert!(w.is_closing());
        let err = w.drain().await.unwrap_err();
        let discarded = match err {
            WriteError::Aborted { discarded } => discarded,
            other => panic!("{other:?}"),
        };
        assert!(discarded > 0);
        let io: std::io::Error = w.write(b"more").unwrap_err().into();
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionReset);
        guard("wait_closed", w.wait_closed()).await;
        server.close();
        server.abort_clients();
        guard("server", server.wait_closed()).await;
    });
}

/// "`loop.shutdown_default_executor(timeout)` → runs at shutdown: queued
/// jobs are cancelled, running ones get the timeout".
#[test]
fn shutdown_cancels_queued_blocking_jobs() {
    let rt = eddy::Builder::new()
        .max_blocking_threads(1)
        .blocking_shutdown_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let queued_ran = Arc::new(AtomicBool::new(false));
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let (finished_tx, finished_rx) = std::sync::mpsc::channel::<()>();
    let q = queued_ran.clone();
    rt.block_on(async move {
        // The only thread is busy until released ...
        eddy::to_thread(move || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(Duration::from_secs(30));
            finished_tx.send(()).unwrap();
        })
        .detach();
        // ... so this one waits in the queue.
        eddy::to_thread(move || q.store(true, Ordering::SeqCst)).detach();
    });
    started_rx.recv().unwrap();
    // Shutdown gives up on the running job after 50 ms; the queued one
    // is cancelled.
    rt.shutdown();
    release_tx.send(()).unwrap();
    finished_rx.recv().unwrap();
    // The freed thread must not pick the cancelled job up now.
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        !queued_ran.load(Ordering::SeqCst),
        "a queued job ran after shutdown"
    );
}

/// A callback that panics is reported and the loop goes on (asyncio logs
/// "Exception in callback ..." and continues).
#[test]
fn panicking_callbacks_do_not_stop_the_loop() {
    let out = eddy::run(async {
        eddy::call_soon(|| panic!("call_soon callback failed"));
        eddy::call_later(Duration::from_millis(1), || {
            panic!("call_later callback failed")
        });
        eddy::sleep(Duration::from_millis(10)).await;
        let handle = eddy::Handle::current();
        std::thread::spawn(move || {
            handle.call_soon(|| panic!("threadsafe callback failed"));
        })
        .join()
        .unwrap();
        eddy::sleep(Duration::from_millis(10)).await;
        "still running"
    });
    assert_eq!(out, "still running");
}

/// "`signal::ctrl_c().await` for SIGINT" and "`signal::unix::signal`":
/// both listeners see one SIGINT.
#[test]
fn every_sigint_listener_sees_the_signal() {
    use eddy::signal::unix::{signal, SignalKind};
    eddy::run(async {
        let mut sigint = signal(SignalKind::interrupt()).unwrap();
        let ctrl_c = eddy::spawn(eddy::signal::ctrl_c());
        eddy::yield_now().await; // ctrl_c is listening now
        let kill = format!("kill -INT {}", std::process::id());
        assert!(eddy::process::Command::shell(kill)
            .status()
            .await
            .unwrap()
            .success());
        guard("signal stream", sigint.recv()).await.unwrap();
        guard("ctrl_c", ctrl_c).await.unwrap().unwrap();
    });
}
