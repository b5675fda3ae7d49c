//! asyncio's loop-lifetime corners, ported to eddy: closing a loop whose
//! executor has a stuck job (`Runtime::shutdown_timeout`), running a loop
//! inside another, using a loop's handle after it closed, and
//! run_coroutine_threadsafe's future awaited from the thread that asked.
//! Plus the text of common mistakes: does it say what happened and what to
//! do?

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::port::{close_server, connect, echo, guard, panic_text};

#[test]
fn shutdown_timeout_returns_while_a_blocking_job_is_stuck() {
    let rt = eddy::Runtime::new().unwrap();
    let (release, stuck) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel::<()>();
    let finished = Arc::new(AtomicBool::new(false));
    let f = finished.clone();
    let task_dropped = Arc::new(AtomicBool::new(false));
    let td = task_dropped.clone();
    rt.block_on(async move {
        eddy::spawn_blocking(move || {
            started_tx.send(()).unwrap();
            // Bounded so a shutdown that waits cannot hang the test.
            let _ = stuck.recv_timeout(Duration::from_secs(30));
            f.store(true, Ordering::SeqCst);
        })
        .detach();
        // A task waiting for that job, cancelled by the shutdown.
        struct Flag(Arc<AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        eddy::spawn(async move {
            let _f = Flag(td);
            std::future::pending::<()>().await;
        });
        eddy::yield_now().await;
    });
    started.recv().unwrap();
    rt.shutdown_timeout(Duration::from_millis(20));
    assert!(
        task_dropped.load(Ordering::SeqCst),
        "tasks are cancelled first"
    );
    assert!(
        !finished.load(Ordering::SeqCst),
        "shutdown_timeout waited for the stuck job"
    );
    let _ = release.send(());
}

#[test]
fn a_loop_inside_a_running_loop_is_refused_with_advice() {
    let outer = eddy::Runtime::new().unwrap();
    let inner = eddy::Runtime::new().unwrap();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        outer.block_on(async { inner.block_on(async { 1 }) })
    }));
    let msg = panic_text(&*caught.unwrap_err());
    assert!(msg.contains("inside a running eddy loop"), "{msg}");
    assert!(msg.contains(".await") || msg.contains("spawn"), "{msg}");
    // Both runtimes are still usable afterwards.
    assert_eq!(outer.block_on(async { 2 }), 2);
    assert_eq!(inner.block_on(async { 3 }), 3);
}

#[test]
fn a_handle_outliving_its_runtime_refuses_work_clearly() {
    let rt = eddy::Runtime::new().unwrap();
    let handle = rt.handle();
    rt.shutdown();
    assert!(handle.is_shutdown());
    let err = handle.spawn(async { 1 }).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("shut down"), "{text}");
    assert!(
        text.contains("spawn on a runtime that is still alive"),
        "{text}"
    );
    // Callbacks to a closed loop are dropped, not run, and do not panic.
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let cb = handle.call_soon(move || r.store(true, Ordering::SeqCst));
    let r = ran.clone();
    let timer = handle.call_later(Duration::ZERO, move || r.store(true, Ordering::SeqCst));
    assert!(!ran.load(Ordering::SeqCst));
    // ... and their handles say so.
    assert!(cb.is_cancelled());
    assert!(timer.is_cancelled());
    // The clock can still be read.
    let _ = handle.now();
}

#[test]
fn a_blocking_job_asked_of_a_closed_runtime_fails_with_an_error() {
    let rt = eddy::Runtime::new().unwrap();
    let handle = rt.handle();
    rt.shutdown();
    let job = handle.spawn_blocking(|| 5);
    // Awaited on some other executor: it must end, with an error.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(futures::executor::block_on(job));
    });
    let res = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("hung: a job on a closed pool");
    let err = res.unwrap_err();
    assert!(!err.to_string().is_empty());
}

