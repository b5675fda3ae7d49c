//! tokio::sync's behaviours, ported to eddy::sync: what a tokio user
//! relies on of Notify, Semaphore, RwLock, mpsc, oneshot, broadcast, watch
//! and Barrier, and of `select!` dropping the losing branch of each of
//! eddy's waits right after that branch was handed what it waited for.
//!
//! Names: tokio's `Semaphore::acquire` returns `Result` (for `close`);
//! eddy's returns the permit. tokio's `Barrier::wait` gives
//! `is_leader()`; eddy's gives the arrival index (the leader's is
//! `parties - 1`).

mod common;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use common::port::{guard, settle};
use eddy::sync::{
    broadcast, mpsc, oneshot, watch, Barrier, Condition, Event, Mutex, Notify, Queue, RwLock,
    Semaphore,
};
use futures::FutureExt;

/// tokio's `select!` drops the branch that lost. Here `wait` is handed
/// what it waits for by `hand` and, in the same step, a `go` signal
/// completes; the select (biased towards `go`) takes `go` and drops `wait`
/// with its hand-off. `hand` runs once `wait` is queued and every ready
/// task had its turn (so waiters spawned before are queued behind it).
async fn lose_after_handoff<W: Future>(wait: W, hand: impl FnOnce()) {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let waiter = async move {
        futures::select_biased! {
            _ = go_rx.fuse() => {},
            _ = wait.fuse() => panic!("the select took the handed-off branch"),
        }
    };
    let controller = async move {
        settle().await;
        hand();
        go_tx.send(()).unwrap();
    };
    guard("select", async { futures::join!(waiter, controller) }).await;
}

// ---- select! dropping a branch that was just handed something ----

#[test]
fn select_drops_mpsc_recv_after_a_message_arrived() {
    eddy::run(async {
        let (tx, mut rx) = mpsc::channel(4);
        lose_after_handoff(rx.recv(), || tx.try_send("kept").unwrap()).await;
        assert_eq!(rx.try_recv(), Ok("kept"));
    });
}

#[test]
fn select_drops_mutex_lock_after_it_was_handed_over() {
    eddy::run(async {
        let m = Rc::new(Mutex::new(Vec::new()));
        let held = m.lock().await;
        let next = {
            let m = m.clone();
            eddy::spawn(async move { m.lock().await.push("next waiter") })
        };
        lose_after_handoff(m.lock(), || drop(held)).await;
        guard("next waiter", next).await.unwrap();
        assert_eq!(*m.try_lock().unwrap(), ["next waiter"]);
    });
}

#[test]
fn select_drops_semaphore_acquire_many_holding_some_permits() {
    eddy::run(async {
        let sem = Rc::new(Semaphore::new(1));
        let next = {
            let sem = sem.clone();
            eddy::spawn(async move { sem.acquire().await.forget() })
        };
        // Three wanted, one free: set aside while waiting; two more arrive.
        lose_after_handoff(sem.acquire_many(3), || sem.add_permits(2)).await;
        guard("next waiter", next).await.unwrap();
        assert_eq!(sem.available_permits(), 2, "permits set aside were lost");
    });
}

#[test]
fn select_drops_notified_after_notify_one_picked_it() {
    eddy::run(async {
        let n = Rc::new(Notify::new());
        let next = {
            let n = n.clone();
            eddy::spawn(async move { n.notified().await })
        };
        lose_after_handoff(n.notified(), || n.notify_one()).await;
        guard("next waiter", next).await.unwrap();
    });
}

#[test]
fn select_drops_notified_with_nobody_behind_it_and_the_permit_is_kept() {
    eddy::run(async {
        let n = Notify::new();
        lose_after_handoff(n.notified(), || n.notify_one()).await;
        // tokio: the notification goes back to being a stored permit.
        guard("stored permit", n.notified()).await;
    });
}

#[test]
fn select_drops_oneshot_receiver_borrowed_mutably() {
    eddy::run(async {
        let (tx, mut rx) = oneshot::channel();
        lose_after_handoff(&mut rx, || tx.send(5).unwrap()).await;
        assert_eq!(rx.try_recv(), Ok(5));
    });
}

