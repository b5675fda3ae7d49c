//! Guard shapes tokio users rely on: owned `RwLock` guards, write-guard
//! downgrade.
//!
//! Single-threaded except where a guard has to cross threads, so the file
//! also runs under Miri.

mod common;

use std::future::Future;
use std::sync::Arc;

use common::wakers::{panicking_waker, poll_with};
use common::Manual;
use eddy_sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};
use futures::executor::block_on;
use futures::task::noop_waker_ref;

#[test]
fn owned_rwlock_guards_move_to_other_threads_and_release_there() {
    let lock = Arc::new(RwLock::new(0));
    let mut w: OwnedRwLockWriteGuard<i32> = block_on(lock.clone().write_owned());
    assert!(lock.try_read().is_err());
    let writer = std::thread::spawn(move || {
        *w += 1;
        // dropped here, on this thread
    });
    writer.join().unwrap();
    let r: OwnedRwLockReadGuard<i32> = block_on(lock.clone().read_owned());
    let reader = std::thread::spawn(move || *r);
    assert_eq!(reader.join().unwrap(), 1);
    assert!(lock.try_write().is_ok(), "both guards released the lock");
    assert_eq!(
        Arc::strong_count(&lock),
        1,
        "the guards gave their Arc back"
    );
}

#[test]
fn owned_rwlock_waits_are_fifo_and_writer_preferring() {
    let lock = Arc::new(RwLock::new(0));
    let r1 = lock.clone().try_read_owned().unwrap();
    let mut w = Manual::new(lock.clone().write_owned());
    w.pending();
    assert!(
        lock.clone().try_read_owned().is_err(),
        "a reader may not pass a waiting writer"
    );
    let mut r2 = Manual::new(lock.clone().read_owned());
    r2.pending();
    drop(r1);
    let mut wg = w.ready();
    *wg = 5;
    assert!(!r2.woken());
    drop(wg);
    assert_eq!(*r2.ready(), 5);
}

#[test]
fn owned_try_forms_refuse_in_conflicting_modes() {
    let lock = Arc::new(RwLock::new(()));
    let r = lock.clone().try_read_owned().unwrap();
    let r2 = lock.clone().try_read_owned().unwrap();
    assert!(lock.clone().try_write_owned().is_err());
    drop((r, r2));
    let w = lock.clone().try_write_owned().unwrap();
    assert!(lock.clone().try_read_owned().is_err());
    assert!(lock.clone().try_write_owned().is_err());
    assert!(Arc::ptr_eq(w.rwlock(), &lock));
    drop(w);
    assert_eq!(Arc::strong_count(&lock), 1, "refused calls drop their Arc");
}

#[test]
fn owned_wait_cancelled_passes_its_grant_on() {
    let lock = Arc::new(RwLock::new(()));
    let r1 = lock.clone().try_read_owned().unwrap();
    let mut w = Manual::new(lock.clone().write_owned());
    w.pending();
    let mut r2 = Manual::new(lock.clone().read_owned());
    r2.pending();
    drop(w); // its partial grant goes on to r2
    assert!(r2.woken());
    drop((r1, r2.ready()));
    assert!(lock.try_write().is_ok());
}

#[test]
fn downgrade_keeps_the_value_and_lets_readers_but_not_writers_in() {
    let lock = RwLock::new(1);
    let mut w = lock.try_write().unwrap();
    *w = 2;
    let r = w.downgrade();
    assert_eq!(*r, 2);
    let r2 = lock
        .try_read()
        .expect("readers share with a downgraded guard");
    assert!(lock.try_write().is_err(), "the lock is still read-held");
    drop(r);
    assert!(lock.try_write().is_err(), "one reader is left");
    drop(r2);
    assert!(lock.try_write().is_ok());
}

