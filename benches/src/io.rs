//! `compare` workloads for the io area (eddy vs tokio).

use crate::Workload;

/// The io workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    Vec::new()
}