#[test]
fn select_drops_queue_get_after_an_item_was_handed_to_it() {
    eddy::run(async {
        let q = Rc::new(Queue::new(1));
        let next = {
            let q = q.clone();
            eddy::spawn(async move { q.get().await.unwrap() })
        };
        lose_after_handoff(q.get(), || q.try_put(9).unwrap()).await;
        assert_eq!(guard("next getter", next).await.unwrap(), 9);
        assert!(q.is_empty());
    });
}

#[test]
fn select_drops_event_wait_and_condition_wait() {
    eddy::run(async {
        let ev = Event::new();
        lose_after_handoff(ev.wait(), || ev.set()).await;
        assert!(ev.is_set());
        guard("set event", ev.wait()).await;

        let cond = Rc::new(Condition::new(0u32));
        let g = cond.lock().await;
        let next = {
            let cond = cond.clone();
            eddy::spawn(async move {
                let g = cond.lock().await;
                *cond.wait(g).await + 1
            })
        };
        lose_after_handoff(cond.wait(g), || cond.notify(1)).await;
        // The one notification went on to the other waiter.
        assert_eq!(guard("next waiter", next).await.unwrap(), 1);
        assert!(!cond.mutex().is_locked());
    });
}

#[test]
fn select_drops_broadcast_recv_and_watch_changed() {
    eddy::run(async {
        let (btx, mut brx) = broadcast::channel(4);
        lose_after_handoff(brx.recv(), || {
            btx.send(1).unwrap();
        })
        .await;
        assert_eq!(brx.try_recv(), Ok(1));

        let (wtx, mut wrx) = watch::channel(0);
        lose_after_handoff(wrx.changed(), || wtx.send(1).unwrap()).await;
        assert_eq!(wrx.has_changed(), Ok(true));
        assert_eq!(*wrx.borrow_and_update(), 1);
    });
}

#[test]
fn select_drops_a_write_lock_handed_over_and_readers_behind_it_get_in() {
    eddy::run(async {
        let lock = Rc::new(RwLock::new(0));
        let reading = lock.read().await;
        let reader = {
            let lock = lock.clone();
            eddy::spawn(async move { *lock.read().await })
        };
        lose_after_handoff(lock.write(), || drop(reading)).await;
        assert_eq!(guard("queued reader", reader).await.unwrap(), 0);
        assert!(lock.try_write().is_ok());
    });
}

// ---- Notify ----

#[test]
fn notify_one_stores_one_permit_and_notify_waiters_stores_none() {
    eddy::run(async {
        let n = Notify::new();
        n.notify_waiters(); // nobody waits: nothing is kept
        assert!(eddy::wait_for(n.notified(), Duration::from_millis(5))
            .await
            .is_err());
        n.notify_one();
        n.notify_one(); // permits do not stack
        guard("permit", n.notified()).await;
        assert!(eddy::wait_for(n.notified(), Duration::from_millis(5))
            .await
            .is_err());
    });
}

#[test]
fn notify_waiters_reaches_a_notified_created_before_it_but_not_polled() {
    // tokio documents this: notify_waiters counts every Notified future
    // that exists when it is called, polled or not.
    eddy::run(async {
        let n = Notify::new();
        let early = n.notified();
        n.notify_waiters();
        let late = n.notified();
        guard("early", early).await;
        assert!(eddy::wait_for(late, Duration::from_millis(5))
            .await
            .is_err());
    });
}

#[test]
fn notify_one_wakes_waiters_first_come_first_served() {
    eddy::run(async {
        let n = Rc::new(Notify::new());
        let order = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<_> = (0..3)
            .map(|i| {
                let (n, order) = (n.clone(), order.clone());
                eddy::spawn(async move {
                    n.notified().await;
                    order.borrow_mut().push(i);
                })
            })
            .collect();
        settle().await;
        for _ in 0..3 {
            n.notify_one();
            settle().await;
        }
        for t in tasks {
            guard("waiter", t).await.unwrap();
        }
        assert_eq!(*order.borrow(), [0, 1, 2]);
    });
}

// ---- Semaphore ----

