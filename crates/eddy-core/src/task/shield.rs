//! `shield` (asyncio's `asyncio.shield`): protect work from the
//! cancellation of whoever awaits it.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::wait::{sealed, TaskHandle};
use super::{spawn_local_inner, CancelHandle, JoinError, JoinHandle, TaskId};

/// Runs `future` as its own task, right away, and returns a future for its
/// result (asyncio's `shield`). Cancelling or dropping the returned future
/// (for example because the task awaiting it was cancelled, or a timeout
/// expired) leaves the inner task running to completion. Awaiting gives
/// `Ok(output)`, or a [`JoinError`] if the inner task itself was cancelled
/// (`is_cancelled()`, e.g. via [`Shielded::cancel`] or runtime shutdown) or
/// panicked.
///
/// # Panics
///
/// With no eddy runtime on this thread.
///
/// # Example
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// use eddy_core::{spawn, task::shield, yield_now};
/// # eddy_core::run(async { spawn(async {
/// let saved = Rc::new(Cell::new(false));
/// let s = saved.clone();
/// let outer = spawn(async move {
///     shield(async move {
///         for _ in 0..3 {
///             yield_now().await; // e.g. write a file
///         }
///         s.set(true); // e.g. commit a transaction
///     })
///     .await
/// });
/// yield_now().await; // the outer task is now awaiting the shield
/// outer.cancel();
/// assert!(outer.await.unwrap_err().is_cancelled());
/// assert!(!saved.get());
/// for _ in 0..5 {
///     yield_now().await;
/// }
/// assert!(saved.get()); // the shielded work finished anyway
/// # }).await.unwrap() });
/// ```
#[track_caller]
pub fn shield<F>(future: F) -> Shielded<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Shielded {
        handle: spawn_local_inner(future, None, Location::caller()),
    }
}

/// The future [`shield`] returns.
///
/// # Cancel safety
///
/// Cancel-safe, which is its purpose: dropping it leaves the inner task
/// running; its output is dropped when it completes (a panic nobody joins
/// goes to the runtime's unhandled-panic policy).
///
/// # Example
///
/// ```
/// eddy_core::run(async {
///     let shielded = eddy_core::task::shield(async { 3 });
///     assert_eq!(shielded.await.unwrap(), 3);
/// });
/// ```
#[must_use = "dropping a Shielded detaches its task; await it to get the result"]
pub struct Shielded<T> {
    handle: JoinHandle<T>,
}

impl<T> Shielded<T> {
    /// Cancels the inner task itself (the one thing a shield does not
    /// prevent); awaiting then gives a cancelled [`JoinError`].
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let shielded = eddy_core::task::shield(std::future::pending::<()>());
    ///     shielded.cancel();
    ///     assert!(shielded.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancel(&self) {
        self.handle.cancel();
    }

    /// A [`CancelHandle`] for the inner task: cancelling through it is
    /// [`cancel`](Self::cancel), from any thread, without owning the
    /// output.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let shielded = eddy_core::task::shield(std::future::pending::<()>());
    ///     shielded.cancel_handle().cancel();
    ///     assert!(shielded.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    #[doc(alias = "abort_handle")]
    pub fn cancel_handle(&self) -> CancelHandle {
        self.handle.cancel_handle()
    }

    /// The inner task's id.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let shielded = eddy_core::task::shield(async {});
    ///     assert!(eddy_core::task::all().iter().any(|t| t.id() == shielded.id()));
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.handle.id()
    }

    /// The inner task's [`JoinHandle`].
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let handle = eddy_core::task::shield(async { 1 }).into_handle();
    ///     assert_eq!(handle.await.unwrap(), 1);
    /// });
    /// ```
    pub fn into_handle(self) -> JoinHandle<T> {
        self.handle
    }
}

impl<T> Future for Shielded<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.handle).poll(cx)
    }
}

impl<T> sealed::Sealed<T> for Shielded<T> {
    fn take_finished_output(&mut self) -> Option<Result<T, JoinError>> {
        self.handle.try_take_output()
    }

    fn forget_join_waker(&mut self) {
        self.handle.forget_waker();
    }
}

/// For [`wait`](super::wait): a pending shielded task comes back as a
/// `Shielded`.
impl<T> TaskHandle<T> for Shielded<T> {
    fn id(&self) -> TaskId {
        Shielded::id(self)
    }

    fn cancel(&self) {
        Shielded::cancel(self);
    }

    fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

impl<T> fmt::Debug for Shielded<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shielded")
            .field("handle", &self.handle)
            .finish()
    }
}
