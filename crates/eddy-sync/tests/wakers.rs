//! Wakers that misbehave. One that panics must not cost the other waiters
//! their wake-ups (the waiters it served would hold a permit, the lock or a
//! notification and never run), and the primitive must stay usable. One
//! whose `wake` calls back into the primitive must not deadlock: every
//! primitive wakes only after its internal lock is released.

mod common;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use common::stress::guarded;
use common::wakers::{
    clone_panicking_waker, fn_waker, panicking_waker, poll_once_and_drop, poll_with,
};
use common::Manual;
use eddy_sync::{
    broadcast, mpsc, watch, Barrier, Condition, Event, Mutex, Notify, Queue, RwLock, Semaphore,
};

/// Runs `f`, which must panic because of a [`panicking_waker`].
#[track_caller]
fn waker_panic(f: impl FnOnce()) {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("the waker's panic goes on");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"this waker panics"));
}

/// Queues `fut` with a panicking waker (it is first in line).
fn queue_with_panicking_waker<F: Future>(fut: Pin<&mut F>) {
    assert!(poll_with(fut, &panicking_waker()).is_pending());
}

#[test]
fn a_panicking_waker_costs_no_other_waiter_its_wake_up() {
    // Event::set
    let ev = Event::new();
    let mut first = Box::pin(ev.wait());
    queue_with_panicking_waker(first.as_mut());
    let mut second = Manual::new(ev.wait());
    second.pending();
    waker_panic(|| ev.set());
    assert!(
        second.woken(),
        "Event::set: the second waiter was not woken"
    );
    second.ready();

    // Condition::notify_all
    let cond = Condition::new(());
    let mut first = Box::pin(cond.wait(cond.mutex().try_lock().unwrap()));
    queue_with_panicking_waker(first.as_mut());
    let mut second = Manual::new(cond.wait(cond.mutex().try_lock().unwrap()));
    second.pending();
    waker_panic(|| cond.notify_all());
    assert!(
        second.woken(),
        "notify_all: the second waiter was not woken"
    );
    drop(second.ready());
    drop(first);
    assert!(cond.mutex().try_lock().is_ok());

    // Semaphore::add_permits serving two waiters: the second holds its
    // permit and must run to give it back.
    let sem = Semaphore::new(0);
    let mut first = Box::pin(sem.acquire());
    queue_with_panicking_waker(first.as_mut());
    let mut second = Manual::new(sem.acquire());
    second.pending();
    waker_panic(|| sem.add_permits(2));
    assert!(
        second.woken(),
        "add_permits: the second waiter was not woken"
    );
    drop(second.ready());
    drop(first); // served, never ran: its permit goes back
    assert_eq!(sem.available_permits(), 2);

    // Notify::notify_waiters
    let notify = Notify::new();
    let mut first = Box::pin(notify.notified());
    queue_with_panicking_waker(first.as_mut());
    let mut second = Manual::new(notify.notified());
    second.pending();
    waker_panic(|| notify.notify_waiters());
    assert!(
        second.woken(),
        "notify_waiters: the second waiter was not woken"
    );
    second.ready();

    // Barrier: the task completing the round wakes the others.
    let barrier = Barrier::new(3);
    let mut first = Box::pin(barrier.wait());
    queue_with_panicking_waker(first.as_mut());
    let mut second = Manual::new(barrier.wait());
    second.pending();
    let mut last = Manual::new(barrier.wait());
    waker_panic(|| {
        let _ = last.poll();
    });
    assert!(second.woken(), "Barrier: the second waiter was not woken");
    assert_eq!(second.ready(), Ok(1));
    assert_eq!(barrier.n_waiting(), 0);
}

#[test]
fn a_panicking_waker_costs_no_other_receiver_its_message() {
    // broadcast::Sender::send
    let (tx, mut rx1) = broadcast::channel(4);
    let mut rx2 = tx.subscribe();
    {
        let mut first = Box::pin(rx1.recv());
        queue_with_panicking_waker(first.as_mut());
        let mut second = Manual::new(rx2.recv());
        second.pending();
        waker_panic(|| {
            let _ = tx.send(1);
        });
        assert!(
            second.woken(),
            "broadcast: the second receiver was not woken"
        );
        assert_eq!(second.ready(), Ok(1));
    }
    assert_eq!(rx1.try_recv(), Ok(1));

    // watch::Sender::send
    let (tx, mut rx1) = watch::channel(0);
    let mut rx2 = rx1.clone();
    {
        let mut first = Box::pin(rx1.changed());
        queue_with_panicking_waker(first.as_mut());
        let mut second = Manual::new(rx2.changed());
        second.pending();
        waker_panic(|| {
            let _ = tx.send(1);
        });
        assert!(second.woken(), "watch: the second receiver was not woken");
        assert_eq!(second.ready(), Ok(()));
    }
    assert_eq!(rx1.has_changed(), Ok(true));

    // Queue::shutdown wakes every getter.
    let q = Queue::<u8>::new(1);
    let mut first = Box::pin(q.get());
    queue_with_panicking_waker(first.as_mut());
    let mut second = Manual::new(q.get());
    second.pending();
    waker_panic(|| q.shutdown(false));
    assert!(
        second.woken(),
        "Queue::shutdown: the second getter was not woken"
    );
    assert!(second.ready().is_err());
}

