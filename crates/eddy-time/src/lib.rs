//! eddy-time: the timer wheel and time driver (sleep, interval, timeouts, deadline scopes, call_later, test clock).
//!
//! Not built yet: this crate is reserved in the workspace layout and has no
//! public items. Its work is tracked in issue 3; until it lands, the
//! facade `eddy` does not re-export anything from it.
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]
