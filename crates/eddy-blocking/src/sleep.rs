//! The idle/notify bookkeeping of the pool: how many threads exist, which
//! are parked, and the condvars they park on.
//!
//! A thread is *searching* while it is awake without a job: just started,
//! just woken, or just done with a job. A submitter skips the wake-up when a
//! thread is searching (that thread will find the job), which saves a futex
//! wake per job when the pool is busy. Two rules keep wake-ups from being
//! lost:
//!
//! - A submitter pushes its job, then (after a SeqCst fence) reads the
//!   searching count; a thread that stops searching decrements the count,
//!   then (after a fence) re-checks the queues — under the lock, before it
//!   counts itself idle. So either the thread sees the job or the submitter
//!   sees no searcher and wakes (or spawns) one.
//! - The last searcher to take a job wakes another thread if work is still
//!   queued, so queued jobs never wait behind a running one while threads
//!   are free (a chain of wake-ups instead of one per job).
//!
//! Idle threads are woken last in, first out: each parks on its own
//! condvar ([`Waiter`]) and a wake-up goes to the one parked most
//! recently. Under light steady load the same few threads take turns and
//! the others reach their keep-alive and exit; woken in turn (FIFO, as a
//! shared condvar does), every thread's keep-alive would start over before
//! it ran out, and the pool would never shrink.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::loom::{fence, AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};

#[derive(Debug, Default)]
struct State {
    /// Live threads, counting ones being spawned.
    threads: usize,
    /// Parked threads no wake-up is on its way to, most recently parked
    /// last: a wake-up goes to the last one (see the module docs).
    parked: Vec<Arc<Waiter>>,
    /// Id for the next thread's name.
    next_id: usize,
    /// `shutdown_timeout` was called: take no more jobs.
    shutdown: bool,
    /// Every `Pool` handle is gone: threads exit as soon as they are idle.
    closed: bool,
    /// Pool threads blocked in [`Sleep::wait_exited`] (a job that shuts
    /// its own pool down): they cannot exit while they wait, so the
    /// waiters do not wait for them.
    waiting_inside: usize,
    /// Bumped each time the `wait_exited` callers are released because
    /// the only threads left are the ones waiting there.
    released: usize,
}

/// What a submitter must do after pushing a job.
#[derive(Debug, PartialEq, Eq)]
pub enum Submit {
    /// A thread is searching and will find the job.
    Covered,
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
pub enum Park {
    /// Look for work again; the thread is counted as searching.
    Work,
    /// Exit the thread (already removed from the count).
    Exit,
}

/// Where one pool thread parks: its own condvar, so that a wake-up can
/// pick the thread (see the module docs). Made once per thread.
#[derive(Debug)]
pub struct Waiter {
    wake: Condvar,
    /// Set when a wake-up took this thread off the parked stack. Read and
    /// written under the [`Sleep`] lock only.
    notified: AtomicBool,
}

impl Waiter {
    /// A waiter for one thread.
    pub fn new() -> Arc<Waiter> {
        Arc::new(Waiter {
            wake: Condvar::new(),
            notified: AtomicBool::new(false),
        })
    }
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct Sleep {
    state: Mutex<State>,
    /// Threads awake without a job (see the module docs).
    searching: AtomicUsize,
    /// `shutdown_timeout` was called: set before `State::shutdown`, read
    /// without the lock (by submitters, and by workers between jobs).
    stopping: AtomicBool,
    /// `shutdown_timeout` waits here for the last thread to exit.
    exited: Condvar,
}

impl Sleep {
    /// No threads, nobody searching.
    pub fn new() -> Self {
        Sleep {
            state: Mutex::new(State::default()),
            searching: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            exited: Condvar::new(),
        }
    }

