//! `TaskGroup`: asyncio's TaskGroup (trio's nursery). Children cannot
//! outlive the group; the first failure cancels the rest.
//!
//! The public face: [`TaskGroup`], [`Spawner`] and the `join` future. The
//! state a group shares with its children, and how children report to it,
//! is in `group_shared`; the child wrapper and its handle in `group_child`.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::panic::{resume_unwind, Location};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use slab::Slab;

use super::abort::AbortRef;
use super::group_child::ChildHandle;
use super::group_error::{ErrorGroup, GroupClosed};
use super::group_shared::{spawn_into, Inner, Shared, Status};

mod run;

/// A scope for tasks that cannot outlive it (asyncio's `TaskGroup`, trio's
/// nursery).
///
/// - [`spawn`](TaskGroup::spawn) children: futures returning `Result<T, E>`.
///   Each runs as its own task (its `parent` in [`task::all`](crate::task::all)
///   is the task that created the group); the returned [`ChildHandle`] gives
///   the child's value back.
/// - [`join`](TaskGroup::join) waits for every child and returns every
///   failure (an `Err` a child returned) in an [`ErrorGroup`].
/// - The first failure — an `Err` or a panic — closes the group to new
///   children at once and cancels every other child. As in asyncio, the
///   cancellation is queued behind the tasks already scheduled in the
///   current loop iteration, so siblings that became ready at the same
///   moment still take that step (and may fail too: all failures are
///   collected). Cancellations are not failures. After a panic, `join`
///   waits for the siblings to be dropped and then resumes the panic. A
///   panic that `join` never resumes (the group or its `join` future was
///   dropped first) goes to the runtime's unhandled-panic policy, like the
///   panic of a task nobody joins.
/// - Once the group has failed, been cancelled, or finished, spawning
///   returns [`GroupClosed`] with the future, which is not started.
/// - A cancelled child still counts as a member until its future is
///   dropped: its destructors see the group as it is (failed, cancelled,
///   or dropped — [`ClosedReason`](super::ClosedReason) says which), and
///   `join` returns only after every child's destructors have run. A
///   destructor that panics while its child is cancelled fails the child
///   like a panic in its poll (asyncio collects an exception raised in a
///   `finally:` block during cancellation): `join` resumes it, while the
///   child's own [`ChildHandle`] reads as cancelled.
/// - Dropping the group (or the `join` future, or the task that owns
///   either) cancels every child. Children that are not running are
///   **dropped before the drop returns** (their destructors run inside it);
///   the only exceptions are a child dropping its own group from inside its
///   poll, and a group dropped outside its running loop (after `block_on`
///   returned, or during runtime shutdown): those children are dropped at
///   the loop's next scheduling point or at shutdown.
///
/// `E` is the children's error type; the group is not `Send` (it lives on
/// its loop thread, like its children).
///
/// # Example
///
/// ```
/// use eddy_core::task::TaskGroup;
/// eddy_core::run(async {
///     let group = TaskGroup::<String>::new();
///     let a = group.spawn(async { Ok(1) }).unwrap();
///     let b = group.spawn(async { Ok(2) }).unwrap();
///     group.join().await.unwrap();
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
/// });
/// ```
pub struct TaskGroup<E> {
    shared: Rc<Shared<E>>,
}

/// A cloneable way to spawn into a [`TaskGroup`] from elsewhere — typically
/// from inside its children — while the group is live.
///
/// # Example
///
/// ```
/// use eddy_core::task::TaskGroup;
/// eddy_core::run(async {
///     let group = TaskGroup::<()>::new();
///     let spawner = group.spawner();
///     group
///         .spawn(async move {
///             let grandchild = spawner.spawn(async { Ok(5) }).unwrap();
///             Ok(grandchild.await.unwrap())
///         })
///         .unwrap();
///     group.join().await.unwrap();
/// });
/// ```
pub struct Spawner<E> {
    shared: Rc<Shared<E>>,
}

