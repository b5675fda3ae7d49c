//! `Builder`: how a loop is configured.

use std::time::Duration;

use super::Runtime;
use crate::park::{Park, ThreadPark};

/// What happens to a panic in a task that nobody joins (a detached task, or
/// one whose `JoinHandle` is dropped without reading the error).
///
/// # Example
///
/// ```
/// use eddy_core::{Builder, UnhandledPanic};
/// let rt = Builder::new().unhandled_panic(UnhandledPanic::Log).build().unwrap();
/// rt.block_on(async {
///     drop(eddy_core::spawn(async { panic!("logged, loop goes on") }));
///     eddy_core::yield_now().await;
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UnhandledPanic {
    /// Log a `tracing` error with the task's name and id; the loop goes on
    /// (asyncio's "Task exception was never retrieved").
    #[default]
    Log,
    /// Log, then stop: the running `block_on` panics with a message saying
    /// why, and every task is cancelled when the runtime is dropped.
    ShutdownRuntime,
}

/// Configures and builds a [`Runtime`].
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// let rt = eddy_core::Builder::new()
///     .debug(true)
///     .slow_poll_threshold(Duration::from_millis(50))
///     .thread_name("worker-loop")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    pub(crate) debug: bool,
    pub(crate) slow_poll_threshold: Duration,
    pub(crate) event_interval: u32,
    pub(crate) unhandled_panic: UnhandledPanic,
    pub(crate) thread_name: Option<String>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

/// Whether `EDDY_DEBUG` asks for debug mode (set, and not "" or "0").
fn debug_from_env() -> bool {
    std::env::var_os("EDDY_DEBUG").is_some_and(|v| !v.is_empty() && v != "0")
}

impl Builder {
    /// Defaults: debug off (unless `EDDY_DEBUG=1`), slow-poll threshold
    /// 100 ms, event interval 61, unhandled panics logged.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy_core::Builder::new().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn new() -> Builder {
        Builder {
            debug: debug_from_env(),
            slow_poll_threshold: Duration::from_millis(100),
            event_interval: 61,
            unhandled_panic: UnhandledPanic::Log,
            thread_name: None,
        }
    }

    /// Debug mode (asyncio's `set_debug`): report slow polls and a blocked
    /// loop through `tracing`. Costs one clock read per poll when on.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy_core::Builder::new().debug(true).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn debug(mut self, on: bool) -> Builder {
        self.debug = on;
        self
    }

    /// The poll duration debug mode reports (asyncio's
    /// `slow_callback_duration`). Default 100 ms.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy_core::Builder::new()
    ///     .slow_poll_threshold(std::time::Duration::from_millis(10))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Builder {
        self.slow_poll_threshold = threshold;
        self
    }

    /// How many tasks run between two non-blocking polls of the driver
    /// (timers, I/O), so always-ready tasks cannot starve I/O. Default 61.
    ///
    /// # Panics
    ///
    /// If `interval` is 0.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy_core::Builder::new().event_interval(31).build().unwrap();
    /// # drop(rt);
    /// ```
    #[track_caller]
    pub fn event_interval(mut self, interval: u32) -> Builder {
        assert!(
            interval > 0,
            "event_interval must be at least 1: it counts tasks between driver polls"
        );
        self.event_interval = interval;
        self
    }

    /// The policy for panics nobody joins. Default [`UnhandledPanic::Log`].
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::UnhandledPanic;
    /// let rt = eddy_core::Builder::new()
    ///     .unhandled_panic(UnhandledPanic::ShutdownRuntime)
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn unhandled_panic(mut self, policy: UnhandledPanic) -> Builder {
        self.unhandled_panic = policy;
        self
    }

    /// A name for the loop, used in diagnostics and for its helper threads
    /// (the debug watchdog is `NAME-watchdog`).
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy_core::Builder::new().thread_name("ui").build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.thread_name = Some(name.into());
        self
    }

    /// Builds a runtime on the plain thread-parking driver (no timers, no
    /// I/O: the facade `eddy` adds those).
    ///
    /// # Errors
    ///
    /// This driver cannot fail; the `Result` matches drivers that can.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy_core::Builder::new().build().unwrap();
    /// assert_eq!(rt.block_on(async { "done" }), "done");
    /// ```
    pub fn build(self) -> std::io::Result<Runtime> {
        self.build_with_driver(Box::new(ThreadPark::new()))
    }

    /// Builds a runtime that parks on `driver` (the stack of time and I/O
    /// drivers, in the facade).
    ///
    /// # Errors
    ///
    /// None today; reserved for drivers that fail to start.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::park::ThreadPark;
    /// let rt = eddy_core::Builder::new()
    ///     .build_with_driver(Box::new(ThreadPark::new()))
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn build_with_driver(self, driver: Box<dyn Park>) -> std::io::Result<Runtime> {
        Ok(Runtime::from_parts(self, driver))
    }
}
