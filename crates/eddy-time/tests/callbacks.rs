//! call_later / call_at and their thread-safe Handle forms.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{block_on, runtime};
use eddy_time::{call_at, call_later, sleep, Handle, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn equal_deadlines_run_in_scheduling_order() {
    block_on(true, async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let start = Instant::now();
        for i in 0..100u64 {
            let log = log.clone();
            call_at(start + ms(5 - i % 3), move || log.borrow_mut().push(i));
        }
        sleep(ms(10)).await;
        let log = log.borrow();
        let mut expected: Vec<u64> = (0..100).collect();
        expected.sort_by_key(|i| (5 - i % 3, *i));
        assert_eq!(*log, expected);
    });
}

#[test]
fn loop_and_thread_safe_callbacks_with_equal_deadlines_keep_scheduling_order() {
    block_on(true, async {
        let log = Arc::new(Mutex::new(Vec::new()));
        let start = Instant::now();
        for i in 0..30u64 {
            let l = log.clone();
            let push = move || l.lock().unwrap().push(i);
            let at = start + ms(10 + i % 2);
            // Interleaved on the loop thread: loop-thread callbacks (the
            // closure waits on the loop) and thread-safe ones (straight in
            // the wheel).
            match i % 3 {
                0 => drop(call_at(at, push)),
                1 => drop(Handle::current().call_at(at, push)),
                _ => drop(call_later(at - Instant::now(), push)),
            }
        }
        sleep(ms(20)).await;
        eddy_core::yield_now().await; // callbacks fired in the same turn
        let mut expected: Vec<u64> = (0..30).collect();
        expected.sort_by_key(|i| (i % 2, *i));
        assert_eq!(*log.lock().unwrap(), expected);
    });
}

#[test]
fn thread_safe_callbacks_keep_order_and_run_on_the_loop() {
    let (rt, handle) = runtime(true);
    let _g = handle.enter();
    let loop_thread = std::thread::current().id();
    let log = Arc::new(Mutex::new(Vec::new()));
    let start = handle.now();
    let remote = handle.clone();
    let l = log.clone();
    std::thread::spawn(move || {
        for i in 0..50u64 {
            let l = l.clone();
            remote.call_at(start + ms(3 - i % 2), move || {
                assert_eq!(std::thread::current().id(), loop_thread);
                l.lock().unwrap().push(i);
            });
        }
    })
    .join()
    .unwrap();
    rt.block_on(sleep(ms(10)));
    let mut expected: Vec<u64> = (0..50).collect();
    expected.sort_by_key(|i| (3 - i % 2, *i));
    assert_eq!(*log.lock().unwrap(), expected);
    assert_eq!(handle.timer_count(), 0);
}

#[test]
fn cancel_before_and_after_firing() {
    block_on(true, async {
        let hits = Rc::new(RefCell::new(Vec::new()));
        let h = hits.clone();
        let early = call_later(ms(5), move || h.borrow_mut().push("early"));
        let h = hits.clone();
        let cancelled = call_later(ms(5), move || h.borrow_mut().push("cancelled"));
        let remote =
            Handle::current().call_later(ms(5), || panic!("cancelled remote callback ran"));
        cancelled.cancel();
        remote.cancel();
        assert!(cancelled.is_cancelled() && remote.is_cancelled());
        sleep(ms(10)).await;
        assert_eq!(*hits.borrow(), ["early"]);
        early.cancel(); // after it ran: no effect, no panic
        assert_eq!(Handle::current().timer_count(), 0);
    });
}

