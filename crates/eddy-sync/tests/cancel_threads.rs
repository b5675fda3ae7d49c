//! Cancellation racing hand-offs across OS threads: 4 threads, each under
//! `futures::executor::block_on`, give up on waits at random moments — while
//! still queued, or just after another thread served them. Whatever a
//! dropped waiter was handed (permits, the lock, an item, a message) must
//! reach someone else: the counts at the end say nothing was lost, and a
//! lost wake-up would hang the test.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use common::stress::{on_threads, within, Rng, YieldTimes, THREADS};
use eddy_sync::{broadcast, mpsc, Condition, Mutex, Notify, Queue, RwLock, Semaphore};
use futures::executor::block_on;

#[test]
fn semaphore_acquire_many_given_up_at_random_loses_no_permit() {
    const PERMITS: usize = 5;
    let sem = Arc::new(Semaphore::new(PERMITS));
    let held = Arc::new(AtomicUsize::new(0));
    let (s, h) = (sem.clone(), held.clone());
    on_threads(move |t| {
        let mut rng = Rng::new(t);
        block_on(async {
            for _ in 0..3_000 {
                let n = 1 + rng.below(3) as usize;
                let patience = rng.below(4);
                if let Some(permit) = within(Box::pin(s.acquire_many(n)), patience).await {
                    let now = h.fetch_add(n, Ordering::SeqCst) + n;
                    assert!(now <= PERMITS, "{now} permits held out of {PERMITS}");
                    YieldTimes(rng.below(2)).await;
                    h.fetch_sub(n, Ordering::SeqCst);
                    drop(permit);
                }
            }
        })
    });
    assert_eq!(sem.available_permits(), PERMITS);
    // Still FIFO and whole: all five can be taken at once.
    assert!(sem.try_acquire_many(PERMITS).is_ok());
}

