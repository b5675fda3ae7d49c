//! Criterion benches for eddy-sync: the same workloads as the `compare`
//! lines, eddy and tokio side by side in one group each, both on tokio's
//! current-thread runtime so only the primitive differs.

use criterion::{criterion_group, criterion_main, Criterion};
use eddy_benches::sync as w;

type Side = fn(&tokio::runtime::Runtime);

fn sync(c: &mut Criterion) {
    let rt = w::rt();
    let pairs: [(&str, Side, Side); 6] = [
        (
            "mutex_contended",
            w::mutex_contended_eddy,
            w::mutex_contended_tokio,
        ),
        (
            "semaphore_contended",
            w::semaphore_contended_eddy,
            w::semaphore_contended_tokio,
        ),
        ("mpsc_bounded", w::mpsc_bounded_eddy, w::mpsc_bounded_tokio),
        (
            "oneshot_request_reply",
            w::request_reply_eddy,
            w::request_reply_tokio,
        ),
        (
            "queue_put_get",
            w::queue_put_get_eddy,
            w::queue_put_get_tokio,
        ),
        (
            "broadcast_fanout",
            w::broadcast_fanout_eddy,
            w::broadcast_fanout_tokio,
        ),
    ];
    for (name, eddy, tokio) in pairs {
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        group.bench_function("eddy", |b| b.iter(|| eddy(&rt)));
        group.bench_function("tokio", |b| b.iter(|| tokio(&rt)));
        group.finish();
    }
}

criterion_group!(benches, sync);
criterion_main!(benches);
