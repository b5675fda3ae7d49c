//! Stopping a pool at once: [`Pool::shutdown_timeout`] and the
//! [`ShutdownReport`] it returns.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Pool;
use crate::worker;

/// What [`Pool::shutdown_timeout`] found when it returned.
///
/// ```
/// # use eddy_blocking::Pool;
/// # use std::time::Duration;
/// let report = Pool::new().shutdown_timeout(Duration::from_secs(1));
/// assert_eq!(report.still_running, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShutdownReport {
    /// Jobs still running when the call returned (they keep running on
    /// their threads; they cannot be interrupted). Called from one of the
    /// pool's own jobs, that job is counted here.
    pub still_running: usize,
    /// Queued jobs that never started; their handles got the shutdown error.
    /// Jobs whose handle was dropped before they started are not counted:
    /// they were cancelled then, not by the shutdown.
    pub cancelled: usize,
    /// Threads still alive when the call returned, counting the calling
    /// job's own thread when called from one of the pool's jobs.
    pub threads_left: usize,
}

impl Pool {
    /// Shuts the pool down: stops taking jobs, cancels the queued ones that
    /// have not started (their handles resolve to the shutdown error) and
    /// waits up to `timeout` for the running ones. Running jobs cannot be
    /// interrupted; the ones still running at the deadline are counted in
    /// the report and finish on their own. Calling it again is harmless.
    /// A cancelled job's closure is dropped unrun; a panic in the
    /// destructor of something it captured is logged through `tracing` and
    /// does not stop the rest of the shutdown.
    ///
    /// Called from inside one of this pool's own jobs, it does not wait for
    /// the calling job's thread, which cannot exit before the job returns
    /// (waiting for it would use up the whole `timeout`, and hang forever
    /// with [`Duration::MAX`]). It returns as soon as every other thread has
    /// exited (or at the deadline), and the report counts the calling job
    /// in [`still_running`](ShutdownReport::still_running) and its thread in
    /// [`threads_left`](ShutdownReport::threads_left); that thread exits
    /// when the job returns. The same holds for several jobs shutting the
    /// pool down at once: none of them waits for another's thread, and
    /// they all return once the only threads left are theirs.
    ///
    /// ```
    /// # use eddy_blocking::Pool;
    /// # use std::time::Duration;
    /// let pool = Pool::new();
    /// let h = pool.spawn(|| 1);
    /// futures::executor::block_on(h).unwrap();
    /// let report = pool.shutdown_timeout(Duration::from_secs(5));
    /// assert_eq!(report.still_running, 0);
    /// assert_eq!(pool.thread_count(), 0);
    /// ```
    pub fn shutdown_timeout(&self, timeout: Duration) -> ShutdownReport {
        let shared = &self.inner.shared;
        shared.sleep.shutdown();
        let cancelled = shared.cancel_queued();
        let deadline = Instant::now().checked_add(timeout);
        let from_pool_thread = worker::is_thread_of(shared);
        let threads_left = shared.sleep.wait_exited(deadline, from_pool_thread);
        ShutdownReport {
            still_running: shared.running.load(Ordering::Acquire),
            cancelled,
            threads_left,
        }
    }
}
