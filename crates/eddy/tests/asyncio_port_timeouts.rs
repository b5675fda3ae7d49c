//! asyncio's timeout topics, ported to eddy: wait_for, timeout scopes
//! (asyncio.timeout / timeout_at) with reschedule and nesting, and the
//! callback scheduling of call_soon / call_later / call_at.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::port::{flag, guard, paused, settle, sleep_an_hour, Finally};
use eddy::time::{deadline, deadline_at, Elapsed, Instant};

#[test]
fn wait_for_gives_the_value_or_cancels_and_times_out() {
    eddy::run(async {
        let fast = eddy::wait_for(async { 42 }, Duration::from_secs(5)).await;
        assert_eq!(fast, Ok(42));

        let dropped = flag();
        let f = dropped.clone();
        let never = async move {
            let _finally = Finally(f);
            std::future::pending::<()>().await
        };
        let err: Elapsed = eddy::wait_for(never, Duration::from_millis(5))
            .await
            .unwrap_err();
        // The future was cancelled before the error came back.
        assert!(dropped.get());
        assert!(err.to_string().contains("deadline elapsed"), "{err}");
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    });
}

#[test]
fn wait_for_with_zero_timeout_still_takes_a_ready_result() {
    eddy::run(async {
        // asyncio: with timeout <= 0 a finished future's result is returned.
        assert_eq!(eddy::wait_for(async { 1 }, Duration::ZERO).await, Ok(1));
        assert!(eddy::wait_for(std::future::pending::<()>(), Duration::ZERO)
            .await
            .is_err());
    });
}

/// asyncio: "If a timeout occurs, [wait_for] cancels the task and raises
/// TimeoutError." `await asyncio.wait_for(task, 1)` leaves no task behind.
/// A plain JoinHandle detaches when dropped (eddy's documented rule, see
/// the next test); `cancel_on_drop()` gives asyncio's behaviour.
#[test]
fn wait_for_on_a_task_cancels_the_task_on_timeout() {
    eddy::run(async {
        let dropped = flag();
        let f = dropped.clone();
        let task = eddy::spawn(async move {
            sleep_an_hour(f).await;
        });
        assert!(
            eddy::wait_for(task.cancel_on_drop(), Duration::from_millis(5))
                .await
                .is_err()
        );
        settle().await;
        assert!(
            dropped.get(),
            "the task still runs after wait_for timed out"
        );
    });
}

/// A plain JoinHandle dropped by a timeout detaches its task: eddy's
/// documented rule (dropping a handle never cancels), unlike asyncio.
#[test]
fn wait_for_on_a_plain_handle_detaches_the_task_on_timeout() {
    eddy::run(async {
        let dropped = flag();
        let f = dropped.clone();
        let (tx, rx) = eddy::sync::oneshot::channel::<()>();
        let task = eddy::spawn(async move {
            let _finally = Finally(f);
            let _ = rx.await;
            7
        });
        let id = task.id();
        assert!(eddy::wait_for(task, Duration::from_millis(5))
            .await
            .is_err());
        settle().await;
        assert!(!dropped.get(), "a detached task was cancelled");
        assert!(eddy::task::all().iter().any(|t| t.id() == id));
        tx.send(()).unwrap();
        settle().await;
        assert!(dropped.get(), "the detached task did not run to its end");
    });
}

/// asyncio: cancelling a task that is awaiting another task cancels that
/// task too (which is what asyncio.shield exists to prevent). In eddy the
/// awaiting task says so with `cancel_on_drop()`.
#[test]
fn cancelling_a_task_cancels_the_task_it_awaits() {
    eddy::run(async {
        let dropped = flag();
        let f = dropped.clone();
        let outer = eddy::spawn(async move {
            let inner = eddy::spawn(async move {
                sleep_an_hour(f).await;
            });
            inner.cancel_on_drop().await
        });
        eddy::sleep(Duration::from_millis(1)).await;
        outer.cancel();
        assert!(outer.await.unwrap_err().is_cancelled());
        settle().await;
        assert!(dropped.get(), "the inner task survived the cancellation");
    });
}

