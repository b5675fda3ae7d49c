//! Helpers shared by the stress tests (net, streams, process, signal;
//! the facade's tests include this file too).

use std::future::Future;
use std::pin::pin;
use std::sync::mpsc;
use std::time::Duration;

use eddy_io::net::{TcpListener, TcpStream};
use futures::future::{select, Either};

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn micros(&mut self, max: u64) -> Duration {
        Duration::from_micros(self.below(max))
    }
}

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

/// Runs `f` on a thread of its own and returns its result, failing the
/// test if it has not finished after `secs` (a hang guard, not a timing
/// assertion: a lost wake-up would otherwise hang the run). A panic in `f`
/// is resumed here.
pub fn guarded<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(out);
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(Ok(v)) => v,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("the test hung (> {secs} s): a wake-up or delivery was lost"),
    }
}