impl<E: 'static> TaskGroup<E> {
    /// An empty, open group. Its children's `parent` is the task calling
    /// `new` (none when called from the `block_on` future itself).
    ///
    /// # Example
    ///
    /// ```
    /// let group = eddy_core::task::TaskGroup::<std::io::Error>::new();
    /// # drop(group);
    /// ```
    pub fn new() -> TaskGroup<E> {
        TaskGroup {
            shared: Rc::new(Shared {
                inner: RefCell::new(Inner {
                    status: Status::Open,
                    children: Slab::new(),
                    errors: Vec::new(),
                    panic: None,
                    joining: false,
                    join_waker: None,
                    body_waker: None,
                }),
                parent: super::current().map(|t| t.id()),
            }),
        }
    }

    /// Spawns `future` as a child task of this group; it starts at the
    /// loop's next scheduling point.
    ///
    /// # Errors
    ///
    /// [`GroupClosed`] (holding `future`, not started) once the group has
    /// failed, been cancelled or finished.
    ///
    /// # Panics
    ///
    /// With no eddy runtime on this thread.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::<&str>::new();
    ///     let child = group.spawn(async { Ok("value") }).unwrap();
    ///     group.join().await.unwrap();
    ///     assert_eq!(child.await.unwrap(), "value");
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<T, F>(&self, future: F) -> Result<ChildHandle<T>, GroupClosed<F>>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        spawn_into(&self.shared, future, None, Location::caller())
    }

    /// [`spawn`](TaskGroup::spawn) with a task name, shown by
    /// [`task::all`](crate::task::all) next to the child's `parent`.
    ///
    /// # Errors
    ///
    /// As [`spawn`](TaskGroup::spawn).
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::{self, TaskGroup};
    /// eddy_core::run(async {
    ///     let outer = eddy_core::spawn(async {
    ///         let me = task::current().unwrap().id();
    ///         let group = TaskGroup::<()>::new();
    ///         let child = group.spawn_named("fetch", std::future::pending::<Result<(), ()>>()).unwrap();
    ///         let info = task::all().into_iter().find(|t| t.id() == child.id()).unwrap();
    ///         assert_eq!((info.name(), info.parent()), (Some("fetch"), Some(me)));
    ///         group.cancel();
    ///         group.join().await.unwrap();
    ///     });
    ///     outer.await.unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_named<T, F>(
        &self,
        name: impl Into<Arc<str>>,
        future: F,
    ) -> Result<ChildHandle<T>, GroupClosed<F>>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        spawn_into(&self.shared, future, Some(name.into()), Location::caller())
    }

    /// A cloneable [`Spawner`] for this group (for use inside children).
    ///
    /// # Example
    ///
    /// ```
    /// let group = eddy_core::task::TaskGroup::<()>::new();
    /// let spawner = group.spawner();
    /// assert!(!spawner.is_closed());
    /// ```
    pub fn spawner(&self) -> Spawner<E> {
        Spawner {
            shared: self.shared.clone(),
        }
    }

    /// Cancels every child (each is dropped at the loop's next scheduling
    /// point) and closes the group to new children. Cancellation is not
    /// failure: `join` still returns `Ok(())` unless a child had already
    /// failed. Does nothing once the group has failed or closed.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::<()>::new();
    ///     let child = group.spawn(std::future::pending::<Result<(), ()>>()).unwrap();
    ///     group.cancel();
    ///     assert!(group.spawn(async { Ok(()) }).is_err());
    ///     group.join().await.unwrap();
    ///     assert!(child.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancel(&self) {
        let mut inner = self.shared.inner.borrow_mut();
        if inner.status != Status::Open {
            return;
        }
        inner.status = Status::Cancelled;
        drop(inner);
        self.shared.cancel_children();
    }

    /// How many children are alive (spawned and not yet finished or
    /// dropped).
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::<()>::new();
    ///     group.spawn(async { Ok(()) }).unwrap();
    ///     assert_eq!(group.len(), 1);
    ///     eddy_core::yield_now().await;
    ///     assert_eq!(group.len(), 0);
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.shared.inner.borrow().children.len()
    }

    /// True when no child is alive.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(eddy_core::task::TaskGroup::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until every child has finished or been dropped — including
    /// children spawned meanwhile through a [`Spawner`] — then closes the
    /// group. Returns `Ok(())`, or every `Err` the children returned, in
    /// the order they happened.
    ///
    /// # Errors
    ///
    /// An [`ErrorGroup`] holding every `Err` a child returned (at least
    /// one), in the order they happened. Cancelled children are not
    /// errors: a group cancelled with no child failure returns `Ok(())`.
    ///
    /// # Panics
    ///
    /// Resumes the first child panic (after the siblings are dropped), with
    /// its original payload, as asyncio re-raises `KeyboardInterrupt` bare.
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future drops the group, which cancels every
    /// child (see [`TaskGroup`] for when they are dropped). Children's
    /// values stay readable through their [`ChildHandle`]s; errors not yet
    /// reported are lost with the group, which is what cancelling it means.
    /// A child panic not yet resumed goes to the runtime's unhandled-panic
    /// policy (logged, or the runtime shut down).
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::new();
    ///     group.spawn(async { Err::<(), _>("page 2 failed") }).unwrap();
    ///     group.spawn(std::future::pending::<Result<(), _>>()).unwrap(); // cancelled by the failure
    ///     let errors = group.join().await.unwrap_err();
    ///     assert_eq!(errors.iter().collect::<Vec<_>>(), [&"page 2 failed"]);
    /// });
    /// ```
    pub async fn join(self) -> Result<(), ErrorGroup<E>> {
        Join { group: self }.await
    }
}

