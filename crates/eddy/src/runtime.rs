//! The facade's `Runtime`: eddy-core's loop with the driver stack wired in.

use std::future::Future;
use std::time::Duration;

use eddy_core::UnhandledPanic;

/// Configures a [`Runtime`]: the loop's settings plus the drivers'.
///
/// # Example
///
/// ```
/// let rt = eddy::Builder::new().debug(false).build().unwrap();
/// assert_eq!(rt.block_on(async { 2 + 2 }), 4);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Builder {
    core: eddy_core::Builder,
}

impl Builder {
    /// Defaults (debug mode from `EDDY_DEBUG`).
    ///
    /// # Example
    ///
    /// ```
    /// let builder = eddy::Builder::new();
    /// # drop(builder);
    /// ```
    pub fn new() -> Builder {
        Builder {
            core: eddy_core::Builder::new(),
        }
    }

    /// Debug mode: report slow polls and a blocked loop (asyncio's
    /// `set_debug`). Also on with `EDDY_DEBUG=1`.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Builder::new().debug(true).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn debug(mut self, on: bool) -> Builder {
        self.core = self.core.debug(on);
        self
    }

    /// The poll duration debug mode reports (asyncio's
    /// `slow_callback_duration`); default 100 ms.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Builder::new()
    ///     .slow_poll_threshold(std::time::Duration::from_millis(20))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Builder {
        self.core = self.core.slow_poll_threshold(threshold);
        self
    }

    /// Tasks run between two non-blocking driver polls; default 61.
    ///
    /// # Panics
    ///
    /// If `interval` is 0.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Builder::new().event_interval(31).build().unwrap();
    /// # drop(rt);
    /// ```
    #[track_caller]
    pub fn event_interval(mut self, interval: u32) -> Builder {
        self.core = self.core.event_interval(interval);
        self
    }

    /// What to do with a panic nobody joins; default log and go on.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Builder::new()
    ///     .unhandled_panic(eddy::UnhandledPanic::ShutdownRuntime)
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn unhandled_panic(mut self, policy: UnhandledPanic) -> Builder {
        self.core = self.core.unhandled_panic(policy);
        self
    }

    /// A name for the loop, used in diagnostics and helper-thread names.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Builder::new().thread_name("main-loop").build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.core = self.core.thread_name(name);
        self
    }

    /// Builds the runtime.
    ///
    /// # Errors
    ///
    /// When a driver fails to start (for example the OS refuses an epoll
    /// instance); the error says which.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Builder::new().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn build(self) -> std::io::Result<Runtime> {
        let core = self.core.build()?;
        Ok(Runtime { core })
    }
}

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
    core: eddy_core::Runtime,
}

impl Runtime {
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
    /// Inside a running eddy loop (`.await` or spawn instead), and when
    /// `future` panics.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(async { 1 }), 1);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.core.block_on(future)
    }

    /// A thread-safe handle to this loop.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Runtime::new().unwrap();
    /// let task = rt.handle().spawn(async { 5 }).unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), 5);
    /// ```
    pub fn handle(&self) -> crate::Handle {
        self.core.handle()
    }

    /// Cancels every live task (their destructors run) and stops the
    /// drivers; dropping the runtime does the same.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Runtime::new().unwrap();
    /// rt.shutdown();
    /// ```
    pub fn shutdown(self) {
        self.core.shutdown();
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
