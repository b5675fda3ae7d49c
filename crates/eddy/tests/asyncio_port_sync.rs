//! asyncio's synchronization and queue topics, ported to eddy: Lock,
//! Event, Condition, Semaphore, BoundedSemaphore and Barrier (with a
//! cancelled waiter each time), and a producer/consumer worker pool on a
//! bounded Queue with task_done/join.

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use common::port::{event_waiters, guard, settle};
use eddy::sync::{
    Barrier, BoundedSemaphore, BrokenBarrier, Condition, Event, LifoQueue, Mutex, PriorityQueue,
    Queue, QueueShutDown, Semaphore, TryGetError, TryPutError,
};

#[test]
fn lock_is_fair_and_a_cancelled_waiter_passes_it_on() {
    eddy::run(async {
        let lock = Rc::new(Mutex::new(Vec::new()));
        let held = lock.lock().await;
        let mut waiters = Vec::new();
        for name in ["a", "b", "c", "d"] {
            let lock = lock.clone();
            waiters.push(eddy::spawn(async move {
                lock.lock().await.push(name);
            }));
            settle().await; // queue in this order
        }
        // "b" gives up while waiting.
        waiters[1].cancel();
        settle().await;
        drop(held);
        for w in waiters.drain(..) {
            let _ = guard("waiter", w).await;
        }
        assert_eq!(*lock.lock().await, ["a", "c", "d"]);
        assert!(!lock.is_locked());
    });
}

#[test]
fn lock_timeout_while_waiting_leaves_the_lock_usable() {
    eddy::run(async {
        let lock = Mutex::new(0u32);
        let guard1 = lock.lock().await;
        // asyncio: `await asyncio.wait_for(lock.acquire(), 0.01)` times out.
        assert!(eddy::wait_for(lock.lock(), Duration::from_millis(10))
            .await
            .is_err());
        assert!(lock.try_lock().is_err());
        drop(guard1);
        *guard("relock", lock.lock()).await += 1;
        assert_eq!(*lock.try_lock().unwrap(), 1);
    });
}

#[test]
fn event_releases_every_waiter_and_clear_rearms_it() {
    eddy::run(async {
        let ev = Rc::new(Event::new());
        let (tasks, woke) = event_waiters(&ev, 5);
        settle().await;
        assert_eq!(woke.get(), 0);
        // One waiter gives up; the others do not care.
        tasks[0].cancel();
        ev.set();
        assert!(ev.is_set());
        for t in tasks.into_iter().skip(1) {
            guard("waiter", t).await.unwrap();
        }
        assert_eq!(woke.get(), 4);
        // Once set, wait returns at once; after clear it blocks again.
        guard("set", ev.wait()).await;
        ev.clear();
        assert!(eddy::wait_for(ev.wait(), Duration::from_millis(5))
            .await
            .is_err());
    });
}

#[test]
fn condition_producer_consumer_with_wait_for() {
    eddy::run(async {
        let cond = Rc::new(Condition::new(Vec::<u32>::new()));
        let consumed = Rc::new(RefCell::new(Vec::new()));
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let (cond, consumed) = (cond.clone(), consumed.clone());
                eddy::spawn(async move {
                    let mut items = cond.wait_for(cond.lock().await, |v| !v.is_empty()).await;
                    consumed.borrow_mut().push(items.remove(0));
                })
            })
            .collect();
        settle().await;
        assert_eq!(cond.waiting(), 3);
        for i in 1..=3 {
            cond.lock().await.push(i);
            cond.notify(1);
            settle().await;
        }
        for c in consumers {
            guard("consumer", c).await.unwrap();
        }
        let mut got = consumed.borrow().clone();
        got.sort();
        assert_eq!(got, [1, 2, 3]);
        assert!(cond.lock().await.is_empty());
    });
}

#[test]
fn condition_notification_to_a_cancelled_waiter_goes_to_the_next() {
    eddy::run(async {
        let cond = Rc::new(Condition::new(()));
        let woken = Rc::new(RefCell::new(Vec::new()));
        let waiters: Vec<_> = ["first", "second"]
            .into_iter()
            .map(|name| {
                let (cond, woken) = (cond.clone(), woken.clone());
                eddy::spawn(async move {
                    let g = cond.lock().await;
                    let _g = cond.wait(g).await;
                    woken.borrow_mut().push(name);
                })
            })
            .collect();
        settle().await;
        assert_eq!(cond.waiting(), 2);
        // Notify one, and cancel that one before it gets to run.
        cond.notify(1);
        waiters[0].cancel();
        let mut waiters = waiters.into_iter();
        assert!(waiters.next().unwrap().await.unwrap_err().is_cancelled());
        guard("second waiter", waiters.next().unwrap())
            .await
            .unwrap();
        assert_eq!(*woken.borrow(), ["second"]);
        // And the lock is free.
        assert!(cond.mutex().try_lock().is_ok());
    });
}

