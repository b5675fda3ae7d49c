//! Wake-ups racing across OS threads (each under
//! `futures::executor::block_on`), with waits given up at random moments
//! (seeded, so a failure reproduces): `notify_waiters` against `Notified`
//! futures created before it, a barrier aborted while a round completes,
//! a watch sender dropped while receivers wait, mpsc `recv_many` and
//! `Sender::closed`. Every test runs under a hang guard: a lost wake-up
//! fails it instead of hanging the run.

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Context;
use std::thread;

use common::stress::{guarded, on_threads, within, Rng, YieldTimes, THREADS};
use eddy_sync::{mpsc, watch, Barrier, BrokenBarrier, Notify};
use futures::executor::block_on;
use futures::task::noop_waker_ref;

#[test]
fn notify_waiters_completes_every_notified_created_before_it() {
    // `round` goes up just before each notify_waiters call. A Notified
    // created before `round` read r0 predates the call that follows
    // r0 + 1; once `round` reaches r0 + 2 that call is over, so the
    // future — never polled until then — must be ready at its first poll.
    guarded(60, || {
        const CHECKS: usize = 300;
        let notify = Arc::new(Notify::new());
        let round = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..THREADS - 1)
            .map(|_| {
                let (notify, round, finished) = (notify.clone(), round.clone(), finished.clone());
                thread::spawn(move || {
                    for _ in 0..CHECKS {
                        let fut = notify.notified();
                        let r0 = round.load(Ordering::SeqCst);
                        while round.load(Ordering::SeqCst) < r0 + 2 {
                            thread::yield_now();
                        }
                        let ready = pin!(fut)
                            .poll(&mut Context::from_waker(noop_waker_ref()))
                            .is_ready();
                        assert!(ready, "a Notified created before notify_waiters missed it");
                    }
                    finished.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        // Meanwhile other tasks wait on it with random give-ups: a wait
        // that stays queued is woken by the next call.
        let waiter = {
            let (notify, finished) = (notify.clone(), finished.clone());
            thread::spawn(move || {
                let mut rng = Rng::new(11);
                block_on(async {
                    while finished.load(Ordering::SeqCst) < THREADS - 1 {
                        let _ = within(Box::pin(notify.notified()), rng.below(4)).await;
                    }
                })
            })
        };
        while finished.load(Ordering::SeqCst) < THREADS - 1 {
            round.fetch_add(1, Ordering::SeqCst);
            notify.notify_waiters();
            thread::yield_now();
        }
        for w in workers {
            w.join().unwrap();
        }
        waiter.join().unwrap();
    });
}

#[test]
fn a_barrier_round_either_passes_whole_or_breaks_whole_under_abort() {
    // THREADS - 1 tasks wait while the last one arrives on another thread
    // and the main thread aborts at a random moment. The round is decided
    // under the barrier's lock: every waiter of a round gets a distinct
    // index, or every one gets BrokenBarrier; never a mix, never a hang.
    guarded(60, || {
        let mut rng = Rng::new(21);
        for _ in 0..300 {
            let b = Arc::new(Barrier::new(THREADS));
            let tasks: Vec<_> = (0..THREADS)
                .map(|_| {
                    let b = b.clone();
                    thread::spawn(move || block_on(b.wait()))
                })
                .collect();
            block_on(YieldTimes(rng.below(3)));
            if rng.below(4) != 0 {
                b.abort();
            }
            let results: Vec<_> = tasks.into_iter().map(|t| t.join().unwrap()).collect();
            if results.iter().all(|r| r.is_ok()) {
                let mut indices: Vec<usize> = results.iter().map(|r| r.unwrap()).collect();
                indices.sort();
                assert_eq!(indices, (0..THREADS).collect::<Vec<_>>());
            } else {
                assert!(
                    results.iter().all(|r| *r == Err(BrokenBarrier)),
                    "a round both passed and broke: {results:?}"
                );
                assert!(b.is_broken());
            }
            assert_eq!(b.n_waiting(), 0);
        }
    });
}

#[test]
fn a_barrier_reset_from_another_thread_breaks_the_waiters_and_rearms_it() {
    guarded(60, || {
        let mut rng = Rng::new(31);
        for _ in 0..300 {
            let b = Arc::new(Barrier::new(THREADS + 1)); // never completes
            let tasks: Vec<_> = (0..THREADS)
                .map(|_| {
                    let b = b.clone();
                    thread::spawn(move || block_on(b.wait()))
                })
                .collect();
            block_on(YieldTimes(rng.below(3)));
            // Keep resetting until every task was broken out; a task that
            // arrives after a reset waits for the next one.
            let mut done = 0;
            let mut tasks: Vec<_> = tasks.into_iter().map(Some).collect();
            while done < THREADS {
                b.reset();
                for slot in tasks.iter_mut() {
                    if slot.as_ref().is_some_and(|t| t.is_finished()) {
                        let r = slot.take().unwrap().join().unwrap();
                        assert_eq!(r, Err(BrokenBarrier));
                        done += 1;
                    }
                }
                thread::yield_now();
            }
            assert!(!b.is_broken(), "reset leaves the barrier usable");
            assert_eq!(b.n_waiting(), 0);
        }
    });
}

#[test]
fn watch_receivers_giving_up_at_random_see_the_last_value_then_the_close() {
    guarded(60, || {
        const VALUES: usize = 2_000;
        let (tx, rx) = watch::channel(0usize);
        let receivers: Vec<_> = (0..THREADS - 1)
            .map(|t| {
                let mut rx = rx.clone();
                thread::spawn(move || {
                    let mut rng = Rng::new(t + 41);
                    block_on(async {
                        let mut last = 0;
                        loop {
                            match within(Box::pin(rx.changed()), rng.below(3)).await {
                                Some(Ok(())) => {
                                    let v = *rx.borrow_and_update();
                                    assert!(v > last, "changed() without a new value");
                                    last = v;
                                }
                                Some(Err(_)) => return last,
                                None => {}
                            }
                        }
                    })
                })
            })
            .collect();
        drop(rx);
        for i in 1..=VALUES {
            tx.send(i).unwrap();
            if i % 64 == 0 {
                thread::yield_now();
            }
        }
        drop(tx); // while receivers wait: each sees the end
        for r in receivers {
            assert_eq!(r.join().unwrap(), VALUES, "the last value was missed");
        }
    });
}

#[test]
fn mpsc_recv_many_given_up_at_random_loses_and_reorders_nothing() {
    guarded(60, || {
        const EACH: usize = 3_000;
        let (tx, mut rx) = mpsc::channel::<(usize, usize)>(8);
        let producers: Vec<_> = (0..THREADS - 1)
            .map(|p| {
                let tx = tx.clone();
                thread::spawn(move || {
                    block_on(async {
                        for i in 0..EACH {
                            tx.send((p, i)).await.unwrap();
                        }
                    })
                })
            })
            .collect();
        drop(tx);
        let mut rng = Rng::new(51);
        let mut next = vec![0; THREADS - 1];
        let mut buf = Vec::new();
        block_on(async {
            loop {
                let limit = 1 + rng.below(5) as usize;
                buf.clear();
                match within(Box::pin(rx.recv_many(&mut buf, limit)), rng.below(3)).await {
                    Some(0) => return,
                    Some(n) => assert!(n <= limit && n == buf.len()),
                    None => assert!(buf.is_empty(), "a given-up recv_many kept messages"),
                }
                for &(p, i) in &buf {
                    assert_eq!(i, next[p], "producer {p}: lost or out of order");
                    next[p] += 1;
                }
            }
        });
        for p in producers {
            p.join().unwrap();
        }
        assert_eq!(next, vec![EACH; THREADS - 1]);
    });
}

#[test]
fn mpsc_closed_waits_end_when_the_receiver_goes_either_way() {
    guarded(60, || {
        let mut rng = Rng::new(61);
        for round in 0..200 {
            let (tx, mut rx) = mpsc::channel::<u8>(1);
            let waiting: Vec<_> = (0..THREADS - 1)
                .map(|_| {
                    let tx = tx.clone();
                    thread::spawn(move || {
                        block_on(tx.closed());
                        assert!(tx.is_closed());
                    })
                })
                .collect();
            block_on(YieldTimes(rng.below(3)));
            if round % 2 == 0 {
                rx.close();
                assert!(rx.is_closed());
                assert_eq!(block_on(rx.recv()), None);
            } else {
                drop(rx);
            }
            for w in waiting {
                w.join().unwrap();
            }
            assert!(tx.is_closed());
        }
    });
}

#[test]
fn notify_one_from_many_threads_is_never_lost_with_waits_given_up() {
    // Each notify_one either wakes a waiter or leaves the (single) permit;
    // a given-up waiter passes a wake it got on. The consumer counts what
    // it takes; producers only notify again once their last one was taken,
    // so every notify must be consumed exactly once.
    guarded(60, || {
        const EACH: usize = 1_000;
        let notify = Arc::new(Notify::new());
        let taken = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let consumer = {
            let (notify, taken, stop) = (notify.clone(), taken.clone(), stop.clone());
            thread::spawn(move || {
                let mut rng = Rng::new(71);
                block_on(async {
                    while !stop.load(Ordering::SeqCst) {
                        if within(Box::pin(notify.notified()), rng.below(3))
                            .await
                            .is_some()
                        {
                            taken.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
        };
        let (n2, t2) = (notify.clone(), taken.clone());
        let lock = Arc::new(std::sync::Mutex::new(()));
        on_threads(move |_| {
            for _ in 0..EACH {
                // One notify outstanding at a time (permits do not stack).
                let _one = lock.lock().unwrap();
                let before = t2.load(Ordering::SeqCst);
                n2.notify_one();
                while t2.load(Ordering::SeqCst) == before {
                    thread::yield_now();
                }
            }
        });
        stop.store(true, Ordering::SeqCst);
        notify.notify_one(); // lets the consumer see `stop`
        consumer.join().unwrap();
        // Every notify taken once; the last one (for `stop`) maybe too.
        let taken = taken.load(Ordering::SeqCst);
        assert!(
            taken == THREADS * EACH || taken == THREADS * EACH + 1,
            "{taken}"
        );
    });
}