#[test]
fn a_waker_whose_clone_panics_loses_no_permit() {
    // The acquire takes the one free permit as a partial grant and queues
    // for the second one, cloning the waker to keep it: a panic there must
    // leave the semaphore as it was, not one permit short with the
    // waiters flag set over an empty line.
    let sem = Semaphore::new(1);
    let waker = clone_panicking_waker();
    let mut acquire = Box::pin(sem.acquire_many(2));
    let r = catch_unwind(AssertUnwindSafe(|| poll_with(acquire.as_mut(), &waker)));
    assert!(r.is_err());
    drop(acquire);
    assert_eq!(sem.available_permits(), 1, "the free permit was lost");
    drop(sem.try_acquire().expect("nobody waits"));
    sem.add_permits(1);
    assert!(sem.try_acquire_many(2).is_ok());

    // The same for a lock that is held: the holder's unlock still frees it.
    let m = Mutex::new(());
    let held = m.try_lock().unwrap();
    let mut lock = Box::pin(m.lock());
    assert!(catch_unwind(AssertUnwindSafe(|| poll_with(lock.as_mut(), &waker))).is_err());
    drop(lock);
    drop(held);
    assert!(m.try_lock().is_ok());
}

#[test]
fn wakers_run_after_the_internal_lock_is_released() {
    // Each waker calls back into the primitive that wakes it, taking its
    // internal lock: waking under that lock would deadlock (parking_lot's
    // mutex is not reentrant), which the hang guard turns into a failure.
    guarded(10, || {
        let m = Arc::new(Mutex::new(()));
        let held = m.try_lock().unwrap();
        let m2 = m.clone();
        let mut lock = Box::pin(m.lock());
        let waker = fn_waker(move || poll_once_and_drop(m2.lock()));
        assert!(poll_with(lock.as_mut(), &waker).is_pending());
        drop(held); // hands the lock over, then wakes
        assert!(poll_with(lock.as_mut(), &waker).is_ready());
    });
    guarded(10, || {
        let l = Arc::new(RwLock::new(()));
        let held = l.try_read().unwrap();
        let l2 = l.clone();
        let mut write = Box::pin(l.write());
        let waker = fn_waker(move || poll_once_and_drop(l2.read()));
        assert!(poll_with(write.as_mut(), &waker).is_pending());
        drop(held);
        assert!(poll_with(write.as_mut(), &waker).is_ready());
    });
    guarded(10, || {
        let sem = Arc::new(Semaphore::new(0));
        let s2 = sem.clone();
        let mut acquire = Box::pin(sem.acquire());
        let waker = fn_waker(move || poll_once_and_drop(s2.acquire_many(2)));
        assert!(poll_with(acquire.as_mut(), &waker).is_pending());
        sem.add_permits(1);
        assert!(poll_with(acquire.as_mut(), &waker).is_ready());
    });
    guarded(10, || {
        let cond = Arc::new(Condition::new(()));
        let c2 = cond.clone();
        let mut wait = Box::pin(cond.wait(cond.mutex().try_lock().unwrap()));
        let waker = fn_waker(move || {
            assert_eq!(c2.waiting(), 0);
            c2.notify_all();
        });
        assert!(poll_with(wait.as_mut(), &waker).is_pending());
        cond.notify(1);
        assert!(poll_with(wait.as_mut(), &waker).is_ready());
    });
    guarded(10, || {
        let ev = Arc::new(Event::new());
        let e2 = ev.clone();
        let mut wait = Box::pin(ev.wait());
        let waker = fn_waker(move || {
            e2.clear();
            poll_once_and_drop(e2.wait());
        });
        assert!(poll_with(wait.as_mut(), &waker).is_pending());
        ev.set();
        assert!(poll_with(wait.as_mut(), &waker).is_ready());
    });
    guarded(10, || {
        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let mut notified = Box::pin(n.notified());
        let waker = fn_waker(move || n2.notify_one());
        assert!(poll_with(notified.as_mut(), &waker).is_pending());
        n.notify_one(); // the waker stores a permit for the next one
        assert!(poll_with(notified.as_mut(), &waker).is_ready());
        assert!(poll_with(std::pin::pin!(n.notified()), &waker).is_ready());
    });
    guarded(10, || {
        let b = Arc::new(Barrier::new(2));
        let b2 = b.clone();
        let mut wait = Box::pin(b.wait());
        let waker = fn_waker(move || assert_eq!(b2.n_waiting(), 0));
        assert!(poll_with(wait.as_mut(), &waker).is_pending());
        assert_eq!(Manual::new(b.wait()).ready(), Ok(1));
        assert_eq!(poll_with(wait.as_mut(), &waker), Poll::Ready(Ok(0)));
    });
}