#[test]
fn semaphore_limits_concurrency_and_a_cancelled_waiter_loses_nothing() {
    eddy::run(async {
        let sem = Rc::new(Semaphore::new(2));
        let running = Rc::new(Cell::new(0));
        let peak = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (sem, running, peak) = (sem.clone(), running.clone(), peak.clone());
                eddy::spawn(async move {
                    let _permit = sem.acquire().await;
                    running.set(running.get() + 1);
                    peak.set(peak.get().max(running.get()));
                    eddy::sleep(Duration::from_millis(2)).await;
                    running.set(running.get() - 1);
                })
            })
            .collect();
        settle().await;
        // Cancel one that waits for a permit.
        tasks[4].cancel();
        for t in tasks {
            let _ = guard("task", t).await;
        }
        assert_eq!(peak.get(), 2);
        assert_eq!(sem.available_permits(), 2);

        // asyncio's acquire()/release() pairs: forget the permit, release later.
        sem.acquire().await.forget();
        assert_eq!(sem.available_permits(), 1);
        sem.release();
        assert_eq!(sem.available_permits(), 2);
        // A plain Semaphore can be released past its start, as in asyncio.
        sem.release();
        assert_eq!(sem.available_permits(), 3);
    });
}

#[test]
fn bounded_semaphore_refuses_to_be_released_too_often() {
    eddy::run(async {
        let sem = BoundedSemaphore::new(2);
        sem.acquire().await.forget();
        assert!(sem.locked() || sem.available_permits() == 1);
        sem.release().unwrap();
        let err = sem.release().unwrap_err();
        assert!(!err.to_string().is_empty());
        assert_eq!(sem.available_permits(), 2);
        // Permits held as guards come back on drop.
        let a = sem.acquire().await;
        let b = sem.acquire().await;
        assert!(sem.locked());
        assert!(sem.try_acquire().is_err());
        drop((a, b));
        assert_eq!(sem.available_permits(), 2);
    });
}

#[test]
fn barrier_releases_a_full_group_and_a_cancelled_party_leaves_the_round() {
    eddy::run(async {
        let barrier = Rc::new(Barrier::new(3));
        let early = {
            let b = barrier.clone();
            eddy::spawn(async move { b.wait().await })
        };
        let quitter = {
            let b = barrier.clone();
            eddy::spawn(async move { b.wait().await })
        };
        settle().await;
        assert_eq!(barrier.n_waiting(), 2);
        quitter.cancel();
        assert!(quitter.await.unwrap_err().is_cancelled());
        assert_eq!(barrier.n_waiting(), 1);
        // Two more complete the round of three.
        let (x, y) = {
            let (b1, b2) = (barrier.clone(), barrier.clone());
            (
                eddy::spawn(async move { b1.wait().await }),
                eddy::spawn(async move { b2.wait().await }),
            )
        };
        let mut indices = vec![
            guard("early", early).await.unwrap().unwrap(),
            guard("x", x).await.unwrap().unwrap(),
            guard("y", y).await.unwrap().unwrap(),
        ];
        indices.sort();
        assert_eq!(indices, [0, 1, 2]);
        assert_eq!(barrier.n_waiting(), 0);
        assert!(!barrier.is_broken());
    });
}

#[test]
fn barrier_abort_breaks_waiters_until_reset() {
    eddy::run(async {
        let barrier = Rc::new(Barrier::new(2));
        let b = barrier.clone();
        let waiter = eddy::spawn(async move { b.wait().await });
        settle().await;
        barrier.abort();
        assert_eq!(guard("waiter", waiter).await.unwrap(), Err(BrokenBarrier));
        assert!(barrier.is_broken());
        assert_eq!(barrier.wait().await, Err(BrokenBarrier));
        barrier.reset();
        let (a, b) = futures::join!(barrier.wait(), barrier.wait());
        assert!(a.is_ok() && b.is_ok());
    });
}

#[test]
fn worker_pool_on_a_bounded_queue_with_join_then_cancel_the_workers() {
    eddy::run(async {
        let queue = Rc::new(Queue::new(3));
        let results = Rc::new(RefCell::new(Vec::new()));
        // Workers loop forever, as in the asyncio docs; main cancels them.
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let (queue, results) = (queue.clone(), results.clone());
                eddy::task::Builder::new()
                    .name(format!("worker-{w}"))
                    .spawn(async move {
                        loop {
                            let job: u64 = queue.get().await.unwrap();
                            eddy::sleep(Duration::from_millis(job % 3)).await;
                            results.borrow_mut().push(job * job);
                            queue.task_done().unwrap();
                        }
                    })
            })
            .collect();
        for job in 0..20u64 {
            // Never more than three waiting: put blocks when full.
            queue.put(job).await.unwrap();
            assert!(queue.len() <= 3);
        }
        guard("join", queue.join()).await;
        assert_eq!(queue.unfinished_tasks(), 0);
        for w in &workers {
            w.cancel();
        }
        for w in workers {
            assert!(w.await.unwrap_err().is_cancelled());
        }
        let mut got = results.borrow().clone();
        got.sort();
        assert_eq!(got, (0..20u64).map(|j| j * j).collect::<Vec<_>>());
        // task_done more often than items were taken is an error.
        assert!(queue.task_done().is_err());
    });
}

