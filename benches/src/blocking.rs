//! `compare` workloads for the blocking area (eddy vs tokio).

use crate::Workload;

/// The blocking workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    Vec::new()
}