#[test]
fn channel_wakers_run_after_the_internal_lock_is_released() {
    guarded(10, || {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        let tx2 = tx.clone();
        let woken = Arc::new(AtomicUsize::new(0));
        let w2 = woken.clone();
        let waker = fn_waker(move || {
            assert!(!tx2.is_closed());
            assert_eq!(tx2.capacity(), 0, "the message holds the only slot");
            w2.fetch_add(1, Ordering::SeqCst);
        });
        let mut recv = Box::pin(rx.recv());
        assert!(poll_with(recv.as_mut(), &waker).is_pending());
        tx.try_send(1).unwrap();
        assert_eq!(poll_with(recv.as_mut(), &waker), Poll::Ready(Some(1)));
        assert_eq!(woken.load(Ordering::SeqCst), 1);
    });
    guarded(10, || {
        let (tx, mut rx) = broadcast::channel::<u8>(2);
        let tx = Arc::new(tx);
        let tx2 = tx.clone();
        let waker = fn_waker(move || assert_eq!(tx2.receiver_count(), 1));
        let mut recv = Box::pin(rx.recv());
        assert!(poll_with(recv.as_mut(), &waker).is_pending());
        tx.send(1).unwrap();
        assert_eq!(poll_with(recv.as_mut(), &waker), Poll::Ready(Ok(1)));
    });
    guarded(10, || {
        let (tx, mut rx) = watch::channel(0);
        let tx = Arc::new(tx);
        let tx2 = tx.clone();
        let waker = fn_waker(move || assert_eq!(*tx2.borrow(), 1));
        let mut changed = Box::pin(rx.changed());
        assert!(poll_with(changed.as_mut(), &waker).is_pending());
        tx.send(1).unwrap();
        assert_eq!(poll_with(changed.as_mut(), &waker), Poll::Ready(Ok(())));
    });
}

/// Queues `fut` with a waker that counts its wakes, then polls it again
/// with a new waker whose clone panics: the waiter list clones it (under
/// the primitive's internal lock) to replace the one it keeps. The panic
/// must leave the primitive as it was before that poll. A waiter future of
/// its own type keeps its place and its first waker, so `serve` wakes it
/// and it completes: `Some(output)`. One wrapped in an `async fn` is
/// done once it panicked: `None`, and the caller checks that what `serve`
/// handed out was not lost (the waiter left the line as any cancelled one
/// does, or its place is kept where the next call finds it).
#[track_caller]
fn repoll_with_a_clone_panic<F: Future>(fut: F, serve: impl FnOnce()) -> Option<F::Output> {
    let woken = Arc::new(AtomicUsize::new(0));
    let w2 = woken.clone();
    let first = fn_waker(move || {
        w2.fetch_add(1, Ordering::SeqCst);
    });
    let mut fut = Box::pin(fut);
    assert!(poll_with(fut.as_mut(), &first).is_pending());
    let other = clone_panicking_waker();
    let r = catch_unwind(AssertUnwindSafe(|| poll_with(fut.as_mut(), &other)));
    assert!(r.is_err(), "the clone panics");
    serve();
    if woken.load(Ordering::SeqCst) == 0 {
        // Left the line; polling a panicked `async fn` again would panic.
        return None;
    }
    // An `async fn` whose waiter state lives outside it (a channel
    // receiver's place in line) is done too: polling it again panics.
    match catch_unwind(AssertUnwindSafe(|| poll_with(fut.as_mut(), &first))) {
        Ok(Poll::Ready(out)) => Some(out),
        Ok(Poll::Pending) => panic!("woken, yet not served"),
        Err(_) => None,
    }
}

