//! The facade's [`Handle`]: a thread-safe way into one runtime's loop and
//! drivers (asyncio's `loop.call_soon_threadsafe` / `run_coroutine_threadsafe`).

use std::future::Future;

use crate::stack::Stack;
use crate::{CallbackHandle, JoinHandle, SpawnError};

const NO_RUNTIME: &str = "no eddy runtime on this thread: call inside eddy::run / #[eddy::main]";

/// A cloneable, `Send + Sync` handle to a [`Runtime`](crate::Runtime):
/// spawn `Send` futures and schedule callbacks on its loop from any thread.
///
/// # Example
///
/// ```
/// let rt = eddy::Runtime::new().unwrap();
/// let handle = rt.handle();
/// let from_thread = std::thread::spawn(move || handle.spawn(async { 6 * 7 }).unwrap())
///     .join()
///     .unwrap();
/// assert_eq!(rt.block_on(from_thread).unwrap(), 42);
/// ```
#[derive(Clone, Debug)]
pub struct Handle {
    core: eddy_core::Handle,
    /// Read by the per-feature `impl` blocks below (unused when every
    /// driver feature is off).
    #[cfg_attr(not(any(feature = "time", feature = "blocking")), allow(dead_code))]
    stack: Stack,
}

impl Handle {
    pub(crate) fn from_parts(core: eddy_core::Handle, stack: Stack) -> Handle {
        Handle { core, stack }
    }

    /// The handle of the runtime running on this thread.
    ///
    /// # Panics
    ///
    /// Outside an eddy runtime, with the message `no eddy runtime on this
    /// thread: call inside eddy::run / #[eddy::main]`. See
    /// [`Handle::try_current`].
    ///
    /// # Example
    ///
    /// ```
    /// eddy::run(async {
    ///     let handle = eddy::Handle::current();
    ///     assert!(!handle.is_shutdown());
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        Handle::try_current().expect(NO_RUNTIME)
    }

    /// The handle of the runtime running on this thread, or `None`.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(eddy::Handle::try_current().is_none());
    /// eddy::run(async { assert!(eddy::Handle::try_current().is_some()) });
    /// ```
    pub fn try_current() -> Option<Handle> {
        Some(Handle {
            core: eddy_core::Handle::try_current()?,
            stack: Stack::try_current()?,
        })
    }

    /// Spawns a `Send` future on the loop from any thread (asyncio's
    /// `run_coroutine_threadsafe`).
    ///
    /// # Errors
    ///
    /// [`SpawnError`] once the runtime has shut down; the future is dropped.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Runtime::new().unwrap();
    /// let task = rt.handle().spawn(async { "spawned" }).unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), "spawned");
    /// ```
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.core.spawn(future)
    }

    /// Runs `f` on the loop soon, from any thread (asyncio's
    /// `call_soon_threadsafe`).
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Runtime::new().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// rt.handle().call_soon(move || tx.send("ran").unwrap());
    /// rt.block_on(eddy::yield_now());
    /// assert_eq!(rx.recv().unwrap(), "ran");
    /// ```
    #[track_caller]
    pub fn call_soon(&self, f: impl FnOnce() + Send + 'static) -> CallbackHandle {
        self.core.call_soon(f)
    }

    /// Whether the runtime has shut down (spawns are refused).
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// rt.shutdown();
    /// assert!(handle.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.core.is_shutdown()
    }

    /// The loop-level handle of eddy-core (what the facade handle wraps).
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Runtime::new().unwrap();
    /// let core: eddy_core::Handle = rt.handle().core().clone();
    /// # drop(core);
    /// ```
    pub fn core(&self) -> &eddy_core::Handle {
        &self.core
    }
}

/// Timer forms: schedule callbacks on this runtime's clock from any thread.
#[cfg(feature = "time")]
impl Handle {
    /// Runs `f` on the loop after `delay` (asyncio's `loop.call_later`, the
    /// thread-safe form). Equal deadlines run in scheduling order.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = eddy::Runtime::new().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let timer = rt.handle().call_later(Duration::from_millis(1), move || tx.send(1).unwrap());
    /// assert!(!timer.is_cancelled());
    /// rt.block_on(async { eddy::sleep(Duration::from_millis(5)).await });
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    #[track_caller]
    pub fn call_later(
        &self,
        delay: std::time::Duration,
        f: impl FnOnce() + Send + 'static,
    ) -> crate::time::TimerHandle {
        self.stack.time.call_later(delay, f)
    }

    /// Runs `f` on the loop at `when` (asyncio's `loop.call_at`, the
    /// thread-safe form).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = eddy::Runtime::builder().start_paused(true).build().unwrap();
    /// let handle = rt.handle();
    /// let when = handle.now() + Duration::from_secs(60);
    /// let timer = handle.call_at(when, || println!("a minute later"));
    /// assert_eq!(timer.when(), when);
    /// ```
    #[track_caller]
    pub fn call_at(
        &self,
        when: crate::time::Instant,
        f: impl FnOnce() + Send + 'static,
    ) -> crate::time::TimerHandle {
        self.stack.time.call_at(when, f)
    }

    /// The runtime's clock (the test clock when paused).
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Runtime::new().unwrap();
    /// let now = rt.handle().now();
    /// assert!(now <= rt.handle().now());
    /// ```
    pub fn now(&self) -> crate::time::Instant {
        self.stack.time.now()
    }
}

#[cfg(feature = "blocking")]
impl Handle {
    /// Runs `f` on this runtime's blocking pool, from any thread.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let job = std::thread::spawn(move || handle.spawn_blocking(|| 2 + 2)).join().unwrap();
    /// assert_eq!(rt.block_on(job).unwrap(), 4);
    /// ```
    pub fn spawn_blocking<F, T>(&self, f: F) -> crate::blocking::BlockingTask<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        crate::blocking_task::spawn_on(&self.stack.blocking, self.stack.hold_clock(), f)
    }

    /// Runs `f` on `pool`, a pool of your own (asyncio's
    /// `loop.run_in_executor(executor, f)`), holding this runtime's paused
    /// test clock while it runs.
    ///
    /// # Example
    ///
    /// ```
    /// # eddy::run(async {
    /// let db_pool = eddy::blocking::Pool::builder().max_threads(4).build().unwrap();
    /// let rows = eddy::Handle::current().run_in_executor(&db_pool, || vec![1, 2, 3]).await.unwrap();
    /// assert_eq!(rows.len(), 3);
    /// # });
    /// ```
    pub fn run_in_executor<F, T>(
        &self,
        pool: &crate::blocking::Pool,
        f: F,
    ) -> crate::blocking::BlockingTask<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        crate::blocking_task::spawn_on(pool, self.stack.hold_clock(), f)
    }
}
