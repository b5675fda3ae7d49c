//! Loom models of the queues and channels: hand-off, close and cancel
//! races.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p eddy-sync --release --test loom_channels`
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use eddy_sync::{broadcast, mpsc, oneshot, watch, Queue};
use loom::future::block_on;
use loom::thread;

fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    f.poll(&mut Context::from_waker(&waker))
}

#[test]
fn mpsc_bounded_backpressure() {
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let t = thread::spawn(move || {
            block_on(async {
                tx.send(1).await.unwrap();
                tx.send(2).await.unwrap();
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
fn mpsc_receiver_drop_wakes_blocked_sender() {
    loom::model(|| {
        let (tx, rx) = mpsc::channel(1);
        tx.try_send(0).unwrap();
        let t = thread::spawn(move || drop(rx));
        let r = block_on(tx.send(1));
        assert_eq!(r.unwrap_err().0, 1);
        t.join().unwrap();
    });
}

#[test]
fn queue_getter_cancel_races_put() {
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        let q2 = q.clone();
        let t = thread::spawn(move || q2.try_put(7).unwrap());
        let got = {
            let mut fut = pin!(q.get());
            match poll_once(fut.as_mut()) {
                Poll::Ready(v) => Some(v.unwrap()),
                Poll::Pending => None, // dropped: an item handed to it comes back
            }
        };
        t.join().unwrap();
        match got {
            Some(v) => assert_eq!(v, 7),
            None => assert_eq!(q.try_get(), Ok(7), "the item must not be lost"),
        }
    });
}

#[test]
fn queue_shutdown_wakes_getter() {
    loom::model(|| {
        let q = Arc::new(Queue::<u8>::new(0));
        let q2 = q.clone();
        let t = thread::spawn(move || q2.shutdown(false));
        assert!(block_on(q.get()).is_err());
        t.join().unwrap();
    });
}

#[test]
fn oneshot_send_and_drop_races() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel();
        let t = thread::spawn(move || tx.send(5).unwrap());
        assert_eq!(block_on(rx), Ok(5));
        t.join().unwrap();
    });
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<u8>();
        let t = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        t.join().unwrap();
    });
}

#[test]
fn broadcast_send_races_recv() {
    loom::model(|| {
        let (tx, mut rx) = broadcast::channel(2);
        let t = thread::spawn(move || {
            tx.send(1).unwrap();
        });
        assert_eq!(block_on(rx.recv()), Ok(1));
        assert!(block_on(rx.recv()).is_err(), "closed after the sender left");
        t.join().unwrap();
    });
}

#[test]
fn watch_send_races_changed() {
    loom::model(|| {
        let (tx, mut rx) = watch::channel(0);
        let t = thread::spawn(move || {
            tx.send(1).unwrap();
        });
        block_on(rx.changed()).unwrap();
        assert_eq!(*rx.borrow(), 1);
        t.join().unwrap();
    });
}

#[test]
fn watch_borrow_and_update_races_send() {
    // The value and its version live under two locks: a receiver must
    // never mark seen a version newer than the value it read (it would
    // miss that change). (Two borrows on one thread, which the value's
    // reader-biased lock allows, are not modelled: loom's RwLock counts
    // one read lock per thread.)
    loom::model(|| {
        let (tx, mut rx) = watch::channel(0);
        let t = thread::spawn(move || {
            tx.send(1).unwrap();
        });
        let read = *rx.borrow_and_update();
        t.join().unwrap();
        // The sender is gone: `changed` reports the send exactly when
        // `read` missed it.
        let changed = block_on(rx.changed()).is_ok();
        assert_eq!(changed, read == 0, "read {read}, changed {changed}");
        assert_eq!(*rx.borrow(), 1);
    });
}

