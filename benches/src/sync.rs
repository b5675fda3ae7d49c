//! `compare` workloads for the sync area (eddy vs tokio).

use crate::Workload;

/// The sync workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    Vec::new()
}
