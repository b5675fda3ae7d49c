//! Mutex, RwLock, Semaphore, BoundedSemaphore and Condition waits dropped
//! at each point they can be: never polled, queued, served but not yet
//! polled, and (for Condition) while re-taking the lock. Whatever the
//! dropped future held goes to the next in line, and the FIFO order of the
//! others is kept.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use common::Manual;
use eddy_sync::{BoundedSemaphore, Condition, Mutex, RwLock, Semaphore};

#[test]
fn mutex_waiters_dropped_anywhere_keep_fifo_and_pass_the_lock() {
    let m = Mutex::new(Vec::new());
    let held = m.try_lock().unwrap();
    drop(m.lock()); // never polled: never queued
    let mut a = Manual::new(async { m.lock().await.push('a') });
    let mut b = Manual::new(async { m.lock().await.push('b') });
    let mut c = Manual::new(async { m.lock().await.push('c') });
    let mut d = Manual::new(async { m.lock().await.push('d') });
    for w in [&mut a, &mut b, &mut c, &mut d] {
        w.pending();
    }
    drop(b); // queued, in the middle
    drop(held); // hands the lock to `a`
    assert!(a.woken() && !c.woken());
    drop(a); // served, never ran: the lock goes to `c`
    assert!(c.woken() && !d.woken());
    assert!(m.try_lock().is_err(), "a newcomer never jumps the line");
    c.ready();
    assert!(d.woken());
    d.ready();
    assert_eq!(*m.try_lock().unwrap(), ['c', 'd']);
}

#[test]
fn owned_lock_dropped_after_the_hand_off_passes_it_on() {
    let m = Arc::new(Mutex::new(0));
    let held = m.clone().try_lock_owned().unwrap();
    let mut a = Manual::new(m.clone().lock_owned());
    let mut b = Manual::new(m.clone().lock_owned());
    a.pending();
    b.pending();
    drop(held);
    drop(a);
    assert!(b.woken());
    let mut g = b.ready();
    *g += 1;
    drop(g);
    assert_eq!(*m.try_lock().unwrap(), 1);
}

#[test]
fn rwlock_writer_cancelled_while_queued_lets_the_readers_behind_it_in() {
    let l = RwLock::new(0);
    let r1 = l.try_read().unwrap();
    let mut w = Manual::new(l.write());
    w.pending();
    // Writer-preferring: readers arriving now queue behind the writer.
    assert!(l.try_read().is_err());
    let mut r2 = Manual::new(l.read());
    let mut r3 = Manual::new(l.read());
    r2.pending();
    r3.pending();
    drop(w); // it held every free permit but one: they go to r2 and r3
    assert!(r2.woken() && r3.woken());
    let (g2, g3) = (r2.ready(), r3.ready());
    assert_eq!(*g2 + *g3 + *r1, 0);
    // And a new writer waits for all three.
    let mut w2 = Manual::new(l.write());
    w2.pending();
    drop((r1, g2));
    assert!(!w2.woken());
    drop(g3);
    assert!(w2.woken());
    *w2.ready() = 1;
    assert_eq!(*l.try_read().unwrap(), 1);
}

#[test]
fn rwlock_writer_served_but_dropped_before_it_ran_lets_the_readers_in() {
    let l = RwLock::new(());
    let r1 = l.try_read().unwrap();
    let mut w = Manual::new(l.write());
    w.pending();
    let mut r2 = Manual::new(l.read());
    let mut w2 = Manual::new(l.write());
    let mut r3 = Manual::new(l.read());
    r2.pending();
    w2.pending();
    r3.pending();
    drop(r1); // the writer has the lock now
    assert!(w.woken() && !r2.woken());
    drop(w);
    // Served in order: r2 reads, w2 then waits for r2, r3 waits behind w2.
    assert!(r2.woken() && !w2.woken() && !r3.woken());
    let g2 = r2.ready();
    drop(g2);
    assert!(w2.woken() && !r3.woken());
    drop(w2); // served, dropped: r3 gets in
    assert!(r3.woken());
    drop(r3.ready());
    assert!(l.try_write().is_ok());
}

#[test]
fn semaphore_big_waiter_cancelled_at_the_front_releases_the_line() {
    let sem = Semaphore::new(1);
    let mut big = Manual::new(sem.acquire_many(4));
    big.pending(); // took the free permit, needs 3 more
    let mut small = Manual::new(sem.acquire());
    small.pending();
    sem.add_permits(2); // still for `big`
    assert!(!small.woken());
    drop(big); // its 3 go on: 1 to `small`, 2 back to the counter
    assert!(small.woken());
    let p = small.ready();
    assert_eq!(sem.available_permits(), 2);
    drop(p);
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn bounded_semaphore_served_waiter_dropped_gives_its_permit_back_once() {
    let sem = BoundedSemaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut a = Manual::new(sem.acquire());
    let mut b = Manual::new(sem.acquire());
    a.pending();
    b.pending();
    drop(held);
    drop(a);
    assert!(b.woken());
    drop(b.ready());
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.release().is_err(), "no permit may be counted twice");
}