#[test]
fn downgrade_wakes_the_readers_at_the_front_and_no_writer() {
    let lock = RwLock::new(0);
    let mut w = lock.try_write().unwrap();
    let mut ra = Manual::new(lock.read());
    let mut rb = Manual::new(lock.read());
    let mut w2 = Manual::new(lock.write());
    let mut rc = Manual::new(lock.read());
    // Queued in this order: ra, rb, w2, rc.
    ra.pending();
    rb.pending();
    w2.pending();
    rc.pending();
    *w = 7;
    let r = w.downgrade();
    // The two readers in front of the writer get in with the downgraded
    // guard; the writer waits for all three, and the reader behind it waits
    // behind it (FIFO, writer-preferring).
    assert!(ra.woken() && rb.woken());
    assert!(!w2.woken() && !rc.woken());
    let (ga, gb) = (ra.ready(), rb.ready());
    assert_eq!(*ga + *gb + *r, 21);
    w2.pending();
    rc.pending();
    assert!(
        lock.try_read().is_err(),
        "newcomers queue behind the writer"
    );
    drop((ga, r));
    assert!(!w2.woken());
    drop(gb);
    assert!(w2.woken() && !rc.woken());
    *w2.ready() = 8;
    assert_eq!(*rc.ready(), 8);
}

#[test]
fn downgrade_leaves_a_writer_at_the_front_waiting_even_with_readers_behind() {
    let lock = RwLock::new(());
    let w = lock.try_write().unwrap();
    let mut w2 = Manual::new(lock.write());
    let mut r = Manual::new(lock.read());
    w2.pending();
    r.pending();
    let g = w.downgrade();
    assert!(
        !w2.woken() && !r.woken(),
        "no writer slips in, no reader jumps it"
    );
    drop(g);
    assert!(w2.woken() && !r.woken());
    drop(w2.ready());
    assert!(r.woken());
    drop(r.ready());
    assert!(lock.try_write().is_ok());
}

#[test]
fn writer_waiting_behind_a_downgraded_guard_cancelled_lets_readers_in() {
    let lock = RwLock::new(());
    let w = lock.try_write().unwrap();
    let mut w2 = Manual::new(lock.write());
    let mut r = Manual::new(lock.read());
    w2.pending();
    r.pending();
    let g = w.downgrade(); // w2 now holds all but one permit, still queued
    drop(w2);
    assert!(
        r.woken(),
        "the cancelled writer's partial grant goes to the reader"
    );
    let gr = r.ready();
    assert!(lock.try_write().is_err());
    drop((g, gr));
    assert!(lock.try_write().is_ok());
}

#[test]
fn downgrade_of_an_owned_guard() {
    let lock = Arc::new(RwLock::new(String::from("a")));
    let mut w = lock.clone().try_write_owned().unwrap();
    let mut w2 = Manual::new(lock.clone().write_owned());
    let mut r = Manual::new(lock.clone().read_owned());
    r.pending();
    w2.pending();
    w.push('b');
    let g: OwnedRwLockReadGuard<String> = w.downgrade();
    assert!(r.woken() && !w2.woken());
    assert_eq!(*r.ready(), "ab");
    assert_eq!(*g, "ab");
    assert!(Arc::ptr_eq(g.rwlock(), &lock));
    drop(g);
    assert!(w2.woken());
    w2.ready().push('c');
    assert_eq!(*lock.try_read().unwrap(), "abc");
    assert_eq!(Arc::strong_count(&lock), 1, "no Arc leaked by downgrade");
}

#[test]
fn downgrade_with_a_panicking_waker_leaves_the_lock_usable() {
    let lock = RwLock::new(());
    let w = lock.try_write().unwrap();
    let mut r = std::pin::pin!(lock.read());
    assert!(poll_with(r.as_mut(), &panicking_waker()).is_pending());
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.downgrade()));
    assert!(out.is_err(), "the waker's panic reaches the caller");
    // The downgraded guard died in the unwind; the reader was served.
    assert!(poll_with(r.as_mut(), noop_waker_ref()).is_ready());
    assert!(lock.try_write().is_ok(), "nothing is held any more");
}

#[test]
fn downgrade_under_block_on_with_a_writer_on_another_thread() {
    let lock = Arc::new(RwLock::new(0));
    let w = block_on(lock.write());
    let l2 = lock.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let writer = std::thread::spawn(move || {
        block_on(async {
            let mut fut = std::pin::pin!(l2.write());
            futures::future::poll_fn(|cx| {
                let p = fut.as_mut().poll(cx);
                if p.is_pending() {
                    let _ = tx.send(()); // queued now
                }
                p.map(|g| {
                    let mut g = g;
                    *g += 10;
                })
            })
            .await
        })
    });
    rx.recv().unwrap();
    let r = w.downgrade();
    // The writer cannot have got in: the downgraded guard still reads 0.
    assert_eq!(*r, 0);
    drop(r);
    writer.join().unwrap();
    assert_eq!(*block_on(lock.read()), 10);
}
