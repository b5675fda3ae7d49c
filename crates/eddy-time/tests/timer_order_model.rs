//! The order the driver fires timers in, against a plain model: a sorted
//! list of (deadline tick, arming sequence).
//!
//! Thousands of timers — `Sleep`s and thread-safe callbacks — are armed
//! with deadlines on every level of the wheel, past its 2.2-year span, in
//! the past and "never"; they are reset earlier, later, into the past and
//! after they fired or completed, dropped or cancelled (some on another
//! thread, some cancelled twice), while a paused clock jumps to the next
//! deadline or advances in random steps. After every step the driver must
//! have fired exactly the timers that are due (none early: an idle paused
//! clock may stop at a slot boundary where far timers cascade, but never
//! past the next deadline), in deadline order, equal
//! deadlines in the order they were (re)armed; and it must hold exactly the
//! timers the model says are still armed or fired-but-uncollected.
//!
//! The driver is parked by hand (no loop), so thread-safe callbacks run
//! inline as they fire and every firing lands in one log, in order.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use common::stress::{guarded, Rng};
use eddy_core::park::{Park, ThreadPark};
use eddy_time::{sleep_until, DriverBuilder, Handle, Instant, Sleep, TimeDriver, TimerHandle};

type Log = Arc<Mutex<Vec<u64>>>;

/// Logs its timer's id when woken.
struct LogWaker {
    id: u64,
    log: Log,
}

impl Wake for LogWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.log.lock().unwrap().push(self.id)
    }
}

enum Kind {
    Sleep(Pin<Box<Sleep>>, Waker),
    Callback(TimerHandle),
}

/// Where a timer stands in the model.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Status {
    /// Armed: fires at this (tick, sequence) key.
    Pending((u64, u64)),
    /// Armed with a deadline that never comes.
    Never,
    /// Fired; a sleep not polled since (still in the wheel), or a spent
    /// callback (out of the wheel).
    Fired,
    /// A sleep polled to completion (out of the wheel), re-armable.
    Done,
}

struct Timer {
    kind: Kind,
    status: Status,
}

impl Timer {
    /// Whether the driver still holds an entry for it.
    fn in_wheel(&self) -> bool {
        match self.status {
            Status::Pending(_) | Status::Never => true,
            Status::Fired => matches!(self.kind, Kind::Sleep(..)),
            Status::Done => false,
        }
    }
}

/// A deadline in ticks from the start, `None` = never.
type Deadline = Option<u64>;

struct Model {
    driver: TimeDriver<ThreadPark>,
    handle: Handle,
    start: Instant,
    log: Log,
    timers: BTreeMap<u64, Timer>,
    /// The armed timers, by (tick, sequence): the model's sorted list.
    queue: BTreeMap<(u64, u64), u64>,
    next_id: u64,
    seq: u64,
    seed: u64,
    step: usize,
    /// When and where each timer was armed, for failure messages.
    history: HashMap<u64, Vec<String>>,
}

impl Model {
    fn now(&self) -> u64 {
        (self.handle.now() - self.start).as_millis() as u64
    }

    fn at(&self, deadline: Deadline) -> Instant {
        match deadline {
            Some(tick) => self.start + Duration::from_millis(tick),
            None => self.start + Duration::MAX,
        }
    }

    /// Records that `id` is armed at `deadline`: a deadline already past
    /// fires at the next processing, before anything still ahead, in the
    /// order armed.
    fn arm(&mut self, id: u64, deadline: Deadline) -> Status {
        let now = self.now();
        let step = self.step;
        self.history
            .entry(id)
            .or_default()
            .push(format!("step {step} now {now} arm {deadline:?}"));
        let Some(tick) = deadline else {
            return Status::Never;
        };
        self.seq += 1;
        let key = (tick.max(self.now()), self.seq);
        self.queue.insert(key, id);
        Status::Pending(key)
    }

    fn disarm(&mut self, id: u64) {
        if let Some(Status::Pending(key)) = self.timers.get(&id).map(|t| t.status) {
            self.queue.remove(&key);
        }
    }

    /// A deadline ahead of now: on any level of the wheel, often equal to
    /// others; sometimes never.
    fn future_deadline(&self, rng: &mut Rng) -> Deadline {
        let now = self.now();
        let d = match rng.below(16) {
            0 => return None,
            1..=5 => 1 + rng.below(8),
            6..=8 => 1 + rng.below(4_096),
            9..=10 => 1 + rng.below(262_144),
            11..=12 => 1 + rng.below(16_777_216),
            13 => 1 + rng.below(1 << 36),
            14 => (1 << 36) + rng.below(1 << 37), // past the wheel's span
            _ => 1 + rng.below(1 << 30),
        };
        Some(now + d)
    }

