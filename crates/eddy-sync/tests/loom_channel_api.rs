//! Loom models of the channel API added for tokio users: mpsc permits
//! (reserve, a granted slot passed on, close and receiver drop racing a
//! permit, the prepaid credit slot racing a close and a send,
//! `reserve_many` racing a receiver, a close and its own drop), weak
//! senders upgrading as the last sender goes, and watch's
//! `Sender::closed`.
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug-assertions" LOOM_MAX_PREEMPTIONS=3 cargo test -p eddy-sync --release --test loom_channel_api`
#![cfg(loom)]

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use eddy_sync::{mpsc, watch};
use loom::future::block_on;
use loom::thread;

fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    f.poll(&mut Context::from_waker(&waker))
}

#[test]
fn mpsc_permit_dropped_unused_wakes_a_waiting_send() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let tx2 = tx.clone();
        let permit = tx.try_reserve().unwrap();
        // Waits for the slot the permit holds; a lost wakeup deadlocks.
        let t = thread::spawn(move || block_on(tx2.send(1)).unwrap());
        drop(permit);
        t.join().unwrap();
        drop(tx);
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), None);
    });
}

#[test]
fn mpsc_reserve_and_permit_send_race_recv() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let t = thread::spawn(move || {
            block_on(async {
                tx.reserve().await.unwrap().send(1);
                tx.reserve().await.unwrap().send(2);
            })
        });
        block_on(async {
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(rx.recv().await, Some(2));
            assert_eq!(rx.recv().await, None);
        });
        t.join().unwrap();
    });
}

#[test]
fn mpsc_slot_granted_to_a_dropped_reserve_goes_to_the_next_sender() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(1).unwrap();
        let mut first = Box::pin(tx.reserve());
        let mut second = Box::pin(tx.send(3));
        assert!(poll_once(first.as_mut()).is_pending());
        assert!(poll_once(second.as_mut()).is_pending());
        // The recv frees the slot and grants it to `first`, racing the
        // drop of `first` here.
        let t = thread::spawn(move || {
            assert_eq!(rx.try_recv(), Ok(1));
            rx
        });
        drop(first);
        let mut rx = t.join().unwrap();
        // Either way the slot ends with `second`.
        assert_eq!(poll_once(second.as_mut()), Poll::Ready(Ok(())));
        assert_eq!(rx.try_recv(), Ok(3));
        assert_eq!(tx.capacity(), 1);
    });
}

#[test]
fn mpsc_close_races_permits_sending_and_dropped() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(2);
        let used = tx.try_reserve().unwrap();
        let unused = tx.try_reserve().unwrap();
        // Close, then drain: the drain must see the permit's message and
        // end once the unused permit is gone (a lost wakeup deadlocks).
        let t = thread::spawn(move || {
            rx.close();
            block_on(async {
                let mut got = Vec::new();
                while let Some(v) = rx.recv().await {
                    got.push(v);
                }
                got
            })
        });
        used.send(1);
        drop(unused);
        assert_eq!(t.join().unwrap(), [1]);
        assert!(tx.try_reserve().is_err());
    });
}

#[test]
fn mpsc_waiting_reserve_races_close() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        tx.try_send(0).unwrap();
        let t = thread::spawn(move || {
            rx.close();
            rx
        });
        assert_eq!(block_on(tx.reserve()).unwrap_err(), mpsc::SendError(()));
        let mut rx = t.join().unwrap();
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Disconnected));
    });
}

#[test]
fn mpsc_reservation_taking_the_credit_races_close() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(3);
        // Leaves a prepaid slot (the credit) behind for the next reserve.
        let first = tx.try_reserve().unwrap();
        let t = thread::spawn(move || {
            rx.close();
            block_on(async {
                let mut got = Vec::new();
                while let Some(v) = rx.recv().await {
                    got.push(v);
                }
                got
            })
        });
        // Wins the credit before the close (its message must be drained)
        // or finds the channel closed; either way the drain ends (a
        // credit left counted after the close would keep it waiting).
        let second = tx.try_reserve();
        let won = second.is_ok();
        first.send(1);
        if let Ok(p) = second {
            p.send(2);
        }
        let expected: &[i32] = if won { &[1, 2] } else { &[1] };
        assert_eq!(t.join().unwrap(), expected);
        assert!(tx.try_reserve().is_err());
    });
}

