//! The facade's [`Builder`]: the loop's settings plus the drivers'.

use std::time::Duration;

use eddy_core::UnhandledPanic;

use crate::stack::{Stack, StackConfig};
use crate::Runtime;

/// Configures a [`Runtime`]: the loop's settings plus the drivers'.
///
/// # Example
///
/// ```
/// let rt = eddy::Builder::new().debug(false).build().unwrap();
/// assert_eq!(rt.block_on(async { 2 + 2 }), 4);
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    core: eddy_core::Builder,
    stack: StackConfig,
    blocking_shutdown: Duration,
    /// `thread_name`, checked by `build` whichever drivers are compiled in.
    thread_name: Option<String>,
}

/// asyncio's `shutdown_default_executor` waits this long.
const DEFAULT_BLOCKING_SHUTDOWN: Duration = Duration::from_secs(300);

/// The same as [`Builder::new`] (a derived `Default` would wait zero
/// seconds for blocking jobs at shutdown instead of 300).
///
/// # Example
///
/// ```
/// let rt = eddy::Builder::default().build().unwrap();
/// assert_eq!(rt.block_on(async { 1 }), 1);
/// ```
impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
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
            stack: StackConfig::default(),
            blocking_shutdown: DEFAULT_BLOCKING_SHUTDOWN,
            thread_name: None,
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

    /// A name for the loop, used in diagnostics and for its helper threads:
    /// the blocking pool's are `NAME-blocking-N`, the debug watchdog is
    /// `NAME-watchdog`. [`build`](Self::build) refuses a name with a NUL
    /// byte (no thread can be named so).
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Builder::new().thread_name("main-loop").build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        let name = name.into();
        #[cfg(feature = "blocking")]
        {
            self.stack.thread_name = Some(name.clone());
        }
        self.core = self.core.thread_name(name.clone());
        self.thread_name = Some(name);
        self
    }

    /// Start with the test clock paused: time stands still until
    /// [`time::advance`](crate::time::advance), and whenever the loop has
    /// nothing ready it jumps to the next deadline, so a test of a one-hour
    /// timeout runs in microseconds (`#[eddy::test(start_paused = true)]`).
    ///
    /// A job on the blocking pool (`to_thread`, `eddy::fs`) holds the
    /// clock still while it runs, but waiting on a child process, a socket
    /// whose peer is another thread or program, or a signal counts as
    /// nothing ready: the clock jumps past it, and a `wait_for` around it
    /// expires at once, as under tokio's paused clock. Keep such tests on
    /// the running clock. Sockets between tasks of this loop (a server and
    /// its clients) are fine: events already waiting are dispatched before
    /// the clock jumps.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = eddy::Builder::new().start_paused(true).build().unwrap();
    /// let slept = rt.block_on(async {
    ///     let start = eddy::time::Instant::now();
    ///     eddy::sleep(Duration::from_secs(3600)).await;
    ///     start.elapsed()
    /// });
    /// assert!(slept >= Duration::from_secs(3600));
    /// ```
    #[cfg(feature = "time")]
    pub fn start_paused(mut self, paused: bool) -> Builder {
        self.stack.start_paused = paused;
        self
    }

    /// The most threads the runtime's blocking pool starts (default 512).
    /// Zero is refused by [`build`](Self::build).
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Builder::new().max_blocking_threads(8).build().unwrap();
    /// ```
    #[cfg(feature = "blocking")]
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        self.stack.max_blocking_threads = Some(n);
        self
    }

    /// How long an idle blocking thread lives before it exits (default
    /// 10 s).
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Builder::new()
    ///     .blocking_keep_alive(std::time::Duration::from_secs(1))
    ///     .build()
    ///     .unwrap();
    /// ```
    #[cfg(feature = "blocking")]
    pub fn blocking_keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.stack.blocking_keep_alive = Some(keep_alive);
        self
    }

    /// How long dropping the runtime (and the end of [`eddy::run`](crate::run))
    /// waits for blocking jobs still running (default 300 s, as asyncio's
    /// `shutdown_default_executor`). Jobs still running then are left to
    /// finish on their own threads, with a warning.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Builder::new()
    ///     .blocking_shutdown_timeout(std::time::Duration::from_secs(5))
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn blocking_shutdown_timeout(mut self, timeout: Duration) -> Builder {
        self.blocking_shutdown = timeout;
        self
    }

    /// Builds the runtime.
    ///
    /// # Errors
    ///
    /// When a driver fails to start (for example the OS refuses an epoll
    /// instance); the error says which. `InvalidInput` for settings no
    /// runtime can have: a [`thread_name`](Self::thread_name) with a NUL
    /// byte, zero `max_blocking_threads`.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy::Builder::new().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn build(self) -> std::io::Result<Runtime> {
        // Checked here, not left to the drivers: std panics when asked to
        // name a thread so (debug mode's watchdog would, without the
        // blocking pool's own check).
        if let Some(name) = self.thread_name.as_deref().filter(|n| n.contains('\0')) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "Builder::thread_name {name:?} contains a NUL byte, which no thread name \
                     can hold: remove it"
                ),
            ));
        }
        let (stack, driver) = Stack::build(&self.stack)?;
        let core = self.core.build_with_driver(driver)?;
        Ok(Runtime::from_parts(core, stack, self.blocking_shutdown))
    }
}
