//! `compare` workloads for subprocesses (eddy::process vs tokio::process).
//!
//! `process_spawn_wait`: spawn `true` 200 times (all 200 running at once),
//! then wait for each. Both sides run on their current-thread runtime with
//! I/O enabled (eddy: the facade's `Runtime`; tokio: `enable_all`), and
//! both leave stdio inherited, so the numbers are fork/exec plus exit
//! watching (eddy: a pidfd per child; tokio: its pidfd reaper / SIGCHLD).

use crate::{compare_ns, Plan, Workload};

/// How many children one iteration spawns.
pub const CHILDREN: usize = 200;

/// The process workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    vec![Workload {
        name: "process_spawn_wait",
        run: |q| {
            let eddy = eddy_rt();
            let tokio = tokio_rt();
            Some(compare_ns(
                Plan::new(q),
                || spawn_wait_eddy(&eddy),
                || spawn_wait_tokio(&tokio),
            ))
        },
    }]
}

/// eddy's runtime for these benches (the facade: core + time + io).
pub fn eddy_rt() -> eddy::Runtime {
    eddy::Runtime::new().unwrap()
}

/// tokio's current-thread runtime with its I/O and signal drivers.
pub fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Spawns [`CHILDREN`] `true` processes, then waits for each (eddy).
pub fn spawn_wait_eddy(rt: &eddy::Runtime) {
    rt.block_on(async {
        let mut children = Vec::with_capacity(CHILDREN);
        for _ in 0..CHILDREN {
            children.push(eddy::process::Command::new("true").spawn().unwrap());
        }
        for mut c in children {
            assert!(c.wait().await.unwrap().success());
        }
    });
}

/// Spawns [`CHILDREN`] `true` processes, then waits for each (tokio).
pub fn spawn_wait_tokio(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let mut children = Vec::with_capacity(CHILDREN);
        for _ in 0..CHILDREN {
            children.push(tokio::process::Command::new("true").spawn().unwrap());
        }
        for mut c in children {
            assert!(c.wait().await.unwrap().success());
        }
    });
}
