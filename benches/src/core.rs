//! `compare` workloads for the event loop and task system (issue 2).
//!
//! eddy's side runs on `eddy_core::Runtime` (plain thread-parking driver);
//! tokio's on its current-thread runtime without drivers, so both measure
//! the scheduler alone.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::{compare_ns, Plan, Workload};

/// The core workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "spawn_many",
            run: spawn_many,
        },
        Workload {
            name: "yield_many",
            run: yield_many,
        },
        Workload {
            name: "ping_pong",
            run: ping_pong,
        },
        Workload {
            name: "ping_pong_native",
            run: ping_pong_native,
        },
        Workload {
            name: "chained_spawn",
            run: chained_spawn,
        },
        Workload {
            name: "remote_spawn",
            run: remote_spawn,
        },
        Workload {
            name: "task_bytes",
            run: task_bytes,
        },
    ]
}

/// eddy's runtime for these benches.
pub fn eddy_rt() -> eddy_core::Runtime {
    eddy_core::Runtime::new().unwrap()
}

/// tokio's current-thread runtime for these benches.
pub fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Number of tasks in `spawn_many`.
pub const SPAWN_MANY: usize = 10_000;

/// Spawn 10,000 tasks from inside the loop and join them all.
pub fn spawn_many_eddy(rt: &eddy_core::Runtime) {
    rt.block_on(async {
        let handles: Vec<_> = (0..SPAWN_MANY)
            .map(|i| eddy_core::spawn(async move { i }))
            .collect();
        for h in handles {
            std::hint::black_box(h.await.unwrap());
        }
    });
}

/// tokio twin of [`spawn_many_eddy`].
pub fn spawn_many_tokio(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let handles: Vec<_> = (0..SPAWN_MANY)
            .map(|i| tokio::spawn(async move { i }))
            .collect();
        for h in handles {
            std::hint::black_box(h.await.unwrap());
        }
    });
}

fn spawn_many(quick: bool) -> Option<(f64, f64)> {
    let (e, t) = (eddy_rt(), tokio_rt());
    Some(compare_ns(
        Plan::new(quick),
        || spawn_many_eddy(&e),
        || spawn_many_tokio(&t),
    ))
}

