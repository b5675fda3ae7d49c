//! eddy-blocking: the work-stealing pool for blocking offload (spawn_blocking, to_thread, fs).
//!
//! Not built yet: this crate is reserved in the workspace layout and has no
//! public items. Its work is tracked in issue 5; until it lands, the
//! facade `eddy` does not re-export anything from it.
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]
