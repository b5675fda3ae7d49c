//! oneshot, mpsc, broadcast, watch.

mod common;

use common::Manual;
use eddy_sync::{broadcast, mpsc, oneshot, watch};
use futures::executor::block_on;
use futures::StreamExt;

#[test]
fn mpsc_all_senders_dropped_drains_then_none() {
    let (tx, mut rx) = mpsc::channel(4);
    let tx2 = tx.clone();
    tx.try_send(1).unwrap();
    tx2.try_send(2).unwrap();
    drop(tx);
    assert!(!rx.is_closed(), "one sender is left");
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(block_on(rx.recv()), None);
    assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Disconnected));
}

#[test]
fn mpsc_receiver_dropped_fails_sends_and_wakes_blocked_senders() {
    let (tx, rx) = mpsc::channel(1);
    tx.try_send(1).unwrap();
    let mut blocked = Manual::new(tx.send(2));
    blocked.pending();
    let mut closed = Manual::new(tx.closed());
    closed.pending();
    drop(rx);
    assert!(blocked.woken());
    assert_eq!(blocked.ready().unwrap_err().0, 2);
    closed.ready();
    assert!(tx.is_closed());
    assert!(matches!(tx.try_send(3), Err(mpsc::TrySendError::Closed(3))));
    assert_eq!(block_on(tx.send(4)).unwrap_err().0, 4);
}

#[test]
fn mpsc_close_lets_the_receiver_drain() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tx.send(1).unwrap();
    rx.close();
    assert_eq!(tx.send(2).unwrap_err().0, 2);
    assert!(tx.is_closed());
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn mpsc_bounded_backpressure_fifo() {
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    assert!(matches!(tx.try_send(9), Err(mpsc::TrySendError::Full(9))));
    let mut s2 = Manual::new(tx.send(2));
    let mut s3 = Manual::new(tx.send(3));
    s2.pending();
    s3.pending();
    assert_eq!(tx.capacity(), 0);
    let mut got = Vec::new();
    got.push(rx.try_recv().unwrap()); // frees a slot: s2's value moves in
    assert!(s2.woken() && !s3.woken());
    s2.ready().unwrap();
    got.push(rx.try_recv().unwrap());
    assert!(s3.woken());
    s3.ready().unwrap();
    got.push(rx.try_recv().unwrap());
    got.push(rx.try_recv().unwrap());
    assert_eq!(got, [0, 1, 2, 3]);
}

#[test]
fn mpsc_recv_cancelled_after_handoff_keeps_the_message() {
    let (tx, mut rx) = mpsc::channel(4);
    {
        let mut r = Manual::new(rx.recv());
        r.pending();
        tx.try_send(7).unwrap(); // handed to the pending recv
        assert!(r.woken());
    } // dropped before it returned
    tx.try_send(8).unwrap();
    assert_eq!(rx.try_recv(), Ok(7));
    assert_eq!(rx.try_recv(), Ok(8));
}

#[test]
fn mpsc_recv_many_and_stream() {
    let (tx, mut rx) = mpsc::channel(16);
    for i in 0..10 {
        tx.try_send(i).unwrap();
    }
    let mut buf = Vec::new();
    assert_eq!(block_on(rx.recv_many(&mut buf, 4)), 4);
    assert_eq!(block_on(rx.recv_many(&mut buf, 100)), 6);
    assert_eq!(buf, (0..10).collect::<Vec<_>>());
    tx.try_send(10).unwrap();
    drop(tx);
    assert_eq!(block_on(rx.recv_many(&mut buf, 0)), 0);
    assert_eq!(block_on(rx.collect::<Vec<_>>()), [10]);
}

