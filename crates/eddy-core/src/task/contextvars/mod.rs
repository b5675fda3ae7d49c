//! Context variables: asyncio's `contextvars` ([`ContextVar`],
//! [`ContextToken`], [`copy_context`], [`ContextSnapshot`]).
//!
//! A context is a set of variable values that follows the flow of
//! execution: every task has its own, which starts as a copy of its
//! spawner's; callbacks run in a copy of the context where they were
//! scheduled; the `block_on` future has one; a thread with no loop has
//! one. How they are stored and found is in `map.rs` and `place.rs`.
//!
//! # Example
//!
//! ```
//! use eddy_core::task::ContextVar;
//!
//! static REQUEST_ID: ContextVar<u64> = ContextVar::new("request_id");
//!
//! async fn log(msg: &str) -> String {
//!     format!("[{}] {msg}", REQUEST_ID.get().unwrap_or(0))
//! }
//!
//! eddy_core::run(async {
//!     let handlers: Vec<_> = (1..=2)
//!         .map(|id| {
//!             eddy_core::spawn(async move {
//!                 REQUEST_ID.set(id);
//!                 eddy_core::yield_now().await; // the other handler runs here
//!                 log("done").await
//!             })
//!         })
//!         .collect();
//!     let mut lines = Vec::new();
//!     for h in handlers {
//!         lines.push(h.await.unwrap());
//!     }
//!     assert_eq!(lines, ["[1] done", "[2] done"]);
//!     assert_eq!(REQUEST_ID.get(), None); // the tasks' sets stayed theirs
//! });
//! ```

mod callback;
mod map;
mod place;
mod snapshot;
mod token;
mod var;

pub use snapshot::{copy_context, ContextSnapshot};
pub use token::{ContextResetError, ContextToken};
pub use var::ContextVar;

pub(crate) use callback::{capture_for_callback, capture_for_remote_callback};
pub(crate) use map::Map;
pub(crate) use place::{current, current_in, LoopContext};
