//! Overflow and capacity edges: MAX_PERMITS, an overflowing add_permits,
//! huge acquire_many, channels of capacity 0 and 1. A panic on an edge must
//! say what was wrong and leave the primitive as it was.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common::Manual;
use eddy_sync::{broadcast, mpsc, BoundedSemaphore, Semaphore};

/// The message of the panic `f` raises.
#[track_caller]
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .expect("a string panic")
            .to_string(),
    }
}

#[test]
fn semaphore_add_permits_that_would_overflow_panics_and_changes_nothing() {
    let sem = Semaphore::new(0);
    let mut a = Manual::new(sem.acquire());
    let mut b = Manual::new(sem.acquire_many(2));
    a.pending();
    b.pending();
    let msg = panic_message(|| sem.add_permits(usize::MAX));
    assert!(
        msg.contains("overflow") && msg.contains(&usize::MAX.to_string()),
        "{msg}"
    );
    // Nobody was served by the refused call: a waiter served then would
    // never have been woken (it hung), and the waiters flag was left set
    // over an empty list.
    assert!(!a.woken() && !b.woken());
    a.pending();
    b.pending();
    assert_eq!(sem.available_permits(), 0);
    // Still FIFO and whole.
    assert!(
        sem.try_acquire().is_err(),
        "a newcomer must not jump the line"
    );
    sem.add_permits(3);
    assert!(a.woken() && b.woken());
    let (pa, pb) = (a.ready(), b.ready());
    assert_eq!((pa.num_permits(), pb.num_permits()), (1, 2));
    drop((pa, pb));
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn semaphore_add_permits_overflow_is_counted_after_serving_the_waiters() {
    // More than MAX_PERMITS at once is fine when the waiters take the
    // excess: only what would stay free counts.
    let sem = Semaphore::new(0);
    let mut a = Manual::new(sem.acquire());
    a.pending();
    sem.add_permits(Semaphore::MAX_PERMITS + 1);
    assert!(a.woken());
    let p = a.ready();
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
    // Full: one more is refused, and changes nothing.
    let msg = panic_message(|| sem.add_permits(1));
    assert!(msg.contains("overflow"), "{msg}");
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
    p.forget();
    assert!(sem.try_acquire_many(Semaphore::MAX_PERMITS).is_ok());
}

#[test]
fn semaphore_huge_requests() {
    let msg = panic_message(|| {
        let _ = Semaphore::new(Semaphore::MAX_PERMITS + 1);
    });
    assert!(msg.contains(&Semaphore::MAX_PERMITS.to_string()), "{msg}");
    let msg = panic_message(|| {
        let _ = BoundedSemaphore::new(usize::MAX);
    });
    assert!(msg.contains(&usize::MAX.to_string()), "{msg}");

    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    assert!(sem.try_acquire_many(usize::MAX).is_err());
    assert!(sem.try_acquire_many(Semaphore::MAX_PERMITS + 1).is_err());
    // acquire_many is an async fn: the size check runs at the first poll,
    // before it queues.
    let mut huge = Manual::new(sem.acquire_many(Semaphore::MAX_PERMITS + 1));
    let msg = panic_message(|| {
        let _ = huge.poll();
    });
    assert!(msg.contains("cannot acquire more than"), "{msg}");
    drop(huge);
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);

    // The largest request, at the front, holds back every newcomer until
    // it is whole, then takes everything.
    let held = sem.try_acquire_many(10).unwrap();
    let mut all = Manual::new(sem.acquire_many(Semaphore::MAX_PERMITS));
    all.pending();
    assert_eq!(sem.available_permits(), 0, "the free permits are set aside");
    let mut small = Manual::new(sem.acquire());
    small.pending();
    drop(held);
    assert!(all.woken() && !small.woken());
    let everything = all.ready();
    small.pending();
    drop(everything);
    assert!(small.woken());
    drop(small.ready());
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
}

#[test]
fn channel_capacities_zero_and_one() {
    let msg = panic_message(|| {
        let _ = mpsc::channel::<u8>(0);
    });
    assert!(msg.contains("capacity must be at least 1"), "{msg}");
    let msg = panic_message(|| {
        let _ = broadcast::channel::<u8>(0);
    });
    assert!(msg.contains("capacity must be at least 1"), "{msg}");

    // mpsc of 1: the second send waits until the first is received.
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(1).unwrap();
    assert!(matches!(tx.try_send(2), Err(mpsc::TrySendError::Full(2))));
    let mut second = Manual::new(tx.send(2));
    second.pending();
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(second.woken());
    second.ready().unwrap();
    assert_eq!(rx.try_recv(), Ok(2));

    // broadcast of 1: every send evicts the last one; a slow receiver
    // learns how many it missed, then continues with the newest.
    let (tx, mut slow) = broadcast::channel(1);
    let mut fast = tx.subscribe();
    for i in 0..5 {
        tx.send(i).unwrap();
        assert_eq!(fast.try_recv(), Ok(i));
    }
    assert_eq!(slow.len(), 1);
    assert_eq!(slow.try_recv(), Err(broadcast::TryRecvError::Lagged(4)));
    assert_eq!(slow.try_recv(), Ok(4));
    assert_eq!(slow.try_recv(), Err(broadcast::TryRecvError::Empty));
    // A receiver dropped while lagging takes nothing with it.
    tx.send(5).unwrap();
    tx.send(6).unwrap();
    drop(slow);
    assert_eq!(tx.receiver_count(), 1);
    assert_eq!(fast.try_recv(), Err(broadcast::TryRecvError::Lagged(1)));
    assert_eq!(fast.try_recv(), Ok(6));
    drop(tx);
    assert_eq!(fast.try_recv(), Err(broadcast::TryRecvError::Closed));
}
