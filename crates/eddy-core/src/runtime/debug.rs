//! Debug mode: slow-poll reports and a watchdog for a blocked loop.
//!
//! Off by default. When on, every step the loop runs is timed — a task
//! poll, the `block_on` future's poll, a `call_soon` callback (a callback
//! blocks the loop just as a poll does); a step slower than the threshold
//! is reported through `tracing::warn!` after it returns. A watchdog thread
//! also samples "what is the loop running, since when", so a loop stuck in
//! one step is reported *while* it is stuck: once when it passes the
//! threshold and once more at ten times the threshold.

use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::task::TaskId;

/// What the loop is doing, as the watchdog sees it.
struct Monitor {
    epoch: Instant,
    /// Nanoseconds since `epoch` (+1) when the current poll began; 0 = idle.
    /// Each step's value is new (the clock moves on), so a watchdog that
    /// reads the same value before and after reading `label` knows the
    /// label belongs to that step (see [`Monitor::step_label`]).
    busy_since: AtomicU64,
    /// What runs: its kind and task id, and the task's name and spawn
    /// location or the place the callback was queued from. Written before
    /// `busy_since` marks the step begun.
    label: Mutex<Label>,
    stop: AtomicBool,
    wake: Condvar,
    sleep_lock: Mutex<()>,
}

/// The kind of step the loop is running.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Task,
    Callback,
}

/// What the watchdog and the slow-step report say about the running step.
#[derive(Clone)]
struct Label {
    kind: Kind,
    /// Id of the task being polled (0 = the `block_on` future or a
    /// callback, told apart by `kind`).
    task: u64,
    name: Option<Arc<str>>,
    location: Option<&'static Location<'static>>,
}

impl Label {
    /// The name to print: the task's, or a placeholder saying what runs.
    fn name(&self) -> &str {
        match (self.kind, &self.name) {
            (_, Some(name)) => name,
            (Kind::Main, None) => "<block_on>",
            (Kind::Task, None) => "<unnamed>",
            (Kind::Callback, None) => "<callback>",
        }
    }

    /// "poll" or "callback", for the messages.
    fn step(&self) -> &'static str {
        match self.kind {
            Kind::Callback => "callback",
            Kind::Main | Kind::Task => "poll",
        }
    }

    fn location(&self) -> String {
        self.location
            .map_or_else(|| "<unknown>".to_string(), |l| l.to_string())
    }
}

/// Per-loop debug state.
pub(crate) struct Debug {
    threshold: Duration,
    monitor: Arc<Monitor>,
    watchdog: Option<thread::JoinHandle<()>>,
}

/// One poll being timed. Dropping it without [`Debug::end`] (the poll
/// panicked and is unwinding out of the loop) still marks the loop idle, so
/// the watchdog does not report a loop that is no longer running as
/// blocked.
pub(crate) struct PollTimer<'a> {
    monitor: &'a Monitor,
    start: Instant,
}

impl Drop for PollTimer<'_> {
    fn drop(&mut self) {
        self.monitor.busy_since.store(0, Ordering::Release);
    }
}

impl Debug {
    pub(crate) fn new(threshold: Duration, loop_name: Option<&str>) -> Debug {
        let monitor = Arc::new(Monitor {
            epoch: Instant::now(),
            busy_since: AtomicU64::new(0),
            label: Mutex::new(Label {
                kind: Kind::Main,
                task: 0,
                name: None,
                location: None,
            }),
            stop: AtomicBool::new(false),
            wake: Condvar::new(),
            sleep_lock: Mutex::new(()),
        });
        let m = monitor.clone();
        let name = format!("{}-watchdog", loop_name.unwrap_or("eddy"));
        let watchdog = thread::Builder::new()
            .name(name)
            .spawn(move || watch(&m, threshold))
            .map_err(|e| tracing::warn!("eddy debug mode: could not start the watchdog: {e}"))
            .ok();
        Debug {
            threshold,
            monitor,
            watchdog,
        }
    }

