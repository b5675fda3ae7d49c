//! The idle/notify bookkeeping of the pool: how many threads exist, how many
//! are parked, how many wake-ups are in flight, and the condvar they park on.
//!
//! Lost wake-ups are ruled out by one rule: a submitter pushes its job
//! *before* taking the lock, and a worker re-checks the queues *under* the
//! lock before it counts itself idle. So either the worker sees the job, or
//! the submitter sees the idle worker and notifies it.

use std::time::{Duration, Instant};

use crate::loom::{Condvar, Mutex};

#[derive(Debug, Default)]
struct State {
    /// Live threads, counting ones being spawned.
    threads: usize,
    /// Threads parked on the condvar (including notified ones not yet awake).
    idle: usize,
    /// Notifications sent that no thread has consumed yet.
    notified: usize,
    /// Id for the next thread's name.
    next_id: usize,
    /// `shutdown_timeout` was called: take no more jobs.
    shutdown: bool,
    /// Every `Pool` handle is gone: threads exit as soon as they are idle.
    closed: bool,
}

/// What a submitter must do after pushing a job.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Submit {
    /// An idle thread was notified.
    Woke,
    /// Start a new thread with this id (the count already includes it).
    Spawn(usize),
    /// Every thread is busy and the limit is reached: the job waits.
    Queued,
    /// The pool was shut down: cancel what is queued.
    Shutdown,
}

/// What a worker does after [`Sleep::park`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Park {
    /// Look for work again.
    Work,
    /// Exit the thread (already removed from the count).
    Exit,
}

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Sleep {
    state: Mutex<State>,
    /// Idle workers park here.
    wake: Condvar,
    /// `shutdown_timeout` waits here for the last thread to exit.
    exited: Condvar,
}

impl Sleep {
    pub(crate) fn new() -> Self {
        Sleep {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            exited: Condvar::new(),
        }
    }

    /// Called after a job was pushed: wake an idle thread, or ask for a new
    /// one if fewer than `max` exist.
    pub(crate) fn after_push(&self, max: usize) -> Submit {
        let mut s = self.state.lock();
        if s.shutdown {
            return Submit::Shutdown;
        }
        if s.idle > s.notified {
            s.notified += 1;
            drop(s);
            self.wake.notify_one();
            return Submit::Woke;
        }
        if s.threads < max {
            s.threads += 1;
            let id = s.next_id;
            s.next_id += 1;
            return Submit::Spawn(id);
        }
        Submit::Queued
    }

    /// A thread promised by [`Submit::Spawn`] could not be started.
    /// Returns the number of live threads left.
    pub(crate) fn spawn_failed(&self) -> usize {
        let mut s = self.state.lock();
        s.threads -= 1;
        let left = s.threads;
        if left == 0 {
            self.exited.notify_all();
        }
        left
    }

    /// Parks an idle worker until it is notified, the pool shuts down or
    /// `keep_alive` passes with nothing to do. `has_work` is checked under
    /// the lock first; see the module docs.
    pub(crate) fn park(&self, keep_alive: Duration, has_work: impl Fn() -> bool) -> Park {
        let mut s = self.state.lock();
        if has_work() {
            return Park::Work;
        }
        if s.shutdown || s.closed {
            return self.exit(s);
        }
        s.idle += 1;
        let deadline = Instant::now().checked_add(keep_alive);
        loop {
            let timed_out;
            (s, timed_out) = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    self.wake.wait_timeout(s, left)
                }
                None => (self.wake.wait(s), false),
            };
            if s.notified > 0 {
                s.notified -= 1;
                s.idle -= 1;
                return Park::Work;
            }
            let expired = timed_out || deadline.is_some_and(|d| Instant::now() >= d);
            if s.shutdown || s.closed || expired {
                s.idle -= 1;
                if has_work() && !s.shutdown {
                    // A job raced in that nobody was notified for.
                    return Park::Work;
                }
                return self.exit(s);
            }
        }
    }

    fn exit(&self, mut s: crate::loom::MutexGuard<'_, State>) -> Park {
        s.threads -= 1;
        if s.threads == 0 {
            self.exited.notify_all();
        }
        Park::Exit
    }

    /// A worker leaves without parking (shutdown seen between jobs).
    pub(crate) fn leave(&self) {
        let s = self.state.lock();
        self.exit(s);
    }

    /// Stops taking jobs and wakes every parked thread so it exits.
    pub(crate) fn shutdown(&self) {
        self.state.lock().shutdown = true;
        self.wake.notify_all();
    }

    /// The last `Pool` is gone: idle threads exit. Returns the live count.
    pub(crate) fn close(&self) -> usize {
        let mut s = self.state.lock();
        s.closed = true;
        let threads = s.threads;
        drop(s);
        self.wake.notify_all();
        threads
    }

    /// Waits until no thread is left or `deadline` passes; returns the
    /// number of threads still alive.
    pub(crate) fn wait_exited(&self, deadline: Option<Instant>) -> usize {
        let mut s = self.state.lock();
        while s.threads > 0 {
            match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        break;
                    }
                    (s, _) = self.exited.wait_timeout(s, d - now);
                }
                None => s = self.exited.wait(s),
            }
        }
        s.threads
    }

    /// Live threads (including ones being started).
    pub(crate) fn threads(&self) -> usize {
        self.state.lock().threads
    }

    /// Parked threads that no wake-up is on its way to.
    pub(crate) fn idle(&self) -> usize {
        let s = self.state.lock();
        s.idle - s.notified
    }
}
