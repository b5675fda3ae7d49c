//! `compare` workloads for structured concurrency (TaskGroup, gather).
//!
//! eddy's side runs on `eddy_core::Runtime` (plain thread-parking driver);
//! tokio's on its current-thread runtime, so both measure the scheduler and
//! the combinator alone.

use crate::core::{eddy_rt, tokio_rt};
use crate::{compare_ns, Plan, Workload};

/// The structured-concurrency workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "task_group_10k",
            run: task_group_10k,
        },
        Workload {
            name: "gather_all_100k",
            run: gather_all_100k,
        },
    ]
}

/// Children in `task_group_10k`.
pub const GROUP_CHILDREN: usize = 10_000;
/// Futures in `gather_all_100k`.
pub const GATHER_FUTURES: usize = 100_000;

/// A `TaskGroup` spawns 10,000 children that return at once, then is joined.
pub fn task_group_10k_eddy(rt: &eddy_core::Runtime) {
    rt.block_on(async {
        let group = eddy_core::TaskGroup::<()>::new();
        for i in 0..GROUP_CHILDREN {
            std::hint::black_box(group.spawn(async move { Ok(i) }).unwrap());
        }
        group.join().await.unwrap();
    });
}

/// tokio twin of [`task_group_10k_eddy`]: a `JoinSet` spawn + `join_next` loop.
pub fn task_group_10k_tokio(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..GROUP_CHILDREN {
            set.spawn(async move { i });
        }
        while let Some(r) = set.join_next().await {
            std::hint::black_box(r.unwrap());
        }
    });
}

fn task_group_10k(quick: bool) -> Option<(f64, f64)> {
    let (e, t) = (eddy_rt(), tokio_rt());
    Some(compare_ns(
        Plan::new(quick),
        || task_group_10k_eddy(&e),
        || task_group_10k_tokio(&t),
    ))
}

/// `gather_all` over 100,000 futures that are ready at once.
pub fn gather_all_100k_eddy(rt: &eddy_core::Runtime) {
    rt.block_on(async {
        let out = eddy_core::gather_all((0..GATHER_FUTURES).map(|i| async move { i })).await;
        std::hint::black_box(out);
    });
}

/// tokio twin of [`gather_all_100k_eddy`]: `futures::future::join_all`.
pub fn gather_all_100k_tokio(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let out = futures::future::join_all((0..GATHER_FUTURES).map(|i| async move { i })).await;
        std::hint::black_box(out);
    });
}

fn gather_all_100k(quick: bool) -> Option<(f64, f64)> {
    let (e, t) = (eddy_rt(), tokio_rt());
    Some(compare_ns(
        Plan::new(quick),
        || gather_all_100k_eddy(&e),
        || gather_all_100k_tokio(&t),
    ))
}
