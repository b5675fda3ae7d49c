//! Shared harness for eddy's side-by-side benchmarks against tokio.
//!
//! Every area of eddy owns one module here with a `workloads()` function; the
//! `compare` binary runs them all and prints one line per workload:
//!
//! ```text
//! workload=NAME eddy_ns=N tokio_ns=N ratio=R
//! ```
//!
//! `ratio = eddy / tokio`, so below 1 means eddy is faster (or smaller, for the
//! memory lines, which report bytes in the `_ns` columns).
#![deny(missing_docs)]

use std::time::{Duration, Instant};

pub mod blocking;
pub mod context;
pub mod core;
pub mod io;
pub mod process;
pub mod resp;
pub mod structured;
#[macro_use]
pub mod sync;
pub mod sync_extra;
pub mod time;

/// One line of the `compare` table.
pub struct Workload {
    /// Name printed after `workload=`.
    pub name: &'static str,
    /// Runs the workload on both runtimes and returns `(eddy, tokio)` in
    /// nanoseconds (or bytes for memory workloads). `quick` asks for a shorter
    /// measurement so the whole table finishes in under a minute.
    pub run: fn(quick: bool) -> Option<(f64, f64)>,
}

/// How a measurement is repeated.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Untimed runs before measuring.
    pub warmup: u32,
    /// Timed runs; the median is reported.
    pub samples: u32,
}

impl Plan {
    /// The plan for a normal (`quick == false`) or quick run.
    pub fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                warmup: 1,
                samples: 5,
            }
        } else {
            Plan {
                warmup: 3,
                samples: 21,
            }
        }
    }
}

/// Runs `f` per `plan` and returns the median wall time of one call, in ns.
pub fn median_ns(plan: Plan, mut f: impl FnMut()) -> f64 {
    for _ in 0..plan.warmup {
        f();
    }
    let mut samples: Vec<Duration> = (0..plan.samples.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2].as_nanos() as f64
}

/// Measures both sides interleaved (eddy, tokio, eddy, ...) so machine noise
/// hits both alike, and returns the two medians in ns.
pub fn compare_ns(plan: Plan, mut eddy: impl FnMut(), mut tokio: impl FnMut()) -> (f64, f64) {
    for _ in 0..plan.warmup {
        eddy();
        tokio();
    }
    let mut e = Vec::new();
    let mut t = Vec::new();
    for _ in 0..plan.samples.max(1) {
        let start = Instant::now();
        eddy();
        e.push(start.elapsed());
        let start = Instant::now();
        tokio();
        t.push(start.elapsed());
    }
    e.sort();
    t.sort();
    (
        e[e.len() / 2].as_nanos() as f64,
        t[t.len() / 2].as_nanos() as f64,
    )
}

/// Formats one `compare` line.
pub fn line(name: &str, eddy: f64, tokio: f64) -> String {
    let ratio = if tokio > 0.0 { eddy / tokio } else { f64::NAN };
    format!("workload={name} eddy_ns={eddy:.0} tokio_ns={tokio:.0} ratio={ratio:.3}")
}

/// Every workload of every area, in table order.
pub fn all_workloads() -> Vec<Workload> {
    let mut all = Vec::new();
    all.extend(core::workloads());
    all.extend(time::workloads());
    all.extend(structured::workloads());
    all.extend(context::workloads());
    all.extend(sync::workloads());
    all.extend(sync_extra::workloads());
    all.extend(blocking::workloads());
    all.extend(io::workloads());
    all.extend(resp::workloads());
    all.extend(process::workloads());
    all
}
