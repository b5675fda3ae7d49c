//! The state a pool's handles and threads share ([`Shared`]: the queues,
//! the sleep/wake state, the settings), how a job is queued and run, how
//! threads are started, and [`PoolHandle`], the owner side whose last drop
//! closes the pool.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use crossbeam_deque::{Injector, Steal, Stealer};
use parking_lot::RwLock;

use super::builder::SubmitHook;
use crate::guard::SubmitGuard;
use crate::job::{report_panic, Job};
use crate::sleep::{Sleep, Submit};
use crate::{worker, JoinError};

/// State shared by the pool's handles and threads.
pub(crate) struct Shared {
    pub(crate) injector: Injector<Job>,
    /// `(thread id, stealer)` of every live thread.
    pub(super) stealers: RwLock<Vec<(usize, Stealer<Job>)>>,
    pub(super) next_stealer: AtomicUsize,
    pub(crate) sleep: Sleep,
    /// Jobs running right now.
    pub(super) running: AtomicUsize,
    pub(crate) keep_alive: Duration,
    pub(super) max_threads: usize,
    pub(super) name: String,
    pub(super) stack_size: Option<usize>,
    pub(super) on_submit: Option<SubmitHook>,
}

impl Shared {
    /// The submit hook's guard for a job queued now, if there is a hook.
    #[inline]
    pub(super) fn submit_guard(&self) -> Option<SubmitGuard> {
        self.on_submit.as_ref().map(|hook| hook())
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.sleep.is_shutdown()
    }

    /// Runs `job` and drops it. The closure's own panic is caught into the
    /// handle's `JoinError`; this also catches what can panic around it —
    /// the output's destructor when the handle is gone (dropping the job
    /// drops it here), the handle's waker — so the pool thread survives
    /// (unwinding out of it would leave it counted as alive and
    /// searching, and later jobs would wait for it forever).
    pub(crate) fn run_job(&self, job: Job) {
        self.running.fetch_add(1, Ordering::Relaxed);
        let outcome = catch_unwind(AssertUnwindSafe(move || {
            job.run();
            drop(job);
        }));
        self.running.fetch_sub(1, Ordering::Release);
        if let Err(payload) = outcome {
            report_panic(
                "finishing a job (dropping its unclaimed output, or waking its handle)",
                &*payload,
            );
        }
    }

    pub(crate) fn register(&self, stealer: Stealer<Job>) -> usize {
        let id = self.next_stealer.fetch_add(1, Ordering::Relaxed);
        self.stealers.write().push((id, stealer));
        id
    }

    pub(crate) fn unregister(&self, id: usize) {
        self.stealers.write().retain(|(i, _)| *i != id);
    }

    pub(crate) fn steal_from_others(&self) -> Option<Job> {
        let stealers = self.stealers.read();
        for (_, s) in stealers.iter() {
            while !s.is_empty() {
                match s.steal() {
                    Steal::Success(job) => return Some(job),
                    Steal::Empty => break,
                    Steal::Retry => {}
                }
            }
        }
        None
    }

    pub(crate) fn has_queued_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.read().iter().any(|(_, s)| !s.is_empty())
    }

    /// Cancels every queued job (their handles get the shutdown error).
    /// Returns how many it cancelled: not the entries left behind by jobs
    /// whose handle was dropped before they started (already cancelled).
    pub(super) fn cancel_queued(&self) -> usize {
        let mut n = 0;
        self.take_queued(|job| n += usize::from(job.cancel_shutdown()));
        n
    }

    /// Takes every job out of the queues, handing each to `f`.
    fn take_queued(&self, mut f: impl FnMut(Job)) {
        loop {
            match self.injector.steal() {
                Steal::Success(job) => f(job),
                Steal::Retry => {}
                Steal::Empty => break,
            }
        }
        while let Some(job) = self.steal_from_others() {
            f(job);
        }
    }

    pub(super) fn submit(self: &Arc<Self>, pool: &Arc<PoolHandle>, job: Job) {
        if let Err(job) = worker::push_local(self, job) {
            self.injector.push(job);
        }
        // `Submit::Shutdown` if this raced with shutdown_timeout: `act`
        // then makes sure nothing stays queued.
        let action = self.sleep.after_push(self.max_threads);
        self.act(action, || Arc::downgrade(pool));
    }

    /// Wakes or starts one more thread (a worker handing on the search).
    pub(crate) fn wake_one(self: &Arc<Self>, pool: &Weak<PoolHandle>) {
        let action = self.sleep.wake_one(self.max_threads);
        self.act(action, || pool.clone());
    }

    fn act(self: &Arc<Self>, action: Submit, pool: impl FnOnce() -> Weak<PoolHandle>) {
        match action {
            Submit::Covered | Submit::Woke | Submit::Queued => {}
            Submit::Shutdown => {
                self.cancel_queued();
            }
            Submit::Spawn(id) => self.spawn_thread(pool(), id),
        }
    }

    fn spawn_thread(self: &Arc<Self>, weak: Weak<PoolHandle>, id: usize) {
        let mut b = std::thread::Builder::new().name(format!("{}-{id}", self.name));
        if let Some(size) = self.stack_size {
            b = b.stack_size(size);
        }
        let shared = self.clone();
        if let Err(err) = b.spawn(move || worker::run(shared, weak)) {
            // Taken out of the queue under the sleep lock (see
            // `Sleep::spawn_failed`), failed after it is released.
            let mut stranded = Vec::new();
            let left = self.sleep.spawn_failed(
                || self.has_queued_work(),
                || self.take_queued(|job| stranded.push(job)),
            );
            if left > 0 {
                tracing::warn!(
                    error = %err,
                    live_threads = left,
                    "eddy-blocking: could not start a pool thread; the job stays queued until \
                     a pool thread is free"
                );
                return;
            }
            let err = Arc::new(err);
            let failed: usize = stranded
                .into_iter()
                .map(|job| usize::from(job.cancel(&|| JoinError::no_thread(err.clone()))))
                .sum();
            tracing::error!(
                error = %err,
                failed_jobs = failed,
                "eddy-blocking: could not start a pool thread and none is running; the queued \
                 jobs fail with JoinError::is_no_thread (raise the process's thread limit or \
                 run fewer threads)"
            );
        }
    }
}

/// The owner side of a pool: when the last one goes, idle threads exit.
pub(crate) struct PoolHandle {
    pub(super) shared: Arc<Shared>,
}

impl PoolHandle {
    /// A handle onto a pool whose handles were all dropped, made on one of
    /// its threads (see `worker::current_pool`). The pool is closed already
    /// and stays so; dropping this handle closes it again, which cancels
    /// the queue only if no thread is left to run it.
    pub(crate) fn draining(shared: Arc<Shared>) -> Arc<PoolHandle> {
        Arc::new(PoolHandle { shared })
    }
}

impl Drop for PoolHandle {
    fn drop(&mut self) {
        if self.shared.sleep.close() == 0 {
            // No thread will ever run what is queued.
            self.shared.cancel_queued();
        }
    }
}
