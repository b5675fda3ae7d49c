//! The state a [`TaskGroup`](super::TaskGroup) shares with its children
//! ([`Shared`]): which children are alive, the group's status, the failures
//! they reported; and how children are spawned into it and report back.
//!
//! Everything here lives on one loop thread (`Rc`/`RefCell`). Each child
//! runs as its own task whose future is a [`Child`] wrapper: it reports the
//! child's value, error or panic here ([`Shared::child_finished`]), and its
//! destructor says when a cancelled child is gone ([`Shared::child_gone`]).
//! The group keeps an [`AbortRef`] per live child to cancel it.

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;

use slab::Slab;

use super::abort::AbortRef;
use super::group_child::{Child, ChildHandle};
use super::group_error::{ClosedReason, GroupClosed};
use super::raw::TaskMeta;
use super::{spawn_local_inner, TaskId, TaskInfo};
use crate::loom::Arc as LoomArc;
use crate::runtime::context;

/// Where a group is in its life. Only `Open` accepts children.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    Open,
    /// A child returned `Err` or panicked; the rest were cancelled.
    Failed,
    /// `TaskGroup::cancel` was called.
    Cancelled,
    /// `join` saw the last child finish, or the group was dropped.
    Closed,
}

pub(super) struct Shared<E> {
    pub(super) inner: RefCell<Inner<E>>,
    /// The task that created the group: every child's `parent`.
    pub(super) parent: Option<TaskId>,
}

pub(super) struct Inner<E> {
    pub(super) status: Status,
    /// One entry per live child (its slab key is fixed at spawn).
    pub(super) children: Slab<AbortRef>,
    /// `Err`s children returned, in the order they happened.
    pub(super) errors: Vec<E>,
    /// The first child panic; later ones are logged and dropped.
    pub(super) panic: Option<HeldPanic>,
    /// `join` has been polled: the group closes when the last child ends.
    pub(super) joining: bool,
    pub(super) join_waker: Option<Waker>,
    /// The task running the group's body under [`TaskGroup::run`]
    /// (`run.rs`): woken when the group fails, so that it drops the body.
    ///
    /// [`TaskGroup::run`]: super::TaskGroup::run
    pub(super) body_waker: Option<Waker>,
}

/// The first child panic, kept for `join` to resume, with what the
/// runtime's unhandled-panic policy needs if the group is dropped before
/// `join` resumes it (never joined, or the join future dropped).
pub(super) struct HeldPanic {
    pub(super) payload: Box<dyn Any + Send>,
    /// The child task that panicked (the task being polled when it did).
    child: Option<TaskInfo>,
    runtime: Option<LoomArc<crate::runtime::Shared>>,
}

impl HeldPanic {
    /// Called in the child's poll, right after the panic was caught.
    fn new(payload: Box<dyn Any + Send>) -> HeldPanic {
        HeldPanic {
            payload,
            child: super::current(),
            runtime: context::with_local(|l| l.shared.clone()),
        }
    }

    /// Nobody will resume it: it goes where an unjoined task's panic goes.
    pub(super) fn report_unhandled(self) {
        match (self.runtime, self.child) {
            (Some(runtime), Some(child)) => {
                runtime.unhandled_panic(child.id(), child.name(), child.spawned_at(), self.payload)
            }
            _ => tracing::error!(
                panic = super::payload_message(&*self.payload).unwrap_or("<non-string payload>"),
                "a TaskGroup child panicked and the group was dropped before join resumed it"
            ),
        }
    }
}

/// How a child ended, as the group hears it.
pub(super) enum Outcome<E> {
    Value,
    Error(E),
    Panic(Box<dyn Any + Send>),
}

