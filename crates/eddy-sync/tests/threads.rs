//! Every primitive used from 4 OS threads at once, each running
//! `futures::executor::block_on` (which parks the thread until woken): a
//! lost wakeup would hang the test, a lost permit/item would break a count.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use common::stress::{on_threads, THREADS};
use eddy_sync::{
    broadcast, mpsc, oneshot, watch, Barrier, Condition, Event, Mutex, Notify, Queue, RwLock,
    Semaphore,
};
use futures::executor::block_on;

#[test]
fn mutex_from_4_threads() {
    let m = Arc::new(Mutex::new(0usize));
    let m2 = m.clone();
    on_threads(move |_| {
        block_on(async {
            for _ in 0..2_000 {
                *m2.lock().await += 1;
            }
        })
    });
    assert_eq!(*m.try_lock().unwrap(), THREADS * 2_000);
}

#[test]
fn rwlock_from_4_threads() {
    let l = Arc::new(RwLock::new(0usize));
    let l2 = l.clone();
    on_threads(move |i| {
        block_on(async {
            for _ in 0..1_000 {
                if i % 2 == 0 {
                    *l2.write().await += 1;
                } else {
                    let v = *l2.read().await;
                    assert!(v <= 2 * 1_000);
                }
            }
        })
    });
    assert_eq!(*l.try_read().unwrap(), 2 * 1_000);
}

#[test]
fn semaphore_from_4_threads_never_exceeds_permits() {
    let sem = Arc::new(Semaphore::new(2));
    let inside = Arc::new(AtomicUsize::new(0));
    let (s2, in2) = (sem.clone(), inside.clone());
    on_threads(move |_| {
        block_on(async {
            for _ in 0..1_000 {
                let _p = s2.acquire().await;
                let now = in2.fetch_add(1, Ordering::SeqCst) + 1;
                assert!(now <= 2, "{now} holders of 2 permits");
                in2.fetch_sub(1, Ordering::SeqCst);
            }
        })
    });
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn event_and_notify_from_4_threads() {
    for _ in 0..20 {
        let ev = Arc::new(Event::new());
        let ev2 = ev.clone();
        let t = thread::spawn(move || ev2.set());
        let ev3 = ev.clone();
        on_threads(move |_| block_on(ev3.wait()));
        t.join().unwrap();
    }

    // Ping-pong: every notify_one must reach its waiter (stored as a permit
    // if the waiter is not there yet).
    let ping = Arc::new(Notify::new());
    let pong = Arc::new(Notify::new());
    let (pi, po) = (ping.clone(), pong.clone());
    let t = thread::spawn(move || {
        block_on(async {
            for _ in 0..1_000 {
                pi.notified().await;
                po.notify_one();
            }
        })
    });
    block_on(async {
        for _ in 0..1_000 {
            ping.notify_one();
            pong.notified().await;
        }
    });
    t.join().unwrap();
}

#[test]
fn condition_from_4_threads() {
    // A counter handed around: thread i waits for value % 4 == i.
    let cond = Arc::new(Condition::new(0usize));
    let c2 = cond.clone();
    on_threads(move |i| {
        block_on(async {
            for _ in 0..200 {
                let mut g = c2.wait_for(c2.lock().await, |v| *v % THREADS == i).await;
                *g += 1;
                c2.notify_all();
            }
        })
    });
    assert_eq!(*cond.mutex().try_lock().unwrap(), THREADS * 200);
}

#[test]
fn barrier_from_4_threads() {
    let b = Arc::new(Barrier::new(THREADS));
    let hits = Arc::new(
        (0..THREADS)
            .map(|_| AtomicUsize::new(0))
            .collect::<Vec<_>>(),
    );
    let (b2, h2) = (b.clone(), hits.clone());
    on_threads(move |_| {
        block_on(async {
            for _ in 0..200 {
                let idx = b2.wait().await.unwrap();
                h2[idx].fetch_add(1, Ordering::SeqCst);
            }
        })
    });
    // Each round hands out every index exactly once.
    for h in hits.iter() {
        assert_eq!(h.load(Ordering::SeqCst), 200);
    }
}

#[test]
fn queue_from_4_threads_with_join() {
    let q = Arc::new(Queue::new(8));
    let sum = Arc::new(AtomicUsize::new(0));
    let (q2, s2) = (q.clone(), sum.clone());
    on_threads(move |i| {
        block_on(async {
            if i < 2 {
                for x in 0..5_000 {
                    q2.put(x).await.unwrap();
                }
            } else {
                for _ in 0..5_000 {
                    let x = q2.get().await.unwrap();
                    s2.fetch_add(x, Ordering::SeqCst);
                    q2.task_done().unwrap();
                }
            }
        })
    });
    block_on(q.join());
    assert_eq!(sum.load(Ordering::SeqCst), 2 * (5_000 * 4_999 / 2));
}

#[test]
fn mpsc_and_oneshot_from_4_threads() {
    let (tx, mut rx) = mpsc::channel::<(usize, oneshot::Sender<usize>)>(4);
    let server = thread::spawn(move || {
        block_on(async {
            let mut served = 0;
            while let Some((x, reply)) = rx.recv().await {
                reply.send(x * 2).unwrap();
                served += 1;
            }
            served
        })
    });
    let tx = Arc::new(std::sync::Mutex::new(Some(tx)));
    let tx2 = tx.clone();
    on_threads(move |i| {
        let tx = tx2.lock().unwrap().as_ref().unwrap().clone();
        block_on(async {
            for k in 0..500 {
                let (otx, orx) = oneshot::channel();
                tx.send((i * 1_000 + k, otx)).await.unwrap();
                assert_eq!(orx.await.unwrap(), (i * 1_000 + k) * 2);
            }
        })
    });
    drop(tx.lock().unwrap().take());
    assert_eq!(server.join().unwrap(), THREADS * 500);
}

#[test]
fn broadcast_and_watch_from_4_threads() {
    let (tx, rx) = broadcast::channel::<usize>(2_048);
    let rxs: Vec<_> = (0..THREADS).map(|_| rx.resubscribe()).collect();
    drop(rx);
    let rxs = Arc::new(std::sync::Mutex::new(rxs));
    let sender = thread::spawn(move || {
        for i in 0..1_000 {
            tx.send(i).unwrap();
        }
    });
    on_threads(move |_| {
        let mut rx = rxs.lock().unwrap().pop().unwrap();
        block_on(async {
            let mut expect = 0;
            while let Ok(v) = rx.recv().await {
                assert_eq!(v, expect);
                expect += 1;
            }
            assert_eq!(expect, 1_000);
        })
    });
    sender.join().unwrap();

    let (wtx, wrx) = watch::channel(0usize);
    let writer = thread::spawn(move || {
        for i in 1..=500 {
            wtx.send(i).unwrap();
        }
    });
    on_threads(move |_| {
        let mut rx = wrx.clone();
        block_on(async {
            let mut last = 0;
            while rx.changed().await.is_ok() {
                let v = *rx.borrow_and_update();
                assert!(v >= last, "watch went back in time");
                last = v;
            }
            assert_eq!(*rx.borrow(), 500, "the latest value is seen");
        })
    });
    writer.join().unwrap();
}
