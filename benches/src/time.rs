//! `compare` workloads for the time area (eddy vs tokio).

use crate::Workload;

/// The time workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    Vec::new()
}
