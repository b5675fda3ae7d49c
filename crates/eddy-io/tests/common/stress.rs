//! Helpers shared by the stress tests (net, streams, process, signal;
//! the facade's tests include this file too).

use std::future::Future;
use std::pin::pin;

use eddy_io::net::{TcpListener, TcpStream};
use futures::future::{select, Either};

// The seeded PRNG and the hang guard: eddy-time's std-only copy.
#[path = "../../../eddy-time/tests/common/stress.rs"]
mod std_stress;
#[allow(unused_imports)] // not every test binary uses both
pub use std_stress::{guarded, Rng};

/// Yields to the loop `n` times.
pub async fn yields(n: u64) {
    for _ in 0..n {
        eddy_core::yield_now().await;
    }
}

/// Races `fut` against `k` yields: `Some` if `fut` finished first, `None`
/// if it was dropped (cancelled) at that point.
pub async fn race_yields<F: Future>(fut: F, k: u64) -> Option<F::Output> {
    match select(pin!(fut), pin!(yields(k))).await {
        Either::Left((out, _)) => Some(out),
        Either::Right(((), _)) => None,
    }
}

/// A connected TCP pair through `listener`.
pub async fn tcp_pair(listener: &TcpListener) -> (TcpStream, TcpStream) {
    let connect = TcpStream::connect(listener.local_addr().unwrap());
    let (c, a) = futures::join!(connect, listener.accept());
    (c.unwrap(), a.unwrap().0)
}
