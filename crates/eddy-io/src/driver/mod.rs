//! The reactor: [`IoDriver`] waits on epoll (through mio) and wakes the
//! tasks whose sockets became ready; [`Handle`] is how sockets find it.
//!
//! Every registration is edge-triggered and carries its own readiness word
//! with a *tick* (which reactor turn set it), so a task clearing readiness
//! after `WouldBlock` never erases an event that arrived meanwhile. Reads
//! and writes take one unit of the task's cooperative budget each, so a
//! socket that is always ready cannot starve the other tasks.

mod handle;
mod in_queue;
pub(crate) mod offload;
pub(crate) mod poll_evented;
mod reactor;
mod ready;
pub(crate) mod scheduled_io;

pub use handle::{EnterGuard, Handle};
pub use reactor::{Builder, IoDriver};
pub use ready::{Interest, Ready};
