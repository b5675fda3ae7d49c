//! Loom models of the pieces added for tokio parity: `RwLock` write-guard
//! downgrade racing waiting writers and readers; `OnceCell` initialisers
//! racing, cancelled or failing while another waits.
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug-assertions" LOOM_MAX_PREEMPTIONS=3 cargo test -p eddy-sync --release --test loom_extras`
#![cfg(loom)]
// The RwLock models hold loom's `UnsafeCell` (not `Sync`) so that loom
// checks every access; loom's threads do not need `Send`.
#![allow(clippy::arc_with_non_send_sync)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use eddy_sync::{OnceCell, RwLock};
use loom::cell::UnsafeCell;
use loom::future::block_on;
use loom::thread;

#[test]
fn downgrade_lets_no_writer_in_between() {
    // loom's cell flags a write by the waiting writer that overlaps the
    // downgraded guard's read.
    loom::model(|| {
        let l = Arc::new(RwLock::new(UnsafeCell::new(0)));
        let w = l.clone().try_write_owned().unwrap();
        let l2 = l.clone();
        let writer = thread::spawn(move || {
            block_on(async {
                let g = l2.write().await;
                // SAFETY: the write guard gives exclusive access.
                g.with_mut(|p| unsafe { *p += 10 });
            })
        });
        // SAFETY: we hold the write lock.
        w.with_mut(|p| unsafe { *p = 1 });
        let r = w.downgrade();
        // SAFETY: a read lock is held: no writer can exist.
        assert_eq!(r.with(|p| unsafe { *p }), 1);
        drop(r);
        writer.join().unwrap();
        let g = l.try_read().expect("the lock ends up free");
        // SAFETY: a read lock is held.
        assert_eq!(g.with(|p| unsafe { *p }), 11);
    });
}

#[test]
fn downgrade_wakes_a_waiting_reader_which_sees_the_write() {
    loom::model(|| {
        let l = Arc::new(RwLock::new(UnsafeCell::new(0)));
        let w = l.clone().try_write_owned().unwrap();
        let l2 = l.clone();
        let reader = thread::spawn(move || {
            block_on(async {
                let g = l2.read().await;
                // SAFETY: a read lock is held.
                g.with(|p| unsafe { *p })
            })
        });
        // SAFETY: we hold the write lock.
        w.with_mut(|p| unsafe { *p = 5 });
        let r = w.downgrade();
        // The reader gets in alongside `r` (block_on would report a
        // deadlock if the downgrade did not wake it).
        let seen = reader.join().unwrap();
        assert_eq!(seen, 5);
        drop(r);
        assert!(l.try_write().is_ok());
    });
}

fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    f.poll(&mut Context::from_waker(&waker))
}

#[test]
fn once_cell_initialiser_cancelled_while_another_waits() {
    // The cancelled one may hold the turn (the waiter queues behind it and
    // must be handed the turn) or be queued itself (and leave the line).
    // loom's block_on reports a waiter that is never woken.
    loom::model(|| {
        let cell = Arc::new(OnceCell::new());
        let c2 = cell.clone();
        let waiter = thread::spawn(move || *block_on(c2.get_or_init(|| async { 2 })));
        {
            let mut a = pin!(cell.get_or_init(futures::future::pending::<u32>));
            let _ = poll_once(a.as_mut());
        }
        assert_eq!(waiter.join().unwrap(), 2);
        assert_eq!(cell.get(), Some(&2));
    });
}

#[test]
fn once_cell_initialiser_failing_while_another_waits() {
    loom::model(|| {
        let cell = Arc::new(OnceCell::new());
        let c2 = cell.clone();
        let waiter = thread::spawn(move || *block_on(c2.get_or_init(|| async { 2 })));
        let failed = block_on(cell.get_or_try_init(|| async { Err::<u32, ()>(()) }));
        // Failed, or found the waiter's value already there.
        assert!(matches!(failed, Err(()) | Ok(&2)));
        assert_eq!(waiter.join().unwrap(), 2);
    });
}

#[test]
fn once_cell_two_initialisers_agree_on_one_value() {
    // loom's cell also checks the value's write happens-before every read.
    loom::model(|| {
        let cell = Arc::new(OnceCell::new());
        let c2 = cell.clone();
        let other = thread::spawn(move || *block_on(c2.get_or_init(|| async { 1 })));
        let mine = *block_on(cell.get_or_init(|| async { 2 }));
        assert_eq!(other.join().unwrap(), mine);
        assert_eq!(cell.get(), Some(&mine));
    });
}

#[test]
fn once_cell_set_races_a_waiting_initialiser() {
    loom::model(|| {
        let cell = Arc::new(OnceCell::new());
        let c2 = cell.clone();
        let setter = thread::spawn(move || c2.set(1).is_ok());
        let got = *block_on(cell.get_or_init(|| async { 2 }));
        let set = setter.join().unwrap();
        // Exactly one of them stored the value, and both see it.
        assert_eq!(set, got == 1);
        assert_eq!(cell.get(), Some(&got));
    });
}