    /// Marks the start of a poll of `task` (None = the `block_on` future).
    pub(crate) fn begin(
        &self,
        task: Option<TaskId>,
        name: Option<Arc<str>>,
        location: Option<&'static Location<'static>>,
    ) -> PollTimer<'_> {
        let kind = if task.is_some() {
            Kind::Task
        } else {
            Kind::Main
        };
        self.start(Label {
            kind,
            task: task.map_or(0, TaskId::as_u64),
            name,
            location,
        })
    }

    /// Marks the start of a callback queued from `location`.
    pub(crate) fn begin_callback(&self, location: &'static Location<'static>) -> PollTimer<'_> {
        self.start(Label {
            kind: Kind::Callback,
            task: 0,
            name: None,
            location: Some(location),
        })
    }

    fn start(&self, label: Label) -> PollTimer<'_> {
        let start = Instant::now();
        let m = &self.monitor;
        *m.label.lock() = label;
        let since = start.duration_since(m.epoch).as_nanos() as u64 + 1;
        m.busy_since.store(since, Ordering::Release);
        PollTimer { monitor: m, start }
    }

    /// Marks the end of a poll, reporting it when slower than the threshold.
    pub(crate) fn end(&self, timer: PollTimer<'_>) {
        let start = timer.start;
        // Marks the loop idle.
        drop(timer);
        let took = start.elapsed();
        if took >= self.threshold {
            // The loop thread wrote the label: no other step can have
            // replaced it yet.
            let label = self.monitor.label.lock().clone();
            let step = label.step();
            tracing::warn!(
                task.id = label.task,
                task.name = label.name(),
                task.spawned_at = %label.location(),
                took_ms = took.as_secs_f64() * 1e3,
                threshold_ms = self.threshold.as_secs_f64() * 1e3,
                "slow {step}: a {what} held the event loop for {took:?}; move blocking work to spawn_blocking/to_thread",
                what = if step == "poll" { "task" } else { "callback" },
            );
        }
    }
}

impl Drop for Debug {
    fn drop(&mut self) {
        self.monitor.stop.store(true, Ordering::Release);
        {
            let _g = self.monitor.sleep_lock.lock();
            self.monitor.wake.notify_all();
        }
        if let Some(t) = self.watchdog.take() {
            let _ = t.join();
        }
    }
}

impl Monitor {
    /// The label of the step that began at `since`, or `None` if that step
    /// has ended since `since` was read (the label may then belong to the
    /// next one). The loop writes a step's label before its `busy_since`
    /// and clears `busy_since` when the step ends, so if `busy_since`
    /// still reads `since` once the label was read, the label is that
    /// step's.
    fn step_label(&self, since: u64) -> Option<Label> {
        let label = self.label.lock().clone();
        (self.busy_since.load(Ordering::Acquire) == since).then_some(label)
    }
}

fn watch(m: &Monitor, threshold: Duration) {
    let tick = (threshold / 4).clamp(Duration::from_millis(1), Duration::from_millis(250));
    // The stall being watched (its busy_since) and how many reports it got.
    let mut stall = 0u64;
    let mut reports = 0u32;
    loop {
        {
            let mut g = m.sleep_lock.lock();
            if m.stop.load(Ordering::Acquire) {
                return;
            }
            m.wake.wait_for(&mut g, tick);
        }
        if m.stop.load(Ordering::Acquire) {
            return;
        }
        let since = m.busy_since.load(Ordering::Acquire);
        if since == 0 {
            continue;
        }
        if since != stall {
            stall = since;
            reports = 0;
        }
        let began = m.epoch + Duration::from_nanos(since - 1);
        let blocked = began.elapsed();
        let due = match reports {
            0 => threshold,
            1 => threshold * 10,
            _ => continue,
        };
        if blocked >= due {
            let Some(label) = m.step_label(since) else {
                // That step ended while we looked; the next tick sees the
                // new one.
                continue;
            };
            reports += 1;
            let step = label.step();
            tracing::warn!(
                task.id = label.task,
                task.name = label.name(),
                task.spawned_at = %label.location(),
                blocked_ms = blocked.as_secs_f64() * 1e3,
                "event loop blocked: still inside one {step} after {blocked:?}"
            );
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn watchdog_takes_no_label_from_a_step_that_began_after_it_looked() {
        let debug = Debug::new(Duration::from_secs(3600), Some("label-test"));
        let m = &*debug.monitor;
        let first = debug.begin_callback(Location::caller());
        let since = m.busy_since.load(Ordering::Acquire);
        assert_ne!(since, 0);
        let label = m.step_label(since).expect("the step is still running");
        assert!(label.kind == Kind::Callback);
        // The watchdog read `since`; meanwhile that step ends and a task's
        // poll begins. Its label must not be reported as the callback's
        // stall.
        drop(first);
        std::thread::sleep(Duration::from_millis(1));
        let _second = debug.begin(None, Some("next".into()), None);
        assert!(m.step_label(since).is_none());
        let now = m.busy_since.load(Ordering::Acquire);
        let label = m.step_label(now).expect("the new step");
        assert_eq!(label.name(), "next");
    }
}
