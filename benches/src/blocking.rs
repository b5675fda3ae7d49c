//! `compare` workloads for the blocking area (eddy vs tokio).
//!
//! eddy's side awaits an `eddy_blocking::Pool` from `eddy_core::Runtime`
//! (the single-threaded loop, plain thread-parking driver); tokio's side
//! awaits `tokio::task::spawn_blocking` from its current-thread runtime. Both
//! pools start with their defaults (512 threads, 10 s keep-alive) and are
//! reused across samples, so the threads already exist after the warm-up.

use std::time::{Duration, Instant};

use crate::core::{eddy_rt, tokio_rt};
use crate::{Plan, Workload};

/// The blocking workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "spawn_blocking",
            run: spawn_blocking,
        },
        Workload {
            name: "blocking_latency",
            run: blocking_latency,
        },
    ]
}

/// Concurrent tasks in `spawn_blocking`.
pub const TASKS: usize = 16;
/// Batches per task in `spawn_blocking`.
pub const BATCHES: usize = 100;
/// No-op jobs per batch in `spawn_blocking`.
pub const JOBS: usize = 16;

/// 16 tasks × 100 batches × 16 no-op jobs: each task submits a batch of 16
/// jobs and awaits them all before the next batch.
pub fn spawn_blocking_eddy(rt: &eddy_core::Runtime, pool: &eddy_blocking::Pool) {
    rt.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let pool = pool.clone();
                eddy_core::spawn(async move {
                    for _ in 0..BATCHES {
                        let jobs: Vec<_> = (0..JOBS).map(|_| pool.spawn(|| {})).collect();
                        for j in jobs {
                            j.await.unwrap();
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

/// tokio twin of [`spawn_blocking_eddy`].
pub fn spawn_blocking_tokio(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                tokio::spawn(async move {
                    for _ in 0..BATCHES {
                        let jobs: Vec<_> = (0..JOBS)
                            .map(|_| tokio::task::spawn_blocking(|| {}))
                            .collect();
                        for j in jobs {
                            j.await.unwrap();
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

fn spawn_blocking(quick: bool) -> Option<(f64, f64)> {
    let (e, t) = (eddy_rt(), tokio_rt());
    let pool = eddy_blocking::Pool::new();
    Some(crate::compare_ns(
        Plan::new(quick),
        || spawn_blocking_eddy(&e, &pool),
        || spawn_blocking_tokio(&t),
    ))
}

/// Round trips per `blocking_latency` sample.
pub const ROUND_TRIPS: usize = 100;
/// Pause before each round trip, untimed, so the pool thread is parked again.
pub const IDLE_PAUSE: Duration = Duration::from_micros(200);

/// One no-op job round trip from an idle pool, 100 times; only the round
/// trips are timed (the pause before each, which lets the thread park, is
/// not). Returns the summed round-trip time.
pub fn blocking_latency_eddy(rt: &eddy_core::Runtime, pool: &eddy_blocking::Pool) -> Duration {
    rt.block_on(async {
        let mut total = Duration::ZERO;
        for _ in 0..ROUND_TRIPS {
            std::thread::sleep(IDLE_PAUSE);
            let start = Instant::now();
            pool.spawn(|| {}).await.unwrap();
            total += start.elapsed();
        }
        total
    })
}

/// tokio twin of [`blocking_latency_eddy`].
pub fn blocking_latency_tokio(rt: &tokio::runtime::Runtime) -> Duration {
    rt.block_on(async {
        let mut total = Duration::ZERO;
        for _ in 0..ROUND_TRIPS {
            std::thread::sleep(IDLE_PAUSE);
            let start = Instant::now();
            tokio::task::spawn_blocking(|| {}).await.unwrap();
            total += start.elapsed();
        }
        total
    })
}

fn blocking_latency(quick: bool) -> Option<(f64, f64)> {
    let (e, t) = (eddy_rt(), tokio_rt());
    let pool = eddy_blocking::Pool::new();
    let plan = Plan::new(quick);
    let mut eddy = Vec::new();
    let mut tokio = Vec::new();
    for i in 0..plan.warmup + plan.samples.max(1) {
        let de = blocking_latency_eddy(&e, &pool);
        let dt = blocking_latency_tokio(&t);
        if i >= plan.warmup {
            eddy.push(de);
            tokio.push(dt);
        }
    }
    eddy.sort();
    tokio.sort();
    let per_trip = |v: &[Duration]| v[v.len() / 2].as_nanos() as f64 / ROUND_TRIPS as f64;
    Some((per_trip(&eddy), per_trip(&tokio)))
}