#[test]
fn timeout_scope_cancels_the_body_and_reports_expired() {
    eddy::run(async {
        let dropped = flag();
        let f = dropped.clone();
        let mut kept = None;
        let out = deadline(Duration::from_millis(5), |scope| {
            kept = Some(scope.clone());
            async move {
                let _finally = Finally(f);
                assert!(!scope.expired());
                eddy::sleep(Duration::from_secs(3600)).await;
                "unreachable"
            }
        })
        .await;
        assert!(out.is_err());
        assert!(dropped.get());
        assert!(kept.unwrap().expired());

        // A body that finishes in time: not expired.
        let mut kept = None;
        let out = deadline(Duration::from_secs(60), |scope| {
            kept = Some(scope.clone());
            async { "done" }
        })
        .await;
        assert_eq!(out, Ok("done"));
        assert!(!kept.unwrap().expired());
    });
}

#[test]
fn rescheduling_a_timeout_from_inside_and_outside() {
    paused().block_on(async {
        // Start with no deadline, decide on one later (asyncio.timeout(None)).
        let out = deadline_at(None, |scope| async move {
            assert_eq!(scope.when(), None);
            eddy::sleep(Duration::from_secs(10)).await;
            let when = Instant::now() + Duration::from_secs(1);
            scope.reschedule(Some(when));
            assert_eq!(scope.when(), Some(when));
            eddy::sleep(Duration::from_secs(10)).await;
        })
        .await;
        assert!(out.is_err());

        // Push the deadline out while running: the body finishes.
        let out = deadline(Duration::from_secs(1), |scope| async move {
            eddy::sleep(Duration::from_millis(500)).await;
            scope.reschedule(Some(Instant::now() + Duration::from_secs(5)));
            eddy::sleep(Duration::from_secs(2)).await;
            "finished late but allowed"
        })
        .await;
        assert_eq!(out, Ok("finished late but allowed"));

        // Remove the deadline altogether.
        let out = deadline(Duration::from_secs(1), |scope| async move {
            scope.reschedule(None);
            eddy::sleep(Duration::from_secs(30)).await;
            7
        })
        .await;
        assert_eq!(out, Ok(7));

        // Another task moves the deadline in: a watchdog cutting work short.
        let scope = deadline(Duration::from_secs(3600), |_| std::future::pending::<()>());
        let handle = scope.handle();
        let canceller = eddy::spawn(async move {
            eddy::sleep(Duration::from_secs(2)).await;
            handle.reschedule(Some(Instant::now()));
        });
        let start = Instant::now();
        assert!(scope.await.is_err());
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        canceller.await.unwrap();
    });
}

#[test]
fn a_past_deadline_expires_at_once() {
    paused().block_on(async {
        let past = Instant::now();
        eddy::sleep(Duration::from_secs(1)).await;
        let ran = flag();
        let r = ran.clone();
        let out = deadline_at(past, |_| async move {
            eddy::yield_now().await;
            r.set(true);
        })
        .await;
        assert!(out.is_err());
        assert!(!ran.get());
    });
}

#[test]
fn nested_timeouts_inner_first_lets_the_outer_body_carry_on() {
    paused().block_on(async {
        let mut inner_scope = None;
        let mut outer_scope = None;
        let out = deadline(Duration::from_secs(10), |outer| {
            outer_scope = Some(outer);
            let inner_slot = &mut inner_scope;
            async move {
                let inner = deadline(Duration::from_secs(1), |s| {
                    *inner_slot = Some(s);
                    eddy::sleep(Duration::from_secs(5))
                })
                .await;
                assert!(inner.is_err());
                // The outer scope is still running: fall back to plan B.
                eddy::sleep(Duration::from_secs(2)).await;
                "plan B"
            }
        })
        .await;
        assert_eq!(out, Ok("plan B"));
        assert!(inner_scope.unwrap().expired());
        assert!(!outer_scope.unwrap().expired());
    });
}

#[test]
fn nested_timeouts_outer_first_cancels_the_inner_without_marking_it() {
    paused().block_on(async {
        let inner_scope = Rc::new(RefCell::new(None));
        let is = inner_scope.clone();
        let mut outer_scope = None;
        let out = deadline(Duration::from_secs(1), |outer| {
            outer_scope = Some(outer);
            async move {
                deadline(Duration::from_secs(10), |s| {
                    *is.borrow_mut() = Some(s);
                    eddy::sleep(Duration::from_secs(5))
                })
                .await
            }
        })
        .await;
        assert!(out.is_err());
        assert!(outer_scope.unwrap().expired());
        assert!(!inner_scope.borrow().as_ref().unwrap().expired());
    });
}

