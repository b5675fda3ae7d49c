//! [`Builder`]: a pool's settings (thread limit, keep-alive, thread names
//! and stack size, the submit hook) and building the pool from them.

use std::fmt;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_deque::Injector;
use parking_lot::RwLock;

use super::{Pool, PoolHandle, Shared};
use crate::guard::SubmitGuard;
use crate::sleep::Sleep;
use crate::BuildError;

const DEFAULT_MAX_THREADS: usize = 512;
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);
const DEFAULT_NAME: &str = "eddy-blocking";

/// A pool's submit hook, its guard type erased (see [`Builder::on_submit`]).
pub(super) type SubmitHook = Arc<dyn Fn() -> SubmitGuard + Send + Sync>;

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
