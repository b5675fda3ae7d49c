//! Queue, LifoQueue, PriorityQueue: order, bounds, task_done/join, shutdown.

mod common;

use common::touchy::{set, switch, Touchy};
use common::Manual;
use eddy_sync::{LifoQueue, PriorityQueue, Queue, TryGetError, TryPutError};
use futures::executor::block_on;

#[test]
fn orders() {
    let fifo = Queue::new(0);
    let lifo = LifoQueue::new(0);
    let prio = PriorityQueue::new(0);
    for x in [3, 1, 4, 1, 5, 9, 2, 6] {
        fifo.try_put(x).unwrap();
        lifo.try_put(x).unwrap();
        prio.try_put(x).unwrap();
    }
    let drain = |f: &dyn Fn() -> Option<i32>| std::iter::from_fn(f).collect::<Vec<_>>();
    assert_eq!(drain(&|| fifo.try_get().ok()), [3, 1, 4, 1, 5, 9, 2, 6]);
    assert_eq!(drain(&|| lifo.try_get().ok()), [6, 2, 9, 5, 1, 4, 1, 3]);
    assert_eq!(drain(&|| prio.try_get().ok()), [1, 1, 2, 3, 4, 5, 6, 9]);
}

#[test]
fn bounds_and_try_errors_hand_the_item_back() {
    let q = Queue::new(2);
    assert_eq!(q.try_get(), Err(TryGetError::QueueEmpty));
    q.try_put("a").unwrap();
    q.try_put("b").unwrap();
    assert!(q.is_full());
    assert_eq!(q.len(), 2);
    match q.try_put("c") {
        Err(TryPutError::QueueFull(item)) => assert_eq!(item, "c"),
        other => panic!("expected Full, got {other:?}"),
    }
    assert_eq!(q.try_get(), Ok("a"));
    assert!(!q.is_full());
}

#[test]
fn blocked_putters_are_served_in_order() {
    let q = Queue::new(1);
    q.try_put(0).unwrap();
    let mut puts: Vec<_> = (1..=5).map(|i| Manual::new(q.put(i))).collect();
    for p in &mut puts {
        p.pending();
    }
    let mut got = vec![q.try_get().unwrap()];
    for p in &mut puts {
        // Each get moves the next waiting putter's item in and completes it.
        assert!(p.woken());
        p.ready().unwrap();
        got.push(q.try_get().unwrap());
    }
    assert_eq!(got, [0, 1, 2, 3, 4, 5]);
}

#[test]
fn blocked_getters_are_served_in_order_and_cancel_passes_item() {
    let q = Queue::new(0);
    let mut g: Vec<_> = (0..4).map(|_| Manual::new(q.get())).collect();
    for f in &mut g {
        f.pending();
    }
    q.try_put(10).unwrap(); // g[0] woken, 10 set aside for it
    q.try_put(11).unwrap(); // g[1] woken, 11 set aside
    let g0 = g.remove(0);
    drop(g0); // its turn goes to the next getter in line, g[2] originally
    assert!(g[1].woken());
    // Items stay in put order: whoever runs first takes the front one, as
    // in asyncio, whatever was cancelled.
    assert_eq!(g[0].ready().unwrap(), 10);
    assert_eq!(g[1].ready().unwrap(), 11);
    // With no getter left, a dropped getter's turn is freed; the item never
    // left the queue.
    q.try_put(12).unwrap(); // the last getter woken
    q.try_put(13).unwrap(); // stored
    drop(g.pop());
    assert_eq!(q.try_get(), Ok(12));
    assert_eq!(q.try_get(), Ok(13));
}

#[test]
fn task_done_and_join() {
    let q = Queue::new(0);
    Manual::new(q.join()).ready(); // nothing put: returns at once
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    let mut join = Manual::new(q.join());
    join.pending();
    q.try_get().unwrap();
    q.task_done().unwrap();
    join.pending();
    q.try_get().unwrap();
    q.task_done().unwrap();
    assert!(join.woken());
    join.ready();
    assert!(
        q.task_done().is_err(),
        "more task_done than items is an error"
    );
    assert_eq!(q.unfinished_tasks(), 0);
}

#[test]
fn shutdown_gentle_drains_then_fails() {
    let q = Queue::new(1);
    q.try_put(1).unwrap();
    let mut putter = Manual::new(q.put(2));
    putter.pending();
    q.shutdown(false);
    assert_eq!(putter.ready().unwrap_err().into_inner(), 2);
    assert!(matches!(q.try_put(3), Err(TryPutError::QueueShutDown(3))));
    assert_eq!(block_on(q.put(4)).unwrap_err().0, 4);
    assert_eq!(q.try_get(), Ok(1));
    assert_eq!(q.try_get(), Err(TryGetError::QueueShutDown));
    assert!(block_on(q.get()).is_err());
}

