//! Criterion benches for eddy-blocking: the same workloads as the `compare`
//! lines, eddy and tokio side by side in one group each.

use criterion::{criterion_group, criterion_main, Criterion};
use eddy_benches::blocking as w;
use eddy_benches::core::{eddy_rt, tokio_rt};

fn blocking(c: &mut Criterion) {
    let (e, t) = (eddy_rt(), tokio_rt());
    let pool = eddy_blocking::Pool::new();

    let mut group = c.benchmark_group("spawn_blocking");
    group.sample_size(10);
    group.bench_function("eddy", |b| b.iter(|| w::spawn_blocking_eddy(&e, &pool)));
    group.bench_function("tokio", |b| b.iter(|| w::spawn_blocking_tokio(&t)));
    group.finish();

    // Timed per round trip, excluding the idle pause before each one.
    let mut group = c.benchmark_group("blocking_latency");
    group.sample_size(10);
    group.bench_function("eddy", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::blocking_latency_eddy(&e, &pool) / w::ROUND_TRIPS as u32)
                .sum()
        })
    });
    group.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| w::blocking_latency_tokio(&t) / w::ROUND_TRIPS as u32)
                .sum()
        })
    });
    group.finish();
}

criterion_group!(benches, blocking);
criterion_main!(benches);
