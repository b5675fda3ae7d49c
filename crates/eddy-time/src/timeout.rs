//! `timeout`, `timeout_at`, `wait_for` and the `Elapsed` error.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::driver::TimeShared;
use crate::handle::{current_shared_if, with_current, NO_RUNTIME};
use crate::instant::Instant;
use crate::registry;
use crate::sleep::Sleep;

/// A deadline passed before the operation finished; the operation was
/// cancelled (its future dropped). asyncio's `TimeoutError`.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// eddy_time::run(async {
///     let err = eddy_time::timeout(Duration::from_millis(1), std::future::pending::<()>())
///         .await
///         .unwrap_err();
///     assert!(err.to_string().contains("deadline"));
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(());

impl Elapsed {
    pub(crate) fn new() -> Elapsed {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "deadline elapsed: the operation did not finish in time and was cancelled; \
             allow more time or handle the timeout",
        )
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}

/// Runs `future` for at most `duration`: `Ok(output)` if it finished in
/// time, else `Err(Elapsed)` after the future was dropped (cancelled).
/// `Duration::MAX` never expires. The future is polled before the deadline
/// is checked, so a ready future always wins; with `Duration::ZERO` (or a
/// deadline already past, for [`timeout_at`]) it gets exactly that one
/// poll, as asyncio's `timeout(0)` lets the operation take one step.
///
/// # Cancel safety
///
/// Dropping the `Timeout` drops the inner future; it is as cancel safe as
/// that future.
///
/// # Panics
///
/// With no eddy runtime on this thread.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// eddy_time::run(async {
///     let fast = eddy_time::timeout(Duration::from_secs(1), async { 7 }).await;
///     assert_eq!(fast, Ok(7));
///     let slow = eddy_time::timeout(Duration::from_millis(1), std::future::pending::<()>()).await;
///     assert!(slow.is_err());
/// });
/// ```
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    let (driver, now) = current_driver(|shared| shared.clock.now());
    Timeout::new(driver, now + duration, future)
}

/// The entered driver's id and `f` of it, or the no-runtime panic.
#[track_caller]
fn current_driver<R>(f: impl FnOnce(&TimeShared) -> R) -> (u64, R) {
    match with_current(|shared| (shared.id, f(shared))) {
        Some(found) => found,
        None => panic!("{NO_RUNTIME}"),
    }
}

/// Driver `id`: the entered one when it is that driver (one reference
/// count), else looked up in the registry (polled from another thread).
fn driver_by_id(id: u64) -> Arc<TimeShared> {
    current_shared_if(id)
        .or_else(|| registry::find(id))
        .unwrap_or_else(|| {
            panic!(
                "the eddy runtime this timeout was created in is gone: await a timeout while \
             the runtime that made it still exists"
            )
        })
}

/// Runs `future` until `deadline`; see [`timeout`]. A past deadline gives
/// the future one poll before it expires.
///
/// # Cancel safety
///
/// As [`timeout`].
///
/// # Panics
///
/// With no eddy runtime on this thread.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// eddy_time::run(async {
///     let deadline = eddy_time::Instant::now() + Duration::from_millis(2);
///     let out = eddy_time::timeout_at(deadline, std::future::pending::<()>()).await;
///     assert!(out.is_err());
/// });
/// ```
#[track_caller]
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    let (driver, ()) = current_driver(|_| ());
    Timeout::new(driver, deadline, future)
}

/// asyncio's name for [`timeout`]: `wait_for(future, duration)`.
///
/// # Cancel safety
///
/// As [`timeout`].
///
/// # Panics
///
/// With no eddy runtime on this thread.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// eddy_time::run(async {
///     let out = eddy_time::wait_for(async { "done" }, Duration::from_secs(1)).await;
///     assert_eq!(out, Ok("done"));
/// });
/// ```
#[track_caller]
pub fn wait_for<F: Future>(future: F, duration: Duration) -> Timeout<F> {
    timeout(duration, future)
}

pin_project! {
    /// The future of [`timeout`], [`timeout_at`] and [`wait_for`].
    ///
    /// Its timer only exists if the inner future is still pending after its
    /// first poll, so a timeout around a ready future costs one clock read.
    /// Like a [`Sleep`], it belongs to the runtime it was created in (it
    /// remembers that runtime's time driver by id): it may be awaited on
    /// another thread or executor while that runtime exists.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let t = eddy_time::timeout(Duration::from_secs(1), async { 1 });
    ///     assert!(t.deadline() > eddy_time::Instant::now());
    ///     assert_eq!(t.await, Ok(1));
    /// });
    /// ```
    #[must_use = "a Timeout does nothing until awaited"]
    pub struct Timeout<F> {
        #[pin]
        future: Option<F>,
        deadline: Instant,
        // The creating runtime's time driver (see `registry.rs`).
        driver: u64,
        // Made at the first pending poll, on that driver.
        sleep: Option<Sleep>,
    }
}

impl<F> Timeout<F> {
    fn new(driver: u64, deadline: Instant, future: F) -> Timeout<F> {
        Timeout {
            future: Some(future),
            deadline,
            driver,
            sleep: None,
        }
    }

    /// When this timeout expires.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let at = eddy_time::Instant::now() + Duration::from_secs(9);
    ///     assert_eq!(eddy_time::timeout_at(at, async {}).deadline(), at);
    /// });
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let future = this
            .future
            .as_mut()
            .as_pin_mut()
            .expect("Timeout polled after it completed");
        if let Poll::Ready(out) = future.poll(cx) {
            this.future.set(None);
            return Poll::Ready(Ok(out));
        }
        let (driver, deadline) = (*this.driver, *this.deadline);
        let sleep = this
            .sleep
            .get_or_insert_with(|| Sleep::new_or_due(driver_by_id(driver), deadline));
        // Unbudgeted: the inner future may have spent the budget, and the
        // deadline must still be able to fire.
        match sleep.poll_unbudgeted(cx) {
            Poll::Ready(()) => {
                // Cancel the operation before reporting the timeout.
                this.future.set(None);
                Poll::Ready(Err(Elapsed::new()))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}
