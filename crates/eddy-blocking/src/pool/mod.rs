//! [`Pool`], its [`Builder`], and the state the pool threads share.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crossbeam_deque::{Injector, Steal, Stealer};
use parking_lot::RwLock;

use crate::guard::SubmitGuard;
use crate::job::{new_job, report_panic, Job};
use crate::sleep::{Sleep, Submit};
use crate::{worker, BlockingHandle, BuildError, JoinError, SpawnError};

const DEFAULT_MAX_THREADS: usize = 512;
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);
const DEFAULT_NAME: &str = "eddy-blocking";

/// A pool's submit hook, its guard type erased (see [`Builder::on_submit`]).
type SubmitHook = Arc<dyn Fn() -> SubmitGuard + Send + Sync>;

/// State shared by the pool's handles and threads.
pub(crate) struct Shared {
    pub(crate) injector: Injector<Job>,
    /// `(thread id, stealer)` of every live thread.
    stealers: RwLock<Vec<(usize, Stealer<Job>)>>,
    next_stealer: AtomicUsize,
    pub(crate) sleep: Sleep,
    /// Jobs running right now.
    running: AtomicUsize,
    pub(crate) keep_alive: Duration,
    max_threads: usize,
    name: String,
    stack_size: Option<usize>,
    on_submit: Option<SubmitHook>,
}

impl Shared {
    /// The submit hook's guard for a job queued now, if there is a hook.
    #[inline]
    fn submit_guard(&self) -> Option<SubmitGuard> {
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
    fn cancel_queued(&self) -> usize {
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

    fn submit(self: &Arc<Self>, pool: &Arc<PoolHandle>, job: Job) {
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
    shared: Arc<Shared>,
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

/// A work-stealing thread pool for blocking work.
///
/// Threads start on demand up to [`Builder::max_threads`] and exit after
/// [`Builder::keep_alive`] without work. `Pool` is a cheap handle: clones
/// share the same threads. When the last clone is dropped, queued jobs
/// still run and then the threads exit; [`shutdown_timeout`](Pool::shutdown_timeout)
/// stops it at once instead. A job still running then can go on
/// submitting (through [`Pool::current`] or [`spawn_blocking`](crate::spawn_blocking)
/// on its thread): those jobs join the queue the pool is draining.
///
/// ```
/// use eddy_blocking::Pool;
///
/// let pool = Pool::new();
/// let sum = futures::executor::block_on(pool.spawn(|| (1..=10).sum::<u32>())).unwrap();
/// assert_eq!(sum, 55);
/// ```
#[derive(Clone)]
pub struct Pool {
    inner: Arc<PoolHandle>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("name", &self.inner.shared.name)
            .field("max_threads", &self.inner.shared.max_threads)
            .field("threads", &self.thread_count())
            .finish()
    }
}

impl Default for Pool {
    fn default() -> Self {
        Pool::new()
    }
}

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
    /// A pool with the defaults: up to 512 threads, 10 s keep-alive, threads
    /// named `eddy-blocking-N`.
    ///
    /// ```
    /// let pool = eddy_blocking::Pool::new();
    /// assert_eq!(pool.thread_count(), 0); // threads start on demand
    /// ```
    pub fn new() -> Pool {
        Builder::default()
            .build()
            .expect("the default configuration is valid")
    }

    /// A [`Builder`] to configure a pool.
    ///
    /// ```
    /// use std::time::Duration;
    /// let pool = eddy_blocking::Pool::builder()
    ///     .max_threads(4)
    ///     .keep_alive(Duration::from_secs(1))
    ///     .thread_name("my-io")
    ///     .build()
    ///     .unwrap();
    /// # drop(pool);
    /// ```
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Runs `f` on a pool thread; the handle resolves to its result.
    ///
    /// After [`shutdown_timeout`](Pool::shutdown_timeout) the job is not run
    /// and the handle resolves to a [`JoinError`] for which
    /// `is_shutdown()` is true; use [`try_spawn`](Pool::try_spawn) to be told
    /// at once. If the system refuses to start a thread for the job, it
    /// waits for one of the pool's running threads; with none running, the
    /// handle resolves to a [`JoinError`] for which
    /// [`is_no_thread()`](JoinError::is_no_thread) is true. Called from one of this pool's threads, the job goes to that
    /// thread's own deque (idle threads steal it).
    ///
    /// ```
    /// # use eddy_blocking::Pool;
    /// let pool = Pool::new();
    /// let h = pool.spawn(|| std::fs::metadata(".").is_ok());
    /// assert!(futures::executor::block_on(h).unwrap());
    /// ```
    pub fn spawn<F, T>(&self, f: F) -> BlockingHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let held = self.inner.shared.submit_guard();
        self.spawn_holding(held, f)
    }

    /// Like [`spawn`](Pool::spawn), and keeps `guard` alive until the job
    /// is over, by the rule of the [submit hook](Builder::on_submit)'s
    /// guard (which the job holds too): dropped as the job ends if no
    /// handle is waiting for the result yet, otherwise once the handle
    /// has handed the result out (or is dropped); dropped unrun with a
    /// job that is cancelled before it starts.
    ///
    /// ```
    /// # use eddy_blocking::Pool;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// struct InFlight(Arc<AtomicUsize>);
    /// impl Drop for InFlight {
    ///     fn drop(&mut self) {
    ///         self.0.fetch_sub(1, Ordering::SeqCst);
    ///     }
    /// }
    ///
    /// let pool = Pool::new();
    /// let in_flight = Arc::new(AtomicUsize::new(1));
    /// let h = pool.spawn_with_guard(InFlight(in_flight.clone()), || 5);
    /// assert_eq!(futures::executor::block_on(h).unwrap(), 5);
    /// assert_eq!(in_flight.load(Ordering::SeqCst), 0);
    /// ```
    pub fn spawn_with_guard<G, F, T>(&self, guard: G, f: F) -> BlockingHandle<T>
    where
        G: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let held = self.inner.shared.submit_guard();
        self.spawn_holding((held, guard), f)
    }

