//! eddy-sync's primitives under eddy's cooperative budget (the hook the
//! facade installs when it builds a runtime, see `eddy_sync::budget`).
//!
//! - A task that keeps finding a channel, queue, lock, semaphore or event
//!   ready yields once its budget is spent: a sibling runs, and a due timer
//!   fires, before it is done.
//! - A poll that goes `Pending` because there is nothing to take costs
//!   nothing: a task waiting on many idle primitives is not woken again.
//! - A refused poll takes nothing: the waiter keeps what it was handed,
//!   and dropping it passes that on.
//! - Outside an eddy task the installed hook never refuses.
//!
//! Every check is an ordering of shared counters, never a timing.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use eddy::sync::{
    broadcast, mpsc, oneshot, watch, Barrier, BoundedSemaphore, Event, LifoQueue, Mutex, Notify,
    PriorityQueue, Queue, RwLock, Semaphore,
};

/// Ready operations each busy loop performs: many budgets' worth.
const N: usize = 2_000;

/// What one task poll may spend.
const BUDGET: usize = eddy::coop::BUDGET as usize;

/// Runs `busy` in a task, with a sibling spawned just before it starts.
/// `busy` counts its operations in the cell it is given; returns that
/// count as it was when the sibling first ran.
fn sibling_runs_at<F, Fut>(busy: F) -> usize
where
    F: FnOnce(Rc<Cell<usize>>) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    eddy::run(async move {
        let task = eddy::spawn(async move {
            let progress = Rc::new(Cell::new(0));
            let ran_at = Rc::new(Cell::new(None));
            let sibling = eddy::spawn({
                let (progress, ran_at) = (progress.clone(), ran_at.clone());
                async move { ran_at.set(Some(progress.get())) }
            });
            busy(progress.clone()).await;
            assert_eq!(progress.get(), N, "the busy loop did not finish its work");
            sibling.await.unwrap();
            ran_at.get().unwrap()
        });
        task.await.unwrap()
    })
}

/// Asserts that the sibling ran once the busy task's first budget was
/// spent (every operation charges one unit, so no later than that).
#[track_caller]
fn assert_yields(what: &str, at: usize) {
    assert!(
        at <= BUDGET,
        "{what}: the sibling ran only after {at} of {N} ready operations \
         (the budget is {BUDGET} per poll)"
    );
}

#[test]
fn draining_a_bounded_channel_yields() {
    let at = sibling_runs_at(|p| async move {
        let (tx, mut rx) = mpsc::channel(N);
        for i in 0..N {
            tx.try_send(i).unwrap();
        }
        for _ in 0..N {
            rx.recv().await.unwrap();
            p.set(p.get() + 1);
        }
    });
    assert_yields("mpsc recv", at);
}

#[test]
fn sending_into_a_roomy_channel_yields() {
    let at = sibling_runs_at(|p| async move {
        let (tx, _rx) = mpsc::channel(N);
        for i in 0..N {
            tx.send(i).await.unwrap();
            p.set(p.get() + 1);
        }
    });
    assert_yields("mpsc send", at);
}

#[test]
fn draining_an_unbounded_channel_as_a_stream_yields() {
    use futures::StreamExt;
    let at = sibling_runs_at(|p| async move {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..N {
            tx.send(i).unwrap();
        }
        drop(tx);
        while rx.next().await.is_some() {
            p.set(p.get() + 1);
        }
    });
    assert_yields("mpsc Stream::next", at);
}

#[test]
fn recv_many_yields() {
    let at = sibling_runs_at(|p| async move {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..N {
            tx.send(i).unwrap();
        }
        let mut buf = Vec::new();
        for _ in 0..N {
            assert_eq!(rx.recv_many(&mut buf, 1).await, 1);
            p.set(p.get() + 1);
        }
    });
    assert_yields("mpsc recv_many", at);
}

#[test]
fn waiting_for_a_closed_channel_yields() {
    let at = sibling_runs_at(|p| async move {
        let (tx, rx) = mpsc::channel::<u8>(1);
        drop(rx);
        for _ in 0..N {
            tx.closed().await;
            p.set(p.get() + 1);
        }
    });
    assert_yields("mpsc Sender::closed", at);
}

