//! Loom models of the pieces added for tokio parity: `RwLock` write-guard
//! downgrade racing waiting writers and readers.
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug-assertions" LOOM_MAX_PREEMPTIONS=3 cargo test -p eddy-sync --release --test loom_extras`
#![cfg(loom)]

use std::sync::Arc;

use eddy_sync::RwLock;
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
