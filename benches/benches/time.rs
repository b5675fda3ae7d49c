//! Criterion benches for timers: the same workloads as the `compare` lines,
//! eddy and tokio side by side in one group each.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use eddy_benches::time as w;

fn timers(c: &mut Criterion) {
    let eddy = w::EddyRt::new(false);
    let tokio = w::tokio_rt(false);

    let mut group = c.benchmark_group("timer_insert_cancel");
    group.sample_size(10);
    group.bench_function("eddy", |b| {
        b.iter(|| w::timer_insert_cancel_eddy(&eddy, w::INSERT_CANCEL))
    });
    group.bench_function("tokio", |b| {
        b.iter(|| w::timer_insert_cancel_tokio(&tokio, w::INSERT_CANCEL))
    });
    group.finish();

    let mut group = c.benchmark_group("timeout_ready");
    group.bench_function("eddy", |b| {
        b.iter(|| w::timeout_ready_eddy(&eddy, w::TIMEOUT_READY))
    });
    group.bench_function("tokio", |b| {
        b.iter(|| w::timeout_ready_tokio(&tokio, w::TIMEOUT_READY))
    });
    group.finish();

    let mut group = c.benchmark_group("sleep_many");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("eddy", |b| {
        b.iter(|| w::sleep_many_eddy(&eddy, w::SLEEP_MANY))
    });
    group.bench_function("tokio", |b| {
        b.iter(|| w::sleep_many_tokio(&tokio, w::SLEEP_MANY))
    });
    group.finish();

    let eddy_paused = w::EddyRt::new(true);
    let tokio_paused = w::tokio_rt(true);
    let mut group = c.benchmark_group("interval_ticks");
    group.bench_function("eddy", |b| {
        b.iter(|| w::interval_ticks_eddy(&eddy_paused, w::INTERVAL_TICKS))
    });
    group.bench_function("tokio", |b| {
        b.iter(|| w::interval_ticks_tokio(&tokio_paused, w::INTERVAL_TICKS))
    });
    group.finish();
}

criterion_group!(benches, timers);
criterion_main!(benches);
