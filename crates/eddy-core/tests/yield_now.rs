//! `yield_now` (and an exhausted coop budget) wake the running task through
//! a flag the task's poll reads as it ends, not through its waker. These
//! tests pin down that the shortcut behaves exactly like a real wake: the
//! flag never outlives the poll that set it, wakers that are not the
//! running task's own still get a real wake, and a cancel racing the
//! requeue wins.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use eddy_core::{run, spawn, yield_now};
use futures::stream::{FuturesUnordered, StreamExt};

/// Polls `f` once with the task's own context and returns what it gave.
async fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    let mut f = pin!(f);
    poll_fn(|cx| Poll::Ready(f.as_mut().poll(cx))).await
}

#[test]
fn a_yield_abandoned_in_a_poll_that_completes_does_not_requeue_the_next_task() {
    let polls = Rc::new(Cell::new(0));
    let p = polls.clone();
    run(async move {
        // Task A: polls a yield once (which records a self-wake), drops it
        // and completes in the same poll.
        let a = spawn(async {
            assert!(poll_once(yield_now()).await.is_pending());
        });
        // Task B: pending forever, with nothing that wakes it.
        let b = spawn(poll_fn(move |_| {
            p.set(p.get() + 1);
            Poll::<()>::Pending
        }));
        a.await.unwrap();
        for _ in 0..10 {
            yield_now().await;
        }
        b.cancel();
        assert!(b.await.unwrap_err().is_cancelled());
    });
    assert_eq!(polls.get(), 1, "a stale self-wake requeued another task");
}

#[test]
fn a_yield_abandoned_in_a_pending_poll_still_requeues_its_own_task() {
    // Like a wake_by_ref during the poll: the task is polled again even
    // though the yield future itself is gone.
    let polls = Rc::new(Cell::new(0));
    let p = polls.clone();
    run(async move {
        let t = spawn(poll_fn(move |cx| {
            p.set(p.get() + 1);
            if p.get() == 1 {
                let mut y = pin!(yield_now());
                assert!(y.as_mut().poll(cx).is_pending());
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        }));
        t.await.unwrap();
    });
    assert_eq!(polls.get(), 2);
}

#[test]
fn yields_polled_under_a_combinators_waker_are_woken_for_real() {
    // FuturesUnordered polls each member with its own waker, so the
    // shortcut must not apply; every yield still completes.
    let done = run(async {
        spawn(async {
            let mut set: FuturesUnordered<_> = (0..50)
                .map(|i| async move {
                    for _ in 0..i % 4 {
                        yield_now().await;
                    }
                    i
                })
                .collect();
            let mut sum = 0;
            while let Some(i) = set.next().await {
                sum += i;
            }
            sum
        })
        .await
        .unwrap()
    });
    assert_eq!(done, (0..50).sum::<i32>());
}

#[test]
fn the_main_future_and_callbacks_yield_through_a_real_wake() {
    let order = Rc::new(std::cell::RefCell::new(Vec::new()));
    let o = order.clone();
    run(async move {
        let o2 = o.clone();
        let t = spawn(async move {
            o2.borrow_mut().push("task");
        });
        // Main is not a task: its yield must still let the task run.
        yield_now().await;
        o.borrow_mut().push("main");
        t.await.unwrap();
    });
    assert_eq!(*order.borrow(), ["task", "main"]);
}

#[test]
fn a_cancel_from_another_thread_stops_a_task_that_keeps_yielding() {
    let yields = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicBool::new(false));
    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let (y, y2, d) = (yields.clone(), yields.clone(), dropped.clone());
    run(async move {
        let t = spawn(async move {
            let _guard = SetOnDrop(d);
            loop {
                y.fetch_add(1, Ordering::SeqCst);
                yield_now().await;
            }
        });
        let thread = std::thread::spawn(move || {
            while y2.load(Ordering::SeqCst) < 100 {
                std::thread::yield_now();
            }
            t.cancel();
            t
        });
        while !thread.is_finished() {
            yield_now().await;
        }
        let result = thread.join().unwrap().await;
        assert!(result.unwrap_err().is_cancelled());
    });
    assert!(dropped.load(Ordering::SeqCst));
    assert!(yields.load(Ordering::SeqCst) >= 100);
}

#[test]
fn two_yielding_tasks_alternate_in_fifo_order() {
    let log = Rc::new(std::cell::RefCell::new(Vec::new()));
    let l = log.clone();
    run(async move {
        let tasks: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|name| {
                let l = l.clone();
                spawn(async move {
                    for i in 0..3 {
                        l.borrow_mut().push(format!("{name}{i}"));
                        yield_now().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(
        *log.borrow(),
        ["a0", "b0", "a1", "b1", "a2", "b2"].map(String::from)
    );
}
