//! eddy-core: the event loop and task system of eddy.
//!
//! **What it is for.** A single-threaded event loop in the style of
//! Python's asyncio: [`spawn`] tasks (no `Send` bound), await their
//! [`JoinHandle`]s, cancel them, schedule plain callbacks with
//! [`call_soon`], and reach the loop from other threads through a
//! [`Handle`]. The loop blocks on a [`park::Park`] driver when it has
//! nothing to run; debug mode reports slow polls and a blocked loop.
//!
//! **What it is not for.** Timers, sockets, processes and signals live in
//! `eddy-time` and `eddy-io`, which plug in as `Park` drivers; locks and
//! queues live in `eddy-sync`; blocking work goes to `eddy-blocking`. Most
//! programs use the facade crate `eddy`, which wires all of them.
//!
//! # Example
//!
//! ```
//! let total = eddy_core::run(async {
//!     let tasks: Vec<_> = (1..=3).map(|i| eddy_core::spawn(async move { i * 10 })).collect();
//!     let mut sum = 0;
//!     for t in tasks {
//!         sum += t.await.unwrap();
//!     }
//!     sum
//! });
//! assert_eq!(total, 60);
//! ```
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![warn(clippy::missing_errors_doc)]

mod callback;
pub mod coop;
mod loom;
#[cfg(all(test, loom))]
mod loom_tests;
pub mod park;
mod runtime;
pub mod task;

pub use callback::{call_soon, CallbackHandle};
pub use runtime::{run, Builder, Handle, Runtime, SpawnError, UnhandledPanic};
pub use task::{
    as_completed, gather_all, shield, try_gather_all, wait, wait_with, ErrorGroup, ReturnWhen,
    TaskGroup,
};
pub use task::{spawn, yield_now, JoinError, JoinHandle, TaskId};

/// Support for eddy's driver crates: callbacks a driver queues or holds on
/// behalf of its caller (eddy-time's `call_later`/`call_at`), and whether
/// the loop has work queued (eddy-time's paused clock jumps only when it
/// has none). Not a public API.
#[doc(hidden)]
pub mod __driver {
    pub use crate::callback::{call_soon_from, ParkedCallback};
    pub use crate::runtime::context::has_ready_work;
}

/// Support for this crate's macros (`gather!`, `try_gather!`); not a
/// public API.
#[doc(hidden)]
pub mod __private {
    pub use futures_util::{join, try_join};
}
