//! [`CancelOnDrop`]: a [`JoinHandle`] whose task is cancelled when the
//! handle is dropped before the task finished — asyncio's rule that
//! cancelling the awaiter of a task cancels the task.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::wait::{sealed, TaskHandle};
use super::{CancelHandle, JoinError, JoinHandle, TaskId};

/// A task handle that cancels its task when dropped unfinished: from
/// [`JoinHandle::cancel_on_drop`].
///
/// A plain [`JoinHandle`] detaches its task when dropped (the task runs
/// on). asyncio instead cancels a task whose awaiter is cancelled:
/// `wait_for(task, t)` cancels the task on timeout, and cancelling a
/// `gather` or a coroutine awaiting a task cancels the task. Wrap the
/// handle to get that: dropping a `CancelOnDrop` — because a timeout
/// expired, a `select!` took another branch, a `gather_all` was dropped or
/// the task awaiting it was cancelled — cancels the task, as
/// [`JoinHandle::cancel`] does. Once the task has finished, dropping it
/// does nothing. [`detach`](Self::detach) gives the plain handle back.
///
/// # Cancel safety
///
/// Dropping the await cancels the task: that is the point. Await
/// `&mut` of it (or use [`detach`](Self::detach)) to wait again later.
///
/// # Example
///
/// ```
/// use std::future::pending;
/// eddy_core::run(async {
///     let handle = eddy_core::spawn(pending::<()>());
///     let id = handle.id();
///     let guarded = handle.cancel_on_drop();
///     drop(guarded); // e.g. a timeout around `guarded.await` expired
///     eddy_core::yield_now().await;
///     assert!(eddy_core::task::all().iter().all(|t| t.id() != id));
/// });
/// ```
#[must_use = "dropping a CancelOnDrop cancels its task at once"]
pub struct CancelOnDrop<T> {
    /// `None` after `detach`.
    handle: Option<JoinHandle<T>>,
}

impl<T> JoinHandle<T> {
    /// Makes dropping the handle cancel the task, as asyncio cancels a
    /// task whose awaiter is cancelled (see [`CancelOnDrop`]). Awaiting it
    /// gives what awaiting the handle gives.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let task = eddy_core::spawn(async { 6 * 7 }).cancel_on_drop();
    ///     assert_eq!(task.await.unwrap(), 42);
    /// });
    /// ```
    pub fn cancel_on_drop(self) -> CancelOnDrop<T> {
        CancelOnDrop { handle: Some(self) }
    }
}

impl<T> CancelOnDrop<T> {
    fn handle(&self) -> &JoinHandle<T> {
        self.handle
            .as_ref()
            .expect("a CancelOnDrop holds its handle until dropped or detached")
    }

    fn handle_mut(&mut self) -> &mut JoinHandle<T> {
        self.handle
            .as_mut()
            .expect("a CancelOnDrop holds its handle until dropped or detached")
    }

    /// The plain handle back: dropping it then detaches the task again.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let task = eddy_core::spawn(async { 1 }).cancel_on_drop();
    ///     let handle = task.detach();
    ///     assert_eq!(handle.await.unwrap(), 1);
    /// });
    /// ```
    pub fn detach(mut self) -> JoinHandle<T> {
        self.handle
            .take()
            .expect("a CancelOnDrop holds its handle until dropped or detached")
    }

    /// Cancels the task now (see [`JoinHandle::cancel`]).
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let task = eddy_core::spawn(std::future::pending::<()>()).cancel_on_drop();
    ///     task.cancel();
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancel(&self) {
        self.handle().cancel();
    }

    /// A [`CancelHandle`] for the task (see [`JoinHandle::cancel_handle`]).
    /// It does not hold the task alive: dropping this `CancelOnDrop`
    /// still cancels the task.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let task = eddy_core::spawn(std::future::pending::<()>()).cancel_on_drop();
    ///     let cancel = task.cancel_handle();
    ///     drop(task);
    ///     eddy_core::yield_now().await;
    ///     assert!(cancel.is_finished());
    /// });
    /// ```
    #[doc(alias = "abort_handle")]
    pub fn cancel_handle(&self) -> CancelHandle {
        self.handle().cancel_handle()
    }

    /// Whether the task has finished (see [`JoinHandle::is_finished`]).
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let task = eddy_core::spawn(async {}).cancel_on_drop();
    ///     eddy_core::yield_now().await;
    ///     assert!(task.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.handle().is_finished()
    }

    /// The task's id (see [`JoinHandle::id`]).
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let handle = eddy_core::spawn(async {});
    ///     let id = handle.id();
    ///     assert_eq!(handle.cancel_on_drop().id(), id);
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.handle().id()
    }
}

impl<T> Future for CancelOnDrop<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(self.get_mut().handle_mut()).poll(cx)
    }
}

impl<T> sealed::Sealed<T> for CancelOnDrop<T> {
    fn take_finished_output(&mut self) -> Option<Result<T, JoinError>> {
        self.handle_mut().try_take_output()
    }

    fn forget_join_waker(&mut self) {
        self.handle_mut().forget_waker();
    }
}

/// For [`wait`](super::wait): a pending `CancelOnDrop` comes back as a
/// `CancelOnDrop`, and still cancels its task when dropped.
impl<T> TaskHandle<T> for CancelOnDrop<T> {
    fn id(&self) -> TaskId {
        CancelOnDrop::id(self)
    }

    fn cancel(&self) {
        CancelOnDrop::cancel(self);
    }

    fn is_finished(&self) -> bool {
        CancelOnDrop::is_finished(self)
    }
}

impl<T> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        if let Some(handle) = &self.handle {
            // Cancelling a finished task is a no-op that keeps its output
            // (dropped with the handle right after).
            handle.cancel();
        }
    }
}

impl<T> fmt::Debug for CancelOnDrop<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.handle {
            Some(h) => f.debug_struct("CancelOnDrop").field("id", &h.id()).finish(),
            None => f.write_str("CancelOnDrop(detached)"),
        }
    }
}
