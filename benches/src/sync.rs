//! `compare` workloads for the sync area (eddy vs tokio).
//!
//! eddy-sync is runtime-agnostic, and tokio's sync primitives run on any
//! executor too, so both sides of a pair run on the same executor and only
//! the primitive differs. Each workload is generic over [`Exec`]; the
//! `compare` table runs every pair twice:
//!
//! - on eddy's loop (`eddy_core::Runtime`), the line named after the
//!   workload. This is the executor eddy-sync's users run on, and the
//!   cheaper one, so more of the measured time is the primitive's own;
//! - on tokio's current-thread runtime, the `…_on_tokio_rt` line, where a
//!   task switch costs more and the primitives' share is smaller.
//!
//! Off a tokio runtime tokio's primitives skip their cooperative-budget
//! bookkeeping (there is no budget to charge), which only helps tokio's side
//! on eddy's loop.
//!
//! In the `_contended` workloads every task holds the lock/permit across a
//! yield, so the others really queue behind it and each unlock is a
//! hand-off to a waiter (without it, a single-threaded executor never
//! contends at all).

use std::future::Future;
use std::sync::Arc;

use crate::{compare_ns, Plan, Workload};

/// A single-threaded executor both sides of a sync pair run on.
pub trait Exec {
    /// Runs `f` to completion on this executor.
    fn block_on<F: Future<Output = ()>>(&self, f: F);
    /// Spawns `f` as a task (detached if the returned future is dropped);
    /// the returned future waits for it and re-raises its panic.
    fn spawn<F: Future<Output = ()> + Send + 'static>(f: F) -> impl Future<Output = ()> + Send;
    /// The executor's own yield: back of the run queue once.
    fn yield_now() -> impl Future<Output = ()> + Send;
}

/// eddy's single-threaded loop.
pub struct EddyLoop(eddy_core::Runtime);

impl EddyLoop {
    /// A fresh eddy loop.
    pub fn new() -> EddyLoop {
        EddyLoop(eddy_core::Runtime::new().expect("eddy runtime"))
    }
}

impl Default for EddyLoop {
    fn default() -> Self {
        EddyLoop::new()
    }
}

impl Exec for EddyLoop {
    fn block_on<F: Future<Output = ()>>(&self, f: F) {
        self.0.block_on(f)
    }
    fn spawn<F: Future<Output = ()> + Send + 'static>(f: F) -> impl Future<Output = ()> + Send {
        let handle = eddy_core::spawn(f);
        async move { handle.await.expect("task failed") }
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        eddy_core::yield_now()
    }
}

