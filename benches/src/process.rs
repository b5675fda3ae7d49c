//! `compare` workloads for subprocesses (eddy::process vs tokio::process).

use crate::Workload;

/// The process workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    Vec::new()
}