#[test]
fn queue_shutdown_wakes_blocked_putters_and_getters() {
    eddy::run(async {
        let q = Rc::new(Queue::new(1));
        q.try_put("kept").unwrap();
        assert!(matches!(
            q.try_put("no room"),
            Err(TryPutError::QueueFull("no room"))
        ));
        let putter = {
            let q = q.clone();
            eddy::spawn(async move { q.put("blocked").await })
        };
        settle().await;
        q.shutdown(false);
        assert_eq!(
            guard("putter", putter).await.unwrap(),
            Err(QueueShutDown("blocked"))
        );
        // Gets drain what is stored, then fail.
        assert_eq!(q.get().await, Ok("kept"));
        assert!(q.get().await.is_err());
        assert_eq!(q.try_get(), Err(TryGetError::QueueShutDown));

        // Immediate: stored items are dropped and count as done for join,
        // blocked getters fail.
        let q = Rc::new(Queue::<u8>::new(0));
        let getter = {
            let q = q.clone();
            eddy::spawn(async move { q.get().await })
        };
        settle().await;
        q.shutdown(true);
        assert!(guard("getter", getter).await.unwrap().is_err());
        let q = Queue::new(0);
        for i in 0..3u8 {
            q.try_put(i).unwrap();
        }
        assert_eq!(q.unfinished_tasks(), 3);
        q.shutdown(true);
        assert!(q.is_empty());
        guard("join after immediate shutdown", q.join()).await;
        assert!(q.get().await.is_err());
    });
}

#[test]
fn a_cancelled_get_hands_its_item_to_the_next_getter() {
    eddy::run(async {
        let q = Rc::new(Queue::new(0));
        let first = {
            let q = q.clone();
            eddy::spawn(async move { q.get().await })
        };
        let second = {
            let q = q.clone();
            eddy::spawn(async move { q.get().await })
        };
        settle().await;
        q.try_put("only item").unwrap();
        first.cancel(); // handed the item, but never ran again
        assert!(first.await.unwrap_err().is_cancelled());
        assert_eq!(guard("second", second).await.unwrap(), Ok("only item"));
        assert_eq!(q.try_get(), Err(TryGetError::QueueEmpty));
    });
}

#[test]
fn lifo_and_priority_queues_order_their_items() {
    eddy::run(async {
        let lifo = LifoQueue::new(0);
        for i in 1..=3 {
            lifo.put(i).await.unwrap();
        }
        assert_eq!(
            [
                lifo.get().await.unwrap(),
                lifo.get().await.unwrap(),
                lifo.get().await.unwrap()
            ],
            [3, 2, 1]
        );
        let prio = PriorityQueue::new(0);
        for (p, what) in [(3, "low"), (1, "urgent"), (2, "normal")] {
            prio.put((p, what)).await.unwrap();
        }
        let mut order = Vec::new();
        while let Ok((_, what)) = prio.try_get() {
            order.push(what);
        }
        assert_eq!(order, ["urgent", "normal", "low"]);
    });
}

#[test]
fn a_waiter_cancelled_right_after_being_handed_the_lock_passes_it_on() {
    eddy::run(async {
        let lock = Rc::new(Mutex::new(Vec::new()));
        let held = lock.lock().await;
        let spawn_waiter = |name: &'static str| {
            let lock = lock.clone();
            eddy::spawn(async move {
                lock.lock().await.push(name);
            })
        };
        // Both wait for the lock ...
        let first = spawn_waiter("first");
        settle().await;
        let second = spawn_waiter("second");
        settle().await;
        // ... the lock goes to "first", which is cancelled before it runs.
        drop(held);
        first.cancel();
        assert!(first.await.unwrap_err().is_cancelled());
        guard("second", second).await.unwrap();
        assert_eq!(*lock.lock().await, ["second"]);

        // The same with a permit: handed to a waiter that is then cancelled.
        let sem = Rc::new(Semaphore::new(0));
        let (s1, s2) = (sem.clone(), sem.clone());
        let first = eddy::spawn(async move { s1.acquire().await.forget() });
        settle().await;
        let second = eddy::spawn(async move { s2.acquire().await.forget() });
        settle().await;
        sem.release();
        first.cancel();
        assert!(first.await.unwrap_err().is_cancelled());
        guard("second permit", second).await.unwrap();
    });
}

#[test]
fn a_timed_out_get_loses_no_item() {
    eddy::run(async {
        let q = Queue::new(0);
        assert!(eddy::wait_for(q.get(), Duration::from_millis(5))
            .await
            .is_err());
        q.put(9).await.unwrap();
        assert_eq!(q.try_get(), Ok(9));
    });
}
