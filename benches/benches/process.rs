//! Criterion bench for subprocesses: the `process_spawn_wait` compare line
//! (spawn `true` 200 times, then wait for each), eddy and tokio side by side.

use criterion::{criterion_group, criterion_main, Criterion};
use eddy_benches::process as w;

fn process(c: &mut Criterion) {
    let eddy = w::eddy_rt();
    let tokio = w::tokio_rt();
    let mut g = c.benchmark_group("process_spawn_wait");
    g.sample_size(10);
    g.bench_function("eddy", |b| b.iter(|| w::spawn_wait_eddy(&eddy)));
    g.bench_function("tokio", |b| b.iter(|| w::spawn_wait_tokio(&tokio)));
    g.finish();
}

criterion_group!(benches, process);
criterion_main!(benches);
