//! The timer wheel against a plain model: hundreds of sleeps with deadlines
//! from 0 ms to hours (every level of the wheel), reset earlier, later and
//! into the past, dropped at random, while a paused clock moves in random
//! steps — small ones, and jumps of up to an hour that cascade several
//! levels at once. After every step, each sleep that is due must have been
//! woken and be ready, and no sleep that is not due may be ready.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::stress::Rng;
use common::{block_on, CountingWaker};
use eddy_time::{advance, sleep, Instant, Sleep};

/// A delay in whole milliseconds, spread over every wheel level.
fn delay(rng: &mut Rng) -> Duration {
    let top = [64, 4_096, 262_144, 16_777_216][rng.below(4) as usize];
    Duration::from_millis(rng.below(top))
}

struct Tracked {
    sleep: Pin<Box<Sleep>>,
    deadline: Instant,
    wakes: Arc<CountingWaker>,
    waker: Waker,
    /// Whether the last poll returned `Ready` (then no wake is owed).
    ready_at_last_poll: bool,
}

impl Tracked {
    fn poll(&mut self) -> Poll<()> {
        let p = self
            .sleep
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker));
        self.ready_at_last_poll = p.is_ready();
        p
    }
}

fn new_tracked(deadline_in: Duration) -> Tracked {
    let (wakes, waker) = CountingWaker::new();
    let mut t = Tracked {
        sleep: Box::pin(sleep(deadline_in)),
        deadline: Instant::now() + deadline_in,
        wakes,
        waker,
        ready_at_last_poll: false,
    };
    if deadline_in.is_zero() {
        // A zero sleep yields once without the wheel: not what is modelled.
        let _ = t.poll();
    } else {
        assert!(t.poll().is_pending(), "a future deadline is not due yet");
    }
    t
}

#[test]
fn the_wheel_agrees_with_a_model_over_random_operations() {
    for seed in [
        0x77EE_1234_5678_9ABC,
        0x0123_4567_89AB_CDEF,
        0xDEAD_BEEF_F00D_CAFE,
        7,
    ] {
        run_model(seed);
    }
}

fn run_model(seed: u64) {
    block_on(true, async {
        let mut rng = Rng::new(seed);
        let mut live: Vec<Tracked> = Vec::new();
        let mut fired = 0usize;
        for step in 0..3_000 {
            let mut advanced = false;
            match rng.below(10) {
                0..=3 if live.len() < 400 => {
                    let d = delay(&mut rng).max(Duration::from_millis(1));
                    live.push(new_tracked(d));
                }
                4 if !live.is_empty() => {
                    let i = rng.below(live.len() as u64) as usize;
                    drop(live.swap_remove(i));
                }
                5 | 6 if !live.is_empty() => {
                    // Reset to a new deadline: later, earlier, or already past.
                    let i = rng.below(live.len() as u64) as usize;
                    let now = Instant::now();
                    let deadline = if rng.below(5) == 0 {
                        now - Duration::from_millis(rng.below(10))
                    } else {
                        now + delay(&mut rng).max(Duration::from_millis(1))
                    };
                    let t = &mut live[i];
                    // Count wakes afresh: an old one must not stand in for
                    // the one this deadline is owed.
                    (t.wakes, t.waker) = CountingWaker::new();
                    t.sleep.as_mut().reset(deadline);
                    t.deadline = deadline;
                    let _ = t.poll();
                }
                _ => {
                    let by = if rng.below(20) == 0 {
                        Duration::from_millis(rng.below(3_600_000))
                    } else {
                        Duration::from_millis(rng.below(300))
                    };
                    advance(by).await;
                    advanced = true;
                }
            }
            let now = Instant::now();
            let mut i = 0;
            while i < live.len() {
                let t = &mut live[i];
                if t.deadline > now {
                    assert!(
                        t.poll().is_pending(),
                        "seed {seed:#x} step {step}: ready {:?} before its deadline",
                        t.deadline - now
                    );
                } else if advanced {
                    // The clock moved past it: the wheel must have woken
                    // it (unless it was already ready when last polled).
                    assert!(
                        t.ready_at_last_poll || t.wakes.count() > 0,
                        "seed {seed:#x} step {step}: a due sleep was never woken"
                    );
                    assert!(
                        t.poll().is_ready(),
                        "seed {seed:#x} step {step}: due but not ready"
                    );
                    live.swap_remove(i);
                    fired += 1;
                    continue;
                }
                i += 1;
            }
        }
        // Everything still pending fires once the clock passes it all.
        advance(Duration::from_secs(5 * 3_600)).await;
        for mut t in live {
            assert!(
                t.ready_at_last_poll || t.wakes.count() > 0,
                "a sleep left behind by the wheel"
            );
            assert!(t.poll().is_ready());
            fired += 1;
        }
        assert!(fired > 500, "the model exercised too few timers: {fired}");
    });
}