impl Exec for tokio::runtime::Runtime {
    fn block_on<F: Future<Output = ()>>(&self, f: F) {
        tokio::runtime::Runtime::block_on(self, f)
    }
    fn spawn<F: Future<Output = ()> + Send + 'static>(f: F) -> impl Future<Output = ()> + Send {
        let handle = tokio::spawn(f);
        async move { handle.await.expect("task failed") }
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

/// The two `compare` lines of one pair: on eddy's loop, then on tokio's
/// runtime (also used by [`crate::sync_extra`]).
macro_rules! on_both {
    ($name:literal, $eddy:ident, $tokio:ident) => {
        [
            Workload {
                name: $name,
                run: |q| {
                    Some($crate::sync::run_pair(
                        q,
                        &$crate::sync::EddyLoop::new(),
                        $eddy,
                        $tokio,
                    ))
                },
            },
            Workload {
                name: concat!($name, "_on_tokio_rt"),
                run: |q| {
                    Some($crate::sync::run_pair(
                        q,
                        &$crate::sync::rt(),
                        $eddy,
                        $tokio,
                    ))
                },
            },
        ]
    };
}

/// The sync workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    [
        on_both!(
            "mutex_contended",
            mutex_contended_eddy,
            mutex_contended_tokio
        ),
        on_both!(
            "semaphore_contended",
            semaphore_contended_eddy,
            semaphore_contended_tokio
        ),
        on_both!("mpsc_bounded", mpsc_bounded_eddy, mpsc_bounded_tokio),
        on_both!(
            "oneshot_request_reply",
            request_reply_eddy,
            request_reply_tokio
        ),
        on_both!("queue_put_get", queue_put_get_eddy, queue_put_get_tokio),
        on_both!(
            "broadcast_fanout",
            broadcast_fanout_eddy,
            broadcast_fanout_tokio
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

pub(crate) fn run_pair<E: Exec>(quick: bool, ex: &E, eddy: fn(&E), tokio: fn(&E)) -> (f64, f64) {
    compare_ns(Plan::new(quick), || eddy(ex), || tokio(ex))
}

/// tokio's current-thread runtime, the other executor the pairs run on.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Tasks in the contended workloads.
pub const TASKS: usize = 10;
/// Iterations per task in the contended workloads.
pub const ITERS: usize = 1_000;

async fn join_all(handles: Vec<impl Future<Output = ()>>) {
    for h in handles {
        h.await;
    }
}

/// 10 tasks × 1,000 lock/unlock of one `eddy_sync::Mutex`, each holding it
/// across a yield.
pub fn mutex_contended_eddy<E: Exec>(rt: &E) {
    rt.block_on(async {
        let m = Arc::new(eddy_sync::Mutex::new(0usize));
        let handles = (0..TASKS)
            .map(|_| {
                let m = m.clone();
                E::spawn(async move {
                    for _ in 0..ITERS {
                        let mut g = m.lock().await;
                        *g += 1;
                        E::yield_now().await;
                    }
                })
            })
            .collect();
        join_all(handles).await;
        assert_eq!(*m.lock().await, TASKS * ITERS);
    });
}

/// tokio twin of [`mutex_contended_eddy`].
pub fn mutex_contended_tokio<E: Exec>(rt: &E) {
    rt.block_on(async {
        let m = Arc::new(tokio::sync::Mutex::new(0usize));
        let handles = (0..TASKS)
            .map(|_| {
                let m = m.clone();
                E::spawn(async move {
                    for _ in 0..ITERS {
                        let mut g = m.lock().await;
                        *g += 1;
                        E::yield_now().await;
                    }
                })
            })
            .collect();
        join_all(handles).await;
        assert_eq!(*m.lock().await, TASKS * ITERS);
    });
}

/// Permits in `semaphore_contended`.
pub const PERMITS: usize = 5;

/// 5 permits, 10 tasks × 1,000 acquire/release, each holding its permit
/// across a yield.
pub fn semaphore_contended_eddy<E: Exec>(rt: &E) {
    rt.block_on(async {
        let sem = Arc::new(eddy_sync::Semaphore::new(PERMITS));
        let handles = (0..TASKS)
            .map(|_| {
                let sem = sem.clone();
                E::spawn(async move {
                    for _ in 0..ITERS {
                        let _p = sem.acquire().await;
                        E::yield_now().await;
                    }
                })
            })
            .collect();
        join_all(handles).await;
        assert_eq!(sem.available_permits(), PERMITS);
    });
}

/// tokio twin of [`semaphore_contended_eddy`].
pub fn semaphore_contended_tokio<E: Exec>(rt: &E) {
    rt.block_on(async {
        let sem = Arc::new(tokio::sync::Semaphore::new(PERMITS));
        let handles = (0..TASKS)
            .map(|_| {
                let sem = sem.clone();
                E::spawn(async move {
                    for _ in 0..ITERS {
                        let _p = sem.acquire().await.unwrap();
                        E::yield_now().await;
                    }
                })
            })
            .collect();
        join_all(handles).await;
        assert_eq!(sem.available_permits(), PERMITS);
    });
}

/// Senders in `mpsc_bounded`.
pub const SENDERS: usize = 5;
/// Messages per sender in `mpsc_bounded`.
pub const MESSAGES: usize = 10_000;
/// Channel capacity in `mpsc_bounded` and `queue_put_get`.
pub const CAPACITY: usize = 1_024;

/// 5 sender tasks × 10,000 messages into a bounded channel of 1,024.
pub fn mpsc_bounded_eddy<E: Exec>(rt: &E) {
    rt.block_on(async {
        let (tx, mut rx) = eddy_sync::mpsc::channel(CAPACITY);
        for _ in 0..SENDERS {
            let tx = tx.clone();
            // Detached: the receiver's count is the check.
            drop(E::spawn(async move {
                for i in 0..MESSAGES {
                    tx.send(i).await.unwrap();
                }
            }));
        }
        drop(tx);
        let mut n = 0;
        while let Some(v) = rx.recv().await {
            std::hint::black_box(v);
            n += 1;
        }
        assert_eq!(n, SENDERS * MESSAGES);
    });
}

/// tokio twin of [`mpsc_bounded_eddy`].
pub fn mpsc_bounded_tokio<E: Exec>(rt: &E) {
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(CAPACITY);
        for _ in 0..SENDERS {
            let tx = tx.clone();
            // Detached: the receiver's count is the check.
            drop(E::spawn(async move {
                for i in 0..MESSAGES {
                    tx.send(i).await.unwrap();
                }
            }));
        }
        drop(tx);
        let mut n = 0;
        while let Some(v) = rx.recv().await {
            std::hint::black_box(v);
            n += 1;
        }
        assert_eq!(n, SENDERS * MESSAGES);
    });
}

/// Round trips in `oneshot_request_reply`.
pub const REQUESTS: usize = 10_000;

