//! The driver stack behind a facade [`Runtime`](crate::Runtime): which
//! drivers exist (by cargo feature), how they nest, and the guards that make
//! them current on the loop thread.
//!
//! The stack is `core loop → time driver → I/O driver`, with eddy-core's
//! thread-parking driver at the bottom when the reactor is compiled out.
//! This file is the only place in the facade that asks which features are
//! on; every other module is gated as a whole in `lib.rs`.

use eddy_core::park::Park;

/// Settings the drivers take from the facade's `Builder`.
#[derive(Clone, Debug, Default)]
pub(crate) struct StackConfig {
    /// Start the test clock paused (`Builder::start_paused`).
    #[cfg(feature = "time")]
    pub(crate) start_paused: bool,
    /// `Builder::max_blocking_threads`; `None` keeps the pool's default.
    #[cfg(feature = "blocking")]
    pub(crate) max_blocking_threads: Option<usize>,
    /// `Builder::blocking_keep_alive`; `None` keeps the pool's default.
    #[cfg(feature = "blocking")]
    pub(crate) blocking_keep_alive: Option<std::time::Duration>,
    /// `Builder::thread_name`: the pool's threads are `NAME-blocking-N`.
    #[cfg(feature = "blocking")]
    pub(crate) thread_name: Option<String>,
}

/// Handles to the drivers of one runtime, kept so the loop thread can
/// enter them.
#[derive(Clone, Debug)]
pub(crate) struct Stack {
    #[cfg(feature = "time")]
    pub(crate) time: eddy_time::Handle,
    #[cfg(feature = "io")]
    pub(crate) io: eddy_io::driver::Handle,
    #[cfg(feature = "blocking")]
    pub(crate) blocking: eddy_blocking::Pool,
}

/// While alive, every driver of a [`Stack`] is current on this thread.
/// Each guard puts back what its own driver's slot held before, so the
/// order the fields drop in (declaration order, the order they were
/// entered in) does not matter.
pub(crate) struct Entered {
    #[cfg(feature = "blocking")]
    _blocking: eddy_blocking::EnterGuard,
    #[cfg(feature = "io")]
    _io: eddy_io::driver::EnterGuard,
    #[cfg(feature = "time")]
    _time: eddy_time::EnterGuard,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Stack {
    /// Builds the drivers, innermost first, and returns their handles with
    /// the outermost driver for the core loop to park on.
    pub(crate) fn build(config: &StackConfig) -> std::io::Result<(Stack, Box<dyn Park>)> {
        let _ = config;
        #[cfg(feature = "sync")]
        Stack::install_sync_budget();
        #[cfg(feature = "blocking")]
        let blocking = {
            let mut b = eddy_blocking::Pool::builder();
            if let Some(n) = config.max_blocking_threads {
                b = b.max_threads(n);
            }
            if let Some(d) = config.blocking_keep_alive {
                b = b.keep_alive(d);
            }
            if let Some(name) = &config.thread_name {
                b = b.thread_name(format!("{name}-blocking"));
            }
            // Every job queued from a thread that runs a runtime (the fs
            // functions, File operations, the reactor's name lookups,
            // spawn_blocking) holds that runtime's paused test clock until
            // the job is over: the loop is waiting for real work, not for
            // a timer. The pool keeps the hold with the job and lets it go
            // as the job ends, or, when a task already waits for the
            // result, once that task has it (see `Builder::on_submit`).
            // The hold is taken from the submitting thread's current
            // clock, not from a handle kept here: the hook lives in the
            // pool, and a time handle in it would tie the pool to the
            // drivers that hold the pool.
            #[cfg(feature = "time")]
            {
                b = b.on_submit(Stack::hold_current_clock);
            }
            b.build()
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?
        };
        #[cfg(feature = "io")]
        let io_builder = eddy_io::driver::IoDriver::builder();
        // Name resolution and other blocking helpers of the reactor run on
        // the runtime's pool rather than on a thread each, holding the
        // paused clock like any blocking job through the pool's submit
        // hook (the reactor asks for the job on the loop thread).
        #[cfg(all(feature = "io", feature = "blocking"))]
        let io_builder = {
            let pool = blocking.clone();
            io_builder.offload(move |job| pool.spawn(job).detach())
        };
        #[cfg(feature = "io")]
        let inner = io_builder.build()?;
        #[cfg(feature = "io")]
        let io = inner.handle();
        #[cfg(not(feature = "io"))]
        let inner = eddy_core::park::ThreadPark::new();
        #[cfg(feature = "time")]
        let outer = eddy_time::DriverBuilder::new()
            .start_paused(config.start_paused)
            .build(inner);
        #[cfg(not(feature = "time"))]
        let outer = inner;
        let stack = Stack {
            #[cfg(feature = "time")]
            time: outer.handle(),
            #[cfg(feature = "io")]
            io,
            #[cfg(feature = "blocking")]
            blocking,
        };
        Ok((stack, Box::new(outer)))
    }

    /// Makes eddy-sync's awaiting operations (channels, queues, locks,
    /// events, ...) ask eddy-core's cooperative budget, so a task that keeps
    /// finding them ready yields like one reading a ready socket. The hook
    /// is process-wide and the first one installed stays; every runtime
    /// installs the same one. Outside an eddy task the core budget is
    /// unconstrained, so the primitives on other executors are unaffected.
    #[cfg(feature = "sync")]
    fn install_sync_budget() {
        use std::task::{Context, Poll, Waker};

        use eddy_core::coop;

        /// Refuses once the task's budget is spent (eddy-core wakes the
        /// task); takes nothing, so a poll that then finds nothing to do
        /// costs nothing.
        fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
            if coop::has_budget_remaining() {
                Poll::Ready(())
            } else {
                coop::poll_proceed(cx).map(drop)
            }
        }
        /// Charges the unit for an operation that completed.
        fn made_progress() {
            // `poll_proceed` let the operation through, so there is budget
            // left; were it spent meanwhile, nothing is charged and the
            // wake eddy-core would send goes nowhere.
            let mut cx = Context::from_waker(Waker::noop());
            if let Poll::Ready(unit) = coop::poll_proceed(&mut cx) {
                unit.made_progress();
            }
        }
        let _ = eddy_sync::budget::set_hook(eddy_sync::budget::Hook {
            poll_proceed,
            made_progress,
        });
    }