#[test]
fn a_waker_clone_that_panics_on_a_repoll_leaves_every_primitive_usable() {
    let m = Mutex::new(0);
    let held = m.try_lock().unwrap();
    let mut g =
        repoll_with_a_clone_panic(m.lock(), || drop(held)).expect("Lock is not an async fn");
    *g += 1;
    drop(g);
    assert_eq!(*m.try_lock().unwrap(), 1);

    let l = RwLock::new(());
    let read = l.try_read().unwrap();
    drop(repoll_with_a_clone_panic(l.write(), || drop(read)));
    assert!(l.try_write().is_ok(), "the lock is free again");

    let sem = Semaphore::new(0);
    drop(repoll_with_a_clone_panic(sem.acquire(), || {
        sem.add_permits(1)
    }));
    assert_eq!(sem.available_permits(), 1, "the permit came back");

    let ev = Event::new();
    repoll_with_a_clone_panic(ev.wait(), || ev.set());
    assert!(ev.is_set());

    let n = Notify::new();
    if repoll_with_a_clone_panic(n.notified(), || n.notify_one()).is_none() {
        assert!(
            Manual::new(n.notified()).poll().is_ready(),
            "the notification was kept"
        );
    }

    let cond = Condition::new(());
    let g = repoll_with_a_clone_panic(cond.wait(cond.mutex().try_lock().unwrap()), || {
        cond.notify(1);
    });
    drop(g);
    assert_eq!(cond.waiting(), 0);
    assert!(cond.mutex().try_lock().is_ok());

    let b = Barrier::new(2);
    let mut second = Manual::new(b.wait());
    let mut second_out = None;
    match repoll_with_a_clone_panic(b.wait(), || second_out = Some(second.poll())) {
        Some(first) => assert_eq!((first, second_out), (Ok(0), Some(Poll::Ready(Ok(1))))),
        None => {
            assert_eq!(b.n_waiting(), 1, "the second waits for a new partner");
            assert_eq!(Manual::new(b.wait()).ready(), Ok(1));
            assert_eq!(second.ready(), Ok(0));
        }
    }
}

#[test]
fn a_waker_clone_that_panics_on_a_repoll_leaves_queues_and_channels_usable() {
    let q = Queue::new(1);
    match repoll_with_a_clone_panic(q.get(), || q.try_put(1).unwrap()) {
        Some(got) => assert_eq!(got, Ok(1)),
        None => assert_eq!(q.try_get(), Ok(1), "the item went back to the queue"),
    }
    q.try_put(2).unwrap();
    match repoll_with_a_clone_panic(q.put(3), || assert_eq!(q.try_get(), Ok(2))) {
        Some(put) => {
            assert!(put.is_ok());
            assert_eq!(q.try_get(), Ok(3), "the put kept its item");
        }
        None => assert!(q.try_put(4).is_ok(), "the freed slot is free"),
    }
    while q.try_get().is_ok() {}
    while q.task_done().is_ok() {}
    q.try_put(5).unwrap();
    repoll_with_a_clone_panic(q.join(), || {
        q.try_get().unwrap();
        q.task_done().unwrap();
    });
    assert_eq!(q.unfinished_tasks(), 0);

    let (tx, mut rx) = mpsc::channel(1);
    if let Some(got) = repoll_with_a_clone_panic(rx.recv(), || tx.try_send(1).unwrap()) {
        assert_eq!(got, Some(1));
    } else {
        assert_eq!(rx.try_recv(), Ok(1), "the message was kept");
    }
    tx.try_send(2).unwrap();
    if let Some(sent) = repoll_with_a_clone_panic(tx.send(3), || assert_eq!(rx.try_recv(), Ok(2))) {
        assert!(sent.is_ok());
        assert_eq!(rx.try_recv(), Ok(3));
    } else {
        assert!(tx.try_send(4).is_ok(), "the freed slot is free");
    }

    let (btx, mut brx) = broadcast::channel(2);
    if let Some(got) = repoll_with_a_clone_panic(brx.recv(), || assert_eq!(btx.send(1), Ok(1))) {
        assert_eq!(got, Ok(1));
    } else {
        assert_eq!(brx.try_recv(), Ok(1), "the message was kept");
    }

    let (wtx, mut wrx) = watch::channel(0);
    if let Some(changed) = repoll_with_a_clone_panic(wrx.changed(), || wtx.send(1).unwrap()) {
        assert_eq!(changed, Ok(()));
    } else {
        assert_eq!(wrx.has_changed(), Ok(true), "the change was kept");
    }
    assert_eq!(*wrx.borrow(), 1);
}