/// A server task answers 10,000 requests, each sent over a bounded mpsc
/// with a oneshot for the reply; the client awaits every reply.
pub fn request_reply_eddy<E: Exec>(rt: &E) {
    rt.block_on(async {
        let (tx, mut rx) =
            eddy_sync::mpsc::channel::<(usize, eddy_sync::oneshot::Sender<usize>)>(64);
        let server = E::spawn(async move {
            while let Some((x, reply)) = rx.recv().await {
                let _ = reply.send(x + 1);
            }
        });
        for i in 0..REQUESTS {
            let (otx, orx) = eddy_sync::oneshot::channel();
            tx.send((i, otx)).await.unwrap();
            assert_eq!(orx.await.unwrap(), i + 1);
        }
        drop(tx);
        server.await;
    });
}

/// tokio twin of [`request_reply_eddy`].
pub fn request_reply_tokio<E: Exec>(rt: &E) {
    rt.block_on(async {
        let (tx, mut rx) =
            tokio::sync::mpsc::channel::<(usize, tokio::sync::oneshot::Sender<usize>)>(64);
        let server = E::spawn(async move {
            while let Some((x, reply)) = rx.recv().await {
                let _ = reply.send(x + 1);
            }
        });
        for i in 0..REQUESTS {
            let (otx, orx) = tokio::sync::oneshot::channel();
            tx.send((i, otx)).await.unwrap();
            assert_eq!(orx.await.unwrap(), i + 1);
        }
        drop(tx);
        server.await;
    });
}

/// Items in `queue_put_get`.
pub const ITEMS: usize = 100_000;

/// 100,000 items from a producer task through a `Queue` (maxsize 1,024) to
/// a consumer.
pub fn queue_put_get_eddy<E: Exec>(rt: &E) {
    rt.block_on(async {
        let q = Arc::new(eddy_sync::Queue::new(CAPACITY));
        let producer = {
            let q = q.clone();
            E::spawn(async move {
                for i in 0..ITEMS {
                    q.put(i).await.unwrap();
                }
            })
        };
        let mut sum = 0usize;
        for _ in 0..ITEMS {
            sum += q.get().await.unwrap();
        }
        producer.await;
        assert_eq!(sum, ITEMS * (ITEMS - 1) / 2);
    });
}

/// tokio has no asyncio-style queue: its nearest equivalent is a bounded
/// mpsc channel of the same capacity, used here.
pub fn queue_put_get_tokio<E: Exec>(rt: &E) {
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(CAPACITY);
        let producer = E::spawn(async move {
            for i in 0..ITEMS {
                tx.send(i).await.unwrap();
            }
        });
        let mut sum = 0usize;
        for _ in 0..ITEMS {
            sum += rx.recv().await.unwrap();
        }
        producer.await;
        assert_eq!(sum, ITEMS * (ITEMS - 1) / 2);
    });
}

/// Receivers in `broadcast_fanout`.
pub const FANOUT: usize = 100;
/// Messages in `broadcast_fanout`.
pub const BROADCASTS: usize = 1_000;

/// One sender, 100 receiver tasks, 1,000 messages (capacity 1,024, so no
/// receiver lags).
pub fn broadcast_fanout_eddy<E: Exec>(rt: &E) {
    rt.block_on(async {
        let (tx, _) = eddy_sync::broadcast::channel::<usize>(1_024);
        let handles = (0..FANOUT)
            .map(|_| {
                let mut rx = tx.subscribe();
                E::spawn(async move {
                    let mut n = 0;
                    while let Ok(v) = rx.recv().await {
                        std::hint::black_box(v);
                        n += 1;
                    }
                    assert_eq!(n, BROADCASTS);
                })
            })
            .collect();
        for i in 0..BROADCASTS {
            tx.send(i).unwrap();
            if i % 64 == 0 {
                E::yield_now().await;
            }
        }
        drop(tx);
        join_all(handles).await;
    });
}

/// tokio twin of [`broadcast_fanout_eddy`].
pub fn broadcast_fanout_tokio<E: Exec>(rt: &E) {
    rt.block_on(async {
        let (tx, _) = tokio::sync::broadcast::channel::<usize>(1_024);
        let handles = (0..FANOUT)
            .map(|_| {
                let mut rx = tx.subscribe();
                E::spawn(async move {
                    let mut n = 0;
                    while let Ok(v) = rx.recv().await {
                        std::hint::black_box(v);
                        n += 1;
                    }
                    assert_eq!(n, BROADCASTS);
                })
            })
            .collect();
        for i in 0..BROADCASTS {
            tx.send(i).unwrap();
            if i % 64 == 0 {
                E::yield_now().await;
            }
        }
        drop(tx);
        join_all(handles).await;
    });
}