#[test]
fn semaphore_acquire_many_is_served_in_order_and_not_starved() {
    // tokio's semaphore is fair: a waiting acquire_many(3) blocks later
    // acquire(1)s even when one permit is free.
    eddy::run(async {
        let sem = Rc::new(Semaphore::new(2));
        let held = sem.acquire().await;
        let order = Rc::new(RefCell::new(Vec::new()));
        let big = {
            let (sem, order) = (sem.clone(), order.clone());
            eddy::spawn(async move {
                let p = sem.acquire_many(3).await;
                order.borrow_mut().push("big");
                drop(p);
            })
        };
        settle().await;
        assert!(
            sem.try_acquire().is_err(),
            "a newcomer overtook the waiting acquire_many"
        );
        let small = {
            let (sem, order) = (sem.clone(), order.clone());
            eddy::spawn(async move {
                let _p = sem.acquire().await;
                order.borrow_mut().push("small");
            })
        };
        settle().await;
        assert!(order.borrow().is_empty());
        sem.add_permits(1); // 1 free + 1 held + 1 new = 3 once `held` goes
        drop(held);
        guard("big", big).await.unwrap();
        guard("small", small).await.unwrap();
        assert_eq!(*order.borrow(), ["big", "small"]);
        assert_eq!(sem.available_permits(), 3);
    });
}

#[test]
fn semaphore_zero_permit_acquires_succeed_at_once() {
    // tokio: acquire_many(0) and try_acquire_many(0) succeed at once.
    eddy::run(async {
        let sem = Semaphore::new(0);
        assert_eq!(
            guard("acquire_many(0)", sem.acquire_many(0))
                .await
                .num_permits(),
            0
        );
        assert!(sem.try_acquire_many(0).is_ok());
    });
}

#[test]
fn owned_permits_bound_the_tasks_running_at_once_and_forget_shrinks() {
    // tokio's "limit concurrency" recipe: acquire_owned, move the permit
    // into the task.
    eddy::run(async {
        let sem = Arc::new(Semaphore::new(2));
        let running = Rc::new(Cell::new(0));
        let peak = Rc::new(Cell::new(0));
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let permit = sem.clone().acquire_owned().await;
            let (running, peak) = (running.clone(), peak.clone());
            tasks.push(eddy::spawn(async move {
                running.set(running.get() + 1);
                peak.set(peak.get().max(running.get()));
                eddy::sleep(Duration::from_millis(1)).await;
                running.set(running.get() - 1);
                drop(permit);
            }));
        }
        for t in tasks {
            guard("worker", t).await.unwrap();
        }
        assert_eq!(peak.get(), 2);
        assert_eq!(sem.available_permits(), 2);
        sem.clone().try_acquire_owned().unwrap().forget();
        assert_eq!(sem.available_permits(), 1);
    });
}

// ---- RwLock ----

#[test]
fn rwlock_readers_queue_behind_a_waiting_writer() {
    // tokio's RwLock is fair (writer-preferring): once a writer waits, a
    // new reader waits too, and the writer goes before it.
    eddy::run(async {
        let lock = Rc::new(RwLock::new(0));
        let r1 = lock.read().await;
        let order = Rc::new(RefCell::new(Vec::new()));
        let writer = {
            let (lock, order) = (lock.clone(), order.clone());
            eddy::spawn(async move {
                *lock.write().await += 1;
                order.borrow_mut().push("writer");
            })
        };
        settle().await;
        assert!(
            lock.try_read().is_err(),
            "a reader overtook the waiting writer"
        );
        let reader = {
            let (lock, order) = (lock.clone(), order.clone());
            eddy::spawn(async move {
                let v = *lock.read().await;
                order.borrow_mut().push("reader");
                v
            })
        };
        settle().await;
        drop(r1);
        guard("writer", writer).await.unwrap();
        assert_eq!(guard("reader", reader).await.unwrap(), 1);
        assert_eq!(*order.borrow(), ["writer", "reader"]);
    });
}

#[test]
fn a_writer_that_gives_up_lets_the_readers_behind_it_share_the_lock() {
    // A timed-out writer at the head of the line must not leave the
    // readers queued behind it stuck while only readers hold the lock.
    eddy::run(async {
        let lock = Rc::new(RwLock::new("v"));
        let r1 = lock.read().await;
        let writer = {
            let lock = lock.clone();
            eddy::spawn(async move {
                eddy::wait_for(lock.write(), Duration::from_millis(5))
                    .await
                    .is_err()
            })
        };
        settle().await;
        let reader = {
            let lock = lock.clone();
            eddy::spawn(async move { *lock.read().await })
        };
        assert!(guard("writer", writer).await.unwrap(), "the writer got in");
        // r1 is still held: the queued reader shares the lock with it.
        assert_eq!(guard("reader", reader).await.unwrap(), "v");
        assert!(lock.try_read().is_ok());
        drop(r1);
    });
}