#[test]
fn queues_yield_on_get_put_and_join() {
    let at = sibling_runs_at(|p| async move {
        let q = Queue::new(0);
        for i in 0..N {
            q.put(i).await.unwrap();
            p.set(p.get() + 1);
        }
    });
    assert_yields("Queue put", at);
    let at = sibling_runs_at(|p| async move {
        let q = LifoQueue::new(0);
        for i in 0..N {
            q.try_put(i).unwrap();
        }
        for _ in 0..N {
            q.get().await.unwrap();
            p.set(p.get() + 1);
        }
    });
    assert_yields("LifoQueue get", at);
    let at = sibling_runs_at(|p| async move {
        let q = PriorityQueue::new(0);
        for i in 0..N {
            q.put(N - i).await.unwrap();
            p.set(p.get() + 1);
        }
    });
    assert_yields("PriorityQueue put", at);
    let at = sibling_runs_at(|p| async move {
        let q = Queue::<u8>::new(1);
        for _ in 0..N {
            q.join().await; // nothing unfinished: ready at once
            p.set(p.get() + 1);
        }
    });
    assert_yields("Queue join", at);
}

#[test]
fn broadcast_watch_and_oneshot_receivers_yield() {
    let at = sibling_runs_at(|p| async move {
        let (tx, mut rx) = broadcast::channel(N);
        for i in 0..N {
            tx.send(i).unwrap();
        }
        for _ in 0..N {
            rx.recv().await.unwrap();
            p.set(p.get() + 1);
        }
    });
    assert_yields("broadcast recv", at);
    let at = sibling_runs_at(|p| async move {
        let (tx, mut rx) = watch::channel(0);
        for i in 0..N {
            tx.send(i).unwrap();
            rx.changed().await.unwrap();
            p.set(p.get() + 1);
        }
    });
    assert_yields("watch changed", at);
    let at = sibling_runs_at(|p| async move {
        for i in 0..N {
            let (tx, rx) = oneshot::channel();
            tx.send(i).unwrap();
            assert_eq!(rx.await, Ok(i));
            p.set(p.get() + 1);
        }
    });
    assert_yields("oneshot recv", at);
    let at = sibling_runs_at(|p| async move {
        let (mut tx, rx) = oneshot::channel::<u8>();
        drop(rx);
        for _ in 0..N {
            tx.closed().await;
            p.set(p.get() + 1);
        }
    });
    assert_yields("oneshot Sender::closed", at);
}

#[test]
fn uncontended_locks_and_semaphores_yield() {
    let at = sibling_runs_at(|p| async move {
        let m = Mutex::new(0);
        for _ in 0..N {
            *m.lock().await += 1;
            p.set(p.get() + 1);
        }
    });
    assert_yields("Mutex lock", at);
    let at = sibling_runs_at(|p| async move {
        let m = Arc::new(Mutex::new(0));
        for _ in 0..N {
            *m.clone().lock_owned().await += 1;
            p.set(p.get() + 1);
        }
    });
    assert_yields("Mutex lock_owned", at);
    let at = sibling_runs_at(|p| async move {
        let l = RwLock::new(0);
        for i in 0..N {
            if i % 2 == 0 {
                drop(l.read().await);
            } else {
                *l.write().await += 1;
            }
            p.set(p.get() + 1);
        }
    });
    assert_yields("RwLock read/write", at);
    let at = sibling_runs_at(|p| async move {
        let s = Semaphore::new(3);
        for _ in 0..N {
            drop(s.acquire_many(2).await);
            p.set(p.get() + 1);
        }
    });
    assert_yields("Semaphore acquire", at);
    let at = sibling_runs_at(|p| async move {
        let s = BoundedSemaphore::new(1);
        for _ in 0..N {
            drop(s.acquire().await);
            p.set(p.get() + 1);
        }
    });
    assert_yields("BoundedSemaphore acquire", at);
}

#[test]
fn set_events_notifies_and_one_party_barriers_yield() {
    let at = sibling_runs_at(|p| async move {
        let ev = Event::new();
        ev.set();
        for _ in 0..N {
            ev.wait().await;
            p.set(p.get() + 1);
        }
    });
    assert_yields("Event wait", at);
    let at = sibling_runs_at(|p| async move {
        let n = Notify::new();
        for _ in 0..N {
            n.notify_one(); // a stored permit: notified() is ready at once
            n.notified().await;
            p.set(p.get() + 1);
        }
    });
    assert_yields("Notify notified", at);
    let at = sibling_runs_at(|p| async move {
        let b = Barrier::new(1);
        for _ in 0..N {
            b.wait().await.unwrap();
            p.set(p.get() + 1);
        }
    });
    assert_yields("Barrier wait", at);
}

