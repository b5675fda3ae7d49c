//! Criterion benches for the newer eddy-sync primitives (`RwLock` with
//! owned guards and `downgrade`, `OnceCell`, mpsc `reserve`): the same
//! workloads as their `compare` lines, eddy and tokio side by side in one
//! group each, both primitives on the same executor — eddy's loop
//! (`on_eddy_loop/…`) and tokio's current-thread runtime (`on_tokio_rt/…`)
//! — so only the primitive differs.

use criterion::{criterion_group, criterion_main, Criterion};
use eddy_benches::sync::{rt, EddyLoop, Exec};
use eddy_benches::sync_extra as w;

type Side<E> = fn(&E);

fn pairs<E: Exec>() -> [(&'static str, Side<E>, Side<E>); 3] {
    [
        (
            "rwlock_read_mostly",
            w::rwlock_read_mostly_eddy,
            w::rwlock_read_mostly_tokio,
        ),
        (
            "once_cell_init",
            w::once_cell_init_eddy,
            w::once_cell_init_tokio,
        ),
        ("mpsc_reserve", w::mpsc_reserve_eddy, w::mpsc_reserve_tokio),
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

fn sync_extra(c: &mut Criterion) {
    bench_on(c, "on_eddy_loop", &EddyLoop::new());
    bench_on(c, "on_tokio_rt", &rt());
}

criterion_group!(benches, sync_extra);
criterion_main!(benches);