    fn spawn_holding<G, F, T>(&self, held: G, f: F) -> BlockingHandle<T>
    where
        G: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (job, handle) = new_job(f, held);
        if self.inner.shared.is_shutdown() {
            job.cancel_shutdown();
        } else {
            self.inner.shared.submit(&self.inner, job);
        }
        handle
    }

    /// Like [`spawn`](Pool::spawn), but fails at once if the pool was shut
    /// down.
    ///
    /// # Errors
    ///
    /// [`SpawnError`] (`f` is dropped unrun) when the pool was shut down.
    /// A shutdown racing this call can still let it return `Ok`; the
    /// handle may then resolve to the shutdown [`JoinError`].
    ///
    /// ```
    /// # use eddy_blocking::Pool;
    /// let pool = Pool::new();
    /// let h = pool.try_spawn(|| 1).unwrap();
    /// assert_eq!(futures::executor::block_on(h).unwrap(), 1);
    /// ```
    pub fn try_spawn<F, T>(&self, f: F) -> Result<BlockingHandle<T>, SpawnError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if self.inner.shared.is_shutdown() {
            return Err(SpawnError::shutdown());
        }
        Ok(self.spawn(f))
    }

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

    /// `true` once [`shutdown_timeout`](Pool::shutdown_timeout) was called.
    ///
    /// ```
    /// # use eddy_blocking::Pool;
    /// let pool = Pool::new();
    /// assert!(!pool.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.inner.shared.is_shutdown()
    }

    /// Live pool threads (including ones being started).
    ///
    /// ```
    /// # use eddy_blocking::Pool;
    /// let pool = Pool::new();
    /// futures::executor::block_on(pool.spawn(|| ())).unwrap();
    /// assert!(pool.thread_count() >= 1);
    /// ```
    pub fn thread_count(&self) -> usize {
        self.inner.shared.sleep.threads()
    }

    /// Parked pool threads that are free to take a job.
    ///
    /// ```
    /// # use eddy_blocking::Pool;
    /// let pool = Pool::new();
    /// assert_eq!(pool.idle_count(), 0);
    /// ```
    pub fn idle_count(&self) -> usize {
        self.inner.shared.sleep.idle()
    }

    /// Jobs running right now.
    ///
    /// ```
    /// # use eddy_blocking::Pool;
    /// assert_eq!(Pool::new().running_count(), 0);
    /// ```
    pub fn running_count(&self) -> usize {
        self.inner.shared.running.load(Ordering::Acquire)
    }

    pub(crate) fn from_handle(inner: Arc<PoolHandle>) -> Pool {
        Pool { inner }
    }
}

/// Configures a [`Pool`]; made by [`Pool::builder`].
///
/// ```
/// let pool = eddy_blocking::Pool::builder().max_threads(8).build().unwrap();
/// # drop(pool);
/// ```
#[derive(Clone)]
pub struct Builder {
    max_threads: usize,
    keep_alive: Duration,
    name: String,
    stack_size: Option<usize>,
    on_submit: Option<SubmitHook>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("max_threads", &self.max_threads)
            .field("keep_alive", &self.keep_alive)
            .field("name", &self.name)
            .field("stack_size", &self.stack_size)
            .field("on_submit", &self.on_submit.is_some())
            .finish()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            max_threads: DEFAULT_MAX_THREADS,
            keep_alive: DEFAULT_KEEP_ALIVE,
            name: DEFAULT_NAME.to_owned(),
            stack_size: None,
            on_submit: None,
        }
    }
}

impl Builder {
    /// Most threads the pool runs at once (default 512). Jobs beyond that
    /// wait in the queue. `0` is refused by [`build`](Builder::build).
    ///
    /// ```
    /// let pool = eddy_blocking::Pool::builder().max_threads(2).build().unwrap();
    /// # drop(pool);
    /// ```
    pub fn max_threads(mut self, n: usize) -> Self {
        self.max_threads = n;
        self
    }