// ---- mpsc ----

#[test]
fn mpsc_try_send_full_and_closed_hand_the_value_back_and_capacity_counts() {
    eddy::run(async {
        let (tx, mut rx) = mpsc::channel(2);
        assert_eq!((tx.capacity(), tx.max_capacity()), (2, 2));
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        assert_eq!(tx.capacity(), 0);
        match tx.try_send(3) {
            Err(mpsc::TrySendError::Full(3)) => {}
            other => panic!("expected Full(3), got {other:?}"),
        }
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(tx.capacity(), 1);
        rx.close();
        match tx.try_send(4) {
            Err(e @ mpsc::TrySendError::Closed(_)) => assert_eq!(e.into_inner(), 4),
            other => panic!("expected Closed(4), got {other:?}"),
        }
        // After close, what was buffered is still received, then None.
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn mpsc_close_hands_waiting_senders_their_messages_back() {
    eddy::run(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send("buffered").await.unwrap();
        let blocked = {
            let tx = tx.clone();
            eddy::spawn(async move { tx.send("blocked").await.map_err(|e| e.0) })
        };
        settle().await;
        rx.close();
        assert_eq!(
            guard("blocked sender", blocked).await.unwrap(),
            Err("blocked")
        );
        assert!(tx.is_closed());
        guard("closed()", tx.closed()).await;
        assert_eq!(rx.recv().await, Some("buffered"));
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn dropping_the_receiver_drops_buffered_messages_at_once() {
    // tokio drops what is buffered when the receiver goes; senders learn
    // it through send errors and closed().
    eddy::run(async {
        let alive = Rc::new(());
        let (tx, rx) = mpsc::channel(4);
        let (utx, urx) = mpsc::unbounded_channel();
        for _ in 0..3 {
            tx.try_send(alive.clone()).unwrap();
            utx.send(alive.clone()).unwrap();
        }
        assert_eq!(Rc::strong_count(&alive), 7);
        let waiting = {
            let tx = tx.clone();
            eddy::spawn(async move { tx.closed().await })
        };
        settle().await;
        drop(rx);
        drop(urx);
        assert_eq!(
            Rc::strong_count(&alive),
            1,
            "buffered messages outlived the receiver"
        );
        guard("closed()", waiting).await.unwrap();
        assert!(tx.send(alive.clone()).await.is_err());
        assert!(utx.send(alive.clone()).is_err());
        assert_eq!(Rc::strong_count(&alive), 1);
    });
}

#[test]
fn mpsc_senders_gone_means_drain_then_none() {
    eddy::run(async {
        let (tx, mut rx) = mpsc::channel(8);
        for i in 0..5 {
            tx.send(i).await.unwrap();
        }
        let tx2 = tx.clone();
        drop(tx);
        assert!(!rx.is_closed(), "a sender is still alive");
        drop(tx2);
        let mut buf = Vec::new();
        assert_eq!(rx.recv_many(&mut buf, 3).await, 3);
        assert_eq!(rx.recv_many(&mut buf, 10).await, 2);
        assert_eq!(buf, [0, 1, 2, 3, 4]);
        assert_eq!(rx.recv_many(&mut buf, 10).await, 0);
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Disconnected));
    });
}

// ---- oneshot ----

#[test]
fn oneshot_closed_try_recv_and_a_dropped_sender() {
    eddy::run(async {
        // Sender::closed() fires when the receiver is dropped.
        let (mut tx, rx) = oneshot::channel::<u8>();
        let watcher = eddy::spawn(async move {
            tx.closed().await;
            tx.is_closed()
        });
        settle().await;
        drop(rx);
        assert!(guard("closed()", watcher).await.unwrap());

        // try_recv: Empty, then the value, then Closed.
        let (tx, mut rx) = oneshot::channel();
        assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Empty));
        tx.send(1).unwrap();
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));

        // A sender dropped without sending: the receiver gets RecvError.
        let (tx, rx) = oneshot::channel::<u8>();
        drop(tx);
        assert!(guard("dropped sender", rx).await.is_err());

        // close() keeps a value sent before it.
        let (tx, mut rx) = oneshot::channel();
        tx.send("early").unwrap();
        rx.close();
        assert_eq!(rx.await, Ok("early"));
    });
}

