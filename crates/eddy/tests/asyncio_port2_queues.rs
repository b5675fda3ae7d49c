//! asyncio's Queue details, ported to eddy: QueueFull / QueueEmpty from
//! put_nowait / get_nowait, maxsize 0 meaning unbounded, task_done called
//! too often (asyncio's ValueError), join with nothing put, Queue.shutdown
//! (3.13) with and without `immediate`, and the orders of LifoQueue and
//! PriorityQueue (equal priorities included).

mod common;

use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::rc::Rc;

use common::port::{guard, settle};
use eddy::sync::{
    LifoQueue, PriorityQueue, Queue, QueueShutDown, TaskDoneError, TryGetError, TryPutError,
};
use futures::FutureExt;

#[test]
fn put_nowait_on_a_full_queue_and_get_nowait_on_an_empty_one() {
    eddy::run(async {
        let q = Queue::new(2);
        q.try_put("a").unwrap();
        q.try_put("b").unwrap();
        assert!(q.is_full());
        // asyncio: put_nowait raises QueueFull; here the item comes back.
        let err = q.try_put("c").unwrap_err();
        assert!(matches!(err, TryPutError::QueueFull("c")));
        let text = err.to_string();
        assert!(text.contains("full"), "{text}");
        assert!(text.contains("put()"), "says what to do instead: {text}");
        assert_eq!(err.into_inner(), "c");
        assert_eq!(q.len(), 2);

        assert_eq!(q.try_get(), Ok("a"));
        assert_eq!(q.try_get(), Ok("b"));
        let err = q.try_get().unwrap_err();
        assert_eq!(err, TryGetError::QueueEmpty);
        let text = err.to_string();
        assert!(text.contains("empty"), "{text}");
        assert!(text.contains("get()"), "says what to do instead: {text}");
    });
}

#[test]
fn maxsize_zero_is_unbounded() {
    eddy::run(async {
        let q = Queue::new(0);
        assert_eq!(q.maxsize(), 0);
        for i in 0..10_000u32 {
            q.try_put(i).unwrap();
            assert!(!q.is_full());
        }
        // put never waits either.
        guard("put on an unbounded queue", q.put(10_000))
            .await
            .unwrap();
        assert_eq!(q.len(), 10_001);
        assert_eq!(q.try_get(), Ok(0));
        assert_eq!(Queue::<u8>::default().maxsize(), 0);
    });
}

#[test]
fn task_done_too_many_times_is_an_error_that_changes_nothing() {
    eddy::run(async {
        let q = Queue::new(0);
        q.try_put(1).unwrap();
        q.try_put(2).unwrap();
        assert_eq!(q.unfinished_tasks(), 2);
        q.try_get().unwrap();
        q.task_done().unwrap();
        q.try_get().unwrap();
        q.task_done().unwrap();
        // asyncio: ValueError('task_done() called too many times').
        let err = q.task_done().unwrap_err();
        assert_eq!(err, TaskDoneError);
        assert!(err.to_string().contains("too") || err.to_string().contains("more times"));
        assert_eq!(q.unfinished_tasks(), 0);
        // The count did not go below zero: a new item is owed again.
        q.try_put(3).unwrap();
        assert_eq!(q.unfinished_tasks(), 1);
        assert!(q.join().now_or_never().is_none());
    });
}

#[test]
fn join_with_nothing_put_returns_at_once() {
    eddy::run(async {
        let q = Queue::<u8>::new(3);
        assert!(q.join().now_or_never().is_some());
        // An item got but not yet marked done keeps join waiting.
        q.try_put(1).unwrap();
        q.try_get().unwrap();
        assert!(q.join().now_or_never().is_none());
        q.task_done().unwrap();
        assert!(q.join().now_or_never().is_some());
    });
}

#[test]
fn several_joiners_are_released_by_the_last_task_done() {
    eddy::run(async {
        let q = Rc::new(Queue::new(0));
        for i in 0..3 {
            q.try_put(i).unwrap();
        }
        let released = Rc::new(Cell::new(0));
        let joiners: Vec<_> = (0..3)
            .map(|_| {
                let (q, released) = (q.clone(), released.clone());
                eddy::spawn(async move {
                    q.join().await;
                    released.set(released.get() + 1);
                })
            })
            .collect();
        for _ in 0..3 {
            q.try_get().unwrap();
        }
        q.task_done().unwrap();
        q.task_done().unwrap();
        settle().await;
        assert_eq!(released.get(), 0);
        q.task_done().unwrap();
        for j in joiners {
            guard("joiner", j).await.unwrap();
        }
        assert_eq!(released.get(), 3);
    });
}

#[test]
fn shutdown_lets_getters_drain_then_refuses_everyone() {
    eddy::run(async {
        let q = Queue::new(0);
        q.try_put(1).unwrap();
        q.try_put(2).unwrap();
        q.shutdown(false);
        assert!(q.is_shut_down());
        // Puts are refused with the item handed back, waiting or not.
        assert!(matches!(q.try_put(3), Err(TryPutError::QueueShutDown(3))));
        assert_eq!(q.put(4).await.unwrap_err().into_inner(), 4);
        // Gets drain what is stored, then fail.
        assert_eq!(q.get().await, Ok(1));
        assert_eq!(q.try_get(), Ok(2));
        assert_eq!(q.get().await, Err(QueueShutDown(())));
        assert_eq!(q.try_get(), Err(TryGetError::QueueShutDown));
        let text = QueueShutDown(()).to_string();
        assert!(text.contains("shut down"), "{text}");
        // Both items were got but never marked done.
        assert_eq!(q.unfinished_tasks(), 2);
        q.task_done().unwrap();
        q.task_done().unwrap();
        assert!(q.join().now_or_never().is_some());
        // Shutting down twice is harmless.
        q.shutdown(true);
        assert!(q.is_shut_down());
    });
}