impl<E: 'static> Default for TaskGroup<E> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<E> Drop for TaskGroup<E> {
    fn drop(&mut self) {
        let (children, panic, join_waker): (Vec<AbortRef>, _, _) = {
            let mut inner = self.shared.inner.borrow_mut();
            inner.status = Status::Closed;
            // Nobody joins any more: the children leaving below must not
            // wake the task that was waiting in `join` (it dropped it).
            inner.joining = false;
            (
                inner.children.drain().collect(),
                inner.panic.take(),
                inner.join_waker.take(),
            )
        };
        drop(join_waker);
        // No borrow is held: the children's destructors (which tell this
        // group they are gone) run inside `cancel_now`.
        for child in &children {
            child.cancel_now();
        }
        // `join` did not resume it (it takes the panic when it does).
        if let Some(panic) = panic {
            panic.report_unhandled();
        }
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.shared.inner.borrow();
        f.debug_struct("TaskGroup")
            .field("status", &inner.status)
            .field("children", &inner.children.len())
            .field("errors", &inner.errors.len())
            .finish()
    }
}

/// The future behind [`TaskGroup::join`]; owns the group.
struct Join<E> {
    group: TaskGroup<E>,
}

impl<E> Future for Join<E> {
    type Output = Result<(), ErrorGroup<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut inner = self.group.shared.inner.borrow_mut();
        inner.joining = true;
        if !inner.children.is_empty() {
            match &mut inner.join_waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        inner.status = Status::Closed;
        if let Some(panic) = inner.panic.take() {
            drop(inner);
            resume_unwind(panic.payload);
        }
        let errors = std::mem::take(&mut inner.errors);
        Poll::Ready(if errors.is_empty() {
            Ok(())
        } else {
            Err(ErrorGroup::new(errors))
        })
    }
}

impl<E: 'static> Spawner<E> {
    /// As [`TaskGroup::spawn`].
    ///
    /// # Errors
    ///
    /// [`GroupClosed`] (holding `future`) once the group has failed, been
    /// cancelled, finished or been dropped.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::<()>::new();
    ///     let spawner = group.spawner();
    ///     group.join().await.unwrap();
    ///     let err = spawner.spawn(async { Ok(()) }).unwrap_err();
    ///     let _future_back = err.into_future();
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<T, F>(&self, future: F) -> Result<ChildHandle<T>, GroupClosed<F>>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        spawn_into(&self.shared, future, None, Location::caller())
    }

    /// As [`TaskGroup::spawn_named`].
    ///
    /// # Errors
    ///
    /// As [`Spawner::spawn`].
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::<()>::new();
    ///     let child = group.spawner().spawn_named("worker", async { Ok(1) }).unwrap();
    ///     group.join().await.unwrap();
    ///     assert_eq!(child.await.unwrap(), 1);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_named<T, F>(
        &self,
        name: impl Into<Arc<str>>,
        future: F,
    ) -> Result<ChildHandle<T>, GroupClosed<F>>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        spawn_into(&self.shared, future, Some(name.into()), Location::caller())
    }

    /// True once the group no longer accepts children.
    ///
    /// # Example
    ///
    /// ```
    /// let group = eddy_core::task::TaskGroup::<()>::new();
    /// let spawner = group.spawner();
    /// drop(group);
    /// assert!(spawner.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.closed_reason().is_some()
    }
}

impl<E> Clone for Spawner<E> {
    fn clone(&self) -> Self {
        Spawner {
            shared: self.shared.clone(),
        }
    }
}

impl<E> fmt::Debug for Spawner<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spawner")
            .field("status", &self.shared.inner.borrow().status)
            .finish()
    }
}
