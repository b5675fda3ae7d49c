//! Helpers shared by the stress tests (net_stress.rs, net_waiters.rs).

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

/// Runs `f` on its own thread and fails the test if it does not finish
/// within `secs` (a hang guard, not a timing assertion).
pub fn guarded<F: FnOnce() + Send + 'static>(secs: u64, f: F) {
    let (tx, rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) => t.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: surface its panic.
            if let Err(p) = t.join() {
                std::panic::resume_unwind(p)
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test hung (> {secs} s)"),
    }
}