#[test]
fn cancelling_a_thread_safe_callback_twice_leaves_other_timers_alone() {
    block_on(true, async {
        let handle = Handle::current();
        let lone = handle.call_later(ms(5), || panic!("cancelled callback ran"));
        lone.cancel();
        lone.cancel(); // nothing left to remove
        let first = handle.call_later(ms(10), || panic!("cancelled callback ran"));
        first.cancel();
        // The next timers take the freed wheel slots.
        let ran = Arc::new(Mutex::new(false));
        let r = ran.clone();
        let _second = handle.call_later(ms(10), move || *r.lock().unwrap() = true);
        let mut third = Box::pin(sleep(ms(10)));
        assert!(futures::poll!(third.as_mut()).is_pending());
        // Cancelled again: must not take out either of them.
        first.cancel();
        std::thread::spawn(move || first.cancel()).join().unwrap();
        assert_eq!(Handle::current().timer_count(), 2);
        third.await;
        eddy_core::yield_now().await; // the callback fired in the same turn
        assert!(*ran.lock().unwrap(), "the other callback never ran");
    });
}

#[test]
fn cancel_from_another_thread() {
    block_on(true, async {
        let ran = Rc::new(std::cell::Cell::new(false));
        let r = ran.clone();
        let local = call_later(ms(5), move || r.set(true));
        let remote = Handle::current().call_later(ms(5), || panic!("must not run"));
        std::thread::spawn(move || {
            local.cancel();
            remote.cancel();
        })
        .join()
        .unwrap();
        sleep(ms(10)).await;
        assert!(!ran.get());
    });
}

/// A loop-thread callback cancelled while it waits for its timer (from
/// this thread or another) leaves the wheel and drops its closure by the
/// loop's next step, without waiting for its deadline.
#[test]
fn a_cancelled_waiting_callback_leaves_at_the_next_step() {
    block_on(true, async {
        for remote_cancel in [false, true] {
            let dropped = Rc::new(std::cell::Cell::new(false));
            let flag = DropFlag(dropped.clone());
            let timer = call_later(Duration::from_secs(3600), move || {
                let _flag = flag;
                panic!("cancelled callback ran");
            });
            eddy_core::yield_now().await;
            assert_eq!(Handle::current().timer_count(), 1);
            if remote_cancel {
                std::thread::spawn(move || timer.cancel()).join().unwrap();
            } else {
                timer.cancel();
            }
            eddy_core::yield_now().await;
            assert!(dropped.get(), "remote cancel: {remote_cancel}");
            assert_eq!(Handle::current().timer_count(), 0);
        }
    });
}

/// Sets a flag when dropped.
struct DropFlag(Rc<std::cell::Cell<bool>>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn when_and_zero_delay() {
    block_on(true, async {
        let start = Instant::now();
        let t = call_later(ms(7), || {});
        assert_eq!(t.when(), start + ms(7));
        let ran = Rc::new(std::cell::Cell::new(false));
        let r = ran.clone();
        call_later(Duration::ZERO, move || r.set(true));
        let r2 = Arc::new(Mutex::new(false));
        let rr = r2.clone();
        Handle::current().call_at(start - ms(1), move || *rr.lock().unwrap() = true);
        sleep(ms(1)).await;
        assert!(ran.get());
        assert!(*r2.lock().unwrap());
        // Duration::MAX: scheduled, never runs, cancellable.
        let never = call_later(Duration::MAX, || unreachable!());
        sleep(ms(50)).await;
        never.cancel();
    });
}

#[test]
fn a_panicking_callback_does_not_stop_the_loop() {
    block_on(true, async {
        let ok = Rc::new(std::cell::Cell::new(false));
        let o = ok.clone();
        call_later(ms(1), || panic!("callback panic (expected in this test)"));
        Handle::current().call_later(ms(1), || panic!("remote callback panic (expected)"));
        call_later(ms(2), move || o.set(true));
        sleep(ms(5)).await;
        assert!(ok.get());
    });
}

/// A loop-thread callback's panic goes to the unhandled-panic policy when
/// it happens, even while its `TimerHandle` is kept (say, to cancel the
/// callback later): the handle cannot read the panic, so it must not hold
/// it back. (When each callback ran as a task, that task once kept the
/// panic until the handle was dropped, and `ShutdownRuntime` never stopped
/// this `block_on`.)
#[test]
fn a_panicking_callback_reaches_the_policy_while_its_handle_is_kept() {
    let driver = eddy_time::DriverBuilder::new()
        .start_paused(true)
        .build(eddy_core::park::ThreadPark::new());
    let handle = driver.handle();
    let rt = eddy_core::Builder::new()
        .unhandled_panic(eddy_core::UnhandledPanic::ShutdownRuntime)
        .build_with_driver(Box::new(driver))
        .unwrap();
    let _guard = handle.enter();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            let kept = call_later(ms(1), || panic!("kept callback panic (expected)"));
            sleep(ms(5)).await;
            sleep(ms(5)).await;
            kept
        })
    }));
    let payload = outcome.expect_err("the callback's panic should have stopped block_on");
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or(payload.downcast_ref::<&str>().copied())
        .unwrap();
    assert!(message.contains("nobody joined"), "{message}");
}