#[test]
fn oneshot_semantics() {
    let (tx, rx) = oneshot::channel();
    tx.send(5).unwrap();
    assert_eq!(block_on(rx), Ok(5));

    let (tx, rx) = oneshot::channel::<u8>();
    let mut r = Manual::new(rx);
    r.pending();
    drop(tx);
    assert!(r.woken());
    assert_eq!(r.ready(), Err(oneshot::RecvError));

    let (mut tx, rx) = oneshot::channel::<u8>();
    let mut closed = Manual::new(async move { tx.closed().await });
    closed.pending();
    drop(rx);
    closed.ready();

    let (tx, mut rx) = oneshot::channel();
    rx.close();
    assert_eq!(tx.send(1), Err(1));
    assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));
}

#[test]
fn oneshot_receiver_closed_before_a_send_never_waits() {
    // close() then await: the documented way to take a value sent before
    // the close. Nothing was sent, and nothing can be any more: the await
    // must end, not wait for a send that will fail without waking it.
    let (tx, mut rx) = oneshot::channel::<u8>();
    rx.close();
    assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));
    let mut r = Manual::new(&mut rx);
    assert_eq!(r.ready(), Err(oneshot::RecvError));
    drop(r);
    assert_eq!(tx.send(1), Err(1));
    assert_eq!(block_on(&mut rx), Err(oneshot::RecvError));

    // Polled before the close (a waker is stored), then closed and awaited
    // again while the refused send happens: still no wait.
    let (tx, mut rx) = oneshot::channel::<u8>();
    Manual::new(&mut rx).pending();
    rx.close();
    let mut r = Manual::new(&mut rx);
    assert_eq!(tx.send(2), Err(2));
    assert_eq!(r.ready(), Err(oneshot::RecvError));

    // A value sent before the close is still received.
    let (tx, mut rx) = oneshot::channel();
    tx.send(3).unwrap();
    rx.close();
    assert_eq!(block_on(&mut rx), Ok(3));
}

#[test]
fn broadcast_lag_then_continue() {
    let (tx, mut rx) = broadcast::channel(2);
    let mut fast = tx.subscribe();
    for i in 0..5 {
        tx.send(i).unwrap();
        assert_eq!(fast.try_recv(), Ok(i));
    }
    assert_eq!(rx.len(), 2);
    assert_eq!(block_on(rx.recv()), Err(broadcast::RecvError::Lagged(3)));
    assert_eq!(block_on(rx.recv()), Ok(3));
    assert_eq!(block_on(rx.recv()), Ok(4));
    assert_eq!(rx.try_recv(), Err(broadcast::TryRecvError::Empty));
    drop(tx);
    assert_eq!(block_on(rx.recv()), Err(broadcast::RecvError::Closed));
}

#[test]
fn broadcast_wakes_every_receiver() {
    let (tx, rx) = broadcast::channel(4);
    let mut rxs: Vec<_> = (0..3).map(|_| rx.resubscribe()).collect();
    drop(rx);
    let mut pending: Vec<_> = rxs.iter_mut().map(|r| Manual::new(r.recv())).collect();
    for p in &mut pending {
        p.pending();
    }
    assert_eq!(tx.send("x").unwrap(), 3);
    for p in &mut pending {
        assert!(p.woken());
        assert_eq!(p.ready(), Ok("x"));
    }
    drop(pending);
    drop(rxs);
    assert!(tx.send("y").is_err(), "no receiver left");
}

#[test]
fn watch_latest_value_and_changed() {
    let (tx, mut rx) = watch::channel(0);
    let mut ch = Manual::new(async {
        rx.changed().await.unwrap();
        *rx.borrow_and_update()
    });
    ch.pending();
    tx.send(1).unwrap();
    tx.send(2).unwrap(); // receivers see the latest
    assert_eq!(ch.ready(), 2);
    drop(ch);
    assert!(!rx.has_changed().unwrap());
    tx.send_modify(|v| *v += 1);
    drop(tx);
    // The last value is still observable, then closed.
    assert_eq!(block_on(rx.changed()), Ok(()));
    assert_eq!(*rx.borrow(), 3);
    assert_eq!(block_on(rx.changed()), Err(watch::RecvError));
}