#[test]
fn a_due_timer_fires_while_a_task_drains_a_channel_and_a_semaphore() {
    // On the paused test clock: the timer is made due by moving the clock,
    // not by waiting for real time to pass. The loop looks at its drivers
    // every 4 task polls (61 by default), so a few yields are enough.
    let rt = eddy::Builder::new()
        .start_paused(true)
        .event_interval(4)
        .build()
        .unwrap();
    rt.block_on(async {
        let fired_at = Rc::new(Cell::new(None));
        let progress = Rc::new(Cell::new(0));
        let (f, p) = (fired_at.clone(), progress.clone());
        eddy::call_later(Duration::from_millis(1), move || f.set(Some(p.get())));
        let busy = eddy::spawn({
            let fired_at = fired_at.clone();
            async move {
                // The clock moves now; the timer fires at the loop's next
                // look at its drivers (not awaited: it would fire here).
                drop(eddy::time::advance(Duration::from_millis(1)));
                let (tx, mut rx) = mpsc::unbounded_channel();
                let sem = Semaphore::new(1);
                for i in 0..N {
                    tx.send(i).unwrap();
                }
                assert_eq!(fired_at.get(), None);
                for _ in 0..N {
                    rx.recv().await.unwrap();
                    drop(sem.acquire().await);
                    progress.set(progress.get() + 1);
                }
            }
        });
        busy.await.unwrap();
        let at = fired_at.get().expect("the timer never fired");
        assert!(
            at < N,
            "the due timer fired only after the task had done all {N} operations"
        );
    });
}

#[test]
fn idle_waits_cost_no_budget() {
    // One task polls three budgets' worth of waits that all go Pending.
    // Were a pending poll charged, the budget would run out on every poll
    // and the task would be woken again and again, never idle.
    eddy::run(async {
        let ev = Rc::new(Event::new());
        let (tx, rx) = mpsc::unbounded_channel::<u8>();
        let polls = Rc::new(Cell::new(0));
        let waiter = eddy::spawn({
            let (ev, polls) = (ev.clone(), polls.clone());
            async move {
                let mut rx = rx;
                let mut waits: Vec<_> =
                    (0..3 * BUDGET).map(|_| Some(Box::pin(ev.wait()))).collect();
                let mut got = None;
                poll_fn(|cx| {
                    polls.set(polls.get() + 1);
                    for slot in waits.iter_mut() {
                        if let Some(w) = slot {
                            if w.as_mut().poll(cx).is_ready() {
                                *slot = None;
                            }
                        }
                    }
                    if got.is_none() {
                        if let Poll::Ready(v) = rx.poll_recv(cx) {
                            got = Some(v);
                        }
                    }
                    if waits.iter().all(Option::is_none) && got.is_some() {
                        Poll::Ready(got.take().unwrap())
                    } else {
                        Poll::Pending
                    }
                })
                .await
            }
        });
        for _ in 0..20 {
            eddy::yield_now().await;
        }
        assert_eq!(
            polls.get(),
            1,
            "a task whose waits are all pending was polled again"
        );
        ev.set();
        tx.send(7).unwrap();
        assert_eq!(waiter.await.unwrap(), Some(7));
        // 3 budgets' worth of completions (+1 recv): a few polls, each
        // ended by the budget, not one per wait.
        assert!(polls.get() <= 6, "polled {} times", polls.get());
    });
}

/// Spends the rest of the current task's budget.
fn spend_budget() {
    let mut cx = Context::from_waker(Waker::noop());
    while eddy::coop::has_budget_remaining() {
        if let Poll::Ready(unit) = eddy::coop::poll_proceed(&mut cx) {
            unit.made_progress();
        }
    }
}

/// Polls `fut` once with the budget spent: the poll must be refused.
async fn assert_refused<F: Future + Unpin>(what: &str, fut: &mut F) {
    poll_fn(|cx| {
        spend_budget();
        assert!(
            Pin::new(&mut *fut).poll(cx).is_pending(),
            "{what}: polled with the budget spent, yet it completed"
        );
        Poll::Ready(())
    })
    .await;
    // A fresh poll, a fresh budget.
    eddy::yield_now().await;
}