#[test]
fn mpsc_last_slot_as_credit_goes_to_exactly_one_of_a_send_and_a_reserve() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(2);
        let tx2 = tx.clone();
        // One slot held, the other prepaid as the credit.
        let held = tx.try_reserve().unwrap();
        let t = thread::spawn(move || tx2.try_send(7).is_ok());
        let reserved = tx.try_reserve();
        let sent = t.join().unwrap();
        assert!(sent != reserved.is_ok(), "one slot, one winner");
        assert_eq!(tx.capacity(), 0);
        drop(reserved);
        drop(held);
        assert_eq!(rx.try_recv().ok(), sent.then_some(7));
        assert_eq!(tx.capacity(), 2);
    });
}

#[test]
fn mpsc_reserve_many_races_the_receiver_and_a_dropped_waiter() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(2);
        tx.try_send(0).unwrap();
        tx.try_send(1).unwrap();
        let mut many = Box::pin(tx.reserve_many(2));
        let mut send = Box::pin(tx.send(5));
        assert!(poll_once(many.as_mut()).is_pending());
        assert!(poll_once(send.as_mut()).is_pending());
        // The receiver frees both slots (each goes to `many`, first in
        // line) while `many` is dropped: whatever it had gathered or been
        // granted goes on to the send.
        let t = thread::spawn(move || {
            assert_eq!(rx.try_recv(), Ok(0));
            assert_eq!(rx.try_recv(), Ok(1));
            rx
        });
        drop(many);
        let mut rx = t.join().unwrap();
        assert_eq!(poll_once(send.as_mut()), Poll::Ready(Ok(())));
        assert_eq!(rx.try_recv(), Ok(5));
        assert_eq!(tx.capacity(), 2, "no slot lost");
    });
}

#[test]
fn mpsc_reserve_many_waiting_on_another_thread_gets_all_or_is_refused() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(2);
        tx.try_send(0).unwrap();
        let t = thread::spawn(move || {
            block_on(async {
                match tx.reserve_many(2).await {
                    Ok(permits) => {
                        assert_eq!(permits.len(), 2);
                        for (p, v) in permits.zip([1, 2]) {
                            p.send(v);
                        }
                        true
                    }
                    Err(_) => false,
                }
            })
        });
        // A recv frees the slot it waits for; a close may race it.
        assert_eq!(block_on(rx.recv()), Some(0));
        rx.close();
        let sent = t.join().unwrap();
        let rest: Vec<i32> = block_on(async {
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            got
        });
        assert_eq!(rest, if sent { vec![1, 2] } else { vec![] });
    });
}

/// Counts drops (plain std atomics: only read after the threads joined).
struct Counted<'a>(&'a AtomicUsize);
impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn mpsc_permit_send_races_receiver_drop() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    loom::model(|| {
        DROPS.store(0, Ordering::SeqCst);
        let (tx, rx) = mpsc::channel(1);
        let permit = tx.try_reserve().unwrap();
        let t = thread::spawn(move || drop(rx));
        permit.send(Counted(&DROPS));
        t.join().unwrap();
        // Stored and then dropped with the receiver's buffer, or dropped
        // at once: never kept in the channel.
        assert_eq!(DROPS.load(Ordering::SeqCst), 1);
        assert!(tx.is_closed());
    });
}

#[test]
fn mpsc_weak_upgrade_races_the_last_sender_drop() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel::<u8>(2);
        let weak = tx.downgrade();
        let t = thread::spawn(move || match weak.upgrade() {
            Some(tx) => {
                tx.try_send(1).unwrap();
                true
            }
            None => false,
        });
        drop(tx);
        let upgraded = t.join().unwrap();
        // Closed once every strong sender is gone, upgraded one included.
        assert_eq!(block_on(rx.recv()), upgraded.then_some(1));
        assert_eq!(block_on(rx.recv()), None);
    });
}

#[test]
fn watch_sender_closed_races_the_last_receiver_drop() {
    loom::model(|| {
        let (tx, rx) = watch::channel(0);
        let rx2 = rx.clone();
        let t = thread::spawn(move || drop(rx2));
        drop(rx);
        // Both receivers gone: `closed` must finish (a lost wakeup
        // deadlocks), and `is_closed` agrees.
        block_on(tx.closed());
        assert!(tx.is_closed());
        t.join().unwrap();
    });
}
