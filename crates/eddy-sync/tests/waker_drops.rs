//! A primitive lets go of a waiter's waker when the waiter is polled again
//! with another waker (the old one is replaced) or leaves the line. The
//! waker may be the last reference to a task whose future still holds a
//! guard or a place in line of the same primitive, so dropping it can call
//! back into the primitive: that drop must happen after the primitive's
//! internal lock is released, or it deadlocks (parking_lot's mutex is not
//! reentrant). Each case runs under a hang guard.

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::stress::guarded;
use common::wakers::{drop_callback_waker, poll_once_and_drop, poll_with};
use eddy_sync::{
    broadcast, mpsc, watch, Barrier, Condition, Event, Mutex, Notify, Queue, RwLock, Semaphore,
};
use futures::task::noop_waker_ref;

/// A waker whose drop runs `reenter`, and a count of the times it ran.
fn reentering_waker(
    reenter: impl Fn() + Send + Sync + 'static,
) -> (std::task::Waker, Arc<AtomicUsize>) {
    let ran = Arc::new(AtomicUsize::new(0));
    let r2 = ran.clone();
    let waker = drop_callback_waker(move || {
        reenter();
        r2.fetch_add(1, Ordering::SeqCst);
    });
    (waker, ran)
}

/// Queues `fut` with a waker that calls back into the primitive when
/// dropped, then polls it again with another waker: the primitive drops
/// the first one.
fn waker_replaced<F: Future>(fut: F, reenter: impl Fn() + Send + Sync + 'static) {
    let mut fut = pin!(fut);
    let (waker, ran) = reentering_waker(reenter);
    assert!(poll_with(fut.as_mut(), &waker).is_pending());
    drop(waker); // the primitive holds the last clone
    assert!(poll_with(fut.as_mut(), noop_waker_ref()).is_pending());
    assert_eq!(
        ran.load(Ordering::SeqCst),
        1,
        "the replaced waker was dropped"
    );
}