    /// How long a thread waits for work before it exits (default 10 s).
    /// A job wakes the thread that went idle last, so under a light steady
    /// load the same few threads take the jobs and the others exit.
    ///
    /// ```
    /// use std::time::Duration;
    /// let pool = eddy_blocking::Pool::builder().keep_alive(Duration::from_millis(500)).build().unwrap();
    /// # drop(pool);
    /// ```
    pub fn keep_alive(mut self, d: Duration) -> Self {
        self.keep_alive = d;
        self
    }

    /// Name prefix of the threads: they are called `PREFIX-N`
    /// (default `eddy-blocking`). A prefix with a NUL byte is refused by
    /// [`build`](Builder::build).
    ///
    /// ```
    /// # use eddy_blocking::Pool;
    /// let pool = Pool::builder().thread_name("disk").build().unwrap();
    /// let name = futures::executor::block_on(pool.spawn(|| {
    ///     std::thread::current().name().unwrap().to_owned()
    /// })).unwrap();
    /// assert!(name.starts_with("disk-"));
    /// ```
    pub fn thread_name(mut self, prefix: impl Into<String>) -> Self {
        self.name = prefix.into();
        self
    }

    /// Stack size of each thread in bytes (default: the std default).
    ///
    /// ```
    /// let pool = eddy_blocking::Pool::builder().stack_size(256 * 1024).build().unwrap();
    /// # drop(pool);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// A hook called on the submitting thread each time a job is queued
    /// ([`Pool::spawn`], [`Pool::try_spawn`], [`Pool::spawn_with_guard`],
    /// [`spawn_blocking`](crate::spawn_blocking), the `fs` functions and
    /// [`File`](crate::fs::File) operations). The value it returns is
    /// kept until the job is over: dropped on the pool thread as the job
    /// ends if no handle is waiting for the result yet; if one is (it was
    /// polled and returned `Pending`), handed over with the result and
    /// dropped when the handle gives the result out (or is dropped), so
    /// the waiting task has the result before the guard goes; dropped
    /// unrun with a job cancelled before it started (its handle dropped,
    /// or the pool shut down).
    ///
    /// A runtime uses it to tell its paused test clock that work is in
    /// flight. Without a hook, submitting costs one branch more; with
    /// one, a guard of up to two words is kept without an allocation.
    /// A panic in the hook propagates to the caller that submits.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// struct InFlight(Arc<AtomicUsize>);
    /// impl Drop for InFlight {
    ///     fn drop(&mut self) {
    ///         self.0.fetch_sub(1, Ordering::SeqCst);
    ///     }
    /// }
    ///
    /// let in_flight = Arc::new(AtomicUsize::new(0));
    /// let counter = in_flight.clone();
    /// let pool = eddy_blocking::Pool::builder()
    ///     .on_submit(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///         InFlight(counter.clone())
    ///     })
    ///     .build()
    ///     .unwrap();
    /// let seen = futures::executor::block_on(pool.spawn({
    ///     let in_flight = in_flight.clone();
    ///     move || in_flight.load(Ordering::SeqCst)
    /// }))
    /// .unwrap();
    /// assert_eq!(seen, 1); // held while the job ran
    /// assert_eq!(in_flight.load(Ordering::SeqCst), 0); // and let go after
    /// ```
    pub fn on_submit<G, H>(mut self, hook: H) -> Self
    where
        H: Fn() -> G + Send + Sync + 'static,
        G: Send + 'static,
    {
        self.on_submit = Some(Arc::new(move || SubmitGuard::new(hook())));
        self
    }

    /// Builds the pool. No thread starts until the first job.
    ///
    /// # Errors
    ///
    /// [`BuildError`] if `max_threads` is 0, or if the thread name prefix
    /// contains a NUL byte (no thread could be started with it).
    ///
    /// ```
    /// # use eddy_blocking::Pool;
    /// assert!(Pool::builder().max_threads(0).build().is_err());
    /// ```
    pub fn build(self) -> Result<Pool, BuildError> {
        if self.max_threads == 0 {
            return Err(BuildError::zero_threads());
        }
        if self.name.contains('\0') {
            // std refuses such a name by panicking in the submitter's
            // spawn, after the pool counted the thread as started.
            return Err(BuildError::nul_in_thread_name());
        }
        let shared = Arc::new(Shared {
            injector: Injector::new(),
            stealers: RwLock::new(Vec::new()),
            next_stealer: AtomicUsize::new(0),
            sleep: Sleep::new(),
            running: AtomicUsize::new(0),
            keep_alive: self.keep_alive,
            max_threads: self.max_threads,
            name: self.name,
            stack_size: self.stack_size,
            on_submit: self.on_submit,
        });
        Ok(Pool {
            inner: Arc::new(PoolHandle { shared }),
        })
    }
}
