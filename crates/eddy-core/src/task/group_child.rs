//! One child of a [`TaskGroup`](super::TaskGroup): the `Child` future its
//! task runs (the user's future plus reporting to the group) and the
//! [`ChildHandle`] that gives its value back.

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::error::Failure;
use super::group_shared::{Outcome, Shared};
use super::wait::{sealed, TaskHandle};
use super::{CancelHandle, JoinError, JoinHandle, TaskId};

/// What a child task hands its [`ChildHandle`].
pub(super) enum ChildOutput<T> {
    Value(T),
    /// Returned `Err` (`false`) or panicked (`true`); it went to the group.
    ToGroup(bool),
}

pin_project_lite::pin_project! {
    /// The future a child task runs: the user's future plus group reporting.
    pub(super) struct Child<F, E>
    where
        E: 'static,
    {
        // `None` once dropped by `Child`'s destructor, which must drop it
        // before telling the group the child is gone.
        #[pin]
        future: Option<F>,
        group: Rc<Shared<E>>,
        key: usize,
        reported: bool,
    }

    impl<F, E> PinnedDrop for Child<F, E>
    where
        E: 'static,
    {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            if *this.reported {
                return;
            }
            // A cancelled child leaves its group only once its future is
            // dropped: while the user's destructors run, the group still
            // counts it, so they see why the group is closing (failed,
            // cancelled) and `join` cannot have been woken yet.
            let dropped = catch_unwind(AssertUnwindSafe(|| this.future.set(None)));
            match dropped {
                Ok(()) => this.group.child_gone(*this.key),
                // A destructor panicked while the child was cancelled: a
                // failure of the child like a panic in its poll (asyncio
                // collects an exception raised in `finally:` during
                // cancellation the same way), so `join` resumes it. The
                // child's own handle still reads as cancelled.
                Err(panic) => {
                    *this.reported = true;
                    if let Err(orphan) = this.group.child_finished(*this.key, Outcome::Panic(panic)) {
                        // The group is gone: the runtime makes it the
                        // task's panic (its join handle or the policy).
                        resume_unwind(orphan);
                    }
                }
            }
        }
    }
}

impl<F, E: 'static> Child<F, E> {
    pub(super) fn new(future: F, group: Rc<Shared<E>>, key: usize) -> Child<F, E> {
        Child {
            future: Some(future),
            group,
            key,
            reported: false,
        }
    }
}

impl<T, E: 'static, F: Future<Output = Result<T, E>>> Future for Child<F, E> {
    type Output = ChildOutput<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ChildOutput<T>> {
        let this = self.project();
        let future = (this.future)
            .as_pin_mut()
            .expect("a child task is not polled after its future was dropped");
        let (outcome, output) = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(v))) => (Outcome::Value, ChildOutput::Value(v)),
            Ok(Poll::Ready(Err(e))) => (Outcome::Error(e), ChildOutput::ToGroup(false)),
            Err(p) => (Outcome::Panic(p), ChildOutput::ToGroup(true)),
        };
        *this.reported = true;
        if let Err(orphan) = this.group.child_finished(*this.key, outcome) {
            // The group is gone: the panic belongs to this task again.
            resume_unwind(orphan);
        }
        Poll::Ready(output)
    }
}

/// Awaits one [`TaskGroup`](super::TaskGroup) child: `Ok(value)`, or a [`JoinError`] that is
/// [cancelled](JoinError::is_cancelled) or a
/// [group failure](JoinError::is_group_failure) (its `Err` or panic went to
/// the group). Dropping the handle does not detach the child from its
/// group.
///
/// # Cancel safety
///
/// Awaiting is cancel-safe: the value stays in the task until read.
///
/// # Example
///
/// ```
/// use eddy_core::task::TaskGroup;
/// eddy_core::run(async {
///     let group = TaskGroup::<()>::new();
///     let child = group.spawn(async { Ok(21 * 2) }).unwrap();
///     assert_eq!(child.await.unwrap(), 42);
///     group.join().await.unwrap();
/// });
/// ```
pub struct ChildHandle<T> {
    handle: JoinHandle<ChildOutput<T>>,
}

impl<T> ChildHandle<T> {
    pub(super) fn new(handle: JoinHandle<ChildOutput<T>>) -> ChildHandle<T> {
        ChildHandle { handle }
    }

    /// Cancels this child only (dropped at the next scheduling point). A
    /// cancellation is not a failure: the siblings carry on.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::<()>::new();
    ///     let slow = group.spawn(std::future::pending::<Result<(), ()>>()).unwrap();
    ///     let fast = group.spawn(async { Ok(1) }).unwrap();
    ///     slow.cancel();
    ///     group.join().await.unwrap();
    ///     assert_eq!(fast.await.unwrap(), 1);
    /// });
    /// ```
    pub fn cancel(&self) {
        self.handle.cancel();
    }

    /// A [`CancelHandle`] for the child task: cancelling through it is
    /// [`cancel`](Self::cancel) (this child only; not a failure), from any
    /// thread, without owning the child's value.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::<()>::new();
    ///     let child = group.spawn(std::future::pending::<Result<(), ()>>()).unwrap();
    ///     let cancel = child.cancel_handle();
    ///     std::thread::spawn(move || cancel.cancel()).join().unwrap();
    ///     group.join().await.unwrap();
    ///     assert!(child.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    #[doc(alias = "abort_handle")]
    pub fn cancel_handle(&self) -> CancelHandle {
        self.handle.cancel_handle()
    }

    /// The child task's id.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::<()>::new();
    ///     let child = group.spawn(async { Ok(eddy_core::task::current().unwrap().id()) }).unwrap();
    ///     let id = child.id();
    ///     assert_eq!(child.await.unwrap(), id);
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.handle.id()
    }

    /// Whether the child has finished (completed, failed or been cancelled).
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::<()>::new();
    ///     let child = group.spawn(async { Ok(()) }).unwrap();
    ///     group.join().await.unwrap();
    ///     assert!(child.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

/// What the child's handle gives for what its task gave.
fn child_result<T>(id: TaskId, r: Result<ChildOutput<T>, JoinError>) -> Result<T, JoinError> {
    match r {
        Ok(ChildOutput::Value(v)) => Ok(v),
        Ok(ChildOutput::ToGroup(panicked)) => {
            Err(JoinError::new(id, Failure::ToGroup { panicked }))
        }
        Err(e) => Err(e),
    }
}

impl<T> Future for ChildHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.handle.id();
        Pin::new(&mut self.handle)
            .poll(cx)
            .map(|r| child_result(id, r))
    }
}

impl<T> sealed::Sealed<T> for ChildHandle<T> {
    fn take_finished_output(&mut self) -> Option<Result<T, JoinError>> {
        let id = self.handle.id();
        self.handle.try_take_output().map(|r| child_result(id, r))
    }

    fn forget_join_waker(&mut self) {
        self.handle.forget_waker();
    }
}

/// For [`wait`](super::wait): a pending child comes back as a
/// `ChildHandle`, still its group's.
impl<T> TaskHandle<T> for ChildHandle<T> {
    fn id(&self) -> TaskId {
        ChildHandle::id(self)
    }

    fn cancel(&self) {
        ChildHandle::cancel(self);
    }

    fn is_finished(&self) -> bool {
        ChildHandle::is_finished(self)
    }
}

impl<T> fmt::Debug for ChildHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}