/// Counts its drops: the items an immediate shutdown throws away.
struct Item(Rc<Cell<u32>>);
impl Drop for Item {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn immediate_shutdown_drops_the_items_and_releases_join() {
    eddy::run(async {
        let dropped = Rc::new(Cell::new(0));
        let q = Rc::new(Queue::new(0));
        for _ in 0..3 {
            q.try_put(Item(dropped.clone())).unwrap();
        }
        let joined = Rc::new(Cell::new(false));
        let joiner = {
            let (q, joined) = (q.clone(), joined.clone());
            eddy::spawn(async move {
                q.join().await;
                joined.set(true);
            })
        };
        settle().await;
        assert!(!joined.get());
        // asyncio 3.13: shutdown(immediate=True) empties the queue and
        // counts each removed item as done, which releases join().
        q.shutdown(true);
        assert_eq!(dropped.get(), 3);
        assert!(q.is_empty());
        assert_eq!(q.unfinished_tasks(), 0);
        guard("joiner", joiner).await.unwrap();
        assert!(joined.get());
        assert!(matches!(q.try_get(), Err(TryGetError::QueueShutDown)));
    });
}

#[test]
fn waiting_getters_are_served_in_arrival_order() {
    eddy::run(async {
        let q = Rc::new(Queue::new(0));
        let got = Rc::new(RefCell::new(Vec::new()));
        let getters: Vec<_> = ["first", "second", "third"]
            .into_iter()
            .map(|name| {
                let (q, got) = (q.clone(), got.clone());
                let t = eddy::spawn(async move {
                    let v = q.get().await.unwrap();
                    got.borrow_mut().push((name, v));
                });
                t
            })
            .collect();
        settle().await;
        for v in [10, 20, 30] {
            q.try_put(v).unwrap();
        }
        for g in getters {
            guard("getter", g).await.unwrap();
        }
        assert_eq!(
            *got.borrow(),
            [("first", 10), ("second", 20), ("third", 30)]
        );
    });
}

#[test]
fn lifo_queue_gives_the_newest_first_even_after_a_refill() {
    eddy::run(async {
        let q = LifoQueue::new(3);
        for i in 1..=3 {
            q.try_put(i).unwrap();
        }
        assert!(matches!(q.try_put(4), Err(TryPutError::QueueFull(4))));
        assert_eq!(q.try_get(), Ok(3));
        q.try_put(5).unwrap();
        let rest: Vec<_> = std::iter::from_fn(|| q.try_get().ok()).collect();
        assert_eq!(rest, [5, 2, 1]);
    });
}

#[test]
fn priority_queue_breaks_ties_by_the_rest_of_the_tuple() {
    // asyncio's documented idiom: (priority, counter, data) entries, so that
    // equal priorities come out in insertion order.
    eddy::run(async {
        let q = PriorityQueue::new(0);
        let entries = [
            (2, 0, "low a"),
            (1, 1, "high a"),
            (2, 2, "low b"),
            (1, 3, "high b"),
            (1, 4, "high c"),
            (2, 5, "low c"),
        ];
        for e in entries {
            q.put(e).await.unwrap();
        }
        let out: Vec<_> = std::iter::from_fn(|| q.try_get().ok().map(|e| e.2)).collect();
        assert_eq!(
            out,
            ["high a", "high b", "high c", "low a", "low b", "low c"]
        );
    });
}

/// Ordered by `prio` only: two jobs of one priority compare equal.
#[derive(Debug)]
struct Job {
    prio: u8,
    name: &'static str,
}
impl PartialEq for Job {
    fn eq(&self, other: &Self) -> bool {
        self.prio == other.prio
    }
}
impl Eq for Job {}
impl PartialOrd for Job {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Job {
    fn cmp(&self, other: &Self) -> Ordering {
        self.prio.cmp(&other.prio)
    }
}

#[test]
fn priority_queue_with_equal_keys_keeps_every_item_and_the_priority_order() {
    // Like heapq, the order among equal keys is not promised; the priority
    // order and the items are.
    eddy::run(async {
        let q = PriorityQueue::new(0);
        let jobs = [
            (3, "c1"),
            (1, "a1"),
            (3, "c2"),
            (2, "b1"),
            (1, "a2"),
            (3, "c3"),
        ];
        for (prio, name) in jobs {
            q.try_put(Job { prio, name }).unwrap();
        }
        let out: Vec<Job> = std::iter::from_fn(|| q.try_get().ok()).collect();
        let prios: Vec<u8> = out.iter().map(|j| j.prio).collect();
        assert_eq!(prios, [1, 1, 2, 3, 3, 3]);
        let mut names: Vec<&str> = out.iter().map(|j| j.name).collect();
        names.sort();
        assert_eq!(names, ["a1", "a2", "b1", "c1", "c2", "c3"]);
    });
}

#[test]
fn a_blocked_putter_gets_the_slot_before_a_newcomer() {
    eddy::run(async {
        let q = Rc::new(Queue::new(1));
        q.try_put("held").unwrap();
        let putter = {
            let q = q.clone();
            eddy::spawn(async move { q.put("waiting").await })
        };
        settle().await;
        assert_eq!(q.try_get(), Ok("held"));
        // The freed slot belongs to the waiting putter, not to try_put.
        assert!(matches!(
            q.try_put("newcomer"),
            Err(TryPutError::QueueFull(_))
        ));
        guard("putter", putter).await.unwrap().unwrap();
        assert_eq!(q.try_get(), Ok("waiting"));
    });
}
