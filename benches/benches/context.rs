//! Criterion benches for context variables: the same workload as the
//! `compare` line, eddy and tokio side by side in one group.

use criterion::{criterion_group, criterion_main, Criterion};
use eddy_benches::context as w;
use eddy_benches::core::{eddy_rt, tokio_rt};

fn context(c: &mut Criterion) {
    let eddy = eddy_rt();
    let tokio = tokio_rt();
    let mut group = c.benchmark_group("context_var_get");
    group.bench_function("eddy", |b| b.iter(|| w::context_var_get_eddy(&eddy)));
    group.bench_function("tokio", |b| b.iter(|| w::context_var_get_tokio(&tokio)));
    group.finish();
}

criterion_group!(benches, context);
criterion_main!(benches);
