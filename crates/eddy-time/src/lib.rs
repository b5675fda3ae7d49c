//! eddy-time: timers for eddy's event loop.
//!
//! **What it is for.** A hierarchical timing wheel (1 ms ticks, O(1) insert
//! and cancel) inside a [`TimeDriver`] that wraps an inner
//! [`Park`](eddy_core::park::Park) driver, and everything asyncio builds on
//! timers: [`sleep`], [`interval`], [`timeout`] / [`wait_for`], deadline
//! scopes that can be rescheduled while they run ([`deadline`]),
//! [`call_later`] / [`call_at`] callbacks, and a test clock ([`pause`],
//! [`advance`], [`resume`]) under which a one-hour timeout test runs in
//! microseconds. [`Instant`] follows that clock.
//!
//! **What it is not for.** Wall-clock time (dates, time zones) and
//! sub-millisecond precision: deadlines are rounded up to the next
//! millisecond, so a timer never fires early. Most programs use this crate
//! through the facade `eddy` (`eddy::sleep`, `eddy::time::*`), whose
//! runtime stacks the time driver on the I/O driver; [`run`] is this
//! crate's own minimal runtime (eddy-core's loop plus the time driver).
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use eddy_time::{sleep, timeout, Instant};
//!
//! eddy_time::run(async {
//!     let start = Instant::now();
//!     // Two sleeps on one loop run concurrently: ~10 ms in all, not 20.
//!     let a = eddy_core::spawn(sleep(Duration::from_millis(10)));
//!     let b = eddy_core::spawn(sleep(Duration::from_millis(10)));
//!     a.await.unwrap();
//!     b.await.unwrap();
//!     assert!(start.elapsed() >= Duration::from_millis(10));
//!
//!     let slow = timeout(Duration::from_millis(5), sleep(Duration::from_secs(60))).await;
//!     assert!(slow.is_err());
//! });
//! ```
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![warn(clippy::missing_errors_doc)]
#![forbid(unsafe_code)]

mod callback;
mod clock;
mod driver;
mod handle;
mod instant;
mod interval;
mod loom;
mod registry;
mod scope;
mod sleep;
mod test_clock;
mod timeout;
mod wheel;

use std::future::Future;

pub use callback::{call_at, call_later, TimerHandle};
pub use driver::{DriverBuilder, TimeDriver};
pub use handle::{AutoAdvanceInhibitor, EnterGuard, Handle};
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use scope::{deadline, deadline_at, Deadline, DeadlineHandle};
pub use sleep::{sleep, sleep_until, Sleep};
pub use test_clock::{advance, inhibit_auto_advance, pause, resume};
pub use timeout::{timeout, timeout_at, wait_for, Elapsed, Timeout};

/// Runs `future` on a fresh eddy-core loop with a time driver (on
/// eddy-core's thread-parking driver), then shuts it down: this crate's
/// `asyncio.run`. The facade's `eddy::run` adds I/O and the blocking pool.
///
/// # Panics
///
/// Inside a running eddy loop, and when `future` panics.
///
/// # Example
///
/// ```
/// let out = eddy_time::run(async {
///     eddy_time::sleep(std::time::Duration::from_millis(1)).await;
///     5
/// });
/// assert_eq!(out, 5);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    let driver = TimeDriver::new(eddy_core::park::ThreadPark::new());
    let handle = driver.handle();
    let rt = eddy_core::Builder::new()
        .build_with_driver(Box::new(driver))
        .expect("eddy: the thread-parking driver cannot fail to start");
    let _guard = handle.enter();
    let out = rt.block_on(future);
    rt.shutdown();
    out
}