/// A task that waits on `cond` once and records that it returned.
async fn wait_once(cond: &Condition<Vec<char>>, name: char) {
    let g = cond.lock().await;
    cond.wait(g).await.push(name);
}

#[test]
fn condition_wait_dropped_at_each_point_loses_no_notification_and_no_lock() {
    let cond = Condition::new(Vec::new());
    // Never polled: the guard it took is released with it.
    drop(cond.wait(cond.mutex().try_lock().unwrap()));
    assert!(cond.mutex().try_lock().is_ok());

    let mut a = Manual::new(wait_once(&cond, 'a'));
    let mut b = Manual::new(wait_once(&cond, 'b'));
    let mut c = Manual::new(wait_once(&cond, 'c'));
    let mut d = Manual::new(wait_once(&cond, 'd'));
    for w in [&mut a, &mut b, &mut c, &mut d] {
        w.pending();
    }
    assert_eq!(cond.waiting(), 4);
    drop(b); // queued: owes nothing
    assert_eq!(cond.waiting(), 3);
    cond.notify(1); // to `a`
    drop(a); // notified, never ran: the notification goes to `c`
    assert!(c.woken() && !d.woken());
    assert_eq!(cond.waiting(), 1);

    // `c` is re-taking the lock, which someone else holds.
    let held = cond.mutex().try_lock().unwrap();
    c.pending();
    drop(c); // gives up its place for the lock, passes the notification
    assert!(d.woken());
    d.pending(); // notified; the lock is still held
    drop(held); // hands the lock to `d`
    d.ready();
    assert_eq!(*cond.mutex().try_lock().unwrap(), ['d']);

    // Handed the lock and dropped before it ran: the lock passes on.
    let mut e = Manual::new(wait_once(&cond, 'e'));
    e.pending();
    let held = cond.mutex().try_lock().unwrap();
    cond.notify(1);
    e.pending();
    let mut locker = Manual::new(cond.lock());
    locker.pending();
    drop(held); // the lock goes to `e`...
    drop(e); // ...which passes it to `locker`
    assert!(locker.woken());
    assert_eq!(*locker.ready(), ['d'], "`e` never returned");
    assert!(cond.mutex().try_lock().is_ok());
    assert_eq!(cond.waiting(), 0);
}

#[test]
fn condition_notify_n_counts_only_waiters_still_there() {
    let cond = Condition::new(Vec::new());
    let mut ws: Vec<_> = ['a', 'b', 'c', 'd', 'e']
        .into_iter()
        .map(|n| Manual::new(wait_once(&cond, n)))
        .collect();
    for w in &mut ws {
        w.pending();
    }
    let e = ws.pop().unwrap();
    let d = ws.pop().unwrap();
    drop(ws.remove(1)); // 'b' leaves before the notify
    cond.notify(2); // 'a' and 'c'
    drop(ws.remove(0)); // 'a' drops its notification: it goes to 'd'
    let mut c = ws.pop().unwrap();
    let (mut d, mut e) = (d, e);
    assert!(c.woken() && d.woken() && !e.woken());
    c.ready();
    d.ready();
    assert_eq!(cond.waiting(), 1);
    cond.notify_all();
    e.ready();
    assert_eq!(*cond.mutex().try_lock().unwrap(), ['c', 'd', 'e']);
}

#[test]
fn condition_predicate_panic_leaves_the_lock_free_and_no_waiter_behind() {
    let cond = Condition::new(0);
    // Panics at the first check (lock held by the caller's guard) and at
    // a later check (lock re-taken after a notification).
    let first = catch_unwind(AssertUnwindSafe(|| {
        futures::executor::block_on(async {
            let g = cond.lock().await;
            drop(cond.wait_for(g, |_| panic!("predicate")).await);
        })
    }));
    assert!(first.is_err());
    assert!(cond.mutex().try_lock().is_ok());

    let mut calls = 0;
    let mut w = Manual::new(async {
        let g = cond.lock().await;
        drop(
            cond.wait_for(g, |_| {
                calls += 1;
                assert!(calls < 2, "predicate");
                false
            })
            .await,
        );
    });
    w.pending();
    assert_eq!(cond.waiting(), 1);
    cond.notify(1);
    assert!(catch_unwind(AssertUnwindSafe(|| w.poll())).is_err());
    drop(w);
    assert_eq!(cond.waiting(), 0);
    assert!(cond.mutex().try_lock().is_ok(), "the panic unlocked");
    // Still works.
    let mut ok = Manual::new(async {
        let g = cond.lock().await;
        *cond.wait_for(g, |v| *v == 1).await
    });
    ok.pending();
    *cond.mutex().try_lock().unwrap() = 1;
    cond.notify_all();
    assert_eq!(ok.ready(), 1);
}
