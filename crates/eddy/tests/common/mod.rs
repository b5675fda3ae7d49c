//! Helpers shared by the facade's tests (io_cancel_stress.rs,
//! stream_cancel_wiring.rs, blocking_io_wiring.rs): eddy-io's stress
//! helpers, one copy for both crates.

#![allow(dead_code, unused_imports)]

#[path = "../../../eddy-io/tests/common/stress.rs"]
mod stress;

pub use stress::{guarded, Rng};
