//! tokio::time's behaviours, ported to eddy::time: resetting a sleep (also
//! in a select! loop), sleep_until in the past, very long sleeps, timeouts
//! of ready futures and zero durations, intervals under each
//! MissedTickBehavior, and the paused test clock (`#[tokio::test(
//! start_paused = true)]` is `#[eddy::test(start_paused = true)]`).
//!
//! Differences a tokio user should know (documented on eddy's items):
//! `Duration::MAX` sleeps forever (tokio's ends after about 30 years, which
//! a paused clock reaches at once); a `Sleep` is `Unpin`, so `reset` takes
//! `&mut self` (pinned tokio code calling `sleep.as_mut().reset(..)` still
//! compiles); MissedTickBehavior applies once a tick is a whole period
//! late (tokio's after 5 ms).

use std::cell::{Cell, RefCell};
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use eddy::sync::mpsc;
use eddy::time::{Instant, MissedTickBehavior};
use futures::FutureExt;

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);

#[eddy::test(start_paused = true)]
async fn sleep_reset_moves_the_deadline_both_ways_and_revives_a_finished_sleep() {
    let start = Instant::now();
    // tokio's shape: a pinned sleep, reset through `as_mut()`.
    let mut sleep = pin!(eddy::sleep(10 * SEC));
    sleep.as_mut().reset(start + 2 * SEC);
    assert_eq!(sleep.deadline(), start + 2 * SEC);
    sleep.as_mut().await;
    assert_eq!(start.elapsed(), 2 * SEC);
    assert!(sleep.is_elapsed());
    // A finished sleep reset to the future is pending again.
    sleep.as_mut().reset(start + 5 * SEC);
    assert!(!sleep.is_elapsed());
    assert!(sleep.as_mut().now_or_never().is_none());
    sleep.as_mut().await;
    assert_eq!(start.elapsed(), 5 * SEC);
    // Reset later while registered: it does not fire at the old deadline.
    let mut later = pin!(eddy::sleep(SEC));
    assert!(later.as_mut().now_or_never().is_none());
    later.as_mut().reset(Instant::now() + 3 * SEC);
    later.as_mut().await;
    assert_eq!(start.elapsed(), 8 * SEC);
}

#[eddy::test(start_paused = true)]
async fn a_debounce_loop_resets_its_sleep_inside_select() {
    // tokio's debounce: every message pushes the deadline back; the timer
    // branch fires once the messages stop for `quiet`.
    let quiet = 3 * SEC;
    let (tx, mut rx) = mpsc::channel::<u32>(8);
    let start = Instant::now();
    let producer = eddy::spawn(async move {
        for i in 0..3 {
            tx.send(i).await.unwrap();
            eddy::sleep(SEC).await;
        }
        eddy::sleep(Duration::from_secs(60)).await; // stays quiet, sender alive
    });
    let mut sleep = pin!(eddy::sleep(quiet));
    let mut seen = Vec::new();
    let fired_at = loop {
        futures::select_biased! {
            m = rx.recv().fuse() => {
                seen.push(m.unwrap());
                sleep.as_mut().reset(Instant::now() + quiet);
            }
            () = sleep.as_mut().fuse() => break start.elapsed(),
        }
    };
    assert_eq!(seen, [0, 1, 2]);
    // Last message at 2 s, then 3 s of quiet.
    assert_eq!(fired_at, 5 * SEC);
    producer.cancel();
}

#[test]
fn sleep_until_in_the_past_is_ready_on_its_first_poll() {
    eddy::run(async {
        let now = Instant::now();
        let past = now.checked_sub(SEC).unwrap_or(now);
        assert!(eddy::time::sleep_until(past).now_or_never().is_some());
        // "Now" itself completes at the loop's next tick.
        eddy::time::sleep_until(now).await;
        // And an interval_at a past start ticks its start at once.
        let mut every = eddy::time::interval_at(past, Duration::from_secs(3600));
        assert_eq!(every.tick().now_or_never(), Some(past));
    });
}

#[eddy::test(start_paused = true)]
async fn very_long_sleeps_neither_overflow_nor_fire_early() {
    let start = Instant::now();
    // A century on the paused clock: the clock jumps there exactly.
    let century = Duration::from_secs(100 * 365 * 24 * 3600);
    eddy::sleep(century).await;
    assert_eq!(start.elapsed(), century);
    // Duration::MAX sleeps forever: a timeout around it is what ends.
    let start = Instant::now();
    let out = eddy::time::timeout(Duration::from_secs(3600), eddy::sleep(Duration::MAX)).await;
    assert!(out.is_err());
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
    // Resetting a sleep to the far future is the same as never.
    let mut s = pin!(eddy::sleep(SEC));
    s.as_mut()
        .reset(Instant::now() + Duration::from_secs(u64::MAX / 4));
    assert!(eddy::time::timeout(SEC, s.as_mut()).await.is_err());
}