#[test]
fn mutex_lock_given_up_at_random_loses_no_hand_off() {
    let m = Arc::new(Mutex::new(0usize));
    let done = Arc::new(AtomicUsize::new(0));
    let (m2, d2) = (m.clone(), done.clone());
    on_threads(move |t| {
        let mut rng = Rng::new(t + 100);
        block_on(async {
            for _ in 0..3_000 {
                let patience = rng.below(3);
                if let Some(mut g) = within(Box::pin(m2.lock()), patience).await {
                    *g += 1;
                    d2.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    });
    // The lock is free (a lost hand-off would leave it held by nobody) and
    // every completed lock counted exactly once.
    let g = m.try_lock().expect("the lock ends up free");
    assert_eq!(*g, done.load(Ordering::SeqCst));
}

#[test]
fn queue_get_given_up_at_random_loses_no_item() {
    const ITEMS: usize = 4_000;
    let q = Arc::new(Queue::new(8));
    let got = Arc::new(AtomicUsize::new(0));
    let sum = Arc::new(AtomicUsize::new(0));
    let (q2, g2, s2) = (q.clone(), got.clone(), sum.clone());
    on_threads(move |t| {
        let mut rng = Rng::new(t + 200);
        block_on(async {
            if t == 0 {
                // The producer: every put waits for room, never gives up.
                for i in 1..=ITEMS {
                    q2.put(i).await.unwrap();
                    // Items handed to consumers that then gave up come back,
                    // but never overfill the queue.
                    assert!(q2.len() <= 8, "{} items in a queue of 8", q2.len());
                }
                q2.shutdown(false);
            } else {
                // Consumers give up on half their gets at random moments.
                loop {
                    let patience = rng.below(4);
                    match within(Box::pin(q2.get()), patience).await {
                        Some(Ok(item)) => {
                            g2.fetch_add(1, Ordering::SeqCst);
                            s2.fetch_add(item, Ordering::SeqCst);
                        }
                        Some(Err(_)) => return, // shut down and drained
                        None => {}
                    }
                }
            }
        })
    });
    assert_eq!(got.load(Ordering::SeqCst), ITEMS, "items lost or doubled");
    assert_eq!(sum.load(Ordering::SeqCst), ITEMS * (ITEMS + 1) / 2);
    assert!(q.is_empty());
}

#[test]
fn bounded_mpsc_send_given_up_at_random_delivers_exactly_what_it_says() {
    let (tx, mut rx) = mpsc::channel::<usize>(4);
    let sent = Arc::new(AtomicUsize::new(0));
    let s2 = sent.clone();
    let producers: Vec<_> = (0..THREADS - 1)
        .map(|t| {
            let tx = tx.clone();
            let sent = s2.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(t + 300);
                block_on(async {
                    for i in 0..2_000 {
                        let patience = rng.below(3);
                        // A send that is given up did not deliver its value.
                        if let Some(r) = within(Box::pin(tx.send(i)), patience).await {
                            r.unwrap();
                            sent.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
        })
        .collect();
    drop(tx);
    let received = block_on(async {
        let mut n = 0;
        while rx.recv().await.is_some() {
            n += 1;
        }
        n
    });
    for p in producers {
        p.join().unwrap();
    }
    assert_eq!(received, sent.load(Ordering::SeqCst));
}

#[test]
fn rwlock_waits_given_up_at_random_keep_exclusion_and_free_the_lock() {
    let l = Arc::new(RwLock::new(0usize));
    let readers = Arc::new(AtomicUsize::new(0));
    let writes = Arc::new(AtomicUsize::new(0));
    let (l2, r2, w2) = (l.clone(), readers.clone(), writes.clone());
    on_threads(move |t| {
        let mut rng = Rng::new(t + 400);
        block_on(async {
            for _ in 0..2_000 {
                let patience = rng.below(3);
                if t % 2 == 0 {
                    if let Some(mut g) = within(Box::pin(l2.write()), patience).await {
                        assert_eq!(r2.load(Ordering::SeqCst), 0, "a writer beside readers");
                        *g += 1;
                        w2.fetch_add(1, Ordering::SeqCst);
                    }
                } else if let Some(g) = within(Box::pin(l2.read()), patience).await {
                    r2.fetch_add(1, Ordering::SeqCst);
                    assert!(*g <= w2.load(Ordering::SeqCst));
                    YieldTimes(rng.below(2)).await;
                    r2.fetch_sub(1, Ordering::SeqCst);
                }
            }
        })
    });
    let g = l.try_write().expect("the lock ends up free");
    assert_eq!(*g, writes.load(Ordering::SeqCst));
}

#[test]
fn queue_put_given_up_at_random_puts_exactly_the_completed_items() {
    let q = Arc::new(Queue::new(4));
    let completed = Arc::new(AtomicUsize::new(0));
    let (q2, c2) = (q.clone(), completed.clone());
    let consumer = {
        let q = q.clone();
        thread::spawn(move || {
            block_on(async {
                let mut n = 0usize;
                while q.get().await.is_ok() {
                    n += 1;
                }
                n
            })
        })
    };
    on_threads(move |t| {
        let mut rng = Rng::new(t + 500);
        block_on(async {
            for i in 0..2_000 {
                let patience = rng.below(3);
                if let Some(r) = within(Box::pin(q2.put(i)), patience).await {
                    r.unwrap();
                    c2.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    });
    q.shutdown(false);
    assert_eq!(consumer.join().unwrap(), completed.load(Ordering::SeqCst));
}

#[test]
fn mpsc_recv_given_up_at_random_loses_no_message() {
    const EACH: usize = 3_000;
    let (tx, mut rx) = mpsc::channel::<usize>(8);
    let producers: Vec<_> = (0..THREADS - 1)
        .map(|_| {
            let tx = tx.clone();
            thread::spawn(move || {
                block_on(async {
                    for i in 0..EACH {
                        tx.send(i).await.unwrap();
                    }
                })
            })
        })
        .collect();
    drop(tx);
    let mut rng = Rng::new(600);
    let received = block_on(async {
        let mut n = 0;
        loop {
            match within(Box::pin(rx.recv()), rng.below(3)).await {
                Some(Some(_)) => n += 1,
                Some(None) => return n,
                None => {}
            }
        }
    });
    for p in producers {
        p.join().unwrap();
    }
    assert_eq!(received, (THREADS - 1) * EACH);
}

#[test]
fn broadcast_recv_given_up_at_random_sees_every_message_in_order() {
    const MESSAGES: usize = 2_000;
    let (tx, _) = broadcast::channel::<usize>(MESSAGES);
    let receivers: Vec<_> = (0..THREADS - 1)
        .map(|t| {
            let mut rx = tx.subscribe();
            thread::spawn(move || {
                let mut rng = Rng::new(t + 700);
                block_on(async {
                    let mut next = 0;
                    loop {
                        match within(Box::pin(rx.recv()), rng.below(3)).await {
                            Some(Ok(v)) => {
                                assert_eq!(v, next, "out of order or skipped");
                                next += 1;
                            }
                            Some(Err(broadcast::RecvError::Closed)) => return next,
                            Some(Err(e)) => panic!("{e}"),
                            None => {}
                        }
                    }
                })
            })
        })
        .collect();
    for i in 0..MESSAGES {
        tx.send(i).unwrap();
        if i % 64 == 0 {
            thread::yield_now();
        }
    }
    drop(tx);
    for r in receivers {
        assert_eq!(r.join().unwrap(), MESSAGES);
    }
}

#[test]
fn condition_waits_given_up_at_random_lose_no_notification() {
    const ITEMS: usize = 3_000;
    // (items ready, producer finished)
    let cond = Arc::new(Condition::new((0usize, false)));
    let consumed = Arc::new(AtomicUsize::new(0));
    let consumers: Vec<_> = (0..THREADS - 1)
        .map(|t| {
            let (cond, consumed) = (cond.clone(), consumed.clone());
            thread::spawn(move || {
                let mut rng = Rng::new(t + 800);
                block_on(async {
                    loop {
                        let guard = cond.lock().await;
                        let wait = cond.wait_for(guard, |s| s.0 > 0 || s.1);
                        // Given up: the lock and any notification pass on;
                        // take the lock again and re-check.
                        let Some(mut g) = within(Box::pin(wait), rng.below(4)).await else {
                            continue;
                        };
                        if g.0 > 0 {
                            g.0 -= 1;
                            consumed.fetch_add(1, Ordering::SeqCst);
                        } else {
                            return; // finished and drained
                        }
                    }
                })
            })
        })
        .collect();
    block_on(async {
        for i in 0..ITEMS {
            cond.lock().await.0 += 1;
            cond.notify(1);
            if i % 16 == 0 {
                YieldTimes(1).await;
            }
        }
        cond.lock().await.1 = true;
        cond.notify_all();
    });
    for c in consumers {
        c.join().unwrap();
    }
    assert_eq!(consumed.load(Ordering::SeqCst), ITEMS);
    assert!(cond.mutex().try_lock().is_ok(), "the lock ends up free");
}

#[test]
fn notify_one_ping_pong_with_waits_given_up_at_random_never_stalls() {
    const ROUNDS: usize = 2_000;
    let ping = Arc::new(Notify::new());
    let pong = Arc::new(Notify::new());
    let (ping2, pong2) = (ping.clone(), pong.clone());
    let other = thread::spawn(move || {
        let mut rng = Rng::new(900);
        block_on(async {
            for _ in 0..ROUNDS {
                // A notify_one that found this waiter gone is kept for the
                // next wait: retrying must always get it.
                while within(Box::pin(ping2.notified()), rng.below(3))
                    .await
                    .is_none()
                {}
                pong2.notify_one();
            }
        })
    });
    let mut rng = Rng::new(901);
    block_on(async {
        for _ in 0..ROUNDS {
            ping.notify_one();
            while within(Box::pin(pong.notified()), rng.below(3))
                .await
                .is_none()
            {}
        }
    });
    other.join().unwrap();
}