/// A receiver whose wait future was dropped keeps its place (the channel
/// still holds its waker); dropping the receiver itself leaves, and the
/// waker it let go of must be dropped outside the lock (it re-enters).
/// `poll_pending` polls one wait future with the waker and says whether it
/// was pending.
fn receiver_left<R>(
    mut rx: R,
    poll_pending: impl FnOnce(&mut R, &std::task::Waker) -> bool,
    reenter: impl Fn() + Send + Sync + 'static,
) {
    let (waker, ran) = reentering_waker(reenter);
    assert!(poll_pending(&mut rx, &waker));
    drop(waker);
    drop(rx);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

/// Queues `fut` with a waker that calls back into the primitive when
/// dropped, then drops `fut`: it leaves the line, and the primitive drops
/// the waker.
fn waiter_left<F: Future>(fut: F, reenter: impl Fn() + Send + Sync + 'static) {
    let mut fut = Box::pin(fut);
    let (waker, ran) = reentering_waker(reenter);
    assert!(poll_with(fut.as_mut(), &waker).is_pending());
    drop(waker);
    drop(fut);
    assert_eq!(
        ran.load(Ordering::SeqCst),
        1,
        "the waiter's waker was dropped"
    );
}

#[test]
fn lock_and_semaphore_waiters_drop_wakers_outside_the_lock() {
    guarded(20, || {
        let m = Arc::new(Mutex::new(()));
        let _held = m.try_lock().unwrap();
        let reenter = || {
            let m = m.clone();
            move || poll_once_and_drop(m.lock())
        };
        waker_replaced(m.lock(), reenter());
        waiter_left(m.lock(), reenter());
    });
    guarded(20, || {
        let l = Arc::new(RwLock::new(()));
        let _held = l.try_write().unwrap();
        let reenter = || {
            let l = l.clone();
            move || poll_once_and_drop(l.read())
        };
        waker_replaced(l.read(), reenter());
        waiter_left(l.write(), reenter());
    });
    guarded(20, || {
        let sem = Arc::new(Semaphore::new(1));
        let reenter = || {
            let sem = sem.clone();
            move || poll_once_and_drop(sem.acquire_many(3))
        };
        waker_replaced(sem.acquire_many(2), reenter());
        waiter_left(sem.acquire_many(2), reenter());
        assert_eq!(sem.available_permits(), 1);
    });
    guarded(20, || {
        let cond = Arc::new(Condition::new(()));
        let reenter = || {
            let cond = cond.clone();
            move || cond.notify_all()
        };
        waker_replaced(cond.wait(cond.mutex().try_lock().unwrap()), reenter());
        waiter_left(cond.wait(cond.mutex().try_lock().unwrap()), reenter());
        assert_eq!(cond.waiting(), 0);
    });
}

#[test]
fn signal_waiters_drop_wakers_outside_the_lock() {
    guarded(20, || {
        let ev = Arc::new(Event::new());
        let reenter = || {
            let ev = ev.clone();
            move || poll_once_and_drop(ev.wait())
        };
        waker_replaced(ev.wait(), reenter());
        waiter_left(ev.wait(), reenter());
    });
    guarded(20, || {
        let n = Arc::new(Notify::new());
        let reenter = || {
            let n = n.clone();
            move || n.notify_waiters()
        };
        waker_replaced(n.notified(), reenter());
        waiter_left(n.notified(), reenter());
    });
    guarded(20, || {
        let b = Arc::new(Barrier::new(3));
        let reenter = || {
            let b = b.clone();
            move || assert!(b.n_waiting() <= 1)
        };
        waker_replaced(b.wait(), reenter());
        waiter_left(b.wait(), reenter());
    });
}

#[test]
fn channel_waiters_drop_wakers_outside_the_lock() {
    // mpsc: a receiver, a blocked sender, a closed() wait. A dropped recv
    // future keeps the receiver's place: the receiver leaves on drop.
    guarded(20, || {
        let (tx, rx) = mpsc::channel::<u8>(1);
        let tx = Arc::new(tx);
        let reenter = || {
            let tx = tx.clone();
            move || {
                let _ = tx.capacity();
            }
        };
        let mut rx = Box::new(rx);
        waker_replaced(rx.recv(), reenter());
        receiver_left(
            rx,
            |rx, w| poll_with(pin!(rx.recv()), w).is_pending(),
            reenter(),
        );
    });
    guarded(20, || {
        let (tx, _rx) = mpsc::channel::<u8>(1);
        tx.try_send(0).unwrap();
        let tx = Arc::new(tx);
        let reenter = || {
            let tx = tx.clone();
            move || {
                let _ = tx.capacity();
            }
        };
        waker_replaced(tx.send(1), reenter());
        waiter_left(tx.send(2), reenter());
        waker_replaced(tx.closed(), reenter());
        waiter_left(tx.closed(), reenter());
    });
    guarded(20, || {
        let q = Arc::new(Queue::new(1));
        q.try_put(1).unwrap();
        let reenter = || {
            let q = q.clone();
            move || {
                let _ = q.unfinished_tasks();
            }
        };
        waker_replaced(q.join(), reenter());
        waiter_left(q.join(), reenter());
    });
    // broadcast and watch: the receiver keeps its place between recv
    // futures, and leaves when dropped.
    guarded(20, || {
        let (tx, rx) = broadcast::channel::<u8>(1);
        let tx = Arc::new(tx);
        let reenter = || {
            let tx = tx.clone();
            move || assert!(tx.receiver_count() <= 1)
        };
        let mut rx = Box::new(rx);
        waker_replaced(rx.recv(), reenter());
        receiver_left(
            rx,
            |rx, w| poll_with(pin!(rx.recv()), w).is_pending(),
            reenter(),
        );
    });
    guarded(20, || {
        let (tx, rx) = watch::channel(0);
        let tx = Arc::new(tx);
        let reenter = || {
            let tx = tx.clone();
            move || assert!(tx.receiver_count() <= 1)
        };
        let mut rx = Box::new(rx);
        waker_replaced(rx.changed(), reenter());
        receiver_left(
            rx,
            |rx, w| poll_with(pin!(rx.changed()), w).is_pending(),
            reenter(),
        );
    });
}
