//! `compare` workloads for context variables (asyncio's `contextvars`).
//!
//! eddy's `ContextVar` against tokio's `task_local!`, the nearest thing
//! tokio has (a value scoped to one future, not copied to spawned tasks).
//! Both read a value set in the current task, so the line measures the
//! lookup: eddy finds the task's context through the loop's current task
//! and scans it; tokio reads a thread-local that `scope` swaps in on
//! every poll.

use crate::core::{eddy_rt, tokio_rt};
use crate::{compare_ns, Plan, Workload};

/// The context-variable workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    vec![Workload {
        name: "context_var_get",
        run: context_var_get,
    }]
}

/// Reads in `context_var_get`.
pub const GETS: u64 = 1_000_000;

static REQUEST_ID: eddy_core::task::ContextVar<u64> =
    eddy_core::task::ContextVar::new("request_id");

tokio::task_local! {
    static TOKIO_REQUEST_ID: u64;
}

/// In a task, 1,000,000 `get()` of a `ContextVar` set in that task.
pub fn context_var_get_eddy(rt: &eddy_core::Runtime) {
    let sum = rt.block_on(async {
        eddy_core::spawn(async {
            REQUEST_ID.set(7);
            let mut sum = 0u64;
            for _ in 0..GETS {
                sum += std::hint::black_box(&REQUEST_ID).get().unwrap();
            }
            sum
        })
        .await
        .unwrap()
    });
    assert_eq!(sum, 7 * GETS);
}

/// tokio twin of [`context_var_get_eddy`]: a task reads a `task_local!`
/// inside its `scope`, 1,000,000 times.
pub fn context_var_get_tokio(rt: &tokio::runtime::Runtime) {
    let sum = rt.block_on(async {
        tokio::spawn(TOKIO_REQUEST_ID.scope(7, async {
            let mut sum = 0u64;
            for _ in 0..GETS {
                sum += std::hint::black_box(&TOKIO_REQUEST_ID).get();
            }
            sum
        }))
        .await
        .unwrap()
    });
    assert_eq!(sum, 7 * GETS);
}

fn context_var_get(quick: bool) -> Option<(f64, f64)> {
    let (e, t) = (eddy_rt(), tokio_rt());
    Some(compare_ns(
        Plan::new(quick),
        || context_var_get_eddy(&e),
        || context_var_get_tokio(&t),
    ))
}
