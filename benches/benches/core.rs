//! Criterion benches for the event loop: the same workloads as the
//! `compare` lines, eddy and tokio side by side in one group each.

use criterion::{criterion_group, criterion_main, Criterion};
use eddy_benches::core as w;

fn scheduler(c: &mut Criterion) {
    let eddy = w::eddy_rt();
    let tokio = w::tokio_rt();
    let mut group = c.benchmark_group("spawn_many");
    group.bench_function("eddy", |b| b.iter(|| w::spawn_many_eddy(&eddy)));
    group.bench_function("tokio", |b| b.iter(|| w::spawn_many_tokio(&tokio)));
    group.finish();

    let mut group = c.benchmark_group("yield_many");
    group.bench_function("eddy", |b| b.iter(|| w::yield_many_eddy(&eddy)));
    group.bench_function("tokio", |b| b.iter(|| w::yield_many_tokio(&tokio)));
    group.finish();

    let mut group = c.benchmark_group("ping_pong");
    group.bench_function("eddy", |b| b.iter(|| w::ping_pong_eddy(&eddy)));
    group.bench_function("tokio", |b| b.iter(|| w::ping_pong_tokio(&tokio)));
    group.finish();

    let mut group = c.benchmark_group("chained_spawn");
    group.bench_function("eddy", |b| b.iter(|| w::chained_spawn_eddy(&eddy)));
    group.bench_function("tokio", |b| b.iter(|| w::chained_spawn_tokio(&tokio)));
    group.finish();

    let mut group = c.benchmark_group("remote_spawn");
    group.bench_function("eddy", |b| b.iter(|| w::remote_spawn_eddy(&eddy)));
    group.bench_function("tokio", |b| b.iter(|| w::remote_spawn_tokio(&tokio)));
    group.finish();
}

criterion_group!(benches, scheduler);
criterion_main!(benches);
