//! Mutex, RwLock, Semaphore, BoundedSemaphore: FIFO order, hand-off and
//! cancellation passing the baton.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::Manual;
use eddy_sync::{BoundedSemaphore, Mutex, RwLock, Semaphore};
use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;

#[test]
fn mutex_serves_20_waiters_in_fifo_order() {
    let mut pool = LocalPool::new();
    let m = Rc::new(Mutex::new(Vec::new()));
    let held = m.try_lock().unwrap();
    for i in 0..20 {
        let m = m.clone();
        pool.spawner()
            .spawn_local(async move {
                m.lock().await.push(i);
            })
            .unwrap();
    }
    pool.run_until_stalled(); // all 20 are queued
    assert!(m.try_lock().is_err(), "newcomers must not jump the queue");
    drop(held);
    pool.run();
    assert_eq!(*m.try_lock().unwrap(), (0..20).collect::<Vec<_>>());
}

#[test]
fn mutex_newcomer_waits_behind_queue_even_when_unlocked() {
    let m = Mutex::new(());
    let g = m.try_lock().unwrap();
    let mut a = Manual::new(m.lock());
    a.pending();
    drop(g); // the lock is handed to `a`, not left free
    assert!(m.try_lock().is_err());
    let mut late = Manual::new(m.lock());
    late.pending();
    assert!(a.woken());
    drop(a.ready());
    drop(late.ready());
}

#[test]
fn mutex_cancelled_waiters_pass_the_baton() {
    let m = Mutex::new(0);
    let g = m.try_lock().unwrap();
    let mut w: Vec<_> = (0..5).map(|_| Manual::new(m.lock())).collect();
    for f in &mut w {
        f.pending();
    }
    // Cancel one in the middle while queued.
    let w2 = w.remove(2);
    drop(w2);
    drop(g); // hands the lock to w[0]
    assert!(w[0].woken());
    // w[0] was handed the lock and is dropped before it ran: w[1] gets it.
    let w0 = w.remove(0);
    drop(w0);
    assert!(w[0].woken(), "the next waiter must be woken");
    let g1 = w[0].ready();
    drop(g1);
    // The cancelled w2 is skipped: the former w3 is next.
    assert!(w[1].woken());
    drop(w[1].ready());
    drop(w[2].ready());
    assert!(m.try_lock().is_ok());
}

#[test]
fn owned_guard_moves_between_tasks() {
    let m = std::sync::Arc::new(Mutex::new(1));
    let g = futures::executor::block_on(m.clone().lock_owned());
    let t = std::thread::spawn(move || {
        let mut g = g;
        *g += 1;
    });
    t.join().unwrap();
    assert_eq!(*m.try_lock().unwrap(), 2);
}

#[test]
fn semaphore_serves_20_waiters_in_fifo_order() {
    let mut pool = LocalPool::new();
    let sem = Rc::new(Semaphore::new(0));
    let order = Rc::new(RefCell::new(Vec::new()));
    for i in 0..20 {
        let (sem, order) = (sem.clone(), order.clone());
        pool.spawner()
            .spawn_local(async move {
                sem.acquire().await.forget();
                order.borrow_mut().push(i);
            })
            .unwrap();
    }
    pool.run_until_stalled();
    for _ in 0..20 {
        sem.add_permits(1);
        pool.run_until_stalled();
    }
    assert_eq!(*order.borrow(), (0..20).collect::<Vec<_>>());
    assert_eq!(sem.available_permits(), 0);
}

#[test]
fn semaphore_big_request_is_not_starved_by_small_ones() {
    let sem = Semaphore::new(0);
    let mut big = Manual::new(sem.acquire_many(3));
    big.pending();
    sem.add_permits(2); // set aside for `big`
    assert_eq!(sem.available_permits(), 0);
    assert!(sem.try_acquire().is_err(), "a newcomer must not take them");
    let mut small = Manual::new(sem.acquire());
    small.pending();
    sem.add_permits(2); // 1 completes `big`, 1 goes to `small`
    assert_eq!(big.ready().num_permits(), 3);
    assert_eq!(small.ready().num_permits(), 1);
}

#[test]
fn semaphore_cancel_returns_partial_and_full_grants() {
    let sem = Semaphore::new(0);
    let mut a = Manual::new(sem.acquire_many(3));
    let mut b = Manual::new(sem.acquire_many(2));
    a.pending();
    b.pending();
    sem.add_permits(2); // a holds 2 of 3
    drop(a); // its 2 go to b
    assert!(b.woken());
    let pb = b.ready();
    assert_eq!(pb.num_permits(), 2);
    drop(pb);
    assert_eq!(sem.available_permits(), 2);

    // A waiter granted in full and dropped before it ran.
    let p = sem.try_acquire_many(2).unwrap();
    let mut c = Manual::new(sem.acquire());
    let mut d = Manual::new(sem.acquire());
    c.pending();
    d.pending();
    drop(p); // c and d both served
    drop(c);
    drop(d);
    assert_eq!(sem.available_permits(), 2, "no permit may be lost");
}

#[test]
fn bounded_semaphore_refuses_over_release() {
    let sem = BoundedSemaphore::new(2);
    assert!(sem.release().is_err());
    let p = sem.try_acquire().unwrap();
    assert!(
        sem.release().is_err(),
        "a live permit is not releasable twice"
    );
    p.forget();
    assert!(sem.release().is_ok());
    assert!(sem.release().is_err());
    assert_eq!(sem.available_permits(), 2);
    assert!(sem
        .release()
        .unwrap_err()
        .to_string()
        .contains("initial count 2"));
}

#[test]
fn rwlock_is_writer_preferring() {
    let lock = RwLock::new(0);
    let r1 = lock.try_read().unwrap();
    let mut w = Manual::new(lock.write());
    w.pending();
    assert!(
        lock.try_read().is_err(),
        "a reader may not pass a waiting writer"
    );
    let mut r2 = Manual::new(lock.read());
    r2.pending();
    drop(r1);
    let mut wg = w.ready();
    *wg = 5;
    assert!(!r2.woken());
    drop(wg);
    assert_eq!(*r2.ready(), 5);
}

#[test]
fn rwlock_many_readers_share() {
    let lock = RwLock::new(1);
    let guards: Vec<_> = (0..100).map(|_| lock.try_read().unwrap()).collect();
    assert!(lock.try_write().is_err());
    drop(guards);
    assert!(lock.try_write().is_ok());
}

#[test]
fn rwlock_cancelled_writer_lets_readers_through() {
    let lock = RwLock::new(());
    let r1 = lock.try_read().unwrap();
    let mut w = Manual::new(lock.write());
    w.pending();
    let mut r2 = Manual::new(lock.read());
    r2.pending();
    drop(w); // the writer's partial grant goes on to r2
    assert!(r2.woken());
    let g2 = r2.ready();
    drop((r1, g2));
    assert!(lock.try_write().is_ok());
}
