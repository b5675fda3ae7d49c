//! `OnceCell`: one initialiser at a time, the others wait; a failed,
//! panicking or cancelled initialiser hands its turn to the next waiter;
//! set/take/into_inner and the value's drop. (Not built under loom:
//! `OnceCell::new` is a `const fn` only outside it; see loom_extras.rs.)
#![cfg(not(loom))]

mod common;

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::stress::{guarded, on_threads, within, Rng, YieldTimes};
use common::wakers::poll_with;
use common::Manual;
use eddy_sync::{OnceCell, SetError};
use futures::channel::oneshot;
use futures::executor::block_on;
use futures::future::pending;
use futures::task::noop_waker_ref;

/// An initialiser that returns what `rx` delivers (pending until then):
/// the cell's value is a `Result<u32, Canceled>`.
fn init_from(rx: oneshot::Receiver<u32>) -> impl FnOnce() -> oneshot::Receiver<u32> {
    move || rx
}

#[test]
fn one_initialiser_runs_the_others_wait_for_its_value() {
    let cell = OnceCell::new();
    let (tx, rx) = oneshot::channel();
    let runs = AtomicUsize::new(0);
    let mut a = Manual::new(cell.get_or_init(|| async {
        runs.fetch_add(1, Ordering::SeqCst);
        rx.await.unwrap()
    }));
    let mut b = Manual::new(cell.get_or_init(|| async {
        runs.fetch_add(1, Ordering::SeqCst);
        2
    }));
    a.pending();
    b.pending();
    assert_eq!(runs.load(Ordering::SeqCst), 1, "b waits instead of running");
    assert!(!cell.initialized() && cell.get().is_none());
    tx.send(1).unwrap();
    assert_eq!(*a.ready(), 1);
    assert!(b.woken(), "setting the value wakes the waiters");
    assert_eq!(*b.ready(), 1);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(cell.get(), Some(&1));
}

#[test]
fn a_cancelled_initialiser_hands_its_turn_to_the_next_waiter() {
    let cell = OnceCell::new();
    let dropped = Arc::new(AtomicUsize::new(0));
    struct OnDrop(Arc<AtomicUsize>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let guard = OnDrop(dropped.clone());
    let mut a = Manual::new(cell.get_or_init(|| async move {
        let _guard = guard;
        pending::<u32>().await
    }));
    let mut b = Manual::new(cell.get_or_init(|| async { 2 }));
    let mut c = Manual::new(cell.get_or_init(|| async { 3 }));
    a.pending();
    b.pending();
    c.pending();
    drop(a);
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "the initialiser's future was dropped"
    );
    assert!(
        b.woken() && !c.woken(),
        "only the first waiter gets the turn"
    );
    assert_eq!(*b.ready(), 2);
    assert!(c.woken());
    assert_eq!(*c.ready(), 2, "c gets b's value, without running its own");
}

#[test]
fn a_cancelled_initialiser_with_nobody_waiting_leaves_the_cell_empty_and_free() {
    let cell = OnceCell::<u32>::new();
    {
        let mut a = pin!(cell.get_or_init(pending));
        assert!(poll_with(a.as_mut(), noop_waker_ref()).is_pending());
    }
    assert!(!cell.initialized());
    assert!(cell.set(5).is_ok(), "nobody holds the turn any more");
    assert_eq!(block_on(cell.get_or_init(|| async { 6 })), &5);
}

#[test]
fn a_failed_initialiser_returns_its_error_and_the_next_waiter_runs_its_own() {
    let cell = OnceCell::new();
    let (tx, rx) = oneshot::channel::<()>();
    let mut a = Manual::new(cell.get_or_try_init(|| async {
        rx.await.unwrap();
        Err::<u32, _>("backend down")
    }));
    let mut b = Manual::new(cell.get_or_try_init(|| async { Ok::<_, &str>(7) }));
    a.pending();
    b.pending();
    tx.send(()).unwrap();
    assert_eq!(a.ready(), Err("backend down"));
    assert!(!cell.initialized());
    assert!(b.woken());
    assert_eq!(b.ready(), Ok(&7));
    assert_eq!(
        block_on(cell.get_or_try_init(|| async { Err::<u32, _>("unused") })),
        Ok(&7),
        "once set, the initialiser is not called"
    );
}