    /// Now or a little before it (a deadline that is already due).
    fn past_deadline(&self, rng: &mut Rng) -> Deadline {
        Some(self.now().saturating_sub(rng.below(20)))
    }

    fn poll_sleep(&mut self, id: u64) -> Poll<()> {
        let Kind::Sleep(sleep, waker) = &mut self.timers.get_mut(&id).unwrap().kind else {
            unreachable!()
        };
        sleep.as_mut().poll(&mut Context::from_waker(waker))
    }

    fn new_sleep(&mut self, rng: &mut Rng) {
        let id = self.next_id;
        self.next_id += 1;
        let deadline = self.future_deadline(rng);
        let waker = Waker::from(Arc::new(LogWaker {
            id,
            log: self.log.clone(),
        }));
        let sleep = Box::pin(sleep_until(self.at(deadline)));
        let status = self.arm(id, deadline);
        self.timers.insert(
            id,
            Timer {
                kind: Kind::Sleep(sleep, waker),
                status,
            },
        );
        assert!(self.poll_sleep(id).is_pending(), "{}", self.ctx());
    }

    fn new_callback(&mut self, rng: &mut Rng) {
        let id = self.next_id;
        self.next_id += 1;
        let deadline = if rng.one_in(6) {
            self.past_deadline(rng)
        } else {
            self.future_deadline(rng)
        };
        let log = self.log.clone();
        let timer = self
            .handle
            .call_at(self.at(deadline), move || log.lock().unwrap().push(id));
        let status = self.arm(id, deadline);
        self.timers.insert(
            id,
            Timer {
                kind: Kind::Callback(timer),
                status,
            },
        );
    }

    fn reset_sleep(&mut self, id: u64, rng: &mut Rng) {
        let deadline = if rng.one_in(5) {
            self.past_deadline(rng)
        } else {
            self.future_deadline(rng)
        };
        let was = self.timers[&id].status;
        self.disarm(id);
        let at = self.at(deadline);
        let Kind::Sleep(sleep, _) = &mut self.timers.get_mut(&id).unwrap().kind else {
            unreachable!()
        };
        sleep.as_mut().reset(at);
        let due_now = deadline.is_some_and(|t| t <= self.now());
        let status = if was == Status::Done && due_now {
            // A completed sleep reset to a due deadline completes at its
            // next poll without going through the wheel.
            Status::Done
        } else {
            self.arm(id, deadline)
        };
        self.timers.get_mut(&id).unwrap().status = status;
        let polled = self.poll_sleep(id);
        assert_eq!(polled.is_ready(), status == Status::Done, "{}", self.ctx());
    }

    /// Drops a sleep or cancels a callback (sometimes on another thread,
    /// sometimes twice).
    fn remove(&mut self, id: u64, rng: &mut Rng) {
        self.disarm(id);
        let timer = self.timers.remove(&id).unwrap();
        let elsewhere = rng.one_in(8);
        match timer.kind {
            Kind::Sleep(sleep, _) if elsewhere => {
                std::thread::spawn(move || drop(sleep)).join().unwrap()
            }
            Kind::Sleep(sleep, _) => drop(sleep),
            Kind::Callback(handle) => {
                let twice = rng.one_in(3);
                let cancel = move || {
                    handle.cancel();
                    if twice {
                        handle.cancel();
                    }
                    assert!(handle.is_cancelled());
                };
                if elsewhere {
                    std::thread::spawn(cancel).join().unwrap();
                } else {
                    cancel();
                }
            }
        }
    }