/// 200 tasks × 1,000 `yield_now`.
pub fn yield_many_eddy(rt: &eddy_core::Runtime) {
    rt.block_on(async {
        let handles: Vec<_> = (0..200)
            .map(|_| {
                eddy_core::spawn(async {
                    for _ in 0..1000 {
                        eddy_core::yield_now().await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
}

/// tokio twin of [`yield_many_eddy`].
pub fn yield_many_tokio(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let handles: Vec<_> = (0..200)
            .map(|_| {
                tokio::spawn(async {
                    for _ in 0..1000 {
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
}

fn yield_many(quick: bool) -> Option<(f64, f64)> {
    let (e, t) = (eddy_rt(), tokio_rt());
    Some(compare_ns(
        Plan::new(quick),
        || yield_many_eddy(&e),
        || yield_many_tokio(&t),
    ))
}

/// A tiny oneshot channel used by both sides of `ping_pong`, so the
/// scheduler is what differs.
pub mod oneshot {
    use super::*;

    struct Inner<T> {
        value: Option<T>,
        waker: Option<Waker>,
    }

    /// Sending half.
    pub struct Sender<T>(Arc<Mutex<Inner<T>>>);
    /// Receiving half; a future.
    pub struct Receiver<T>(Arc<Mutex<Inner<T>>>);

    /// A new channel.
    pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
        let inner = Arc::new(Mutex::new(Inner {
            value: None,
            waker: None,
        }));
        (Sender(inner.clone()), Receiver(inner))
    }

    impl<T> Sender<T> {
        /// Stores the value and wakes the receiver.
        pub fn send(self, value: T) {
            let waker = {
                let mut g = self.0.lock().unwrap();
                g.value = Some(value);
                g.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    impl<T> Future for Receiver<T> {
        type Output = T;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
            let mut g = self.0.lock().unwrap();
            match g.value.take() {
                Some(v) => Poll::Ready(v),
                None => {
                    g.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }
    }
}

/// Round trips in `ping_pong`.
pub const PING_PONGS: usize = 1_000;

/// One ping: where to send the pong, and where the next ping will arrive.
pub struct Ping {
    reply: oneshot::Sender<()>,
    next: oneshot::Receiver<Ping>,
}

async fn ponger(mut rx: oneshot::Receiver<Ping>) {
    for _ in 0..PING_PONGS {
        let Ping { reply, next } = rx.await;
        reply.send(());
        rx = next;
    }
}

async fn pinger(mut tx: oneshot::Sender<Ping>) {
    for _ in 0..PING_PONGS {
        let (reply, pong) = oneshot::channel();
        let (next_tx, next) = oneshot::channel();
        tx.send(Ping { reply, next });
        pong.await;
        tx = next_tx;
    }
}

/// 1,000 round trips between two long-lived tasks over oneshot pairs.
pub fn ping_pong_eddy(rt: &eddy_core::Runtime) {
    rt.block_on(async {
        let (tx, rx) = oneshot::channel();
        let a = eddy_core::spawn(ponger(rx));
        let b = eddy_core::spawn(pinger(tx));
        a.await.unwrap();
        b.await.unwrap();
    });
}

/// tokio twin of [`ping_pong_eddy`].
pub fn ping_pong_tokio(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let (tx, rx) = oneshot::channel();
        let a = tokio::spawn(ponger(rx));
        let b = tokio::spawn(pinger(tx));
        a.await.unwrap();
        b.await.unwrap();
    });
}

/// `ping_pong` with each runtime's own oneshot: eddy-sync's on eddy,
/// `tokio::sync::oneshot` on tokio (the "or eddy-sync's" form).
pub fn ping_pong_native_eddy(rt: &eddy_core::Runtime) {
    struct Ping {
        reply: eddy_sync::oneshot::Sender<()>,
        next: eddy_sync::oneshot::Receiver<Ping>,
    }
    rt.block_on(async {
        let (tx, rx) = eddy_sync::oneshot::channel::<Ping>();
        let a = eddy_core::spawn(async move {
            let mut rx = rx;
            for _ in 0..PING_PONGS {
                let Ping { reply, next } = rx.await.unwrap();
                let _ = reply.send(());
                rx = next;
            }
        });
        let b = eddy_core::spawn(async move {
            let mut tx = tx;
            for _ in 0..PING_PONGS {
                let (reply, pong) = eddy_sync::oneshot::channel();
                let (next_tx, next) = eddy_sync::oneshot::channel();
                let _ = tx.send(Ping { reply, next });
                pong.await.unwrap();
                tx = next_tx;
            }
        });
        a.await.unwrap();
        b.await.unwrap();
    });
}

/// tokio twin of [`ping_pong_native_eddy`].
pub fn ping_pong_native_tokio(rt: &tokio::runtime::Runtime) {
    struct Ping {
        reply: tokio::sync::oneshot::Sender<()>,
        next: tokio::sync::oneshot::Receiver<Ping>,
    }
    rt.block_on(async {
        let (tx, rx) = tokio::sync::oneshot::channel::<Ping>();
        let a = tokio::spawn(async move {
            let mut rx = rx;
            for _ in 0..PING_PONGS {
                let Ping { reply, next } = rx.await.unwrap();
                let _ = reply.send(());
                rx = next;
            }
        });
        let b = tokio::spawn(async move {
            let mut tx = tx;
            for _ in 0..PING_PONGS {
                let (reply, pong) = tokio::sync::oneshot::channel();
                let (next_tx, next) = tokio::sync::oneshot::channel();
                let _ = tx.send(Ping { reply, next });
                pong.await.unwrap();
                tx = next_tx;
            }
        });
        a.await.unwrap();
        b.await.unwrap();
    });
}

fn ping_pong_native(quick: bool) -> Option<(f64, f64)> {
    let (e, t) = (eddy_rt(), tokio_rt());
    Some(compare_ns(
        Plan::new(quick),
        || ping_pong_native_eddy(&e),
        || ping_pong_native_tokio(&t),
    ))
}

fn ping_pong(quick: bool) -> Option<(f64, f64)> {
    let (e, t) = (eddy_rt(), tokio_rt());
    Some(compare_ns(
        Plan::new(quick),
        || ping_pong_eddy(&e),
        || ping_pong_tokio(&t),
    ))
}

/// Length of the `chained_spawn` chain.
pub const CHAIN: usize = 1_000;

fn chain_eddy(n: usize, done: oneshot::Sender<()>) {
    if n == 0 {
        done.send(());
    } else {
        drop(eddy_core::spawn(async move { chain_eddy(n - 1, done) }));
    }
}

fn chain_tokio(n: usize, done: oneshot::Sender<()>) {
    if n == 0 {
        done.send(());
    } else {
        drop(tokio::spawn(async move { chain_tokio(n - 1, done) }));
    }
}

/// A chain of 1,000 tasks, each spawning the next.
pub fn chained_spawn_eddy(rt: &eddy_core::Runtime) {
    rt.block_on(async {
        let (tx, rx) = oneshot::channel();
        chain_eddy(CHAIN, tx);
        rx.await;
    });
}

/// tokio twin of [`chained_spawn_eddy`].
pub fn chained_spawn_tokio(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let (tx, rx) = oneshot::channel();
        chain_tokio(CHAIN, tx);
        rx.await;
    });
}

fn chained_spawn(quick: bool) -> Option<(f64, f64)> {
    let (e, t) = (eddy_rt(), tokio_rt());
    Some(compare_ns(
        Plan::new(quick),
        || chained_spawn_eddy(&e),
        || chained_spawn_tokio(&t),
    ))
}

/// Number of spawns in `remote_spawn`.
pub const REMOTE_SPAWNS: usize = 10_000;

/// 10,000 `Handle::spawn` calls from another thread, awaited on the loop.
pub fn remote_spawn_eddy(rt: &eddy_core::Runtime) {
    let handle = rt.handle();
    let spawner = std::thread::spawn(move || {
        (0..REMOTE_SPAWNS)
            .map(|i| handle.spawn(async move { i }).unwrap())
            .collect::<Vec<_>>()
    });
    rt.block_on(async move {
        // The loop runs (and parks) while the other thread spawns.
        let handles = eddy_core::spawn(async move { spawner }).await.unwrap();
        for h in handles.join().unwrap() {
            std::hint::black_box(h.await.unwrap());
        }
    });
}

/// tokio twin of [`remote_spawn_eddy`].
pub fn remote_spawn_tokio(rt: &tokio::runtime::Runtime) {
    let handle = rt.handle().clone();
    let spawner = std::thread::spawn(move || {
        (0..REMOTE_SPAWNS)
            .map(|i| handle.spawn(async move { i }))
            .collect::<Vec<_>>()
    });
    rt.block_on(async move {
        let handles = tokio::spawn(async move { spawner }).await.unwrap();
        for h in handles.join().unwrap() {
            std::hint::black_box(h.await.unwrap());
        }
    });
}

fn remote_spawn(quick: bool) -> Option<(f64, f64)> {
    let (e, t) = (eddy_rt(), tokio_rt());
    Some(compare_ns(
        Plan::new(quick),
        || remote_spawn_eddy(&e),
        || remote_spawn_tokio(&t),
    ))
}

/// Idle tasks in `task_bytes`.
pub const IDLE_TASKS: usize = 1_000_000;

/// Resident set size of this process, in bytes (Linux `/proc/self/statm`).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * page as u64)
}

/// Bytes per idle task on `runtime` ("eddy" or "tokio"), measured in this
/// process: spawn 1,000,000 tasks that await a never-completing future,
/// let each be polled once, and divide the RSS growth by the count.
pub fn task_bytes_in_process(runtime: &str) -> f64 {
    let before = resident_bytes().unwrap_or(0);
    let after = match runtime {
        "eddy" => {
            let rt = eddy_rt();
            rt.block_on(async {
                let handles: Vec<_> = (0..IDLE_TASKS)
                    .map(|_| eddy_core::spawn(std::future::pending::<()>()))
                    .collect();
                eddy_core::yield_now().await;
                let after = resident_bytes().unwrap_or(0);
                std::mem::forget(handles); // process exits right after
                after
            })
        }
        _ => {
            let rt = tokio_rt();
            rt.block_on(async {
                let handles: Vec<_> = (0..IDLE_TASKS)
                    .map(|_| tokio::spawn(std::future::pending::<()>()))
                    .collect();
                tokio::task::yield_now().await;
                let after = resident_bytes().unwrap_or(0);
                std::mem::forget(handles);
                after
            })
        }
    };
    (after.saturating_sub(before)) as f64 / IDLE_TASKS as f64
}

/// Runs `task_bytes_in_process` in a fresh child process (so neither
/// runtime reuses memory the other freed) by re-running the current
/// executable with `--task-bytes RUNTIME`.
fn task_bytes_child(runtime: &str) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe)
        .args(["--task-bytes", runtime])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn task_bytes(_quick: bool) -> Option<(f64, f64)> {
    Some((task_bytes_child("eddy")?, task_bytes_child("tokio")?))
}