    /// Called after a job was pushed: nothing if a thread is searching,
    /// else wake an idle thread, or ask for a new one if fewer than `max`
    /// exist. [`Submit::Shutdown`] if the pool was shut down meanwhile:
    /// the caller cancels what is queued (the shutdown may have emptied
    /// the queue before the push).
    pub fn after_push(&self, max: usize) -> Submit {
        fence(Ordering::SeqCst);
        let action = if self.searching.load(Ordering::SeqCst) > 0 {
            Submit::Covered
        } else {
            self.wake_one(max)
        };
        if self.stopping.load(Ordering::SeqCst) {
            if let Submit::Spawn(_) = action {
                // The thread counted for this job will not be started:
                // uncount it, or the shutdown waits for it forever.
                self.spawn_failed(|| false, || {});
            }
            return Submit::Shutdown;
        }
        action
    }

    /// `true` once [`shutdown`](Sleep::shutdown) was called.
    pub fn is_shutdown(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Wakes an idle thread, or asks for a new one if fewer than `max`
    /// exist; the woken or new thread counts as searching.
    pub fn wake_one(&self, max: usize) -> Submit {
        let mut s = self.state.lock();
        if s.shutdown {
            return Submit::Shutdown;
        }
        if let Some(waiter) = s.parked.pop() {
            self.notify(s, &waiter);
            return Submit::Woke;
        }
        if s.threads < max {
            s.threads += 1;
            self.searching.fetch_add(1, Ordering::SeqCst);
            let id = s.next_id;
            s.next_id += 1;
            return Submit::Spawn(id);
        }
        Submit::Queued
    }

    /// A thread promised by [`Submit::Spawn`] could not be started (or
    /// will not be: see [`after_push`](Sleep::after_push)). Returns the
    /// number of live threads left.
    ///
    /// The promised thread was counted as searching, so submitters since
    /// then left their jobs to it and woke nobody. If it was the last
    /// searcher and `has_work` (checked under the lock, after the fence, as
    /// a parking thread does) sees a job queued, an idle thread is woken
    /// for it. With no idle thread, the busy ones take it when they are
    /// done.
    ///
    /// With no thread at all left (none alive, none being started) nothing
    /// would ever run what is queued, so `strand` is called, under the
    /// lock, to take it all out of the queue (the caller fails those jobs
    /// once this returns, outside the lock: failing one runs user code).
    /// Under the lock no other thread can be promised meanwhile, so no
    /// job is taken from a thread that is alive or being started; a job
    /// pushed later gets a thread start from its own submitter (one pushed
    /// just before may be taken while its submitter has yet to ask for a
    /// thread: that thread then finds nothing). Not after a shutdown,
    /// which cancels the queue itself.
    pub fn spawn_failed(&self, has_work: impl Fn() -> bool, strand: impl FnOnce()) -> usize {
        let mut s = self.state.lock();
        let last = self.stop_searching();
        s.threads -= 1;
        let left = s.threads;
        self.notify_exited(&s);
        if left == 0 && !s.shutdown {
            strand();
            return left;
        }
        if last && !s.shutdown && !s.parked.is_empty() && has_work() {
            if let Some(waiter) = s.parked.pop() {
                self.notify(s, &waiter);
            }
        }
        left
    }

    /// Wakes `waiter`, just taken off the parked stack; it counts as
    /// searching from now on.
    fn notify(&self, s: crate::loom::MutexGuard<'_, State>, waiter: &Waiter) {
        waiter.notified.store(true, Ordering::Relaxed);
        self.searching.fetch_add(1, Ordering::SeqCst);
        drop(s);
        waiter.wake.notify_one();
    }

    /// The thread is now searching (it finished a job).
    pub fn start_searching(&self) {
        self.searching.fetch_add(1, Ordering::SeqCst);
    }

    /// The thread stopped searching (it found a job, or it will park).
    /// Returns `true` if it was the last searcher; the caller then re-checks
    /// the queues (the fence is included).
    pub fn stop_searching(&self) -> bool {
        let last = self.searching.fetch_sub(1, Ordering::SeqCst) == 1;
        fence(Ordering::SeqCst);
        last
    }

    /// Parks an idle worker (one that has stopped searching) on its
    /// `waiter` until it is notified, the pool shuts down or `keep_alive`
    /// passes with nothing to do. `has_work` is checked under the lock
    /// first; see the module docs.
    pub fn park(
        &self,
        waiter: &Arc<Waiter>,
        keep_alive: Duration,
        has_work: impl Fn() -> bool,
    ) -> Park {
        let mut s = self.state.lock();
        if has_work() && !s.shutdown {
            self.searching.fetch_add(1, Ordering::SeqCst);
            return Park::Work;
        }
        if s.shutdown || s.closed {
            return self.exit(s);
        }
        waiter.notified.store(false, Ordering::Relaxed);
        s.parked.push(waiter.clone());
        let deadline = Instant::now().checked_add(keep_alive);
        loop {
            let timed_out;
            (s, timed_out) = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    waiter.wake.wait_timeout(s, left)
                }
                None => (waiter.wake.wait(s), false),
            };
            if waiter.notified.load(Ordering::Relaxed) {
                // Taken off the stack, and counted as searching, by the
                // waker.
                return Park::Work;
            }
            // A late wake-up meant for an earlier park, or none at all.
            let expired = timed_out || deadline.is_some_and(|d| Instant::now() >= d);
            if s.shutdown || s.closed || expired {
                // Not notified, so still on the stack.
                let at = s.parked.iter().rposition(|w| Arc::ptr_eq(w, waiter));
                debug_assert!(at.is_some(), "a parked thread left the stack unnotified");
                if let Some(at) = at {
                    s.parked.remove(at);
                }
                if has_work() && !s.shutdown {
                    // A job raced in that nobody was notified for.
                    self.searching.fetch_add(1, Ordering::SeqCst);
                    return Park::Work;
                }
                return self.exit(s);
            }
        }
    }