    /// The drivers entered on this thread, if a facade runtime is running
    /// here.
    pub(crate) fn try_current() -> Option<Stack> {
        Some(Stack {
            #[cfg(feature = "time")]
            time: eddy_time::Handle::try_current()?,
            #[cfg(feature = "io")]
            io: eddy_io::driver::Handle::try_current()?,
            #[cfg(feature = "blocking")]
            blocking: eddy_blocking::Pool::try_current()?,
        })
    }

    /// Makes every driver current on this thread until the guard drops.
    pub(crate) fn enter(&self) -> Entered {
        Entered {
            #[cfg(feature = "blocking")]
            _blocking: self.blocking.enter(),
            #[cfg(feature = "io")]
            _io: self.io.enter(),
            #[cfg(feature = "time")]
            _time: self.time.enter(),
            _not_send: std::marker::PhantomData,
        }
    }
}

/// Holds a paused test clock back while a blocking job runs: the clock
/// must not jump to the next deadline while the loop waits for work on
/// another thread. The pool keeps it with the job (the runtime pool's
/// submit hook, or `Pool::spawn_with_guard`): let go when the job ends,
/// or, if a task already awaits the result, once that task has read it.
#[cfg(feature = "blocking")]
#[derive(Debug)]
pub(crate) struct ClockHold {
    #[cfg(feature = "time")]
    _inhibitor: Option<eddy_time::AutoAdvanceInhibitor>,
}

impl Stack {
    /// A [`ClockHold`] on this stack's clock, for a job about to be queued.
    #[cfg(feature = "blocking")]
    pub(crate) fn hold_clock(&self) -> ClockHold {
        ClockHold {
            #[cfg(feature = "time")]
            _inhibitor: Some(self.time.inhibit_auto_advance()),
        }
    }

    /// A [`ClockHold`] on the clock current on this thread, if any: what
    /// the runtime pool's submit hook takes for every job.
    #[cfg(feature = "blocking")]
    pub(crate) fn hold_current_clock() -> ClockHold {
        ClockHold {
            #[cfg(feature = "time")]
            _inhibitor: eddy_time::Handle::try_current().map(|h| h.inhibit_auto_advance()),
        }
    }

    /// Stops the blocking pool (asyncio's `shutdown_default_executor`):
    /// queued jobs are cancelled, running ones get `timeout` to finish.
    pub(crate) fn shutdown_blocking(&self, timeout: std::time::Duration) {
        let _ = timeout;
        #[cfg(feature = "blocking")]
        {
            let report = self.blocking.shutdown_timeout(timeout);
            if report.still_running > 0 {
                tracing::warn!(
                    "eddy: {} blocking job(s) still running {timeout:?} after the runtime \
                     ended; they were left to finish on their own",
                    report.still_running
                );
            }
        }
    }
}