#[test]
fn run_coroutine_threadsafe_awaited_from_the_asking_thread() {
    let rt = eddy::Runtime::new().unwrap();
    let handle = rt.handle();
    let (done_tx, done_rx) = eddy::sync::oneshot::channel::<u32>();
    let asker = std::thread::spawn(move || {
        let task = handle
            .spawn(async {
                eddy::sleep(Duration::from_millis(1)).await;
                assert!(eddy::task::current().is_some(), "runs as a loop task");
                40
            })
            .unwrap();
        // concurrent.futures.Future.result(): block this thread, not the loop.
        let v = futures::executor::block_on(task).unwrap();
        done_tx.send(v + 2).unwrap();
    });
    let v = rt.block_on(async { guard("asker", done_rx).await.unwrap() });
    assert_eq!(v, 42);
    asker.join().unwrap();
}

#[test]
fn a_threadsafe_task_cut_short_by_shutdown_reports_cancelled_to_its_thread() {
    let rt = eddy::Runtime::new().unwrap();
    let handle = rt.handle();
    let task = handle.spawn(std::future::pending::<()>()).unwrap();
    rt.block_on(eddy::yield_now());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(futures::executor::block_on(task));
    });
    rt.shutdown();
    let res = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("hung: awaiting a task of a closed runtime");
    let err = res.unwrap_err();
    assert!(err.is_cancelled(), "{err}");
}

#[test]
fn mistakes_outside_a_runtime_say_where_to_call_instead() {
    for (what, f) in [
        (
            "Handle::current",
            Box::new(|| drop(eddy::Handle::current())) as Box<dyn Fn()>,
        ),
        ("spawn", Box::new(|| drop(eddy::spawn(async {})))),
        ("call_soon", Box::new(|| drop(eddy::call_soon(|| {})))),
        (
            "interval",
            Box::new(|| drop(eddy::time::interval(Duration::from_secs(1)))),
        ),
        ("stdin", Box::new(|| drop(eddy::io::stdin()))),
        (
            "spawn_blocking",
            Box::new(|| drop(eddy::spawn_blocking(|| ()))),
        ),
    ] {
        let msg = panic_text(&*catch_unwind(AssertUnwindSafe(f)).unwrap_err());
        assert!(msg.contains("no eddy runtime"), "{what}: {msg}");
        assert!(
            msg.contains("eddy::run"),
            "{what} does not say what to do: {msg}"
        );
    }
}

#[test]
fn stream_errors_say_what_happened_and_what_to_do() {
    eddy::run(async {
        // LimitOverrun: a line longer than the reader's limit.
        let data: &[u8] = b"0123456789abcdef\nrest";
        let mut reader = eddy::io::StreamReader::with_limit(data, 8);
        let err = reader.read_line().await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("limit of 8 bytes"), "{text}");
        assert!(
            text.contains("set_limit") && text.contains("discard"),
            "{text}"
        );
        if let eddy::io::ReadError::LimitOverrun { consumed, .. } = err {
            reader.discard(consumed);
        } else {
            panic!("{err:?}");
        }

        // Writing after close.
        let server = eddy::io::start_server("127.0.0.1:0", echo).await.unwrap();
        let (_r, mut w) = connect(&server).await;
        w.close();
        let text = w.write(b"late").unwrap_err().to_string();
        assert!(
            text.contains("closing") && text.contains("new connection"),
            "{text}"
        );
        w.wait_closed().await;

        // A closed server refuses connections, and says nothing new.
        let addr = server.local_addr().unwrap();
        close_server(&server).await;
        assert!(!server.is_serving());
        let err = eddy::io::open_connection(addr).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
    });
}

#[test]
fn binding_a_busy_port_names_the_address() {
    // asyncio: "[Errno 98] error while attempting to bind on address
    // ('127.0.0.1', 8888): address already in use".
    eddy::run(async {
        let first = eddy::io::start_server("127.0.0.1:0", echo).await.unwrap();
        let addr = first.local_addr().unwrap();
        let err = eddy::io::start_server(addr, echo).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
        let text = err.to_string();
        assert!(
            text.contains(&addr.port().to_string()),
            "names no address: {text}"
        );
        close_server(&first).await;
    });
}