#[test]
fn a_panicking_initialiser_hands_its_turn_on() {
    let cell = OnceCell::new();
    let mut a = Box::pin(cell.get_or_init(|| async {
        futures::pending!(); // holds the turn while b queues
        panic!("initialiser panics")
    }));
    assert!(poll_with(a.as_mut(), noop_waker_ref()).is_pending());
    let mut b = Manual::new(cell.get_or_init(|| async { 4 }));
    b.pending();
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        poll_with(a.as_mut(), noop_waker_ref())
    }));
    assert!(out.is_err(), "the panic reaches a's caller");
    assert!(b.woken(), "the unwind passed the turn on");
    drop(a);
    assert_eq!(*b.ready(), 4, "b ran its own initialiser");
}

#[test]
fn a_waiter_handed_the_turn_and_dropped_before_it_ran_passes_it_on() {
    let cell = OnceCell::new();
    let mut a = Manual::new(cell.get_or_init(pending::<u32>));
    let mut b = Manual::new(cell.get_or_init(|| async { 2 }));
    let mut c = Manual::new(cell.get_or_init(|| async { 3 }));
    a.pending();
    b.pending();
    c.pending();
    drop(a); // b is handed the turn...
    assert!(b.woken());
    drop(b); // ...and dropped before it ran: c gets it
    assert!(c.woken());
    assert_eq!(*c.ready(), 3);
}

#[test]
fn a_queued_waiter_cancelled_loses_nothing_for_the_others() {
    let cell = OnceCell::new();
    let (tx, rx) = oneshot::channel();
    let mut a = Manual::new(cell.get_or_init(init_from(rx)));
    let mut b = Manual::new(cell.get_or_init(|| async { Ok(2) }));
    let mut c = Manual::new(cell.get_or_init(|| async { Ok(3) }));
    a.pending();
    b.pending();
    c.pending();
    drop(b);
    tx.send(1).unwrap();
    assert_eq!(*a.ready(), Ok(1));
    assert_eq!(*c.ready(), Ok(1));
}

#[test]
fn a_waiter_woken_for_the_value_and_dropped_owes_nothing() {
    let cell = OnceCell::new();
    let (tx, rx) = oneshot::channel();
    let mut a = Manual::new(cell.get_or_init(init_from(rx)));
    let mut b = Manual::new(cell.get_or_init(|| async { Ok(2) }));
    a.pending();
    b.pending();
    tx.send(1).unwrap();
    assert_eq!(*a.ready(), Ok(1));
    assert!(b.woken());
    drop(b);
    assert_eq!(cell.get(), Some(&Ok(1)));
    assert_eq!(block_on(cell.get_or_init(|| async { Ok(5) })), &Ok(1));
}

#[test]
fn set_refuses_while_initialising_and_once_set() {
    let cell = OnceCell::new();
    let mut a = Manual::new(cell.get_or_init(pending::<&str>));
    a.pending();
    let err = cell.set("x").unwrap_err();
    assert!(err.is_initializing() && !err.is_already_initialized());
    assert_eq!(err.into_inner(), "x");
    drop(a);
    cell.set("y").unwrap();
    let err = cell.set("z").unwrap_err();
    assert!(matches!(err, SetError::AlreadyInitialized("z")));
    assert_eq!(
        err.to_string(),
        "the OnceCell already holds a value; read it with get()"
    );
    assert!(SetError::Initializing(())
        .to_string()
        .contains("await get_or_init()"));
    assert_eq!(format!("{err:?}"), "AlreadyInitialized(..)");
    assert_eq!(block_on(cell.get_or_init(|| async { "w" })), &"y");
}

#[test]
fn set_from_inside_the_initialiser_is_refused() {
    let cell = OnceCell::new();
    let v = block_on(cell.get_or_init(|| async {
        assert!(cell.set(1).unwrap_err().is_initializing());
        assert!(cell.get().is_none());
        2
    }));
    assert_eq!(*v, 2);
}

#[test]
fn take_into_inner_get_mut_and_the_values_drop() {
    let drops = Arc::new(AtomicUsize::new(0));
    #[derive(Debug)]
    struct Counted(u32, Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }
    let mut cell = OnceCell::new();
    assert!(cell.get_mut().is_none());
    cell.set(Counted(1, drops.clone())).unwrap();
    cell.get_mut().unwrap().0 = 2;
    let v = cell.take().unwrap();
    assert_eq!(v.0, 2);
    assert!(!cell.initialized() && cell.take().is_none());
    drop(v);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    // Empty again: initialisable again.
    block_on(cell.get_or_init(|| async { Counted(3, drops.clone()) }));
    assert_eq!(cell.get().unwrap().0, 3);
    drop(cell);
    assert_eq!(drops.load(Ordering::SeqCst), 2, "the cell drops its value");
    let cell = OnceCell::from(Counted(4, drops.clone()));
    let v = cell.into_inner().unwrap();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        2,
        "into_inner does not drop it"
    );
    drop(v);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    assert!(OnceCell::<Counted>::new().into_inner().is_none());
}

