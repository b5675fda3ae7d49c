//! Sleep behaviour on a real runtime: ordering, cancel, reset, cross-thread
//! drop, many timers, budget, bad input.

mod common;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{block_on, runtime, CountingWaker};
use eddy_core::park::{Park, ThreadPark};
use eddy_time::{sleep, sleep_until, DriverBuilder, Handle, Instant, Sleep};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Polls `sleep` once with `waker`.
fn poll_with(sleep: &mut Sleep, waker: &std::task::Waker) -> Poll<()> {
    Pin::new(sleep).poll(&mut Context::from_waker(waker))
}

#[test]
fn equal_and_different_deadlines_fire_in_order() {
    block_on(true, async {
        let start = Instant::now();
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..200u64 {
            let log = log.clone();
            // Deadlines 0..7 ms and a few far ones, many equal.
            let offset = if i % 50 == 0 {
                5_000 + i % 3
            } else {
                (i * 7) % 8
            };
            tasks.push(eddy_core::spawn(async move {
                sleep_until(start + ms(offset)).await;
                log.borrow_mut().push((offset, i));
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let log = log.borrow();
        let mut sorted = log.clone();
        sorted.sort();
        assert_eq!(*log, sorted, "by deadline, then in the order registered");
        assert_eq!(log.len(), 200);
    });
}

#[test]
fn cancel_before_firing_removes_the_timer() {
    let (rt, handle) = runtime(true);
    let _g = handle.enter();
    rt.block_on(async {
        let (counter, waker) = CountingWaker::new();
        let mut s = sleep(ms(10));
        assert!(poll_with(&mut s, &waker).is_pending());
        assert_eq!(handle.timer_count(), 1);
        drop(s);
        assert_eq!(handle.timer_count(), 0);
        // Time passes; the dropped timer never wakes anyone.
        sleep(ms(20)).await;
        assert_eq!(counter.count(), 0);
    });
}

#[test]
fn cancel_after_firing_is_harmless() {
    let (rt, handle) = runtime(true);
    let _g = handle.enter();
    rt.block_on(async {
        let (counter, waker) = CountingWaker::new();
        let mut s = sleep(ms(10));
        assert!(poll_with(&mut s, &waker).is_pending());
        sleep(ms(20)).await;
        assert_eq!(counter.count(), 1);
        assert!(s.is_elapsed());
        drop(s); // fired but never polled again
        assert_eq!(handle.timer_count(), 0);
    });
}

#[test]
fn reset_earlier_and_later() {
    block_on(true, async {
        let start = Instant::now();
        let mut s = sleep(Duration::from_secs(3600));
        let waker = futures::task::noop_waker();
        assert!(poll_with(&mut s, &waker).is_pending());
        s.reset(start + ms(5)); // earlier, while registered
        (&mut s).await;
        assert_eq!(Instant::now() - start, ms(5));

        s.reset(start + ms(50)); // after completion: pending again
        assert!(!s.is_elapsed());
        let mut s2 = sleep_until(start + ms(10));
        assert!(poll_with(&mut s2, &waker).is_pending());
        s2.reset(start + ms(30)); // later
        (&mut s2).await;
        assert_eq!(Instant::now() - start, ms(30));
        s.await;
        assert_eq!(Instant::now() - start, ms(50));
    });
}

#[test]
fn reset_to_the_past_fires_at_the_next_tick() {
    block_on(true, async {
        let start = Instant::now();
        let mut s = sleep(Duration::from_secs(60));
        let (counter, waker) = CountingWaker::new();
        assert!(poll_with(&mut s, &waker).is_pending());
        s.reset(start - ms(1));
        eddy_core::yield_now().await; // the loop ticks
        sleep(ms(1)).await;
        assert_eq!(counter.count(), 1);
        assert!(s.is_elapsed());
        assert!(Instant::now() - start <= ms(1));
    });
}

#[test]
fn sleep_dropped_on_another_thread() {
    let (rt, handle) = runtime(false);
    let _g = handle.enter();
    rt.block_on(async {
        let waker = futures::task::noop_waker();
        let mut sleeps: Vec<Sleep> = (0..1000).map(|i| sleep(ms(1 + i % 20))).collect();
        for s in &mut sleeps {
            assert!(poll_with(s, &waker).is_pending());
        }
        assert_eq!(handle.timer_count(), 1000);
        // Drop them on another thread while the loop fires the same wheel.
        let dropper = std::thread::spawn(move || {
            for s in sleeps {
                drop(s);
                std::hint::spin_loop();
            }
        });
        while !dropper.is_finished() {
            sleep(ms(1)).await;
        }
        dropper.join().unwrap();
        assert_eq!(handle.timer_count(), 0);
    });
}

#[test]
fn sleep_polled_on_another_thread_wakes_a_parked_loop() {
    let (rt, handle) = runtime(false);
    let _g = handle.enter();
    let remote = handle.clone();
    let out = rt.block_on(async move {
        let (tx, rx) = futures::channel::oneshot::channel();
        std::thread::spawn(move || {
            let _g = remote.enter();
            // Registered while the loop is parked until its 10 s backstop:
            // the driver must be woken to fire it in time.
            futures::executor::block_on(sleep(ms(10)));
            tx.send(()).unwrap();
        });
        eddy_time::timeout(Duration::from_secs(10), rx).await
    });
    assert!(matches!(out, Ok(Ok(()))), "the loop missed a remote timer");
}

#[test]
fn a_timeout_first_polled_under_another_runtime_keeps_its_own_clock() {
    // Made on a real-clock loop, awaited under a paused one: armed on the
    // paused loop's wheel, the hour would pass at once there.
    let (rt, handle) = runtime(false);
    let _g = handle.enter();
    rt.block_on(async {
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        let hour = eddy_time::timeout(Duration::from_secs(3600), rx);
        let t = std::thread::spawn(move || {
            let (paused, paused_handle) = runtime(true);
            let _g = paused_handle.enter();
            paused.block_on(hour)
        });
        sleep(ms(5)).await;
        tx.send(9).unwrap();
        while !t.is_finished() {
            sleep(ms(1)).await;
        }
        assert_eq!(t.join().unwrap(), Ok(Ok(9)));
    });
}

#[test]
fn timeouts_and_scopes_awaited_on_another_thread_use_their_runtime() {
    let (rt, handle) = runtime(false);
    let _g = handle.enter();
    rt.block_on(async {
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        let (_never_tx, never_rx) = futures::channel::oneshot::channel::<u32>();
        // Made on the loop, awaited on a thread with no runtime entered:
        // their timers live on this loop, which keeps running meanwhile.
        let expires = eddy_time::timeout(ms(5), never_rx);
        let completes = eddy_time::timeout(Duration::from_secs(3600), rx);
        let scope = eddy_time::deadline(ms(5), |_| std::future::pending::<()>());
        let mut every = eddy_time::interval(ms(1));
        let t = std::thread::spawn(move || {
            futures::executor::block_on(async {
                let expired = expires.await.is_err();
                let scope_expired = scope.await.is_err();
                every.tick().await;
                every.tick().await;
                (expired, scope_expired, completes.await)
            })
        });
        sleep(ms(10)).await;
        tx.send(7).unwrap();
        while !t.is_finished() {
            sleep(ms(1)).await;
        }
        let (expired, scope_expired, completed) = t.join().unwrap();
        assert!(expired && scope_expired);
        assert_eq!(completed, Ok(Ok(7)));
    });
}

#[test]
fn hundred_thousand_sleeps_all_fire_once() {
    let driver = DriverBuilder::new()
        .start_paused(true)
        .build(ThreadPark::new());
    let handle = driver.handle();
    let mut driver = driver;
    let _g = handle.enter();
    let start = Instant::now();
    let mut sleeps = Vec::with_capacity(100_000);
    let mut counters = Vec::with_capacity(100_000);
    for i in 0..100_000u64 {
        let (c, w) = CountingWaker::new();
        let mut s = sleep_until(start + ms(1 + i % 100));
        assert!(poll_with(&mut s, &w).is_pending());
        sleeps.push((s, w));
        counters.push(c);
    }
    assert_eq!(handle.timer_count(), 100_000);
    // The paused clock jumps from deadline to deadline.
    for _ in 0..100 {
        driver.park(None);
    }
    assert_eq!(Instant::now() - start, ms(100));
    assert!(
        counters.iter().all(|c| c.count() == 1),
        "each fired exactly once"
    );
    for (s, w) in &mut sleeps {
        assert!(poll_with(s, w).is_ready());
    }
    assert_eq!(handle.timer_count(), 0);
    driver.park(Some(Duration::ZERO));
    assert!(counters.iter().all(|c| c.count() == 1), "none fired twice");
}

#[test]
fn hundred_thousand_sleeping_tasks_on_a_real_clock() {
    let done = Rc::new(std::cell::Cell::new(0u32));
    block_on(false, async {
        let tasks: Vec<_> = (0..100_000u64)
            .map(|i| {
                let done = done.clone();
                eddy_core::spawn(async move {
                    sleep(ms(1 + i % 100)).await;
                    done.set(done.get() + 1);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(done.get(), 100_000);
}

#[test]
fn zero_sleep_yields_once_without_the_wheel() {
    let (rt, handle) = runtime(false);
    let _g = handle.enter();
    rt.block_on(async {
        let (counter, waker) = CountingWaker::new();
        let mut s = sleep(Duration::ZERO);
        assert!(poll_with(&mut s, &waker).is_pending());
        assert_eq!(counter.count(), 1, "woke itself to yield");
        assert_eq!(handle.timer_count(), 0);
        assert!(poll_with(&mut s, &waker).is_ready());
        assert_eq!(handle.timer_count(), 0);
    });
}

#[test]
fn zero_sleep_lets_other_tasks_run() {
    block_on(false, async {
        let ran = Rc::new(std::cell::Cell::new(false));
        let r = ran.clone();
        let _t = eddy_core::spawn(async move { r.set(true) });
        assert!(!ran.get());
        sleep(Duration::ZERO).await;
        assert!(ran.get());
    });
}

#[test]
fn elapsed_sleeps_count_against_the_budget() {
    block_on(false, async {
        let other_ran = Rc::new(std::cell::Cell::new(false));
        let o = other_ran.clone();
        let _other = eddy_core::spawn(async move { o.set(true) });
        let past = Instant::now();
        // Each sleep is already due and completes at once; without the
        // budget this loop would never let the other task run.
        let mut rounds = 0;
        while !other_ran.get() && rounds < 100_000 {
            sleep_until(past).await;
            rounds += 1;
        }
        assert!(other_ran.get(), "the budget must force a yield");
        assert!(rounds < 100_000);
    });
}

#[test]
fn huge_durations_saturate_to_never() {
    block_on(true, async {
        let start = Instant::now();
        let never = start + Duration::MAX;
        assert!(never > start);
        let out = eddy_time::timeout(ms(10), sleep(Duration::MAX)).await;
        assert!(out.is_err());
        let out = eddy_time::timeout(ms(10), sleep_until(never)).await;
        assert!(out.is_err());
        // Ten years out is not "never": it fires (the paused clock jumps).
        let years = Duration::from_secs(10 * 365 * 86_400);
        sleep(years).await;
        assert!(Instant::now() - start >= years);
    });
}

#[test]
fn a_timer_years_out_does_not_delay_nearer_ones() {
    block_on(true, async {
        // Past the wheel's direct span (about 2.2 years): it waits in the
        // top level, and every so often sits in the slot the clock is in.
        let far = eddy_core::spawn(sleep(Duration::from_secs(3 * 365 * 86_400)));
        eddy_core::yield_now().await; // registered
                                      // Steps of 13 days (each lands in another top-level slot) walk the
                                      // clock through every top-level slot, that one included; each
                                      // sleep ends on its deadline, not at the far timer's next round.
        let step = Duration::from_secs(13 * 86_400);
        for i in 0..60 {
            let before = Instant::now();
            sleep(step).await;
            assert_eq!(Instant::now() - before, step, "step {i} fired late");
        }
        far.cancel();
    });
}

#[test]
fn past_deadlines_complete() {
    block_on(false, async {
        let past = Instant::now() - Duration::from_secs(5);
        sleep_until(past).await;
        eddy_time::timeout_at(past, async {}).await.unwrap();
    });
}

#[test]
fn timer_without_runtime_panics_clearly() {
    let err = std::panic::catch_unwind(|| drop(sleep(ms(1)))).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("no eddy runtime on this thread"), "{msg}");
    let err = std::panic::catch_unwind(|| drop(eddy_time::timeout(ms(1), async {}))).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("eddy::run"), "{msg}");
    assert!(Handle::try_current().is_none());
}

#[test]
fn sleep_after_shutdown_panics_clearly() {
    let (rt, handle) = runtime(false);
    let g = handle.enter();
    let mut s = sleep(ms(50));
    let (counter, waker) = CountingWaker::new();
    assert!(poll_with(&mut s, &waker).is_pending());
    drop(rt);
    drop(g);
    assert_eq!(counter.count(), 1, "woken at shutdown instead of hanging");
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| poll_with(&mut s, &waker)))
        .unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("has shut down"), "{msg}");
    drop(s); // dropping after shutdown is fine
}

#[test]
fn sleeps_are_send_and_cross_threads() {
    fn assert_send<T: Send + Sync>() {}
    assert_send::<Sleep>();
    assert_send::<Handle>();
    assert_send::<eddy_time::TimerHandle>();
    assert_send::<eddy_time::DeadlineHandle>();
    let (rt, handle) = runtime(false);
    let _g = handle.enter();
    let fired = Arc::new(AtomicBool::new(false));
    let f = fired.clone();
    rt.block_on(async {
        let s = sleep(ms(2));
        // Awaited on another executor thread, fired by this loop.
        let t = std::thread::spawn(move || {
            futures::executor::block_on(s);
            f.store(true, Ordering::SeqCst);
        });
        while !t.is_finished() {
            sleep(ms(1)).await;
        }
    });
    assert!(fired.load(Ordering::SeqCst));
    let _ = AtomicUsize::new(0);
}
