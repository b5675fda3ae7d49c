//! Loom models of the semaphore family (Mutex, RwLock, Semaphore): hand-off
//! and cancellation races.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p eddy-sync --release --test loom_locks`
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use eddy_sync::{Mutex, RwLock, Semaphore};
use loom::future::block_on;
use loom::thread;

fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    f.poll(&mut Context::from_waker(&waker))
}

#[test]
fn mutex_two_threads_no_lost_wakeup() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(0));
        let m2 = m.clone();
        let t = thread::spawn(move || block_on(async { *m2.lock().await += 1 }));
        block_on(async { *m.lock().await += 1 });
        t.join().unwrap();
        assert_eq!(*m.try_lock().unwrap(), 2);
    });
}

#[test]
fn mutex_cancel_races_unlock() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(()));
        let g = m.clone().try_lock_owned().unwrap();
        let t = thread::spawn(move || drop(g));
        {
            let mut fut = pin!(m.lock());
            if let Poll::Ready(g) = poll_once(fut.as_mut()) {
                drop(g);
            }
            // Dropped here: queued, or handed the lock and never ran.
        }
        t.join().unwrap();
        assert!(m.try_lock().is_ok(), "the lock must end up free");
    });
}

#[test]
fn semaphore_cancel_races_release() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s2 = sem.clone();
        let t = thread::spawn(move || s2.add_permits(1));
        {
            let mut fut = pin!(sem.acquire_many(2));
            let _ = poll_once(fut.as_mut());
        }
        t.join().unwrap();
        assert_eq!(sem.available_permits(), 1, "a partial grant must come back");
    });
}

#[test]
fn semaphore_handoff_between_waiters() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let s2 = sem.clone();
        let t = thread::spawn(move || {
            block_on(async {
                let _p = s2.acquire().await;
            })
        });
        block_on(async {
            let _p = sem.acquire().await;
        });
        t.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn rwlock_writer_and_reader() {
    loom::model(|| {
        let l = Arc::new(RwLock::new(0));
        let l2 = l.clone();
        let t = thread::spawn(move || block_on(async { *l2.write().await += 1 }));
        let seen = block_on(async { *l.read().await });
        assert!(seen == 0 || seen == 1);
        t.join().unwrap();
        assert_eq!(*l.try_read().unwrap(), 1);
    });
}

#[test]
fn mutex_three_parties_with_a_cancelled_waiter() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(0));
        let g = m.clone().try_lock_owned().unwrap();
        let m1 = m.clone();
        let waiter = thread::spawn(move || block_on(async { *m1.lock().await += 1 }));
        {
            let mut fut = pin!(m.lock());
            let _ = poll_once(fut.as_mut());
            drop(g); // hands the lock to the first waiter, maybe `fut`
        } // `fut` dropped: whatever it was handed moves on
        waiter.join().unwrap();
        assert_eq!(*m.try_lock().expect("lock must end up free"), 1);
    });
}

#[test]
fn mutex_handoff_publishes_the_holders_writes() {
    // The waiter learns it was handed the lock from an atomic ticket check,
    // without the waiter list's lock: loom's cell checks that the previous
    // holder's write still happens-before the new holder's read.
    loom::model(|| {
        let m = Arc::new(Mutex::new(loom::cell::UnsafeCell::new(0)));
        let g = m.clone().try_lock_owned().unwrap();
        let m1 = m.clone();
        let waiter = thread::spawn(move || {
            block_on(async {
                let g = m1.lock().await;
                // SAFETY: the guard gives exclusive access to the cell.
                g.with(|p| unsafe { *p })
            })
        });
        // SAFETY: we hold the lock.
        g.with_mut(|p| unsafe { *p = 7 });
        drop(g);
        assert_eq!(waiter.join().unwrap(), 7);
    });
}
