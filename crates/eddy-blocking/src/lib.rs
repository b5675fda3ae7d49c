//! eddy-blocking: a work-stealing thread pool for blocking work — asyncio's
//! `to_thread` / `run_in_executor`, plus async file-system functions.
//!
//! **What it is for.** Calls that block a thread — file I/O, DNS through
//! libc, compression, a synchronous database driver — must not run on an
//! event loop thread. [`Pool::spawn`] (or [`spawn_blocking`] / [`to_thread`]
//! on the current pool) runs them on a pool thread and gives back a
//! [`BlockingHandle`], a future that any executor can await. Threads start
//! on demand (up to 512 by default), steal work from each other, and exit
//! after 10 s without work.
//!
//! **What it is not for.** CPU-parallel data processing (use a fork-join
//! library such as rayon: this pool starts a thread per concurrent job rather
//! than keeping one per core), and async work (spawn tasks on the runtime).
//! A job that has started cannot be interrupted: dropping its handle only
//! cancels a job that is still queued.
//!
//! ```
//! use eddy_blocking::Pool;
//!
//! let pool = Pool::new();
//! let _guard = pool.enter(); // what an eddy runtime does on its loop thread
//! let answer = futures::executor::block_on(async {
//!     let a = eddy_blocking::to_thread(|| 6);
//!     let b = pool.spawn(|| 7);
//!     a.await.unwrap() * b.await.unwrap()
//! });
//! assert_eq!(answer, 42);
//! ```
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![warn(clippy::missing_errors_doc)]

mod context;
mod error;
mod guard;
mod job;
mod loom;
mod pool;
mod sleep;
mod worker;

#[cfg(feature = "fs")]
pub mod fs;

pub use context::{spawn_blocking, to_thread, EnterGuard};
pub use error::{BuildError, JoinError, SpawnError};
pub use job::BlockingHandle;
pub use pool::{Builder, Pool, ShutdownReport};

/// Internals exposed to the loom models in `tests/loom_pool.rs` only.
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_internals {
    pub use crate::job::{new_job, Run};
    pub use crate::sleep::{Park, Sleep, Submit, Waiter};
}
