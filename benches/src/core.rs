//! `compare` workloads for the core area (eddy vs tokio).

use crate::Workload;

/// The core workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    Vec::new()
}
