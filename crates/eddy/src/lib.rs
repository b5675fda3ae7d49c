//! eddy: Python's asyncio, done properly in Rust.
//!
//! **What it is for.** One event loop per thread that runs tasks, timers,
//! sockets, pipes, subprocesses and signals, plus what asyncio users reach
//! for on top: gather, task groups, timeouts, queues, locks, streams,
//! executor offload and a debug mode that catches a blocked loop. This
//! crate is the facade: it wires eddy's crates into one [`Runtime`] and
//! re-exports their public names (see `docs/asyncio-map.md`).
//!
//! **What it is not for.** A work-stealing multi-threaded scheduler: each
//! loop is single-threaded like asyncio's (spawned futures need no `Send`),
//! and blocking work goes to a separate thread pool.
//!
//! # Example
//!
//! ```
//! eddy::run(async {
//!     let greet = eddy::spawn(async { "hello" });
//!     let name = eddy::spawn(async { "world" });
//!     println!("{}, {}!", greet.await.unwrap(), name.await.unwrap());
//! });
//! ```
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![warn(clippy::missing_errors_doc)]

#[cfg(feature = "blocking")]
mod blocking_task;
mod builder;
mod handle;
mod runtime;
mod stack;
#[cfg(feature = "time")]
mod wait;

#[cfg(feature = "blocking")]
pub use blocking_task::{spawn_blocking, to_thread};
pub use builder::Builder;
pub use eddy_core::task::{
    as_completed, gather_all, shield, try_gather_all, ErrorGroup, ReturnWhen, TaskGroup,
};
pub use eddy_core::{
    call_soon, coop, gather, spawn, try_gather, yield_now, CallbackHandle, JoinError, JoinHandle,
    SpawnError, TaskId, UnhandledPanic,
};
pub use handle::Handle;
pub use runtime::{run, Runtime};

#[cfg(feature = "time")]
pub use eddy_time::{call_at, call_later, sleep, wait_for};
#[cfg(feature = "time")]
pub use wait::{as_completed_with_timeout, wait, wait_by};

#[cfg(feature = "macros")]
pub use eddy_macros::{main, test};

/// Tasks: naming, introspection (asyncio's `current_task`, `all_tasks`),
/// and the types of the structured-concurrency toolkit.
pub mod task {
    pub use eddy_core::task::*;
}

/// Timers (asyncio's `sleep`, `wait_for`, `timeout()`/`timeout_at()`,
/// `call_later`/`call_at`) and the test clock.
#[cfg(feature = "time")]
pub mod time {
    pub use eddy_time::{
        advance, call_at, call_later, deadline, deadline_at, inhibit_auto_advance, interval,
        interval_at, pause, resume, sleep, sleep_until, timeout, timeout_at, wait_for,
        AutoAdvanceInhibitor, Deadline, DeadlineHandle, Elapsed, Instant, Interval,
        MissedTickBehavior, Sleep, Timeout, TimerHandle,
    };
}

/// asyncio streams (`open_connection`, `start_server`, `StreamReader`,
/// `StreamWriter`, `Server`) and readiness for raw descriptors (`AsyncFd`,
/// asyncio's `add_reader`/`add_writer`).
#[cfg(feature = "io")]
pub mod io {
    pub use eddy_io::driver::{Interest, Ready};
    pub use eddy_io::io::*;
}

/// Sockets: TCP, UDP and Unix-domain (asyncio's transports).
#[cfg(feature = "net")]
pub mod net {
    pub use eddy_io::net::*;
}

/// Subprocesses (asyncio's `create_subprocess_exec`/`_shell`): `Command`
/// → `Child` with async pipes, `wait`, `communicate`, `kill`.
#[cfg(feature = "process")]
pub mod process {
    pub use eddy_io::process::*;
}

/// Unix signals (asyncio's `add_signal_handler`): `ctrl_c()` and signal
/// streams.
#[cfg(feature = "signal")]
pub mod signal {
    pub use eddy_io::signal::*;
}

/// The blocking pool (asyncio's default executor): [`Pool`](blocking::Pool)
/// for pools of your own, [`BlockingTask`](blocking::BlockingTask) for
/// results of [`spawn_blocking`]/[`to_thread`].
#[cfg(feature = "blocking")]
pub mod blocking {
    pub use crate::blocking_task::BlockingTask;
    pub use eddy_blocking::{
        BlockingHandle, BuildError, Builder, EnterGuard, JoinError, Pool, ShutdownReport,
        SpawnError,
    };
}

/// Async file-system functions and [`File`](fs::File), run on the
/// runtime's blocking pool.
#[cfg(feature = "fs")]
pub mod fs {
    pub use eddy_blocking::fs::*;
}

/// Locks, events, conditions, semaphores, barrier, queues and channels
/// (asyncio's synchronization primitives and queues); runtime-agnostic.
#[cfg(feature = "sync")]
pub mod sync {
    pub use eddy_sync::*;
}

/// The names most programs need, for `use eddy::prelude::*`.
pub mod prelude {
    pub use crate::{run, spawn, yield_now, JoinHandle, TaskGroup};
    #[cfg(feature = "time")]
    pub use crate::{sleep, wait_for};
}

/// The code in `docs/guide.md`, compiled and run as doc tests so the guide
/// cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide.md")]
pub struct GuideDoctests;

/// The README's code, run as a doc test so the first program a newcomer
/// sees keeps working.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