#[test]
fn mpsc_a_message_holds_its_slot_until_recv_returns_it() {
    let (tx, mut rx) = mpsc::channel(1);
    {
        let mut recv = Manual::new(rx.recv());
        recv.pending();
        tx.try_send(1).unwrap(); // handed to the waiting recv
        assert_eq!(tx.capacity(), 0, "1 is in flight to the receiver");
        assert!(matches!(tx.try_send(2), Err(mpsc::TrySendError::Full(2))));
        // The recv is dropped before it ran: the receiver keeps 1.
    }
    assert_eq!(rx.len(), 1);
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(tx.capacity(), 1);
    tx.try_send(2).unwrap();
    assert_eq!(block_on(rx.recv()), Some(2));
}

#[test]
fn watch_send_modify_that_panics_publishes_what_it_changed() {
    use std::panic::{catch_unwind, AssertUnwindSafe};

    let (tx, mut rx) = watch::channel(vec![1]);
    let mut other = rx.clone();
    let mut waiting = Manual::new(other.changed());
    waiting.pending();
    let r = catch_unwind(AssertUnwindSafe(|| {
        tx.send_modify(|v| {
            v.push(2);
            panic!("the closure panics halfway");
        })
    }));
    assert!(r.is_err());
    // The change the closure made is the value now, and it is a new
    // version: every receiver learns of it, like any other send.
    assert_eq!(*tx.borrow(), [1, 2]);
    assert_eq!(rx.has_changed(), Ok(true));
    assert!(waiting.woken());
    assert_eq!(waiting.ready(), Ok(()));
    assert_eq!(*rx.borrow_and_update(), [1, 2]);
    // The channel keeps working.
    tx.send(vec![3]).unwrap();
    assert_eq!(block_on(rx.changed()), Ok(()));
    assert_eq!(*rx.borrow(), [3]);
    drop(tx);
    assert_eq!(block_on(rx.changed()), Err(watch::RecvError));
}

#[test]
fn broadcast_clone_panic_costs_no_receiver_a_message_and_keeps_the_channel_usable() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// The next `fails` clones (of any message) panic.
    #[derive(Debug)]
    struct Flaky(u32, Arc<AtomicUsize>);
    impl Clone for Flaky {
        fn clone(&self) -> Self {
            let left = self.1.load(Ordering::SeqCst);
            if left > 0 {
                self.1.store(left - 1, Ordering::SeqCst);
                panic!("clone failed");
            }
            Flaky(self.0, self.1.clone())
        }
    }

    let fails = Arc::new(AtomicUsize::new(0));
    let (tx, mut a) = broadcast::channel(4);
    let mut b = tx.subscribe();
    let mut wait_a = Manual::new(a.recv());
    let mut wait_b = Manual::new(b.recv());
    wait_a.pending();
    wait_b.pending();
    fails.store(1, Ordering::SeqCst);
    tx.send(Flaky(1, fails.clone())).unwrap();
    assert!(wait_a.woken() && wait_b.woken());
    // `a`'s clone panics (and its recv future is done); `b` is not affected.
    assert!(catch_unwind(AssertUnwindSafe(|| wait_a.poll())).is_err());
    drop(wait_a);
    assert_eq!(wait_b.ready().unwrap().0, 1);
    drop(wait_b);
    // `a` still gets the message, and the channel goes on for everyone.
    assert_eq!(a.try_recv().unwrap().0, 1);
    tx.send(Flaky(2, fails.clone())).unwrap();
    assert_eq!(block_on(a.recv()).unwrap().0, 2);
    assert_eq!(block_on(b.recv()).unwrap().0, 2);
    assert_eq!(tx.receiver_count(), 2);
    drop(tx);
    assert_eq!(a.try_recv().unwrap_err(), broadcast::TryRecvError::Closed);
}
