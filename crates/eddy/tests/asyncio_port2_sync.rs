//! asyncio's synchronization primitives, the corners the first port left
//! out: Barrier indices, abort and reset (BrokenBarrierError), Condition
//! notify(n) counts and wait_for re-checking its predicate, the
//! BoundedSemaphore over-release error, Semaphore.locked() while a permit
//! is in hand-off, Event set/clear with waiters, and Lock hand-off
//! fairness against a task that releases and re-acquires at once.

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use common::port::{event_waiters, guard, settle};
use eddy::sync::{
    Barrier, BoundedSemaphore, BrokenBarrier, Condition, Event, Mutex, OverRelease, Semaphore,
};

#[test]
fn barrier_hands_out_each_index_once_per_round() {
    eddy::run(async {
        let barrier = Rc::new(Barrier::new(3));
        for _round in 0..2 {
            let parties: Vec<_> = (0..3)
                .map(|_| {
                    let b = barrier.clone();
                    eddy::spawn(async move { b.wait().await })
                })
                .collect();
            let mut indices = Vec::new();
            for p in parties {
                indices.push(guard("party", p).await.unwrap().unwrap());
            }
            indices.sort();
            assert_eq!(indices, [0, 1, 2]);
            assert_eq!(barrier.n_waiting(), 0);
        }
    });
}

#[test]
fn barrier_abort_breaks_waiters_and_later_arrivals_until_reset() {
    eddy::run(async {
        let barrier = Rc::new(Barrier::new(3));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let b = barrier.clone();
                eddy::spawn(async move { b.wait().await })
            })
            .collect();
        settle().await;
        assert_eq!(barrier.n_waiting(), 2);
        barrier.abort();
        for w in waiters {
            assert_eq!(guard("waiter", w).await.unwrap(), Err(BrokenBarrier));
        }
        assert!(barrier.is_broken());
        assert_eq!(barrier.n_waiting(), 0);
        // A late arrival does not wait: the barrier is broken.
        assert_eq!(guard("late", barrier.wait()).await, Err(BrokenBarrier));
        let text = BrokenBarrier.to_string();
        assert!(text.contains("broken") && text.contains("reset"), "{text}");

        barrier.reset();
        assert!(!barrier.is_broken());
        let parties: Vec<_> = (0..3)
            .map(|_| {
                let b = barrier.clone();
                eddy::spawn(async move { b.wait().await })
            })
            .collect();
        for p in parties {
            assert!(guard("party", p).await.unwrap().is_ok());
        }
    });
}

#[test]
fn barrier_reset_while_waiting_breaks_that_round_only() {
    eddy::run(async {
        let barrier = Rc::new(Barrier::new(2));
        let early = {
            let b = barrier.clone();
            eddy::spawn(async move { b.wait().await })
        };
        settle().await;
        assert_eq!(barrier.n_waiting(), 1);
        // asyncio: reset() makes the current waiters raise
        // BrokenBarrierError and leaves the barrier usable.
        barrier.reset();
        assert_eq!(guard("early", early).await.unwrap(), Err(BrokenBarrier));
        assert!(!barrier.is_broken());
        let b = barrier.clone();
        let other = eddy::spawn(async move { b.wait().await });
        let mine = guard("new round", barrier.wait()).await.unwrap();
        let theirs = guard("other", other).await.unwrap().unwrap();
        assert_eq!(mine + theirs, 1);
    });
}

fn waiters(
    cond: &Rc<Condition<u32>>,
    n: usize,
    woken: &Rc<Cell<usize>>,
) -> Vec<eddy::JoinHandle<()>> {
    (0..n)
        .map(|_| {
            let (cond, woken) = (cond.clone(), woken.clone());
            eddy::spawn(async move {
                let g = cond.lock().await;
                let _g = cond.wait(g).await;
                woken.set(woken.get() + 1);
            })
        })
        .collect()
}

#[test]
fn condition_notify_n_wakes_exactly_n_and_no_more_than_wait() {
    eddy::run(async {
        let cond = Rc::new(Condition::new(0u32));
        let woken = Rc::new(Cell::new(0));
        let tasks = waiters(&cond, 5, &woken);
        settle().await;
        assert_eq!(cond.waiting(), 5);
        cond.notify(0);
        settle().await;
        assert_eq!(woken.get(), 0);
        cond.notify(2);
        settle().await;
        assert_eq!(woken.get(), 2);
        assert_eq!(cond.waiting(), 3);
        // More than are waiting: the rest are woken, nothing is saved up.
        cond.notify(10);
        settle().await;
        assert_eq!(woken.get(), 5);
        for t in tasks {
            guard("waiter", t).await.unwrap();
        }
        let late = waiters(&cond, 1, &woken);
        settle().await;
        assert_eq!(woken.get(), 5, "a notify with nobody waiting is not kept");
        cond.notify_all();
        for t in late {
            guard("late", t).await.unwrap();
        }
    });
}

