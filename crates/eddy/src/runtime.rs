//! The facade's [`Runtime`] and [`run`]: eddy-core's loop with the driver
//! stack entered around everything it runs.

use std::future::Future;
use std::time::Duration;

use crate::stack::Stack;
use crate::{Builder, Handle};

/// An event loop with everything wired in (asyncio's event loop /
/// `asyncio.Runner`). Reusable: call [`Runtime::block_on`] as often as you
/// like; tasks live on between calls and are cancelled when the runtime is
/// dropped.
///
/// # Example
///
/// ```
/// let rt = eddy::Runtime::new().unwrap();
/// let task = rt.block_on(async { eddy::spawn(async { "kept" }) });
/// assert_eq!(rt.block_on(task).unwrap(), "kept");
/// ```
#[derive(Debug)]
pub struct Runtime {
    /// `None` only while dropping: the loop is dropped inside the drivers'
    /// enter guards, so task destructors can still cancel timers and
    /// deregister sockets.
    core: Option<eddy_core::Runtime>,
    stack: Stack,
    /// How long dropping waits for running blocking jobs.
    blocking_shutdown: Duration,
}

impl Runtime {
    pub(crate) fn from_parts(
        core: eddy_core::Runtime,
        stack: Stack,
        blocking_shutdown: Duration,
    ) -> Runtime {
        Runtime {
            core: Some(core),
            stack,
            blocking_shutdown,
        }
    }

    fn core(&self) -> &eddy_core::Runtime {
        self.core
            .as_ref()
            .expect("the loop is only taken out while the runtime drops")
    }

    /// A runtime with default settings.
    ///
    /// # Errors
    ///
    /// When a driver fails to start.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Runtime::new().unwrap();
    /// # drop(rt);
    /// ```
    pub fn new() -> std::io::Result<Runtime> {
        Builder::new().build()
    }

    /// A [`Builder`].
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Runtime::builder().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Runs `future` to completion, running the loop meanwhile.
    ///
    /// # Panics
    ///
    /// - inside a running eddy loop (`.await` or spawn instead);
    /// - after a task panic nobody joined, when the builder set
    ///   [`UnhandledPanic::ShutdownRuntime`](crate::UnhandledPanic::ShutdownRuntime)
    ///   (every later `block_on` panics too: drop the runtime);
    /// - when `future` panics (the panic propagates; the runtime and its
    ///   tasks stay usable).
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(async { 1 }), 1);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _entered = self.stack.enter();
        self.core().block_on(future)
    }

    /// A thread-safe handle to this loop and its drivers.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Runtime::new().unwrap();
    /// let task = rt.handle().spawn(async { 5 }).unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), 5);
    /// ```
    pub fn handle(&self) -> Handle {
        Handle::from_parts(self.core().handle(), self.stack.clone())
    }

    /// Like [`shutdown`](Self::shutdown), but waits at most `timeout` for
    /// blocking jobs that are still running (they cannot be interrupted;
    /// they finish on their own threads).
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Runtime::new().unwrap();
    /// rt.shutdown_timeout(std::time::Duration::from_millis(100));
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.blocking_shutdown = timeout;
        drop(self);
    }

    /// Cancels every live task (their destructors run), stops the drivers,
    /// then stops the blocking pool: queued jobs are cancelled and running
    /// ones get the builder's `blocking_shutdown_timeout` (default 300 s,
    /// asyncio's) to finish. Dropping the runtime does the same.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Runtime::new().unwrap();
    /// rt.shutdown();
    /// ```
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(core) = self.core.take() {
            // A runtime kept in a `thread_local!` drops while its thread
            // exits, when the drivers' thread-locals may already be gone:
            // entering them is then a no-op (each driver's `enter` uses
            // `try_with`), so the tasks are still dropped, just without
            // those drivers current. eddy-core's own slot has no
            // destructor, so it is never gone.
            let _entered = self.stack.enter();
            core.shutdown();
        }
        self.stack.shutdown_blocking(self.blocking_shutdown);
    }
}

/// Runs `future` on a fresh runtime, then cancels every task still alive
/// and waits until all are dropped, then shuts the drivers down
/// (asyncio's `asyncio.run`).
///
/// # Panics
///
/// Inside a running eddy loop, when a driver cannot start, and when
/// `future` panics.
///
/// # Example
///
/// ```
/// let out = eddy::run(async {
///     let a = eddy::spawn(async { 1 });
///     let b = eddy::spawn(async { 2 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(out, 3);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    let rt =
        Runtime::new().unwrap_or_else(|e| panic!("eddy::run: the runtime could not start: {e}"));
    let out = rt.block_on(future);
    rt.shutdown();
    out
}