#[eddy::test(start_paused = true)]
async fn timeout_of_a_ready_future_or_with_zero_duration() {
    // tokio polls the future before the deadline: a ready future wins even
    // a zero timeout, and a future that ends at the deadline wins too.
    assert_eq!(
        eddy::time::timeout(Duration::ZERO, async { 1 }).await,
        Ok(1)
    );
    let at = Instant::now().checked_sub(SEC).unwrap_or_else(Instant::now);
    assert_eq!(eddy::time::timeout_at(at, async { 2 }).await, Ok(2));
    let start = Instant::now();
    let at_deadline = eddy::time::timeout(5 * SEC, async {
        eddy::sleep(5 * SEC).await;
        3
    })
    .await;
    assert_eq!(at_deadline, Ok(3));
    assert_eq!(start.elapsed(), 5 * SEC);
    // A zero timeout on a pending future expires without the clock moving.
    let start = Instant::now();
    let err = eddy::time::timeout(Duration::ZERO, std::future::pending::<()>())
        .await
        .unwrap_err();
    assert_eq!(start.elapsed(), Duration::ZERO);
    // Elapsed converts to io::Error as tokio's does.
    assert_eq!(
        std::io::Error::from(err).kind(),
        std::io::ErrorKind::TimedOut
    );
}

#[eddy::test(start_paused = true)]
async fn interval_first_tick_is_immediate_and_ticks_return_their_schedule() {
    let start = Instant::now();
    let mut every = eddy::time::interval(100 * MS);
    assert_eq!(every.tick().await, start);
    assert_eq!(every.tick().await, start + 100 * MS);
    assert_eq!(start.elapsed(), 100 * MS);
    // reset(): the next tick is a full period from now.
    eddy::sleep(30 * MS).await;
    every.reset();
    assert_eq!(every.tick().await, start + 230 * MS);
    assert_eq!(every.tick().await, start + 330 * MS);
}

#[eddy::test(start_paused = true)]
async fn interval_reset_immediately_after_and_at() {
    // tokio's three other resets: each moves the next tick, and the grid
    // goes on a period after it.
    let start = Instant::now();
    let mut every = eddy::time::interval(100 * MS);
    every.tick().await;
    every.reset_immediately();
    assert_eq!(every.tick().now_or_never(), Some(start));
    assert_eq!(every.tick().await, start + 100 * MS);
    every.reset_after(30 * MS);
    assert_eq!(every.tick().await, start + 130 * MS);
    assert_eq!(every.tick().await, start + 230 * MS);
    every.reset_at(start + 500 * MS);
    assert_eq!(every.tick().await, start + 500 * MS);
    assert_eq!(every.tick().await, start + 600 * MS);
    // A deadline already past: due at once, returning that deadline.
    every.reset_at(start + 550 * MS);
    assert_eq!(every.tick().now_or_never(), Some(start + 550 * MS));
    assert_eq!(every.tick().await, start + 650 * MS);
    assert_eq!(start.elapsed(), 650 * MS);
}

/// The tick instants (relative to `start`) an interval of 100 ms gives
/// when the consumer sleeps 350 ms after the first tick, as in tokio's
/// MissedTickBehavior docs.
async fn late_consumer(behavior: MissedTickBehavior) -> Vec<Duration> {
    let start = Instant::now();
    let mut every = eddy::time::interval(100 * MS);
    every.set_missed_tick_behavior(behavior);
    let mut ticks = vec![every.tick().await - start];
    eddy::sleep(350 * MS).await;
    for _ in 0..4 {
        every.tick().await;
        ticks.push(start.elapsed());
    }
    ticks
}

#[eddy::test(start_paused = true)]
async fn missed_ticks_burst_delay_and_skip_as_in_tokios_docs() {
    let ms = |v: &[u64]| {
        v.iter()
            .map(|&m| Duration::from_millis(m))
            .collect::<Vec<_>>()
    };
    // Burst: the three missed ticks at once, then back on the 100 ms grid.
    assert_eq!(
        late_consumer(MissedTickBehavior::Burst).await,
        ms(&[0, 350, 350, 350, 400])
    );
    // Delay: one tick at once, then every 100 ms from it.
    assert_eq!(
        late_consumer(MissedTickBehavior::Delay).await,
        ms(&[0, 350, 450, 550, 650])
    );
    // Skip: one tick at once, then the next point of the grid.
    assert_eq!(
        late_consumer(MissedTickBehavior::Skip).await,
        ms(&[0, 350, 400, 500, 600])
    );
}

#[eddy::test(start_paused = true)]
async fn the_paused_clock_jumps_only_when_every_task_is_idle() {
    let start = Instant::now();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let busy = {
        let seen = seen.clone();
        eddy::spawn(async move {
            for _ in 0..50 {
                seen.borrow_mut().push(Instant::now());
                eddy::yield_now().await;
            }
        })
    };
    eddy::sleep(SEC).await;
    // While the busy task had work, the clock stood still.
    assert!(seen.borrow().iter().all(|&t| t == start));
    assert_eq!(seen.borrow().len(), 50);
    assert_eq!(start.elapsed(), SEC);
    busy.await.unwrap();
    // advance() moves it by exactly as much and fires what became due.
    let fired = Rc::new(Cell::new(false));
    let f = fired.clone();
    let timer = eddy::spawn(async move {
        eddy::sleep(10 * SEC).await;
        f.set(true);
    });
    eddy::yield_now().await; // let it register its sleep
    eddy::time::advance(9 * SEC).await;
    assert!(!fired.get());
    eddy::time::advance(SEC).await;
    assert!(fired.get());
    assert_eq!(start.elapsed(), 11 * SEC);
    timer.await.unwrap();
}
