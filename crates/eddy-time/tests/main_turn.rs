//! Timers against the `block_on` future: it takes its FIFO turn like
//! asyncio's main task, so when a callback's timer and a later sleep of the
//! future fire in the same loop turn, the callback runs before the future
//! resumes. Each test asserts an order, never a duration.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;

use common::block_on;
use eddy_time::{call_later, sleep, Handle};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn callback_due_before_mains_sleep_runs_first_when_both_fire_in_one_turn() {
    let log = Rc::new(RefCell::new(Vec::new()));
    block_on(true, {
        let log = log.clone();
        async move {
            let l = log.clone();
            call_later(ms(1), move || l.borrow_mut().push("callback"));
            // Jumps the paused clock past both deadlines at once: the next
            // park fires the callback's timer, then the sleep's.
            drop(eddy_core::spawn(async { eddy_time::advance(ms(10)).await }));
            sleep(ms(5)).await;
            log.borrow_mut().push("main");
        }
    });
    assert_eq!(*log.borrow(), ["callback", "main"]);
}

#[test]
fn callback_due_before_mains_sleep_runs_first_after_a_busy_stretch() {
    // The flaky doc test's case on a real clock: a task blocks the loop
    // past both deadlines, so one park fires both timers.
    let log = Rc::new(RefCell::new(Vec::new()));
    block_on(false, {
        let log = log.clone();
        async move {
            let l = log.clone();
            call_later(ms(2), move || l.borrow_mut().push("callback"));
            drop(eddy_core::spawn(async {
                std::thread::sleep(ms(20));
            }));
            sleep(ms(7)).await;
            log.borrow_mut().push("main");
        }
    });
    assert_eq!(*log.borrow(), ["callback", "main"]);
}

#[test]
fn thread_safe_callback_due_before_mains_sleep_runs_first() {
    let log = Arc::new(Mutex::new(Vec::new()));
    block_on(true, {
        let log = log.clone();
        async move {
            let l = log.clone();
            Handle::current().call_later(ms(1), move || l.lock().unwrap().push("callback"));
            drop(eddy_core::spawn(async { eddy_time::advance(ms(10)).await }));
            sleep(ms(5)).await;
            log.lock().unwrap().push("main");
        }
    });
    assert_eq!(*log.lock().unwrap(), ["callback", "main"]);
}

#[test]
fn task_sleeping_to_an_earlier_deadline_resumes_first() {
    let log = Rc::new(RefCell::new(Vec::new()));
    block_on(true, {
        let log = log.clone();
        async move {
            let l = log.clone();
            let task = eddy_core::spawn(async move {
                sleep(ms(1)).await;
                l.borrow_mut().push("task");
            });
            drop(eddy_core::spawn(async { eddy_time::advance(ms(10)).await }));
            sleep(ms(5)).await;
            log.borrow_mut().push("main");
            task.await.unwrap();
        }
    });
    assert_eq!(*log.borrow(), ["task", "main"]);
}
