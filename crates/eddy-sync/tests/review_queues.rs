//! Queue defects found in review: each test failed before its fix.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::touchy::Touchy;
use common::Manual;
use eddy_sync::{LifoQueue, PriorityQueue, Queue, TryGetError};

/// asyncio: a get fails after `shutdown()` only once the queue is empty. An
/// item handed to a getter that is dropped before it runs is still in the
/// queue, so a getter that was waiting at the shutdown gets it.
#[test]
fn a_getter_waiting_at_shutdown_gets_an_item_given_back_after_it() {
    let q = Queue::new(0);
    let mut first = Manual::new(q.get());
    let mut second = Manual::new(q.get());
    first.pending();
    second.pending();
    q.try_put(1).unwrap(); // handed to `first`
    q.shutdown(false);
    drop(first); // 1 is still in the queue: it goes to `second`
    assert!(second.woken());
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

/// A woken `PriorityQueue` getter pops when it runs; if that comparison
/// panics, nothing is taken and its turn goes to the next waiting getter.
#[test]
fn a_woken_priority_getter_whose_pop_panics_passes_its_turn_on() {
    let switch = Arc::new(AtomicBool::new(false));
    let q = PriorityQueue::new(0);
    let mut getters: Vec<_> = (0..4).map(|_| Manual::new(q.get())).collect();
    for g in &mut getters {
        g.pending();
    }
    for v in [5, 3, 4] {
        q.try_put(Touchy(v, switch.clone())).unwrap(); // wakes getters 0, 1, 2
    }
    assert!(!getters[3].woken());
    switch.store(true, Ordering::SeqCst);
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| getters[0].poll()))
        .expect_err("popping compares, which panics");
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"this Ord panics"));
    assert!(getters[3].woken(), "the turn went to the next getter");
    assert_eq!(q.len(), 3, "nothing was taken");
    switch.store(false, Ordering::SeqCst);
    let got: Vec<u32> = getters[1..]
        .iter_mut()
        .map(|g| g.ready().ok().unwrap().0)
        .collect();
    assert_eq!(got, [3, 4, 5]);
    assert_eq!(q.try_get().ok().map(|t| t.0), None);
}

/// asyncio's getter takes the item `get` would return when it runs: the
/// smallest (`PriorityQueue`) or newest (`LifoQueue`) one then. A burst of
/// puts while a consumer waits must not give it the first item put.
#[test]
fn a_waiting_getter_gets_the_smallest_or_newest_item_when_it_runs() {
    let q = PriorityQueue::new(0);
    let mut getter = Manual::new(q.get());
    getter.pending();
    q.try_put(5).unwrap();
    q.try_put(1).unwrap();
    q.try_put(3).unwrap();
    assert_eq!(getter.ready(), Ok(1));
    assert_eq!(q.try_get(), Ok(3));
    assert_eq!(q.try_get(), Ok(5));

    let q = LifoQueue::new(0);
    let mut getter = Manual::new(q.get());
    getter.pending();
    q.try_put('a').unwrap();
    q.try_put('b').unwrap();
    assert_eq!(getter.ready(), Ok('b'));
    assert_eq!(q.try_get(), Ok('a'));
}

/// The item a woken `PriorityQueue` getter will take is its own until it
/// runs: a newcomer does not overtake it, a dropped getter passes its turn
/// to the next getter (or leaves the item in the queue), and an immediate
/// shutdown drains it.
#[test]
fn a_woken_priority_getter_keeps_its_turn_and_passes_it_on_when_dropped() {
    let q = PriorityQueue::new(2);
    let mut first = Manual::new(q.get());
    let mut second = Manual::new(q.get());
    first.pending();
    second.pending();
    q.try_put(7).unwrap(); // wakes `first`
    assert!(first.woken());
    assert_eq!(q.len(), 1);
    assert_eq!(q.try_get(), Err(TryGetError::QueueEmpty), "7 is first's");
    drop(first); // its turn goes to `second`
    assert!(second.woken());
    q.try_put(4).unwrap(); // stored: nobody is queued; now full
    assert!(q.is_full());
    let mut putter = Manual::new(q.put(9));
    putter.pending();
    assert_eq!(second.ready(), Ok(4));
    assert!(putter.woken(), "the freed slot went to the putter");
    assert_eq!(putter.ready(), Ok(()));
    assert_eq!(q.try_get(), Ok(7));
    assert_eq!(q.try_get(), Ok(9));

    // Dropped with nobody behind it: the item stays in the queue.
    let mut getter = Manual::new(q.get());
    getter.pending();
    q.try_put(2).unwrap();
    drop(getter);
    assert_eq!(q.try_get(), Ok(2));

    // An immediate shutdown drains the item a woken getter was to take.
    let mut getter = Manual::new(q.get());
    getter.pending();
    q.try_put(3).unwrap();
    for _ in 0..4 {
        q.task_done().unwrap(); // all but 3's
    }
    let mut join = Manual::new(q.join());
    join.pending();
    q.shutdown(true);
    assert_eq!(q.len(), 0);
    join.ready();
    assert!(getter.ready().is_err());
}

/// After a (non-immediate) shutdown, a get fails only once no item is left
/// in the queue: one handed to a woken getter that has not run yet is still
/// there (`len` counts it), and comes to a waiting getter if its getter is
/// dropped.
#[test]
fn after_shutdown_a_get_waits_while_a_woken_getter_may_give_an_item_back() {
    let q = Queue::new(0);
    let mut first = Manual::new(q.get());
    first.pending();
    q.try_put(1).unwrap(); // handed to `first`
    q.shutdown(false);
    assert_eq!(q.len(), 1);
    let mut late = Manual::new(q.get());
    late.pending();
    drop(first);
    assert!(late.woken());
    assert_eq!(late.ready(), Ok(1));
    assert!(Manual::new(q.get()).ready().is_err());

    // And when the woken getter takes its item, the late one fails.
    let q = Queue::new(0);
    let mut first = Manual::new(q.get());
    first.pending();
    q.try_put(1).unwrap();
    q.shutdown(false);
    let mut late = Manual::new(q.get());
    late.pending();
    assert_eq!(first.ready(), Ok(1));
    assert!(late.woken());
    assert!(late.ready().is_err());
}

/// `maxsize()` is "the capacity given to `new`": a queue made with
/// `usize::MAX` (which `new` accepts) is not reported as `0`.
#[test]
fn a_queue_of_usize_max_reports_its_maxsize() {
    assert_eq!(Queue::<u8>::new(usize::MAX).maxsize(), usize::MAX);
    assert_eq!(LifoQueue::<u8>::new(usize::MAX).maxsize(), usize::MAX);
    assert_eq!(PriorityQueue::<u8>::new(usize::MAX).maxsize(), usize::MAX);
    assert_eq!(Queue::<u8>::new(0).maxsize(), 0);
}

#[test]
fn fifo_items_keep_put_order_when_woken_getters_are_dropped() {
    // Two getters woken by two puts, then both dropped before they ran:
    // asyncio's Queue still holds [1, 2, 3] in put order. A hand-off that
    // gave each dropped getter's item back to the front made it [2, 1, 3].
    let q = Queue::new(0);
    let mut a = Manual::new(q.get());
    let mut b = Manual::new(q.get());
    a.pending();
    b.pending();
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    q.try_put(3).unwrap();
    drop(a);
    drop(b);
    let got: Vec<i32> = std::iter::from_fn(|| q.try_get().ok()).collect();
    assert_eq!(got, [1, 2, 3]);
}
