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

mod runtime;

pub use eddy_core::task::{
    as_completed, gather_all, shield, try_gather_all, ErrorGroup, ReturnWhen, TaskGroup,
};
pub use eddy_core::{
    call_soon, coop, gather, spawn, try_gather, yield_now, CallbackHandle, Handle, JoinError,
    JoinHandle, SpawnError, TaskId, UnhandledPanic,
};
pub use runtime::{run, Builder, Runtime};

#[cfg(feature = "macros")]
pub use eddy_macros::{main, test};

/// Tasks: naming, introspection (asyncio's `current_task`, `all_tasks`).
pub mod task {
    pub use eddy_core::task::{
        all, current, spawn, yield_now, Builder, JoinError, JoinHandle, TaskId, TaskInfo, TaskState,
    };
}

/// The names most programs need, for `use eddy::prelude::*`.
pub mod prelude {
    pub use crate::{run, spawn, yield_now, JoinHandle};
}
