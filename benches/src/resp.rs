//! `compare` workloads for the RESP server (mini_redis on eddy vs the same
//! server on tokio), driven by `redis-benchmark`.

use crate::Workload;

/// The RESP workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    Vec::new()
}
