//! Event, Condition, Notify and Barrier.

mod common;

use std::cell::Cell;
use std::rc::Rc;

use common::Manual;
use eddy_sync::{Barrier, BrokenBarrier, Condition, Event, Notify};
use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;

#[test]
fn event_set_wakes_every_waiter_even_if_cleared_before_they_run() {
    let ev = Event::new();
    let mut ws: Vec<_> = (0..5).map(|_| Manual::new(ev.wait())).collect();
    for w in &mut ws {
        w.pending();
    }
    ev.set();
    ev.clear();
    for w in &mut ws {
        assert!(w.woken());
        w.ready();
    }
    let mut late = Manual::new(ev.wait());
    late.pending();
    ev.set();
    late.ready();
    Manual::new(ev.wait()).ready(); // set: returns at once
}

#[test]
fn condition_notify_counts() {
    let mut pool = LocalPool::new();
    let cond = Rc::new(Condition::new(0u32));
    let woke = Rc::new(Cell::new(0));
    for _ in 0..5 {
        let (cond, woke) = (cond.clone(), woke.clone());
        pool.spawner()
            .spawn_local(async move {
                let g = cond.lock().await;
                let mut g = cond.wait(g).await;
                *g += 1;
                woke.set(woke.get() + 1);
            })
            .unwrap();
    }
    pool.run_until_stalled();
    assert_eq!(cond.waiting(), 5);
    cond.notify(2);
    pool.run_until_stalled();
    assert_eq!(woke.get(), 2, "notify(2) wakes exactly two");
    assert_eq!(cond.waiting(), 3);
    cond.notify(1);
    pool.run_until_stalled();
    assert_eq!(woke.get(), 3);
    cond.notify_all();
    pool.run_until_stalled();
    assert_eq!(woke.get(), 5);
    assert_eq!(*cond.mutex().try_lock().unwrap(), 5);
    cond.notify(3); // nobody waits: no effect, no stored notification
    assert_eq!(cond.waiting(), 0);
}

#[test]
fn condition_wait_releases_and_reacquires_the_lock() {
    let cond = Condition::new(());
    let g = futures::executor::block_on(cond.lock());
    let mut w = Manual::new(cond.wait(g));
    w.pending();
    // Released while waiting.
    let other = cond.mutex().try_lock().expect("wait must release the lock");
    cond.notify(1);
    assert!(w.woken());
    w.pending(); // notified, but the lock is held by `other`
    drop(other);
    let g = w.ready();
    assert!(
        cond.mutex().try_lock().is_err(),
        "wait returns holding the lock"
    );
    drop(g);
}

#[test]
fn condition_cancelled_after_notify_passes_the_notification() {
    let cond = Condition::new(());
    let mut a = Manual::new(async {
        let g = cond.lock().await;
        drop(cond.wait(g).await);
    });
    let mut b = Manual::new(async {
        let g = cond.lock().await;
        drop(cond.wait(g).await);
    });
    a.pending();
    b.pending();
    cond.notify(1); // goes to a
    drop(a); // a never returns: b must get the notification
    assert!(b.woken());
    b.ready();
    // Cancelled while re-taking the lock: nothing stays locked.
    let mut c = Manual::new(async {
        let g = cond.lock().await;
        drop(cond.wait(g).await);
    });
    c.pending();
    let held = cond.mutex().try_lock().unwrap();
    cond.notify(1);
    c.pending();
    drop(c);
    drop(held);
    assert!(cond.mutex().try_lock().is_ok());
}

#[test]
fn condition_wait_for_checks_predicate() {
    let mut pool = LocalPool::new();
    let cond = Rc::new(Condition::new(0));
    let done = Rc::new(Cell::new(false));
    {
        let (cond, done) = (cond.clone(), done.clone());
        pool.spawner()
            .spawn_local(async move {
                let g = cond.wait_for(cond.lock().await, |v| *v >= 3).await;
                assert_eq!(*g, 3);
                done.set(true);
            })
            .unwrap();
    }
    for _ in 0..3 {
        pool.run_until_stalled();
        assert!(!done.get());
        *cond.mutex().try_lock().unwrap() += 1;
        cond.notify_all();
    }
    pool.run_until_stalled();
    assert!(done.get());
}

