//! Criterion benches for the io area: the `tcp_echo` exchange (50 loopback
//! connections × 1 KiB round trips on one loop), eddy vs tokio.

use criterion::{criterion_group, criterion_main, Criterion};
use eddy_benches::io::{eddy_echo, tokio_echo, CONNECTIONS};

fn tcp_echo(c: &mut Criterion) {
    let rounds = 100;
    let mut g = c.benchmark_group("tcp_echo");
    g.sample_size(10);
    g.throughput(criterion::Throughput::Elements(
        (CONNECTIONS * rounds) as u64,
    ));
    g.bench_function("eddy", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| eddy_echo(rounds)).sum())
    });
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| tokio_echo(rounds)).sum())
    });
    g.finish();
}

criterion_group!(benches, tcp_echo);
criterion_main!(benches);
