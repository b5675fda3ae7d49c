//! `compare` workloads for structured concurrency (TaskGroup, gather).

use crate::Workload;

/// The structured-concurrency workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    Vec::new()
}
