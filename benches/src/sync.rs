//! `compare` workloads for the sync area (eddy vs tokio).
//!
//! eddy-sync is runtime-agnostic, so both sides run on the same executor —
//! tokio's current-thread runtime — and only the primitive differs. In the
//! `_contended` workloads every task holds the lock/permit across a
//! `yield_now`, so the others really queue behind it and each unlock is a
//! hand-off to a waiter (without it, a single-threaded executor never
//! contends at all).

use std::sync::Arc;

use crate::{compare_ns, Plan, Workload};

/// The sync workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "mutex_contended",
            run: |q| Some(run_pair(q, mutex_contended_eddy, mutex_contended_tokio)),
        },
        Workload {
            name: "semaphore_contended",
            run: |q| {
                Some(run_pair(
                    q,
                    semaphore_contended_eddy,
                    semaphore_contended_tokio,
                ))
            },
        },
        Workload {
            name: "mpsc_bounded",
            run: |q| Some(run_pair(q, mpsc_bounded_eddy, mpsc_bounded_tokio)),
        },
        Workload {
            name: "oneshot_request_reply",
            run: |q| Some(run_pair(q, request_reply_eddy, request_reply_tokio)),
        },
        Workload {
            name: "queue_put_get",
            run: |q| Some(run_pair(q, queue_put_get_eddy, queue_put_get_tokio)),
        },
        Workload {
            name: "broadcast_fanout",
            run: |q| Some(run_pair(q, broadcast_fanout_eddy, broadcast_fanout_tokio)),
        },
    ]
}

fn run_pair(
    quick: bool,
    eddy: fn(&tokio::runtime::Runtime),
    tokio: fn(&tokio::runtime::Runtime),
) -> (f64, f64) {
    let rt = rt();
    compare_ns(Plan::new(quick), || eddy(&rt), || tokio(&rt))
}

/// The executor both sides run on: tokio's current-thread runtime.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Tasks in the contended workloads.
pub const TASKS: usize = 10;
/// Iterations per task in the contended workloads.
pub const ITERS: usize = 1_000;

async fn join_all(handles: Vec<tokio::task::JoinHandle<()>>) {
    for h in handles {
        h.await.unwrap();
    }
}

/// 10 tasks × 1,000 lock/unlock of one `eddy_sync::Mutex`, each holding it
/// across a yield.
pub fn mutex_contended_eddy(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let m = Arc::new(eddy_sync::Mutex::new(0usize));
        let handles = (0..TASKS)
            .map(|_| {
                let m = m.clone();
                tokio::spawn(async move {
                    for _ in 0..ITERS {
                        let mut g = m.lock().await;
                        *g += 1;
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        join_all(handles).await;
        assert_eq!(*m.lock().await, TASKS * ITERS);
    });
}

/// tokio twin of [`mutex_contended_eddy`].
pub fn mutex_contended_tokio(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let m = Arc::new(tokio::sync::Mutex::new(0usize));
        let handles = (0..TASKS)
            .map(|_| {
                let m = m.clone();
                tokio::spawn(async move {
                    for _ in 0..ITERS {
                        let mut g = m.lock().await;
                        *g += 1;
                        tokio::task::yield_now().await;
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
pub fn semaphore_contended_eddy(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let sem = Arc::new(eddy_sync::Semaphore::new(PERMITS));
        let handles = (0..TASKS)
            .map(|_| {
                let sem = sem.clone();
                tokio::spawn(async move {
                    for _ in 0..ITERS {
                        let _p = sem.acquire().await;
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        join_all(handles).await;
        assert_eq!(sem.available_permits(), PERMITS);
    });
}

/// tokio twin of [`semaphore_contended_eddy`].
pub fn semaphore_contended_tokio(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let sem = Arc::new(tokio::sync::Semaphore::new(PERMITS));
        let handles = (0..TASKS)
            .map(|_| {
                let sem = sem.clone();
                tokio::spawn(async move {
                    for _ in 0..ITERS {
                        let _p = sem.acquire().await.unwrap();
                        tokio::task::yield_now().await;
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
pub fn mpsc_bounded_eddy(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = eddy_sync::mpsc::channel(CAPACITY);
        for _ in 0..SENDERS {
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 0..MESSAGES {
                    tx.send(i).await.unwrap();
                }
            });
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
pub fn mpsc_bounded_tokio(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(CAPACITY);
        for _ in 0..SENDERS {
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 0..MESSAGES {
                    tx.send(i).await.unwrap();
                }
            });
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
pub fn request_reply_eddy(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let (tx, mut rx) =
            eddy_sync::mpsc::channel::<(usize, eddy_sync::oneshot::Sender<usize>)>(64);
        let server = tokio::spawn(async move {
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
        server.await.unwrap();
    });
}

/// tokio twin of [`request_reply_eddy`].
pub fn request_reply_tokio(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let (tx, mut rx) =
            tokio::sync::mpsc::channel::<(usize, tokio::sync::oneshot::Sender<usize>)>(64);
        let server = tokio::spawn(async move {
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
        server.await.unwrap();
    });
}

/// Items in `queue_put_get`.
pub const ITEMS: usize = 100_000;

/// 100,000 items from a producer task through a `Queue` (maxsize 1,024) to
/// a consumer.
pub fn queue_put_get_eddy(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let q = Arc::new(eddy_sync::Queue::new(CAPACITY));
        let producer = {
            let q = q.clone();
            tokio::spawn(async move {
                for i in 0..ITEMS {
                    q.put(i).await.unwrap();
                }
            })
        };
        let mut sum = 0usize;
        for _ in 0..ITEMS {
            sum += q.get().await.unwrap();
        }
        producer.await.unwrap();
        assert_eq!(sum, ITEMS * (ITEMS - 1) / 2);
    });
}

/// tokio has no asyncio-style queue: its nearest equivalent is a bounded
/// mpsc channel of the same capacity, used here.
pub fn queue_put_get_tokio(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(CAPACITY);
        let producer = tokio::spawn(async move {
            for i in 0..ITEMS {
                tx.send(i).await.unwrap();
            }
        });
        let mut sum = 0usize;
        for _ in 0..ITEMS {
            sum += rx.recv().await.unwrap();
        }
        producer.await.unwrap();
        assert_eq!(sum, ITEMS * (ITEMS - 1) / 2);
    });
}

/// Receivers in `broadcast_fanout`.
pub const FANOUT: usize = 100;
/// Messages in `broadcast_fanout`.
pub const BROADCASTS: usize = 1_000;

/// One sender, 100 receiver tasks, 1,000 messages (capacity 1,024, so no
/// receiver lags).
pub fn broadcast_fanout_eddy(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let (tx, _) = eddy_sync::broadcast::channel::<usize>(1_024);
        let handles = (0..FANOUT)
            .map(|_| {
                let mut rx = tx.subscribe();
                tokio::spawn(async move {
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
                tokio::task::yield_now().await;
            }
        }
        drop(tx);
        join_all(handles).await;
    });
}

/// tokio twin of [`broadcast_fanout_eddy`].
pub fn broadcast_fanout_tokio(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let (tx, _) = tokio::sync::broadcast::channel::<usize>(1_024);
        let handles = (0..FANOUT)
            .map(|_| {
                let mut rx = tx.subscribe();
                tokio::spawn(async move {
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
                tokio::task::yield_now().await;
            }
        }
        drop(tx);
        join_all(handles).await;
    });
}
