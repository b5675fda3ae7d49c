//! Notify, Event, Barrier and the channels' waits dropped at each point
//! they can be (never polled, queued, woken but not yet polled): what a
//! dropped wait was handed reaches the next one, and what it was not
//! handed stays where it was.

mod common;

use common::Manual;
use eddy_sync::{broadcast, mpsc, watch, Barrier, BrokenBarrier, Event, Notify};
use futures::executor::block_on;
use futures::StreamExt;

#[test]
fn notified_created_before_notify_waiters_but_not_polled() {
    let n = Notify::new();
    let early = n.notified();
    let mut queued = Manual::new(n.notified());
    queued.pending();
    n.notify_waiters();
    // A notify_one now finds nobody queued: it stores the permit.
    n.notify_one();
    // `early` completes from the notify_waiters, leaving the permit...
    let mut early = Manual::new(early);
    early.ready();
    queued.ready();
    // ...for the next one.
    Manual::new(n.notified()).ready();
    Manual::new(n.notified()).pending();

    // Created before notify_waiters and dropped unpolled: owes nothing.
    let dropped = n.notified();
    n.notify_waiters();
    drop(dropped);
    Manual::new(n.notified()).pending();
}

#[test]
fn notified_woken_by_notify_waiters_and_dropped_passes_nothing_on() {
    let n = Notify::new();
    let mut a = Manual::new(n.notified());
    let mut b = Manual::new(n.notified());
    a.pending();
    b.pending();
    n.notify_waiters();
    drop(a); // a broadcast is nobody's to pass on
    b.ready();
    Manual::new(n.notified()).pending();

    // notify_one's wake dropped in turn by every waiter ends as the permit.
    let mut ws: Vec<_> = (0..3).map(|_| Manual::new(n.notified())).collect();
    for w in &mut ws {
        w.pending();
    }
    n.notify_one();
    for w in ws {
        assert!(w.woken());
        drop(w);
    }
    Manual::new(n.notified()).ready();
    Manual::new(n.notified()).pending();
}

#[test]
fn event_waiters_dropped_after_the_set_take_nothing_from_the_others() {
    let ev = Event::new();
    let mut ws: Vec<_> = (0..4).map(|_| Manual::new(ev.wait())).collect();
    for w in &mut ws {
        w.pending();
    }
    drop(ws.remove(0)); // queued
    ev.set();
    ev.clear();
    drop(ws.remove(0)); // woken, never ran
    for mut w in ws {
        assert!(w.woken());
        w.ready();
    }
    Manual::new(ev.wait()).pending();
}

#[test]
fn barrier_waiter_dropped_after_the_round_passed_costs_the_others_nothing() {
    let b = Barrier::new(3);
    let mut a = Manual::new(b.wait());
    let mut c = Manual::new(b.wait());
    a.pending();
    c.pending();
    assert_eq!(Manual::new(b.wait()).ready(), Ok(2)); // completes the round
    drop(a); // released with the round, never ran
    assert_eq!(c.ready(), Ok(1));
    assert_eq!(b.n_waiting(), 0);
    // The next round needs three again.
    let mut x = Manual::new(b.wait());
    let mut y = Manual::new(b.wait());
    x.pending();
    y.pending();
    drop(x); // queued: leaves the round
    assert_eq!(b.n_waiting(), 1);
    let mut z = Manual::new(b.wait());
    z.pending();
    assert_eq!(Manual::new(b.wait()).ready(), Ok(2));
    assert_eq!((y.ready(), z.ready()), (Ok(0), Ok(1)));
}

#[test]
fn barrier_reset_breaks_only_the_tasks_waiting_then() {
    let b = Barrier::new(2);
    let mut a = Manual::new(b.wait());
    a.pending();
    b.reset();
    assert!(a.woken());
    let mut fresh = Manual::new(b.wait());
    fresh.pending(); // after the reset: waits for a partner
    assert_eq!(a.ready(), Err(BrokenBarrier));
    assert_eq!(b.n_waiting(), 1);
    assert_eq!(Manual::new(b.wait()).ready(), Ok(1));
    assert_eq!(fresh.ready(), Ok(0));
    // abort breaks the waiting and the later ones, until the next reset.
    let mut w = Manual::new(b.wait());
    w.pending();
    b.abort();
    b.abort(); // idempotent
    assert_eq!(w.ready(), Err(BrokenBarrier));
    assert_eq!(Manual::new(b.wait()).ready(), Err(BrokenBarrier));
    b.reset();
    assert!(Manual::new(b.wait()).poll().is_pending());
}