#[test]
fn queue_putter_cancel_races_get() {
    loom::model(|| {
        let q = Arc::new(Queue::new(1));
        q.try_put(1).unwrap();
        let q2 = q.clone();
        let t = thread::spawn(move || assert_eq!(q2.try_get(), Ok(1)));
        let completed = {
            let mut fut = pin!(q.put(2));
            poll_once(fut.as_mut()).is_ready()
        }; // dropped: a put that did not complete was not made
        t.join().unwrap();
        // The 2 is stored exactly when its put completed; the slot the get
        // freed (and maybe reserved for the dropped putter) is free again.
        assert_eq!(q.len(), usize::from(completed));
        assert_eq!(q.unfinished_tasks(), q.len() + 1);
        assert_eq!(q.try_put(3).is_ok(), !completed);
    });
}

#[test]
fn queue_reserved_slot_of_a_dropped_putter_goes_to_the_next() {
    loom::model(|| {
        let q = Arc::new(Queue::new(1));
        q.try_put(1).unwrap();
        let mut first = Box::pin(q.put(2));
        let mut second = Box::pin(q.put(3));
        assert!(poll_once(first.as_mut()).is_pending());
        assert!(poll_once(second.as_mut()).is_pending());
        let q2 = q.clone();
        // The get frees the slot and reserves it for `first`, racing the
        // drop of `first` on this thread.
        let t = thread::spawn(move || assert_eq!(q2.try_get(), Ok(1)));
        drop(first);
        t.join().unwrap();
        // Either way the slot ends with `second`, and 2 was never put.
        assert_eq!(poll_once(second.as_mut()), Poll::Ready(Ok(())));
        assert_eq!(q.try_get(), Ok(3));
        assert!(q.is_empty());
    });
}

#[test]
fn queue_item_handed_to_a_dropped_getter_never_overfills() {
    loom::model(|| {
        let q = Arc::new(Queue::new(1));
        let mut getter = Box::pin(q.get());
        assert!(poll_once(getter.as_mut()).is_pending());
        let q2 = q.clone();
        let t = thread::spawn(move || q2.try_put(1).is_ok());
        let second = q.try_put(2).is_ok();
        drop(getter); // never ran: whatever it was handed goes back
        let first = t.join().unwrap();
        // One slot: the item handed to the getter counted toward it, so
        // exactly one put got in, and it is still there.
        assert!(first != second, "exactly one put fits");
        assert_eq!(q.len(), 1);
        assert_eq!(q.try_get(), Ok(if first { 1 } else { 2 }));
    });
}

#[test]
fn oneshot_send_races_close_and_closed_wait() {
    // send vs close: either the value is received, or send hands it back.
    loom::model(|| {
        let (tx, mut rx) = oneshot::channel::<u8>();
        let t = thread::spawn(move || tx.send(7));
        rx.close();
        let sent = t.join().unwrap();
        match rx.try_recv() {
            Ok(v) => assert_eq!((v, sent), (7, Ok(()))),
            Err(_) => assert_eq!(sent, Err(7)),
        }
    });
    // closed() waiting vs the receiver dropping: the sender is woken.
    loom::model(|| {
        let (mut tx, rx) = oneshot::channel::<u8>();
        let t = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert!(tx.is_closed());
        t.join().unwrap();
    });
}

#[test]
fn oneshot_receiver_moves_between_wakers() {
    // The receiver is polled with one waker, then awaited with another
    // while the value arrives: the second waker is not lost.
    loom::model(|| {
        let (tx, mut rx) = oneshot::channel::<u8>();
        let t = thread::spawn(move || tx.send(3).unwrap());
        let noop = std::task::Waker::noop();
        let first = std::pin::Pin::new(&mut rx).poll(&mut Context::from_waker(noop));
        let got = match first {
            Poll::Ready(v) => v,
            Poll::Pending => block_on(&mut rx),
        };
        assert_eq!(got, Ok(3));
        t.join().unwrap();
    });
}

#[test]
fn oneshot_receiver_awaited_after_close_races_a_refused_send() {
    // The receiver closes, then awaits (to take a value sent before the
    // close) while the sender's send fails on another thread: the await
    // ends whichever runs first (a refused send wakes nobody).
    loom::model(|| {
        let (tx, mut rx) = oneshot::channel::<u8>();
        rx.close();
        let t = thread::spawn(move || tx.send(1));
        assert_eq!(block_on(&mut rx), Err(oneshot::RecvError));
        assert_eq!(t.join().unwrap(), Err(1));
    });
}