    fn exit(&self, mut s: crate::loom::MutexGuard<'_, State>) -> Park {
        s.threads -= 1;
        self.notify_exited(&s);
        Park::Exit
    }

    /// Wakes the [`wait_exited`](Sleep::wait_exited) callers once the only
    /// threads left are the ones waiting there themselves.
    fn notify_exited(&self, s: &State) {
        if s.threads <= s.waiting_inside {
            self.exited.notify_all();
        }
    }

    /// A worker leaves without parking (shutdown seen between jobs).
    pub fn leave(&self) {
        let s = self.state.lock();
        self.exit(s);
    }

    /// Stops taking jobs and wakes every parked thread so it exits.
    pub fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let mut s = self.state.lock();
        s.shutdown = true;
        Self::wake_all(&s);
    }

    /// The last `Pool` is gone: idle threads exit. Returns the live count.
    pub fn close(&self) -> usize {
        let mut s = self.state.lock();
        s.closed = true;
        Self::wake_all(&s);
        s.threads
    }

    /// Wakes every parked thread (under the lock: they see why when they
    /// get it, and take themselves off the stack).
    fn wake_all(s: &State) {
        for waiter in &s.parked {
            waiter.wake.notify_one();
        }
    }

    /// Waits until no thread is left or `deadline` passes; returns the
    /// number of threads still alive.
    ///
    /// `from_pool_thread`: the caller is one of the pool's own threads (a
    /// job shutting its pool down). Such a thread cannot exit while it
    /// waits here, so no caller waits for the pool threads that are
    /// waiting here: once every live thread is one of them, every caller
    /// waiting at that moment returns.
    pub fn wait_exited(&self, deadline: Option<Instant>, from_pool_thread: bool) -> usize {
        let mut s = self.state.lock();
        if from_pool_thread {
            s.waiting_inside += 1;
        }
        let generation = s.released;
        loop {
            if s.threads <= s.waiting_inside {
                if s.waiting_inside > 0 {
                    // Release the pool threads already waiting here: the
                    // first to leave goes back to its job, and the others
                    // must not start waiting for its thread again.
                    s.released = s.released.wrapping_add(1);
                    self.exited.notify_all();
                }
                break;
            }
            if s.released != generation {
                break;
            }
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
        if from_pool_thread {
            s.waiting_inside -= 1;
        }
        s.threads
    }

    /// Live threads (including ones being started).
    pub fn threads(&self) -> usize {
        self.state.lock().threads
    }

    /// Parked threads that no wake-up is on its way to.
    pub fn idle(&self) -> usize {
        self.state.lock().parked.len()
    }
}