#[test]
fn nested_timeouts_that_pass_together_report_the_innermost() {
    paused().block_on(async {
        let mut outer_scope = None;
        let inner_scope = Rc::new(RefCell::new(None));
        let is = inner_scope.clone();
        let out = deadline(Duration::from_secs(2), |outer| {
            outer_scope = Some(outer);
            async move {
                let inner = deadline(Duration::from_secs(1), |s| {
                    *is.borrow_mut() = Some(s);
                    async {
                        // The loop is held up past both deadlines.
                        eddy::time::advance(Duration::from_secs(5)).await;
                        std::future::pending::<()>().await
                    }
                })
                .await;
                inner.map(|_| "inner finished")
            }
        })
        .await;
        assert!(
            matches!(out, Ok(Err(_))),
            "the outer scope reported: {out:?}"
        );
        assert!(inner_scope.borrow().as_ref().unwrap().expired());
        assert!(!outer_scope.unwrap().expired());
    });
}

#[test]
fn paused_clock_makes_an_hour_long_timeout_instant() {
    paused().block_on(async {
        let start = Instant::now();
        let out = eddy::wait_for(
            eddy::sleep(Duration::from_secs(7200)),
            Duration::from_secs(3600),
        )
        .await;
        assert!(out.is_err());
        assert_eq!(start.elapsed(), Duration::from_secs(3600));
    });
}

#[test]
fn call_soon_runs_callbacks_and_tasks_in_fifo_order() {
    eddy::run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        let _a = eddy::spawn(async move { l.borrow_mut().push("task a") });
        let l = log.clone();
        eddy::call_soon(move || l.borrow_mut().push("callback 1"));
        let l = log.clone();
        let _b = eddy::spawn(async move { l.borrow_mut().push("task b") });
        let l = log.clone();
        eddy::call_soon(move || l.borrow_mut().push("callback 2"));
        let l = log.clone();
        let cancelled = eddy::call_soon(move || l.borrow_mut().push("cancelled"));
        cancelled.cancel();
        assert!(cancelled.is_cancelled());
        eddy::yield_now().await;
        assert_eq!(
            *log.borrow(),
            ["task a", "callback 1", "task b", "callback 2"]
        );
    });
}

#[test]
fn call_later_and_call_at_run_by_deadline_then_scheduling_order() {
    paused().block_on(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let push = |name: &'static str| {
            let l = log.clone();
            move || l.borrow_mut().push(name)
        };
        let now = Instant::now();
        eddy::call_later(Duration::from_millis(30), push("30ms"));
        eddy::call_later(Duration::from_millis(10), push("10ms first"));
        let at = eddy::call_at(now + Duration::from_millis(10), push("10ms second"));
        assert_eq!(at.when(), now + Duration::from_millis(10));
        eddy::call_later(Duration::from_millis(10), push("10ms third"));
        let gone = eddy::call_later(Duration::from_millis(20), push("cancelled"));
        gone.cancel();
        assert!(gone.is_cancelled());
        eddy::call_soon(push("soon"));
        eddy::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            *log.borrow(),
            ["soon", "10ms first", "10ms second", "10ms third", "30ms"]
        );
    });
}

#[test]
fn callbacks_scheduled_from_another_thread() {
    eddy::run(async {
        let log = Arc::new(Mutex::new(Vec::new()));
        let handle = eddy::Handle::current();
        let (l1, l2) = (log.clone(), log.clone());
        let done = Arc::new(eddy::sync::Event::new());
        let d = done.clone();
        let thread = std::thread::spawn(move || {
            handle.call_soon(move || l1.lock().unwrap().push("soon from thread"));
            handle.call_later(Duration::from_millis(5), move || {
                l2.lock().unwrap().push("later from thread");
                d.set();
            });
        });
        guard("callbacks", done.wait()).await;
        thread.join().unwrap();
        assert_eq!(
            *log.lock().unwrap(),
            ["soon from thread", "later from thread"]
        );
    });
}

#[test]
fn interval_skips_missed_ticks_when_asked() {
    use eddy::time::MissedTickBehavior;
    paused().block_on(async {
        let start = Instant::now();
        let mut ticker = eddy::time::interval(Duration::from_secs(1));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        assert_eq!(ticker.tick().await, start); // the first tick is immediate
        eddy::time::advance(Duration::from_millis(3500)).await;
        let late = ticker.tick().await; // the missed tick, at once
        assert_eq!(late, start + Duration::from_secs(1));
        let next = ticker.tick().await; // then back on the grid
        assert_eq!(next, start + Duration::from_secs(4));
    });
}
