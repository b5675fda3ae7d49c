//! The loop and the task machinery at their edges: user code (wakers,
//! callbacks, destructors) that panics where the loop does not expect it,
//! and the end of a runtime's life.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};

use eddy_core::{spawn, task, yield_now, Runtime};

/// A waker whose wake panics (a foreign executor's, say, awaiting a join
/// handle).
struct PanicOnWake;

impl Wake for PanicOnWake {
    fn wake(self: Arc<Self>) {
        panic!("join waker boom");
    }
}

/// Runs `f` on `rt`; if it panics, the runtime is leaked rather than
/// dropped (a broken shutdown may hang), and the test fails with `what`.
fn block_on_or_leak<T>(rt: Runtime, what: &str, f: impl Future<Output = T>) -> (Runtime, T) {
    match catch_unwind(AssertUnwindSafe(|| rt.block_on(f))) {
        Ok(v) => (rt, v),
        Err(_) => {
            std::mem::forget(rt);
            panic!("{what}");
        }
    }
}

#[test]
fn a_join_waker_that_panics_stays_inside_the_task_machinery() {
    let rt = Runtime::new().unwrap();
    let (rt, ()) = block_on_or_leak(rt, "the join waker's panic escaped the loop", async {
        let mut handle = spawn(async {
            yield_now().await;
            7
        });
        let waker = Waker::from(Arc::new(PanicOnWake));
        let polled = Pin::new(&mut handle).poll(&mut Context::from_waker(&waker));
        assert!(polled.is_pending());
        // The task completes (and wakes the panicking waker) while the
        // main future yields.
        yield_now().await;
        yield_now().await;
        assert!(handle.is_finished());
        assert!(task::current().is_none(), "no task runs in the main future");
        assert!(task::all().is_empty(), "the completed task left the table");
        assert_eq!(handle.await.unwrap(), 7);
    });
    // Shutting down finds no completed task left in the live-task table
    // (that made it loop forever).
    drop(rt);
}

/// Panics when dropped (a guard whose cleanup fails).
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("{}", self.0);
        }
    }
}

/// Sets its flag when dropped.
struct SetOnDrop(Arc<std::sync::atomic::AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn a_cancelled_callback_whose_closure_panics_in_drop_does_not_stop_the_loop() {
    let rt = Runtime::new().unwrap();
    let (rt, out) = block_on_or_leak(
        rt,
        "the destructor of a cancelled callback's closure escaped the loop",
        async {
            let guard = PanicOnDrop("cancelled callback's guard");
            let handle = eddy_core::call_soon(move || drop(guard));
            handle.cancel();
            yield_now().await;
            // The loop goes on, as after a callback that panics while it runs.
            spawn(async { 3 }).await.unwrap()
        },
    );
    assert_eq!(out, 3);
    drop(rt);
}

#[test]
fn a_queued_callback_whose_closure_panics_in_drop_does_not_stop_shutdown() {
    let rt = Runtime::new().unwrap();
    let task_dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = SetOnDrop(task_dropped.clone());
    let local_cb = PanicOnDrop("queued callback's guard");
    let remote_cb = PanicOnDrop("remote callback's guard");
    let parked_cb = PanicOnDrop("parked callback's guard");
    let parked = rt.block_on(async move {
        // A task that never finishes: shutdown must cancel it.
        drop(spawn(async move {
            let _flag = flag;
            std::future::pending::<()>().await
        }));
        // Still queued when block_on returns: dropped unrun at shutdown.
        eddy_core::call_soon(move || drop(local_cb));
        // A timer callback waiting for its timer (as eddy-time parks one).
        let location = std::panic::Location::caller();
        eddy_core::__driver::ParkedCallback::new(location, move || drop(parked_cb))
    });
    rt.handle().call_soon(move || drop(remote_cb));
    let dropped = catch_unwind(AssertUnwindSafe(move || drop(rt)));
    assert!(
        dropped.is_ok(),
        "a callback closure's destructor escaped Runtime::drop"
    );
    assert!(
        task_dropped.load(std::sync::atomic::Ordering::SeqCst),
        "shutdown stopped before cancelling the live task"
    );
    // Its loop is gone and dropped the callback: nothing left to do.
    drop(parked);
}

#[test]
fn shutdown_runtime_policy_stops_a_block_on_whose_future_drops_a_panicked_handle_and_returns() {
    let rt = eddy_core::Builder::new()
        .unhandled_panic(eddy_core::UnhandledPanic::ShutdownRuntime)
        .build()
        .unwrap();
    let returned = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async {
            let worker = spawn(async { panic!("worker failed") });
            yield_now().await;
            assert!(worker.is_finished());
            // Nobody will read the panic now: under ShutdownRuntime the
            // running block_on must not return as if nothing happened.
            drop(worker);
            "returned"
        })
    }));
    assert_shutdown_panic(returned.expect_err("block_on returned after an unjoined panic"));

    // The same when the handle goes with the future itself, dropped after
    // its last poll returned.
    let rt = eddy_core::Builder::new()
        .unhandled_panic(eddy_core::UnhandledPanic::ShutdownRuntime)
        .build()
        .unwrap();
    let worker = rt
        .handle()
        .spawn(async { panic!("worker failed") })
        .unwrap();
    let returned = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(KeepsHandle {
            handle: worker,
            yielded: false,
        })
    }));
    assert_shutdown_panic(returned.expect_err("block_on returned after an unjoined panic"));
}

/// Yields once, then is ready; drops its handle only when dropped itself.
struct KeepsHandle<T> {
    handle: eddy_core::JoinHandle<T>,
    yielded: bool,
}

impl<T> Future for KeepsHandle<T> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> std::task::Poll<()> {
        if self.yielded {
            assert!(self.handle.is_finished());
            return std::task::Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

fn assert_shutdown_panic(err: Box<dyn std::any::Any + Send>) {
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(msg.contains("UnhandledPanic::ShutdownRuntime"), "{msg}");
}