    /// Parks the driver (`None`: jump to the next deadline) and checks what
    /// fired against the model.
    fn park(&mut self, advance: Option<Duration>) {
        let until = match advance {
            Some(by) => {
                drop(eddy_time::advance(by));
                self.driver.park(Some(Duration::ZERO));
                self.now()
            }
            None => {
                let Some((&(first, _), _)) = self.queue.first_key_value() else {
                    return; // nothing armed: a blocking park would never end
                };
                let target = first.max(self.now());
                // The idle paused clock jumps to the wheel's next slot: the
                // deadline itself, or on the way to it a slot boundary
                // where far timers cascade down a level (nothing fires
                // there): at most one stop per timer and level.
                for _ in 0..=7 * self.timers.len() {
                    self.driver.park(None);
                    let now = self.now();
                    if now > target {
                        self.explain(self.queue.values().take(3));
                    }
                    assert!(now <= target, "the clock overshot: {}", self.ctx());
                    if now == target {
                        break;
                    }
                    let early = self.log.lock().unwrap().clone();
                    assert!(early.is_empty(), "fired early {early:?}: {}", self.ctx());
                }
                assert_eq!(self.now(), target, "the clock stalled: {}", self.ctx());
                target
            }
        };
        let mut expected = Vec::new();
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > until {
                break;
            }
            expected.push(entry.remove());
        }
        let fired = std::mem::take(&mut *self.log.lock().unwrap());
        if fired != expected {
            self.explain(expected.iter().filter(|id| !fired.contains(id)));
        }
        assert_eq!(fired, expected, "fired vs model: {}", self.ctx());
        for id in fired {
            self.timers.get_mut(&id).unwrap().status = Status::Fired;
        }
    }

    fn check_count(&self) {
        let expected = self.timers.values().filter(|t| t.in_wheel()).count();
        assert_eq!(self.handle.timer_count(), expected, "{}", self.ctx());
    }

    /// Prints what the model knows of these timers (on a failure).
    fn explain<'a>(&self, ids: impl Iterator<Item = &'a u64>) {
        for id in ids {
            let status = self.timers.get(id).map(|t| t.status);
            eprintln!("timer {id}: {status:?}, armed {:?}", self.history.get(id));
        }
    }

    fn ctx(&self) -> String {
        format!("seed {:#x} step {}", self.seed, self.step)
    }

    /// A random timer id that passes `want`, if one turns up in a few
    /// tries.
    fn pick(&self, rng: &mut Rng, want: impl Fn(&Timer) -> bool) -> Option<u64> {
        for _ in 0..8 {
            let from = rng.below(self.next_id.max(1));
            let found = self
                .timers
                .range(from..)
                .next()
                .or(self.timers.iter().next());
            if let Some((&id, t)) = found {
                if want(t) {
                    return Some(id);
                }
            }
        }
        None
    }
}

fn is_sleep(t: &Timer) -> bool {
    matches!(t.kind, Kind::Sleep(..))
}

fn run_model(seed: u64, steps: usize) {
    let driver = DriverBuilder::new()
        .start_paused(true)
        .build(ThreadPark::new());
    let handle = driver.handle();
    let _g = handle.enter();
    let mut m = Model {
        start: handle.now(),
        driver,
        handle,
        log: Arc::default(),
        timers: BTreeMap::new(),
        queue: BTreeMap::new(),
        next_id: 0,
        seq: 0,
        seed,
        step: 0,
        history: HashMap::new(),
    };
    let mut rng = Rng::new(seed);
    for step in 0..steps {
        m.step = step;
        let live = m.timers.len();
        match rng.below(20) {
            0..=4 if live < 1_500 => m.new_sleep(&mut rng),
            5..=6 if live < 1_500 => m.new_callback(&mut rng),
            7..=9 => {
                if let Some(id) = m.pick(&mut rng, is_sleep) {
                    m.reset_sleep(id, &mut rng);
                }
            }
            10..=12 => {
                if let Some(id) = m.pick(&mut rng, |_| true) {
                    m.remove(id, &mut rng);
                }
            }
            13 => {
                // Collect fired sleeps: each is ready now, exactly once.
                if let Some(id) = m.pick(&mut rng, |t| is_sleep(t) && t.status == Status::Fired) {
                    assert!(m.poll_sleep(id).is_ready(), "{}", m.ctx());
                    m.timers.get_mut(&id).unwrap().status = Status::Done;
                }
            }
            14 => {
                // An armed sleep is not ready before its deadline.
                if let Some(id) = m.pick(&mut rng, |t| {
                    is_sleep(t) && matches!(t.status, Status::Pending(_) | Status::Never)
                }) {
                    assert!(m.poll_sleep(id).is_pending(), "{}", m.ctx());
                }
            }
            15..=16 => {
                let by = if rng.one_in(10) {
                    rng.below(1 << 32)
                } else {
                    rng.below(300)
                };
                m.park(Some(Duration::from_millis(by)));
            }
            _ => m.park(None),
        }
        if step % 16 == 0 {
            m.check_count();
        }
    }
    // Everything armed fires, in order, as the clock jumps from deadline
    // to deadline.
    while !m.queue.is_empty() {
        m.park(None);
    }
    let ids: Vec<u64> = m.timers.keys().copied().collect();
    for id in ids {
        m.remove(id, &mut rng);
    }
    assert_eq!(m.handle.timer_count(), 0);
}

#[test]
fn the_driver_fires_in_the_order_of_a_sorted_list_of_deadlines() {
    let seeds = [
        0x0BAD_5EED,
        0x1234_5678_9ABC_DEF0,
        0xFEED_FACE_CAFE_BEEF,
        42,
    ];
    for seed in seeds {
        guarded(300, move || run_model(seed, 12_000));
    }
}
