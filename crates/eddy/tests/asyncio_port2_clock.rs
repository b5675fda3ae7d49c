//! asyncio's clock and scheduling-order topics, on eddy's paused test
//! clock: periodic work with missed ticks (Burst and Delay; Skip is in
//! asyncio_port_timeouts.rs), `asyncio.sleep(0)` taking turns, call_soon
//! callbacks interleaved with task steps, and `loop.time()` staying
//! monotonic across pause, advance and resume.

mod common;

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Duration;

use common::port::{guard, paused};
use eddy::time::{Instant, MissedTickBehavior};
use futures::StreamExt;

const SEC: Duration = Duration::from_secs(1);

#[test]
fn burst_delivers_the_missed_ticks_at_once_then_keeps_the_grid() {
    paused().block_on(async {
        let start = Instant::now();
        let mut ticker = eddy::time::interval(SEC);
        assert_eq!(ticker.missed_tick_behavior(), MissedTickBehavior::Burst);
        assert_eq!(ticker.tick().await, start);
        // The loop body took 3.5 s (a slow handler, on the test clock).
        eddy::sleep(Duration::from_millis(3500)).await;
        let late = start + Duration::from_millis(3500);
        for n in 1..=3 {
            assert_eq!(ticker.tick().await, start + SEC * n);
            assert_eq!(Instant::now(), late, "missed ticks come without waiting");
        }
        assert_eq!(ticker.tick().await, start + SEC * 4);
        assert_eq!(Instant::now(), start + SEC * 4);
    });
}

#[test]
fn delay_restarts_the_schedule_from_the_late_tick() {
    paused().block_on(async {
        let start = Instant::now();
        let mut ticker = eddy::time::interval(SEC);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticker.tick().await;
        eddy::time::advance(Duration::from_millis(3500)).await;
        assert_eq!(ticker.tick().await, start + SEC);
        let next = ticker.tick().await;
        assert_eq!(next, start + Duration::from_millis(4500));
        assert_eq!(Instant::now(), next);
        assert_eq!(ticker.tick().await, start + Duration::from_millis(5500));
    });
}

#[test]
fn interval_at_a_future_start_and_as_a_stream() {
    paused().block_on(async {
        let start = Instant::now() + Duration::from_secs(10);
        let ticks: Vec<Instant> = eddy::time::interval_at(start, SEC * 2)
            .take(3)
            .collect()
            .await;
        assert_eq!(ticks, [start, start + SEC * 2, start + SEC * 4]);
        assert_eq!(Instant::now(), start + SEC * 4);
    });
}

#[test]
fn a_zero_period_is_refused_with_advice() {
    eddy::run(async {
        let err = catch_unwind(AssertUnwindSafe(|| {
            drop(eddy::time::interval(Duration::ZERO));
        }))
        .unwrap_err();
        let msg = err
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| err.downcast_ref::<String>().cloned())
            .unwrap();
        assert!(
            msg.contains("non-zero") && msg.contains("yield_now"),
            "{msg}"
        );
    });
}

#[test]
fn sleep_zero_makes_busy_tasks_take_strict_turns() {
    eddy::run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<_> = ["a", "b", "c"]
            .into_iter()
            .map(|name| {
                let log = log.clone();
                eddy::spawn(async move {
                    for i in 0..3 {
                        log.borrow_mut().push(format!("{name}{i}"));
                        eddy::sleep(Duration::ZERO).await;
                    }
                })
            })
            .collect();
        for t in tasks {
            guard("busy task", t).await.unwrap();
        }
        let log = log.borrow().join(" ");
        assert_eq!(log, "a0 b0 c0 a1 b1 c1 a2 b2 c2");
    });
}

#[test]
fn callbacks_queued_by_tasks_and_callbacks_keep_fifo_order() {
    // asyncio: the ready queue is one FIFO of handles; a task step and a
    // call_soon callback each append at the end.
    eddy::run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        let task = eddy::spawn(async move {
            for i in 1..=3 {
                l.borrow_mut().push(format!("t{i}"));
                eddy::yield_now().await;
            }
        });
        let l = log.clone();
        eddy::call_soon(move || {
            l.borrow_mut().push("a".to_owned());
            let l2 = l.clone();
            eddy::call_soon(move || {
                l2.borrow_mut().push("b".to_owned());
                let l3 = l2.clone();
                eddy::call_soon(move || l3.borrow_mut().push("c".to_owned()));
            });
        });
        guard("task", task).await.unwrap();
        eddy::yield_now().await;
        assert_eq!(log.borrow().join(" "), "t1 a t2 b t3 c");
    });
}

#[test]
fn loop_time_is_monotonic_through_pause_advance_and_resume() {
    let rt = eddy::Runtime::new().unwrap();
    let handle = rt.handle();
    rt.block_on(async {
        let mut last = Instant::now();
        let mut check = |what: &str, paused: bool| {
            let now = Instant::now();
            assert!(now >= last, "{what}: time went back");
            let other = eddy::Handle::current().now();
            if paused {
                assert_eq!(other, now, "{what}: two clocks");
            } else {
                assert!(other >= now, "{what}: two clocks");
            }
            last = now;
            now
        };
        check("running", false);
        eddy::time::pause();
        let paused_at = check("paused", true);
        // Paused: real time passing does not move the loop's time.
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(check("paused, later", true), paused_at);
        eddy::time::advance(Duration::from_secs(60)).await;
        assert_eq!(check("advanced", true), paused_at + Duration::from_secs(60));
        // A sleep jumps the clock to exactly its deadline.
        eddy::sleep(Duration::from_secs(3600)).await;
        assert_eq!(
            check("slept", true),
            paused_at + Duration::from_secs(3660),
            "a whole-second sleep lands on its instant"
        );
        eddy::time::resume();
        eddy::sleep(Duration::from_millis(2)).await;
        let resumed = check("resumed", false);
        assert!(resumed >= paused_at + Duration::from_secs(3660) + Duration::from_millis(2));
    });
    // From another thread, the handle reads the same clock.
    let now = rt.block_on(async { Instant::now() });
    let seen = std::thread::spawn(move || handle.now()).join().unwrap();
    assert!(seen >= now);
}

#[test]
fn timers_with_one_deadline_fire_in_creation_order_on_the_paused_clock() {
    paused().block_on(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let when = Instant::now() + SEC * 5;
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                let log = log.clone();
                eddy::spawn(async move {
                    eddy::time::sleep_until(when).await;
                    log.borrow_mut().push(i);
                })
            })
            .collect();
        for t in tasks {
            guard("sleeper", t).await.unwrap();
        }
        assert_eq!(*log.borrow(), [0, 1, 2, 3]);
        assert_eq!(Instant::now(), when);
    });
}
