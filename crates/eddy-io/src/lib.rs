//! eddy-io: the I/O half of eddy — a mio reactor, sockets, asyncio-style
//! streams and servers, subprocesses, signals and async stdio.
//!
//! The reactor ([`driver::IoDriver`]) is the innermost `Park` of eddy's
//! driver stack (core loop → time driver → io driver). Everything else in
//! this crate registers file descriptors with it through the current
//! [`driver::Handle`], which the facade `eddy` enters on the loop thread.
//!
//! Work in progress (issues 6 and 8): the modules below are being filled in.
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod driver;
pub mod io;
mod loom;
#[cfg(feature = "net")]
pub mod net;
#[cfg(feature = "process")]
pub mod process;
#[cfg(feature = "signal")]
pub mod signal;