#[test]
fn a_refused_waiter_keeps_what_it_was_handed() {
    eddy::run(async {
        let (tx, mut rx) = oneshot::channel();
        assert!(futures::poll!(&mut rx).is_pending());
        tx.send(5).unwrap();
        assert_refused("oneshot", &mut rx).await;
        assert_eq!(rx.await, Ok(5));

        let q = Queue::new(1);
        let mut get = pin!(q.get());
        assert!(futures::poll!(get.as_mut()).is_pending());
        q.try_put(1).unwrap(); // handed to `get`
        assert_refused("Queue get", &mut get).await;
        assert_eq!(get.await, Ok(1));

        let sem = Semaphore::new(1);
        let held = sem.acquire().await;
        let mut acquire = pin!(sem.acquire());
        assert!(futures::poll!(acquire.as_mut()).is_pending());
        drop(held); // the permit goes to `acquire`
        assert_refused("Semaphore acquire", &mut acquire).await;
        assert_eq!(acquire.await.num_permits(), 1);
    });
}

#[test]
fn a_waiter_dropped_after_a_refused_poll_passes_on_what_it_was_handed() {
    eddy::run(async {
        // A queue getter handed an item: the item goes back to the queue.
        let q = Queue::new(1);
        {
            let mut get = Box::pin(q.get());
            assert!(futures::poll!(get.as_mut()).is_pending());
            q.try_put(1).unwrap();
            assert_refused("Queue get", &mut get).await;
        }
        assert_eq!(q.try_get(), Ok(1));

        // A channel receiver's recv: the message stays for the next recv.
        let (tx, mut rx) = mpsc::channel(1);
        {
            let mut recv = Box::pin(rx.recv());
            assert!(futures::poll!(recv.as_mut()).is_pending());
            tx.try_send(2).unwrap();
            assert_refused("mpsc recv", &mut recv).await;
        }
        assert_eq!(rx.try_recv(), Ok(2));

        // A lock handed over: it goes to the next waiter in line.
        let m = Rc::new(Mutex::new(()));
        let held = m.lock().await;
        let mut first = Box::pin(m.lock());
        assert!(futures::poll!(first.as_mut()).is_pending());
        let second = eddy::spawn({
            let m = m.clone();
            async move { drop(m.lock().await) }
        });
        eddy::yield_now().await; // `second` queues behind `first`
        drop(held); // handed to `first`
        assert_refused("Mutex lock", &mut first).await;
        drop(first);
        second.await.unwrap();
        assert!(m.try_lock().is_ok());

        // Semaphore permits handed over come back.
        let sem = Semaphore::new(2);
        let held = sem.acquire_many(2).await;
        {
            let mut acquire = Box::pin(sem.acquire_many(2));
            assert!(futures::poll!(acquire.as_mut()).is_pending());
            drop(held);
            assert_refused("Semaphore acquire", &mut acquire).await;
        }
        assert_eq!(sem.available_permits(), 2);

        // A notify_one wake passes to the next waiter (here: the permit).
        let n = Notify::new();
        {
            let mut notified = Box::pin(n.notified());
            assert!(futures::poll!(notified.as_mut()).is_pending());
            n.notify_one();
            assert_refused("Notify notified", &mut notified).await;
        }
        assert!(futures::poll!(pin!(n.notified())).is_ready());
    });
}

#[test]
fn outside_a_task_the_installed_hook_never_refuses() {
    // Building a runtime installs the hook for the whole process.
    drop(eddy::Runtime::new().unwrap());
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..N {
        tx.send(i).unwrap();
    }
    let mut cx = Context::from_waker(Waker::noop());
    for i in 0..N / 2 {
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(i)));
    }
    // Another executor: every ready operation completes in the first poll.
    let polls = Cell::new(0);
    futures::executor::block_on(poll_fn(|cx| {
        polls.set(polls.get() + 1);
        let sem = Semaphore::new(1);
        for i in N / 2..N {
            assert_eq!(rx.poll_recv(cx), Poll::Ready(Some(i)));
            let acquire = pin!(sem.acquire());
            assert!(acquire.poll(cx).is_ready());
        }
        Poll::Ready(())
    }));
    assert_eq!(polls.get(), 1);
}
