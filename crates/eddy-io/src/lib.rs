//! eddy-io: the mio reactor, sockets, asyncio streams and servers (issue 6) and processes, signals, stdio (issue 8).
//!
//! Not built yet: this crate is reserved in the workspace layout and has no
//! public items. Its work is tracked in issue 6; until it lands, the
//! facade `eddy` does not re-export anything from it.
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]