#[test]
fn mpsc_recv_many_dropped_after_the_hand_off_keeps_the_message_first() {
    let (tx, mut rx) = mpsc::channel(4);
    let mut buf = Vec::new();
    {
        let mut r = Manual::new(rx.recv_many(&mut buf, 4));
        r.pending();
        tx.try_send(1).unwrap(); // handed to the waiting recv_many
        assert!(r.woken());
    } // dropped before it ran
    assert!(buf.is_empty());
    tx.try_send(2).unwrap();
    assert_eq!(rx.len(), 2, "the handed message still counts");
    assert_eq!(block_on(rx.recv_many(&mut buf, 4)), 2);
    assert_eq!(buf, [1, 2]);

    // The same through try_recv and the Stream impl.
    {
        let mut r = Manual::new(rx.recv());
        r.pending();
        tx.try_send(3).unwrap();
    }
    tx.try_send(4).unwrap();
    assert_eq!(rx.try_recv(), Ok(3));
    drop(tx);
    assert_eq!(block_on((&mut rx).collect::<Vec<_>>()), [4]);
    assert_eq!(
        block_on(rx.next()),
        None,
        "a finished stream stays finished"
    );
}

#[test]
fn mpsc_blocked_senders_get_their_message_back_whichever_way_the_receiver_goes() {
    for close in [true, false] {
        let (tx, rx) = mpsc::channel(1);
        let mut rx = Some(rx);
        tx.try_send(0).unwrap();
        let mut a = Manual::new(tx.send(1));
        let mut b = Manual::new(tx.send(2));
        a.pending();
        b.pending();
        let mut closed = Manual::new(tx.closed());
        closed.pending();
        if close {
            rx.as_mut().unwrap().close();
        } else {
            rx = None;
        }
        assert!(a.woken() && b.woken() && closed.woken());
        assert_eq!(a.ready().unwrap_err().0, 1);
        assert_eq!(b.ready().unwrap_err().0, 2);
        closed.ready();
        assert!(tx.is_closed());
        if let Some(mut rx) = rx {
            assert_eq!(rx.try_recv(), Ok(0), "what was sent before the close stays");
            assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Disconnected));
        }
    }
}

#[test]
fn broadcast_recv_dropped_after_the_wake_leaves_the_message() {
    let (tx, mut rx) = broadcast::channel(2);
    {
        let mut r = Manual::new(rx.recv());
        r.pending();
        tx.send(1).unwrap();
        assert!(r.woken());
    }
    assert_eq!(rx.try_recv(), Ok(1));
    // Lagging, then dropped with a recv queued: the count goes down, the
    // others carry on.
    let mut lagging = tx.subscribe();
    let mut r = Manual::new(lagging.recv());
    r.pending();
    drop(r);
    for i in 2..6 {
        tx.send(i).unwrap();
    }
    drop(lagging);
    assert_eq!(tx.receiver_count(), 1);
    assert_eq!(rx.try_recv(), Err(broadcast::TryRecvError::Lagged(2)));
    assert_eq!(rx.try_recv(), Ok(4));
}

#[test]
fn broadcast_message_whose_clone_panics_is_not_skipped() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// Its clone panics while `fail` is set.
    #[derive(Debug)]
    struct Fragile(u32, Arc<AtomicBool>);
    impl Clone for Fragile {
        fn clone(&self) -> Self {
            assert!(!self.1.load(Ordering::SeqCst), "clone failed");
            Fragile(self.0, self.1.clone())
        }
    }

    let fail = Arc::new(AtomicBool::new(false));
    let (tx, mut rx) = broadcast::channel(2);
    tx.send(Fragile(1, fail.clone())).unwrap();
    tx.send(Fragile(2, fail.clone())).unwrap();
    fail.store(true, Ordering::SeqCst);
    assert!(catch_unwind(AssertUnwindSafe(|| rx.try_recv())).is_err());
    let mut r = Manual::new(rx.recv());
    assert!(catch_unwind(AssertUnwindSafe(|| r.poll())).is_err());
    drop(r);
    fail.store(false, Ordering::SeqCst);
    // recv's position only moves when a message is returned.
    assert_eq!(rx.try_recv().unwrap().0, 1);
    assert_eq!(block_on(rx.recv()).unwrap().0, 2);
}

#[test]
fn watch_changed_dropped_after_the_wake_keeps_the_change() {
    let (tx, mut rx) = watch::channel(0);
    {
        let mut c = Manual::new(rx.changed());
        c.pending();
        tx.send(1).unwrap();
        assert!(c.woken());
    }
    assert_eq!(rx.has_changed(), Ok(true));
    assert_eq!(block_on(rx.changed()), Ok(()));
    // A change just before the sender goes is seen first, then the close.
    let mut c = Manual::new(rx.changed());
    c.pending();
    tx.send(2).unwrap();
    drop(tx);
    assert_eq!(c.ready(), Ok(()));
    drop(c);
    assert_eq!(*rx.borrow_and_update(), 2);
    assert_eq!(block_on(rx.changed()), Err(watch::RecvError));
}