#[test]
fn condition_wait_for_rechecks_its_predicate_after_each_wakeup() {
    eddy::run(async {
        let cond = Rc::new(Condition::new(0u32));
        let checks = Rc::new(Cell::new(0));
        let waiter = {
            let (cond, checks) = (cond.clone(), checks.clone());
            eddy::spawn(async move {
                let g = cond
                    .wait_for(cond.lock().await, |v| {
                        checks.set(checks.get() + 1);
                        *v >= 3
                    })
                    .await;
                *g
            })
        };
        settle().await;
        assert_eq!(checks.get(), 1);
        for step in 1..=3 {
            *cond.lock().await = step;
            cond.notify_all();
            settle().await;
            assert_eq!(checks.get(), 1 + step as usize);
        }
        assert_eq!(guard("waiter", waiter).await.unwrap(), 3);
        // A spurious notify while the predicate is false is survived.
        assert_eq!(cond.waiting(), 0);
    });
}

#[test]
fn bounded_semaphore_over_release_says_what_went_wrong() {
    eddy::run(async {
        let sem = BoundedSemaphore::new(2);
        // asyncio: ValueError('BoundedSemaphore released too many times').
        let err = sem.release().unwrap_err();
        assert_eq!(err, OverRelease { initial: 2 });
        let text = err.to_string();
        assert!(text.contains("released too many times"), "{text}");
        assert_eq!(sem.available_permits(), 2);
        // A forgotten permit may be released once, not twice.
        sem.acquire().await.forget();
        assert_eq!(sem.available_permits(), 1);
        sem.release().unwrap();
        assert_eq!(sem.available_permits(), 2);
        assert!(sem.release().is_err());
        // Permits that go back by drop do not open a release.
        drop(sem.acquire().await);
        assert!(sem.release().is_err());
        assert!(!sem.locked());
    });
}

#[test]
fn semaphore_is_locked_while_a_released_permit_waits_for_its_waiter() {
    eddy::run(async {
        let sem = Rc::new(Semaphore::new(1));
        assert!(!sem.locked());
        let held = sem.try_acquire().unwrap();
        assert!(sem.locked());
        let got = Rc::new(Cell::new(false));
        let waiter = {
            let (sem, got) = (sem.clone(), got.clone());
            eddy::spawn(async move {
                let _p = sem.acquire().await;
                got.set(true);
            })
        };
        settle().await;
        drop(held);
        // The permit went to the waiter, which has not run yet: an acquire
        // now would have to wait, so asyncio's locked() is True.
        assert!(!got.get());
        assert!(sem.locked());
        assert!(sem.try_acquire().is_err());
        guard("waiter", waiter).await.unwrap();
        assert!(got.get());
        assert!(!sem.locked());
    });
}

#[test]
fn event_set_then_clear_still_wakes_the_waiters_of_that_moment() {
    eddy::run(async {
        let ev = Rc::new(Event::new());
        let (tasks, woke) = event_waiters(&ev, 3);
        settle().await;
        ev.set();
        ev.clear();
        assert!(!ev.is_set());
        for t in tasks {
            guard("waiter", t).await.unwrap();
        }
        assert_eq!(woke.get(), 3);
        // A waiter arriving after the clear waits for the next set.
        let late = {
            let (ev, woke) = (ev.clone(), woke.clone());
            eddy::spawn(async move {
                ev.wait().await;
                woke.set(woke.get() + 1);
            })
        };
        settle().await;
        assert_eq!(woke.get(), 3);
        ev.set();
        guard("late", late).await.unwrap();
        assert_eq!(woke.get(), 4);
    });
}

#[test]
fn lock_releaser_cannot_barge_back_in_ahead_of_a_waiter() {
    eddy::run(async {
        let lock = Rc::new(Mutex::new(Vec::new()));
        let order = Rc::new(RefCell::new(Vec::new()));
        let g = lock.lock().await;
        let waiter = {
            let (lock, order) = (lock.clone(), order.clone());
            eddy::spawn(async move {
                lock.lock().await.push("waiter");
                order.borrow_mut().push("waiter");
            })
        };
        settle().await;
        drop(g);
        // asyncio's Lock is fair: the releasing task re-acquiring at once
        // queues behind the waiter.
        assert!(lock.try_lock().is_err());
        assert!(lock.is_locked());
        lock.lock().await.push("releaser");
        order.borrow_mut().push("releaser");
        guard("waiter", waiter).await.unwrap();
        assert_eq!(*lock.lock().await, ["waiter", "releaser"]);
        assert_eq!(*order.borrow(), ["waiter", "releaser"]);
    });
}

#[test]
fn lock_serves_many_contenders_round_robin() {
    eddy::run(async {
        let lock = Rc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = (0..3)
            .map(|id| {
                let lock = lock.clone();
                eddy::spawn(async move {
                    for _ in 0..3 {
                        let mut g = lock.lock().await;
                        g.push(id);
                        // Hold it across a step: the others queue up.
                        eddy::yield_now().await;
                        drop(g);
                    }
                })
            })
            .collect();
        for t in tasks {
            guard("contender", t).await.unwrap();
        }
        // Nobody gets the lock twice while another is waiting for it.
        assert_eq!(*lock.lock().await, [0, 1, 2, 0, 1, 2, 0, 1, 2]);
    });
}