impl<E> Shared<E> {
    /// A child's future returned or panicked.
    pub(super) fn child_finished(
        self: &Rc<Self>,
        key: usize,
        outcome: Outcome<E>,
    ) -> Result<(), Box<dyn Any + Send>>
    where
        E: 'static,
    {
        let mut inner = self.inner.borrow_mut();
        let me = inner.children.try_remove(key);
        let mut orphan_panic = None;
        let failed = !matches!(outcome, Outcome::Value);
        match outcome {
            Outcome::Value => {}
            _ if inner.status == Status::Closed => {
                // Nobody will join: this child kept running after its group
                // was dropped from inside its own poll.
                if let Outcome::Panic(p) = outcome {
                    orphan_panic = Some(p);
                } else {
                    tracing::warn!("a TaskGroup child failed after its group was dropped");
                }
            }
            Outcome::Error(e) => inner.errors.push(e),
            Outcome::Panic(p) => {
                if inner.panic.is_none() {
                    inner.panic = Some(HeldPanic::new(p));
                } else {
                    tracing::error!(
                        panic = super::payload_message(&*p).unwrap_or("<non-string payload>"),
                        "a second TaskGroup child panicked; join resumes the first panic only"
                    );
                }
            }
        }
        if failed && inner.status == Status::Open {
            // Refuse new children at once; cancel the others from a
            // callback queued behind the tasks already scheduled in this
            // loop iteration (asyncio's done-callback timing), so children
            // that became ready at the same moment still take their step
            // and may fail too.
            inner.status = Status::Failed;
            let group = self.clone();
            crate::call_soon(move || group.cancel_children());
        }
        let body_waker = if failed {
            inner.body_waker.take()
        } else {
            None
        };
        let waker = self.after_child_left(&mut inner);
        drop(inner);
        drop(me);
        if let Some(w) = body_waker {
            w.wake();
        }
        if let Some(w) = waker {
            w.wake();
        }
        orphan_panic.map_or(Ok(()), Err)
    }

    /// Cancels every live child at its next scheduling point.
    pub(super) fn cancel_children(&self) {
        for (_, child) in self.inner.borrow().children.iter() {
            child.cancel();
        }
    }

    /// A child was dropped before finishing (cancelled).
    pub(super) fn child_gone(&self, key: usize) {
        let mut inner = self.inner.borrow_mut();
        let me = inner.children.try_remove(key);
        let waker = self.after_child_left(&mut inner);
        drop(inner);
        drop(me);
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn after_child_left(&self, inner: &mut Inner<E>) -> Option<Waker> {
        if inner.children.is_empty() && inner.joining {
            inner.status = Status::Closed;
            inner.join_waker.take()
        } else {
            None
        }
    }

    pub(super) fn closed_reason(&self) -> Option<ClosedReason> {
        match self.inner.borrow().status {
            Status::Open => None,
            Status::Failed => Some(ClosedReason::Failed),
            Status::Cancelled => Some(ClosedReason::Cancelled),
            Status::Closed => Some(ClosedReason::Finished),
        }
    }
}

#[track_caller]
pub(super) fn spawn_into<E, T, F>(
    shared: &Rc<Shared<E>>,
    future: F,
    name: Option<Arc<str>>,
    location: &'static Location<'static>,
) -> Result<ChildHandle<T>, GroupClosed<F>>
where
    F: Future<Output = Result<T, E>> + 'static,
    T: 'static,
    E: 'static,
{
    if let Some(reason) = shared.closed_reason() {
        return Err(GroupClosed::new(future, reason));
    }
    let key = shared.inner.borrow().children.vacant_key();
    let meta = (name.is_some() || shared.parent.is_some()).then(|| {
        Box::new(TaskMeta {
            name,
            parent: shared.parent,
        })
    });
    let child = Child::new(future, shared.clone(), key);
    // Spawning runs no user code, so the slab key is still vacant after it.
    let handle = spawn_local_inner(child, meta, location);
    let at = shared
        .inner
        .borrow_mut()
        .children
        .insert(AbortRef::new(&handle));
    debug_assert_eq!(at, key);
    Ok(ChildHandle::new(handle))
}
