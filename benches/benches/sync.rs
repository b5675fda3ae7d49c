//! Criterion benches for eddy-sync: the same workloads as the `compare`
//! lines, eddy and tokio side by side in one group each, both primitives on
//! the same executor — eddy's loop (`on_eddy_loop/…`) and tokio's
//! current-thread runtime (`on_tokio_rt/…`) — so only the primitive differs.

use criterion::{criterion_group, criterion_main, Criterion};
use eddy_benches::sync::{self as w, EddyLoop, Exec};

type Side<E> = fn(&E);

fn pairs<E: Exec>() -> [(&'static str, Side<E>, Side<E>); 6] {
    [
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
    ]
}

fn bench_on<E: Exec>(c: &mut Criterion, executor: &str, ex: &E) {
    for (name, eddy, tokio) in pairs::<E>() {
        let mut group = c.benchmark_group(format!("{name}/{executor}"));
        group.sample_size(10);
        group.bench_function("eddy", |b| b.iter(|| eddy(ex)));
        group.bench_function("tokio", |b| b.iter(|| tokio(ex)));
        group.finish();
    }
}

fn sync(c: &mut Criterion) {
    bench_on(c, "on_eddy_loop", &EddyLoop::new());
    bench_on(c, "on_tokio_rt", &w::rt());
}

criterion_group!(benches, sync);
criterion_main!(benches);
