//! Queue defects found in review: each test failed before its fix.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::Manual;
use eddy_sync::{PriorityQueue, Queue, TryGetError};

/// asyncio: a getter woken by `shutdown()` re-checks the queue and takes an
/// item that is there (the queue is shut down only once it is empty). Here
/// the item got back into the queue after the wake: the getter it had been
/// handed to was dropped before it ran.
#[test]
fn a_getter_woken_by_shutdown_takes_an_item_given_back_after_the_wake() {
    let q = Queue::new(0);
    let mut first = Manual::new(q.get());
    let mut second = Manual::new(q.get());
    first.pending();
    second.pending();
    q.try_put(1).unwrap(); // handed to `first`
    q.shutdown(false); // wakes `second`: the store is empty
    assert!(second.woken());
    drop(first); // 1 goes back into the queue
    assert_eq!(q.len(), 1);
    assert_eq!(second.ready().ok(), Some(1), "1 is in the queue: get it");
    assert_eq!(q.try_get(), Err(TryGetError::QueueShutDown));
}

/// asyncio 3.13: `shutdown(immediate=True)` drains every item in the queue
/// and calls `task_done` for each, so `join` returns and a getter woken for
/// an item it has not taken yet raises `QueueShutDown`. An item handed to a
/// getter that has not run is still in the queue (`len` counts it).
#[test]
fn an_immediate_shutdown_drains_items_handed_to_getters_that_have_not_run() {
    let q = Queue::new(0);
    let mut getter = Manual::new(q.get());
    getter.pending();
    q.try_put(1).unwrap(); // handed to `getter`, which has not run
    assert_eq!(q.len(), 1);
    let mut join = Manual::new(q.join());
    join.pending();
    q.shutdown(true);
    assert_eq!(q.len(), 0, "an immediate shutdown empties the queue");
    assert_eq!(q.unfinished_tasks(), 0, "the drained item counts as done");
    assert!(join.woken());
    join.ready();
    assert!(getter.ready().is_err(), "nothing is left to get");
    assert_eq!(q.try_get(), Err(TryGetError::QueueShutDown));
}

/// Dropping a getter after an immediate shutdown must not put an item back
/// into the queue that shutdown emptied.
#[test]
fn a_getter_dropped_after_an_immediate_shutdown_puts_nothing_back() {
    let q = Queue::new(0);
    let mut getter = Manual::new(q.get());
    getter.pending();
    q.try_put(1).unwrap();
    q.shutdown(true);
    drop(getter);
    assert_eq!(q.len(), 0);
    assert_eq!(q.try_get(), Err(TryGetError::QueueShutDown));
    assert_eq!(q.unfinished_tasks(), 0);
}

/// A `PriorityQueue` item whose `Ord` panics while its switch is on.
struct Touchy(u32, Arc<AtomicBool>);

impl PartialEq for Touchy {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Touchy {}
impl PartialOrd for Touchy {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Touchy {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        assert!(!self.1.load(Ordering::SeqCst), "this Ord panics");
        self.0.cmp(&other.0)
    }
}

/// `task_done` may be called for an item before it is taken (asyncio only
/// checks the count). When such an item, handed to a getter, is dropped
/// because putting it back panicked, its "done" must not be counted a
/// second time: the count stays at 0 (no underflow), the user's panic is
/// the one that comes out, and the item's slot still goes to the waiting
/// putter.
#[test]
fn a_handed_item_already_marked_done_and_dropped_by_a_panicking_ord_counts_once() {
    let switch = Arc::new(AtomicBool::new(false));
    let q = PriorityQueue::new(2);
    let mut getter = Manual::new(q.get());
    getter.pending();
    q.try_put(Touchy(5, switch.clone())).unwrap(); // handed to `getter`
    q.try_put(Touchy(3, switch.clone())).unwrap(); // stored: now full
    let mut putter = Manual::new(q.put(Touchy(1, switch.clone())));
    putter.pending();
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert_eq!(q.unfinished_tasks(), 0);
    switch.store(true, Ordering::SeqCst);
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(getter)))
        .expect_err("putting the item back compares, which panics");
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or(panic.downcast_ref::<String>().map(String::as_str));
    assert_eq!(message, Some("this Ord panics"));
    assert_eq!(q.unfinished_tasks(), 0);
    assert!(putter.woken(), "the dropped item's slot went to the putter");
    switch.store(false, Ordering::SeqCst);
    assert!(putter.ready().is_ok());
    assert_eq!(q.unfinished_tasks(), 1);
}