#[test]
fn shutdown_wakes_blocked_getters() {
    let q = Queue::<u8>::new(0);
    let mut g1 = Manual::new(q.get());
    let mut g2 = Manual::new(q.get());
    g1.pending();
    g2.pending();
    q.shutdown(false);
    assert!(g1.ready().is_err());
    assert!(g2.ready().is_err());
}

#[test]
fn shutdown_immediate_drops_items_and_counts_them_done() {
    let q = Queue::new(0);
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    q.try_put(3).unwrap();
    q.try_get().unwrap(); // taken, not done
    let mut join = Manual::new(q.join());
    join.pending();
    q.shutdown(true);
    assert_eq!(q.len(), 0);
    assert_eq!(q.try_get(), Err(TryGetError::QueueShutDown));
    assert_eq!(q.unfinished_tasks(), 1, "the taken item is still pending");
    join.pending();
    q.task_done().unwrap();
    join.ready();
}

#[test]
fn lifo_and_priority_with_blocked_putters() {
    let q = PriorityQueue::new(2);
    q.try_put(5).unwrap();
    q.try_put(3).unwrap();
    let mut p = Manual::new(q.put(1));
    p.pending();
    assert_eq!(q.try_get(), Ok(3)); // frees a slot: 1 moves in
    p.ready().unwrap();
    assert_eq!(q.try_get(), Ok(1));
    assert_eq!(q.try_get(), Ok(5));

    let l = LifoQueue::new(1);
    l.try_put('a').unwrap();
    let mut p = Manual::new(l.put('b'));
    p.pending();
    assert_eq!(l.try_get(), Ok('a'));
    p.ready().unwrap();
    assert_eq!(l.try_get(), Ok('b'));
}

#[test]
fn dropped_blocked_putter_does_not_put() {
    let q = Queue::new(1);
    q.try_put(1).unwrap();
    let mut p = Manual::new(q.put(2));
    p.pending();
    drop(p);
    assert_eq!(q.try_get(), Ok(1));
    assert_eq!(q.try_get(), Err(TryGetError::QueueEmpty));
    assert_eq!(q.unfinished_tasks(), 1);
}

#[test]
fn a_put_dropped_after_its_slot_was_reserved_was_never_made() {
    let q = Queue::new(1);
    q.try_put(1).unwrap();
    let mut first = Manual::new(q.put(2));
    let mut second = Manual::new(q.put(3));
    first.pending();
    second.pending();
    // The get frees the slot and reserves it for `first`, which is woken...
    assert_eq!(q.try_get(), Ok(1));
    assert!(first.woken());
    // ...but the slot is not anybody's room meanwhile.
    assert!(q.is_full());
    assert_eq!(q.try_put(9), Err(TryPutError::QueueFull(9)));
    // `first` gives up before running: 2 was not put, and the slot moves
    // on to `second`.
    drop(first);
    assert!(second.woken());
    assert!(q.is_empty());
    assert_eq!(second.ready(), Ok(()));
    assert_eq!(q.try_get(), Ok(3));
    assert_eq!(q.unfinished_tasks(), 2, "1 and 3 were put, 2 was not");
}

#[test]
fn a_putter_holding_a_reserved_slot_fails_after_shutdown() {
    let q = Queue::new(1);
    q.try_put(1).unwrap();
    let mut p = Manual::new(q.put(2));
    p.pending();
    assert_eq!(q.try_get(), Ok(1));
    q.shutdown(false);
    assert_eq!(p.ready().map_err(|e| e.0), Err(2));
    assert_eq!(q.try_get(), Err(TryGetError::QueueShutDown));
}

#[test]
fn an_item_handed_to_a_getter_counts_until_the_getter_returns_it() {
    let q = Queue::new(1);
    let mut getter = Manual::new(q.get());
    getter.pending();
    q.try_put(1).unwrap(); // handed to `getter`, which has not run yet
    assert!(getter.woken());
    // Still in the queue (asyncio's qsize counts it until the getter
    // resumes), so there is no room for another item.
    assert_eq!(q.len(), 1);
    assert!(q.is_full());
    assert_eq!(q.try_put(2), Err(TryPutError::QueueFull(2)));
    assert_eq!(
        q.try_get(),
        Err(TryGetError::QueueEmpty),
        "1 is the getter's"
    );
    let mut putter = Manual::new(q.put(2));
    putter.pending();
    // The getter returns its item: the slot frees and goes to the putter.
    assert_eq!(getter.ready(), Ok(1));
    assert!(putter.woken());
    assert_eq!(putter.ready(), Ok(()));
    assert_eq!(q.try_get(), Ok(2));
}

