//! Loom models of Notify, Event, Condition and Barrier: wake and cancel
//! races.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p eddy-sync --release --test loom_signals`
#![cfg(loom)]

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use eddy_sync::{Barrier, Condition, Event, Notify};
use loom::future::block_on;
use loom::thread;

fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    f.poll(&mut Context::from_waker(&waker))
}

#[test]
fn notify_one_is_never_lost() {
    loom::model(|| {
        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let t = thread::spawn(move || n2.notify_one());
        block_on(n.notified());
        t.join().unwrap();
    });
}

#[test]
fn notify_cancelled_waiter_passes_it_on() {
    loom::model(|| {
        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let mut first = Box::pin(n.notified());
        let mut second = Box::pin(n.notified());
        let _ = poll_once(first.as_mut());
        let _ = poll_once(second.as_mut());
        let t = thread::spawn(move || n2.notify_one());
        drop(first); // may have been the one notified
        block_on(second); // must still complete
        t.join().unwrap();
    });
}

#[test]
fn event_set_races_wait() {
    loom::model(|| {
        let ev = Arc::new(Event::new());
        let e2 = ev.clone();
        let t = thread::spawn(move || e2.set());
        block_on(ev.wait());
        t.join().unwrap();
    });
}

#[test]
fn condition_notify_races_wait() {
    loom::model(|| {
        let c = Arc::new(Condition::new(false));
        let c2 = c.clone();
        let t = thread::spawn(move || {
            block_on(async {
                *c2.lock().await = true;
                c2.notify_all();
            })
        });
        block_on(async {
            let g = c.wait_for(c.lock().await, |ready| *ready).await;
            assert!(*g);
        });
        t.join().unwrap();
    });
}

#[test]
fn condition_cancel_after_notify_passes_it_on() {
    loom::model(|| {
        let c = Arc::new(Condition::new(()));
        let mut a = Box::pin(async {
            let g = c.lock().await;
            drop(c.wait(g).await);
        });
        let _ = poll_once(a.as_mut()); // registered, lock released
        let mut b = Box::pin(async {
            let g = c.lock().await;
            drop(c.wait(g).await);
        });
        let _ = poll_once(b.as_mut());
        let c2 = c.clone();
        let t = thread::spawn(move || c2.notify(1));
        drop(a);
        block_on(b); // the single notification must reach b
        t.join().unwrap();
    });
}

#[test]
fn barrier_two_threads() {
    loom::model(|| {
        let b = Arc::new(Barrier::new(2));
        let b2 = b.clone();
        let t = thread::spawn(move || block_on(b2.wait()).unwrap());
        let mine = block_on(b.wait()).unwrap();
        let theirs = t.join().unwrap();
        assert_eq!(mine + theirs, 1, "indices 0 and 1");
    });
}
