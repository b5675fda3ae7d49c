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
