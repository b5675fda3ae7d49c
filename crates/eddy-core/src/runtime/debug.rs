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
    busy_since: AtomicU64,
    /// Id of the task being polled (0 = the `block_on` future or a
    /// callback, told apart by `label`).
    task: AtomicU64,
    /// What runs: its kind, and the task's name and spawn location or the
    /// place the callback was queued from.
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
            task: AtomicU64::new(0),
            label: Mutex::new(Label {
                kind: Kind::Main,
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
        self.start(
            task.map_or(0, TaskId::as_u64),
            Label {
                kind,
                name,
                location,
            },
        )
    }

    /// Marks the start of a callback queued from `location`.
    pub(crate) fn begin_callback(&self, location: &'static Location<'static>) -> PollTimer<'_> {
        self.start(
            0,
            Label {
                kind: Kind::Callback,
                name: None,
                location: Some(location),
            },
        )
    }

    fn start(&self, task: u64, label: Label) -> PollTimer<'_> {
        let start = Instant::now();
        let m = &self.monitor;
        *m.label.lock() = label;
        m.task.store(task, Ordering::Relaxed);
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
            let id = self.monitor.task.load(Ordering::Relaxed);
            let label = self.monitor.label.lock().clone();
            let step = label.step();
            tracing::warn!(
                task.id = id,
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
            reports += 1;
            let id = m.task.load(Ordering::Relaxed);
            let label = m.label.lock().clone();
            let step = label.step();
            tracing::warn!(
                task.id = id,
                task.name = label.name(),
                task.spawned_at = %label.location(),
                blocked_ms = blocked.as_secs_f64() * 1e3,
                "event loop blocked: still inside one {step} after {blocked:?}"
            );
        }
    }
}
