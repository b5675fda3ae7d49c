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
#[derive(Clone, Debug, Default)]
pub struct Builder {
    core: eddy_core::Builder,
    stack: StackConfig,
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

    /// Start with the test clock paused: time stands still until
    /// [`time::advance`](crate::time::advance), and whenever the loop has
    /// nothing ready it jumps to the next deadline, so a test of a one-hour
    /// timeout runs in microseconds (`#[eddy::test(start_paused = true)]`).
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
        let (stack, driver) = Stack::build(&self.stack)?;
        let core = self.core.build_with_driver(driver)?;
        Ok(Runtime::from_parts(core, stack))
    }
}
