//! Helpers shared by the facade's tests: eddy-io's stress helpers (for
//! io_cancel_stress.rs, stream_cancel_wiring.rs, blocking_io_wiring.rs),
//! one copy for both crates, and the asyncio ports' helpers (`port`).

#![allow(dead_code, unused_imports)]

#[path = "../../../eddy-io/tests/common/stress.rs"]
mod stress;

pub use stress::{guarded, Rng};

pub mod port;