// ---- broadcast ----

#[test]
fn broadcast_lagging_receiver_skips_to_the_oldest_kept_message() {
    // tokio rounds the capacity up to a power of two; eddy keeps exactly
    // `capacity` messages.
    eddy::run(async {
        let (tx, mut slow) = broadcast::channel(3);
        let mut fast = tx.subscribe();
        for i in 0..5 {
            assert_eq!(tx.send(i).unwrap(), 2);
            assert_eq!(fast.recv().await, Ok(i));
        }
        assert_eq!(slow.len(), 3);
        assert_eq!(slow.recv().await, Err(broadcast::RecvError::Lagged(2)));
        assert_eq!(slow.recv().await, Ok(2));
        assert_eq!(slow.recv().await, Ok(3));
        assert_eq!(slow.recv().await, Ok(4));
        assert_eq!(slow.try_recv(), Err(broadcast::TryRecvError::Empty));
    });
}

#[test]
fn broadcast_subscribe_and_resubscribe_see_only_what_comes_next() {
    eddy::run(async {
        let (tx, mut rx) = broadcast::channel(8);
        tx.send("old").unwrap();
        let mut sub = tx.subscribe();
        let mut re = rx.resubscribe();
        tx.send("new").unwrap();
        assert_eq!(sub.recv().await, Ok("new"));
        assert_eq!(re.recv().await, Ok("new"));
        assert_eq!(rx.recv().await, Ok("old"));
        // Every sender gone: buffered messages first, then Closed.
        drop(tx);
        assert_eq!(rx.recv().await, Ok("new"));
        assert_eq!(rx.recv().await, Err(broadcast::RecvError::Closed));
        assert_eq!(sub.recv().await, Err(broadcast::RecvError::Closed));
    });
}

#[test]
fn broadcast_send_with_no_receiver_is_an_error_until_someone_subscribes() {
    eddy::run(async {
        let (tx, rx) = broadcast::channel(2);
        drop(rx);
        assert_eq!(tx.send(1).unwrap_err().0, 1);
        assert_eq!(tx.receiver_count(), 0);
        let mut rx = tx.subscribe();
        assert_eq!(tx.send(2).unwrap(), 1);
        assert_eq!(rx.recv().await, Ok(2));
    });
}

// ---- watch ----

#[test]
fn watch_changed_borrow_and_update_and_the_initial_value() {
    eddy::run(async {
        let (tx, mut rx) = watch::channel("init");
        // The initial value counts as seen, as in tokio.
        assert_eq!(rx.has_changed(), Ok(false));
        tx.send("a").unwrap();
        tx.send("b").unwrap();
        // changed() reports once for any number of sends, and marks seen.
        guard("changed", rx.changed()).await.unwrap();
        assert_eq!(*rx.borrow(), "b");
        assert_eq!(rx.has_changed(), Ok(false));
        // borrow() does not mark seen; borrow_and_update() does.
        tx.send("c").unwrap();
        assert_eq!(*rx.borrow(), "c");
        assert_eq!(rx.has_changed(), Ok(true));
        assert_eq!(*rx.borrow_and_update(), "c");
        assert_eq!(rx.has_changed(), Ok(false));
        // A subscriber starts with the current value as seen.
        let sub = tx.subscribe();
        assert_eq!((sub.has_changed(), *sub.borrow()), (Ok(false), "c"));
    });
}

#[test]
fn watch_sender_dropped_delivers_the_last_change_then_errors() {
    eddy::run(async {
        let (tx, mut rx) = watch::channel(0);
        let waiting = {
            let mut rx = rx.clone();
            eddy::spawn(async move { rx.changed().await })
        };
        settle().await;
        tx.send(1).unwrap();
        drop(tx);
        assert_eq!(guard("waiter", waiting).await.unwrap(), Ok(()));
        // The unseen change is still reported before the error.
        assert_eq!(rx.changed().await, Ok(()));
        assert_eq!(*rx.borrow(), 1);
        assert!(rx.changed().await.is_err());
        assert!(rx.has_changed().is_err());
    });
}

