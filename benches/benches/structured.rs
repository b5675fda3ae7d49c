//! Criterion benches for structured concurrency: the same workloads as the
//! `compare` lines, eddy and tokio side by side in one group each.

use criterion::{criterion_group, criterion_main, Criterion};
use eddy_benches::core::{eddy_rt, tokio_rt};
use eddy_benches::structured as w;

fn structured(c: &mut Criterion) {
    let eddy = eddy_rt();
    let tokio = tokio_rt();
    let mut group = c.benchmark_group("task_group_10k");
    group.bench_function("eddy", |b| b.iter(|| w::task_group_10k_eddy(&eddy)));
    group.bench_function("tokio", |b| b.iter(|| w::task_group_10k_tokio(&tokio)));
    group.finish();

    let mut group = c.benchmark_group("gather_all_100k");
    group.bench_function("eddy", |b| b.iter(|| w::gather_all_100k_eddy(&eddy)));
    group.bench_function("tokio", |b| b.iter(|| w::gather_all_100k_tokio(&tokio)));
    group.finish();
}

criterion_group!(benches, structured);
criterion_main!(benches);