#[test]
fn notify_one_stores_one_permit() {
    let n = Notify::new();
    n.notify_one();
    n.notify_one();
    Manual::new(n.notified()).ready();
    Manual::new(n.notified()).pending();
}

#[test]
fn notify_waiters_wakes_all_current_and_stores_nothing() {
    let n = Notify::new();
    let mut a = Manual::new(n.notified());
    let mut b = Manual::new(n.notified());
    a.pending();
    let mut unpolled = Manual::new(n.notified()); // created before the call
    n.notify_waiters();
    b.ready();
    a.ready();
    unpolled.ready();
    Manual::new(n.notified()).pending();
}

#[test]
fn notify_cancelled_after_notify_one_passes_it_on() {
    let n = Notify::new();
    let mut a = Manual::new(n.notified());
    let mut b = Manual::new(n.notified());
    a.pending();
    b.pending();
    n.notify_one();
    drop(a);
    assert!(b.woken());
    b.ready();
    // With nobody left, a dropped notified waiter's wake becomes the permit.
    let mut c = Manual::new(n.notified());
    c.pending();
    n.notify_one();
    drop(c);
    Manual::new(n.notified()).ready();
}

#[test]
fn barrier_indices_are_unique_each_round() {
    let mut pool = LocalPool::new();
    let b = Rc::new(Barrier::new(4));
    let seen = Rc::new(std::cell::RefCell::new(Vec::new()));
    for _ in 0..4 {
        let (b, seen) = (b.clone(), seen.clone());
        pool.spawner()
            .spawn_local(async move {
                for _ in 0..3 {
                    let i = b.wait().await.unwrap();
                    seen.borrow_mut().push(i);
                }
            })
            .unwrap();
    }
    pool.run();
    let mut all = seen.borrow().clone();
    assert_eq!(all.len(), 12);
    for round in all.chunks_mut(4) {
        round.sort();
        assert_eq!(round, [0, 1, 2, 3]);
    }
}

#[test]
fn barrier_abort_and_reset() {
    let b = Barrier::new(3);
    let mut w1 = Manual::new(b.wait());
    w1.pending();
    assert_eq!(b.n_waiting(), 1);
    b.abort();
    assert!(b.is_broken());
    assert_eq!(w1.ready(), Err(BrokenBarrier));
    assert_eq!(Manual::new(b.wait()).ready(), Err(BrokenBarrier));
    b.reset();
    assert!(!b.is_broken());
    let mut w2 = Manual::new(b.wait());
    w2.pending();
    b.reset(); // waiting tasks are broken out
    assert_eq!(w2.ready(), Err(BrokenBarrier));
    assert_eq!(b.n_waiting(), 0);
    // Usable again after reset.
    let mut x = Manual::new(b.wait());
    let mut y = Manual::new(b.wait());
    x.pending();
    y.pending();
    assert_eq!(Manual::new(b.wait()).ready(), Ok(2));
    let mut got = [x.ready().unwrap(), y.ready().unwrap()];
    got.sort();
    assert_eq!(got, [0, 1]);
}

#[test]
fn barrier_cancelled_waiter_leaves_the_round() {
    let b = Barrier::new(2);
    let mut a = Manual::new(b.wait());
    a.pending();
    drop(a);
    assert_eq!(b.n_waiting(), 0);
    let mut c = Manual::new(b.wait());
    c.pending(); // still needs a second party
    assert_eq!(Manual::new(b.wait()).ready(), Ok(1));
    assert_eq!(c.ready(), Ok(0));
}
