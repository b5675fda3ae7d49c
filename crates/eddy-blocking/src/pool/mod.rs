//! [`Pool`]: the handle a program keeps, spawning jobs on it, and its
//! counts. The pool is configured by its [`Builder`] (`builder.rs`), shut
//! down as `shutdown.rs` describes, and its threads share the state in
//! `shared.rs`.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::job::new_job;
#[cfg(doc)]
use crate::JoinError;
use crate::{BlockingHandle, SpawnError};

mod builder;
mod shared;
mod shutdown;

pub use builder::Builder;
pub(crate) use shared::{PoolHandle, Shared};
pub use shutdown::ShutdownReport;

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