#[test]
fn remote_callback_after_shutdown_is_dropped() {
    let (rt, handle) = runtime(false);
    drop(rt);
    let t = handle.call_later(ms(1), || unreachable!());
    assert!(t.is_cancelled());
    assert_eq!(handle.timer_count(), 0);
}

/// asyncio's `TimerHandle` is a callback handle, not a task: a pending
/// callback is not listed among the loop's tasks (the "no task leaked"
/// check passes), before and after its timer fires.
#[test]
fn a_pending_callback_is_not_a_task() {
    block_on(true, async {
        let ran = Rc::new(std::cell::Cell::new(false));
        let r = ran.clone();
        let far = call_later(Duration::from_secs(3600), || unreachable!());
        let near = call_later(ms(1), move || {
            r.set(true);
            assert!(eddy_core::task::all().is_empty());
        });
        eddy_core::yield_now().await;
        assert!(eddy_core::task::all().is_empty());
        sleep(ms(5)).await;
        assert!(ran.get());
        assert!(!near.is_cancelled());
        far.cancel();
        assert_eq!(Handle::current().timer_count(), 0);
    });
}

/// Callbacks still pending when the runtime shuts down never run, and
/// their closures are dropped on the loop thread during the shutdown.
#[test]
fn callbacks_pending_at_shutdown_are_dropped_unrun_on_the_loop_thread() {
    let (rt, handle) = runtime(true);
    let _g = handle.enter();
    let dropped_on = Rc::new(std::cell::Cell::new(None));
    rt.block_on(async {
        let flag = ThreadFlag(dropped_on.clone());
        call_later(Duration::from_secs(3600), move || {
            let _flag = flag;
            unreachable!("a callback pending at shutdown ran");
        });
        eddy_core::yield_now().await;
    });
    assert_eq!(dropped_on.get(), None, "dropped before the shutdown");
    drop(rt);
    assert_eq!(dropped_on.get(), Some(std::thread::current().id()));
    assert_eq!(handle.timer_count(), 0);
}

/// Records the thread it is dropped on.
struct ThreadFlag(Rc<std::cell::Cell<Option<std::thread::ThreadId>>>);
impl Drop for ThreadFlag {
    fn drop(&mut self) {
        self.0.set(Some(std::thread::current().id()));
    }
}

/// Runs `f` when dropped.
struct OnDrop<F: FnMut()>(F);
impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