#[test]
fn take_recovers_a_cell_whose_initialiser_was_leaked() {
    let mut cell = OnceCell::<u32>::new();
    let mut a = Box::pin(cell.get_or_init(pending));
    assert!(poll_with(a.as_mut(), noop_waker_ref()).is_pending());
    std::mem::forget(a); // holds the turn forever
    assert!(cell.set(1).unwrap_err().is_initializing());
    assert_eq!(cell.take(), None);
    assert!(cell.set(1).is_ok(), "take starts the cell over");
}

#[test]
fn trait_impls() {
    let a = OnceCell::new_with(Some(String::from("a")));
    let b = a.clone();
    assert_eq!(a, b);
    assert_ne!(a, OnceCell::new());
    assert_eq!(OnceCell::<u8>::default(), OnceCell::new_with(None));
    assert_eq!(format!("{a:?}"), r#"OnceCell { value: Some("a") }"#);
    assert_eq!(
        format!("{:?}", OnceCell::<u8>::new()),
        "OnceCell { value: None }"
    );
}

#[test]
fn cell_and_its_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let cell = OnceCell::<Vec<u8>>::new();
    send_sync(&cell);
    let f = cell.get_or_init(|| async { Vec::new() });
    send(&f);
    let f2 = cell.get_or_try_init(|| async { Err::<Vec<u8>, ()>(()) });
    send(&f2);
}

#[test]
fn a_static_cell_initialised_from_many_threads_runs_once() {
    static CELL: OnceCell<usize> = OnceCell::new();
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    guarded(20, move || {
        on_threads(move |t| {
            let v = block_on(CELL.get_or_init(|| async move {
                RUNS.fetch_add(1, Ordering::SeqCst);
                YieldTimes(3).await;
                t
            }));
            s2.lock().unwrap().push(v as *const usize as usize);
        })
    });
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter().all(|&p| p == seen[0]),
        "every thread got the one value"
    );
}

#[test]
fn initialisers_failing_and_given_up_at_random_end_with_one_value() {
    for round in 0..50 {
        let cell = Arc::new(OnceCell::new());
        let successes = Arc::new(AtomicUsize::new(0));
        let (c2, s2) = (cell.clone(), successes.clone());
        guarded(20, move || {
            on_threads(move |t| {
                let mut rng = Rng::new(t + 100 * round);
                block_on(async {
                    loop {
                        let fail = rng.below(3) == 0;
                        let work = rng.below(3);
                        let patience = rng.below(4);
                        let s = &s2;
                        let attempt = c2.get_or_try_init(|| async move {
                            YieldTimes(work).await;
                            if fail {
                                Err(())
                            } else {
                                s.fetch_add(1, Ordering::SeqCst);
                                Ok(t)
                            }
                        });
                        match within(Box::pin(attempt), patience).await {
                            Some(Ok(v)) => {
                                assert!(*v < common::stress::THREADS);
                                break;
                            }
                            Some(Err(())) | None => continue,
                        }
                    }
                })
            })
        });
        assert_eq!(
            successes.load(Ordering::SeqCst),
            1,
            "exactly one initialiser stored a value"
        );
        assert!(cell.initialized());
    }
}

/// `set` is refused while a waiter holds the turn a failed initialiser
/// handed it, before that waiter has run (no initialiser is running then),
/// and the waiters never get a value from `set`: they run their own.
#[test]
fn set_is_refused_while_a_waiter_holds_a_handed_turn() {
    let cell = OnceCell::new();
    let (tx, rx) = oneshot::channel::<()>();
    let mut a = Manual::new(cell.get_or_try_init(|| async {
        rx.await.unwrap();
        Err::<u32, _>("failed")
    }));
    let mut b = Manual::new(cell.get_or_try_init(|| async { Ok::<_, &str>(7) }));
    a.pending();
    b.pending();
    assert!(cell.set(1).unwrap_err().is_initializing(), "a is running");
    tx.send(()).unwrap();
    assert_eq!(a.ready(), Err("failed"));
    assert!(b.woken(), "b was handed the turn");
    assert!(
        cell.set(2).unwrap_err().is_initializing(),
        "b holds the turn though it has not run"
    );
    assert_eq!(b.ready(), Ok(&7), "b ran its own initialiser");
}