#[test]
fn watch_send_without_receivers_keeps_the_old_value_but_send_replace_stores() {
    eddy::run(async {
        let (tx, rx) = watch::channel(1);
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send(2).unwrap_err().0, 2);
        assert_eq!(*tx.borrow(), 1);
        assert_eq!(tx.send_replace(3), 1);
        assert_eq!(*tx.subscribe().borrow(), 3);
    });
}

#[test]
fn watch_borrows_of_one_channel_can_be_held_together() {
    // tokio's borrows are read locks: several may be alive at once on one
    // thread (comparing two receivers, or a receiver and the sender).
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (tx, rx) = watch::channel(5);
        let rx2 = rx.clone();
        let a = rx.borrow();
        let b = rx2.borrow();
        let c = tx.borrow();
        let _ = done_tx.send(*a + *b + *c);
    });
    let sum = done_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("hung: two watch borrows alive at once deadlock");
    assert_eq!(sum, 15);
}

#[test]
fn watch_wait_for_checks_the_current_value_then_each_change() {
    // tokio's wait_for: a value that already matches returns at once; else
    // each new value is checked; a gone sender is an error unless its last
    // value matches.
    fn assert_send<F: Send>(f: F) -> F {
        f
    }
    eddy::run(async {
        let (tx, mut rx) = watch::channel(5);
        assert_eq!(
            *guard("at once", rx.wait_for(|v| *v == 5)).await.unwrap(),
            5
        );
        let waiter = {
            let mut rx = rx.clone();
            let wait = assert_send(async move { *rx.wait_for(|v| v % 10 == 0).await.unwrap() });
            eddy::spawn(wait)
        };
        settle().await;
        for v in [6, 7, 20, 21] {
            tx.send(v).unwrap();
            settle().await;
        }
        assert_eq!(guard("waiter", waiter).await.unwrap(), 20);
        // Every value shown to the predicate counts as seen.
        assert_eq!(*rx.wait_for(|v| *v > 20).await.unwrap(), 21);
        assert_eq!(rx.has_changed(), Ok(false));
        tx.send(30).unwrap();
        drop(tx);
        assert_eq!(*rx.wait_for(|v| *v == 30).await.unwrap(), 30);
        assert!(rx.wait_for(|v| *v == 31).await.is_err());
    });
}

#[test]
fn watch_send_if_modified_wakes_receivers_only_for_a_change() {
    eddy::run(async {
        let (tx, mut rx) = watch::channel(vec![1]);
        let woke = Rc::new(Cell::new(0));
        let waiter = {
            let (mut rx, woke) = (rx.clone(), woke.clone());
            eddy::spawn(async move {
                while rx.changed().await.is_ok() {
                    woke.set(woke.get() + 1);
                }
            })
        };
        settle().await;
        assert!(!tx.send_if_modified(|v| {
            if v.contains(&1) {
                return false; // already there: no change
            }
            v.push(1);
            true
        }));
        settle().await;
        assert_eq!((woke.get(), rx.has_changed()), (0, Ok(false)));
        assert!(tx.send_if_modified(|v| {
            v.push(2);
            true
        }));
        settle().await;
        assert_eq!(woke.get(), 1);
        assert_eq!(*rx.borrow_and_update(), [1, 2]);
        drop(tx);
        guard("waiter", waiter).await.unwrap();
    });
}

// ---- Barrier ----

#[test]
fn barrier_has_exactly_one_leader_per_round() {
    // tokio: exactly one waiter per round gets is_leader(); eddy: the one
    // whose index is parties - 1.
    eddy::run(async {
        let barrier = Rc::new(Barrier::new(3));
        let leaders = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let (barrier, leaders) = (barrier.clone(), leaders.clone());
                eddy::spawn(async move {
                    for _ in 0..4 {
                        let idx = barrier.wait().await.unwrap();
                        if idx == barrier.parties() - 1 {
                            leaders.set(leaders.get() + 1);
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            guard("party", t).await.unwrap();
        }
        assert_eq!(leaders.get(), 4);
        assert_eq!(barrier.n_waiting(), 0);
    });
}