/// A closure's destructor may schedule more callbacks, whether the closure
/// is dropped by a cancel, after it ran, or at shutdown.
#[test]
fn a_closure_destructor_may_schedule_callbacks() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let (rt, handle) = runtime(true);
    let _g = handle.enter();
    rt.block_on({
        let log = log.clone();
        async move {
            let l = log.clone();
            let on_drop = OnDrop(move || {
                let l = l.clone();
                call_later(ms(1), move || l.borrow_mut().push("after cancel"));
            });
            let timer = call_later(Duration::from_secs(3600), move || {
                let _d = &on_drop;
            });
            timer.cancel();
            let l = log.clone();
            let on_drop = OnDrop(move || {
                let l = l.clone();
                eddy_core::call_soon(move || l.borrow_mut().push("after run"));
            });
            call_later(ms(1), move || {
                let _d = &on_drop;
            });
            sleep(ms(5)).await;
            eddy_core::yield_now().await;
            // Pending at shutdown: its destructor schedules once more.
            let l = log.clone();
            let on_drop = OnDrop(move || {
                l.borrow_mut().push("at shutdown");
                call_later(ms(1), || unreachable!("scheduled during shutdown"));
                eddy_core::call_soon(|| unreachable!("queued during shutdown"));
            });
            call_later(Duration::from_secs(3600), move || {
                let _d = &on_drop;
            });
        }
    });
    drop(rt);
    let mut got = log.borrow().clone();
    got.sort_unstable();
    assert_eq!(got, ["after cancel", "after run", "at shutdown"]);
}

/// A callback and a task's sleep due at the same instant: whichever timer
/// was registered first goes first, since the callback is queued in the
/// same FIFO as the task's wake-up.
#[test]
fn a_callback_and_a_sleep_with_equal_deadlines_keep_registration_order() {
    block_on(true, async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let at = Instant::now() + ms(5);
        let l = log.clone();
        call_at(at, move || l.borrow_mut().push("callback first"));
        let l = log.clone();
        let task = eddy_core::spawn(async move {
            eddy_time::sleep_until(at).await;
            l.borrow_mut().push("task second");
            let l2 = l.clone();
            let at = Instant::now() + ms(5);
            let task = eddy_core::spawn(async move {
                eddy_time::sleep_until(at).await;
                l2.borrow_mut().push("task first");
            });
            eddy_core::yield_now().await; // the task's sleep registers now
            let l3 = l.clone();
            call_at(at, move || l3.borrow_mut().push("callback second"));
            task.await.unwrap();
        });
        task.await.unwrap();
        sleep(ms(10)).await;
        assert_eq!(
            *log.borrow(),
            [
                "callback first",
                "task second",
                "task first",
                "callback second"
            ]
        );
    });
}

/// A loop-thread callback whose timer is on another loop's driver (its
/// time handle entered here): that loop fires it, and the callback still
/// runs on the loop that scheduled it. Cancelling one from a third thread
/// drops it on its loop too.
#[test]
fn a_callback_fired_by_another_loops_driver_runs_on_its_own_loop() {
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = futures::channel::oneshot::channel::<()>();
    let other = std::thread::spawn(move || {
        let (rt, handle) = runtime(false);
        let _g = handle.enter();
        handle_tx.send(handle.clone()).unwrap();
        rt.block_on(async move {
            let _ = stop_rx.await;
        });
    });
    let other_time = handle_rx.recv().unwrap();
    block_on(false, async move {
        let here = std::thread::current().id();
        let (tx, rx) = futures::channel::oneshot::channel();
        let dropped_on = Rc::new(std::cell::Cell::new(None));
        let flag = ThreadFlag(dropped_on.clone());
        let (fired, cancelled) = {
            let _g = other_time.enter();
            (
                call_later(ms(1), move || tx.send(std::thread::current().id()).unwrap()),
                call_later(Duration::from_secs(3600), move || {
                    let _flag = flag;
                    unreachable!("cancelled callback ran");
                }),
            )
        };
        assert_eq!(rx.await.unwrap(), here);
        assert!(!fired.is_cancelled());
        std::thread::spawn(move || cancelled.cancel())
            .join()
            .unwrap();
        // The drop message reaches this loop at its next step.
        eddy_core::yield_now().await;
        assert_eq!(dropped_on.get(), Some(here));
        assert_eq!(other_time.timer_count(), 0);
    });
    stop_tx.send(()).unwrap();
    other.join().unwrap();
}