#[test]
fn a_getter_dropped_with_its_item_never_overfills_the_queue() {
    let q = Queue::new(1);
    let mut getter = Manual::new(q.get());
    getter.pending();
    q.try_put(1).unwrap(); // handed to `getter`
    let mut putter = Manual::new(q.put(2));
    putter.pending(); // no room: 1 still counts
    drop(getter); // never ran: 1 goes back into the store
    assert_eq!(q.len(), 1, "never more than maxsize");
    assert!(!putter.woken(), "the queue is still full");
    assert_eq!(q.try_get(), Ok(1));
    assert!(putter.woken());
    assert_eq!(putter.ready(), Ok(()));
    assert_eq!(q.try_get(), Ok(2));
    assert_eq!(q.unfinished_tasks(), 2);
}

#[track_caller]
fn panics<R>(f: impl FnOnce() -> R) {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    assert!(r.is_err(), "expected the comparison to panic");
}

/// Drains `q` with `try_get`, returning the values in order.
fn drain(q: &PriorityQueue<Touchy>) -> Vec<u32> {
    std::iter::from_fn(|| q.try_get().ok().map(|t| t.0)).collect()
}

#[test]
fn a_put_whose_ord_panics_stores_nothing_and_counts_nothing() {
    let s = switch();
    let q = PriorityQueue::new(4);
    for v in [5, 8] {
        q.try_put(Touchy::new(&s, v)).unwrap();
    }
    set(&s, true);
    panics(|| q.try_put(Touchy::new(&s, 3)));
    panics(|| block_on(q.put(Touchy::new(&s, 1))));
    assert_eq!(
        q.len(),
        2,
        "the items whose comparison panicked were not stored"
    );
    assert_eq!(q.unfinished_tasks(), 2);
    assert!(!q.is_full());
    set(&s, false);
    let mut join = Manual::new(q.join());
    join.pending();
    assert_eq!(drain(&q), [5, 8]);
    q.task_done().unwrap();
    join.pending();
    q.task_done().unwrap();
    assert!(join.woken());
    join.ready();
    assert!(q.task_done().is_err());
}

#[test]
fn a_putter_whose_ord_panics_passes_its_reserved_slot_on() {
    let s = switch();
    let q = PriorityQueue::new(2);
    for v in [1, 2] {
        q.try_put(Touchy::new(&s, v)).unwrap();
    }
    let mut first = Manual::new(q.put(Touchy::new(&s, 0)));
    let mut second = Manual::new(q.put(Touchy::new(&s, 7)));
    first.pending();
    second.pending();
    assert_eq!(q.try_get().unwrap().0, 1); // reserves the slot for `first`
    assert!(first.woken());
    set(&s, true);
    panics(|| first.poll());
    assert!(second.woken(), "the freed slot went to the next putter");
    assert_eq!(q.len(), 1);
    assert_eq!(q.unfinished_tasks(), 2, "one taken (not done), one stored");
    set(&s, false);
    assert_eq!(second.ready().map_err(|_| ()), Ok(()));
    assert!(q.is_full());
    assert_eq!(drain(&q), [2, 7]);
}

#[test]
fn a_get_whose_ord_panics_loses_nothing() {
    let s = switch();
    let q = PriorityQueue::new(4);
    for v in [4, 1, 3, 2] {
        q.try_put(Touchy::new(&s, v)).unwrap();
    }
    let mut putter = Manual::new(q.put(Touchy::new(&s, 0)));
    putter.pending();
    set(&s, true);
    panics(|| q.try_get());
    panics(|| block_on(q.get()));
    assert_eq!(q.len(), 4, "no item was lost");
    assert_eq!(q.unfinished_tasks(), 4);
    assert!(!putter.woken(), "no slot was freed");
    set(&s, false);
    assert_eq!(q.try_get().unwrap().0, 1);
    assert!(putter.woken());
    assert_eq!(putter.ready().map_err(|_| ()), Ok(()));
    assert_eq!(drain(&q), [0, 2, 3, 4]);
    for _ in 0..5 {
        q.task_done().unwrap();
    }
    block_on(q.join());
}

#[test]
fn a_getter_dropped_after_it_was_woken_while_ord_panics_loses_nothing() {
    let s = switch();
    let q = PriorityQueue::new(3);
    let mut getter = Manual::new(q.get());
    getter.pending();
    q.try_put(Touchy::new(&s, 5)).unwrap(); // wakes `getter`, stays stored
    for v in [3, 4] {
        q.try_put(Touchy::new(&s, v)).unwrap();
    }
    let mut putter = Manual::new(q.put(Touchy::new(&s, 1)));
    putter.pending();
    assert!(getter.woken());
    set(&s, true);
    // The item never left the queue: dropping the getter compares nothing.
    drop(getter);
    assert_eq!(q.len(), 3);
    assert_eq!(q.unfinished_tasks(), 3);
    assert!(!putter.woken(), "the queue is still full");
    set(&s, false);
    assert_eq!(drain(&q), [3, 4, 5]);
    assert_eq!(putter.ready().map_err(|_| ()), Ok(()));
    assert_eq!(drain(&q), [1]);
    for _ in 0..4 {
        q.task_done().unwrap();
    }
    block_on(q.join());
}
