//! Tasks: spawning, naming, introspection (asyncio's `create_task`,
//! `current_task`, `all_tasks`), and context variables (asyncio's
//! `contextvars`: [`ContextVar`], [`copy_context`]), which each task
//! copies from its spawner.
//!
//! # Example
//!
//! ```
//! use eddy_core::task::ContextVar;
//!
//! static REQUEST_ID: ContextVar<u32> = ContextVar::new("request_id");
//!
//! eddy_core::run(async {
//!     REQUEST_ID.set(1);
//!     let handler = eddy_core::task::Builder::new().name("handler").spawn(async {
//!         let inherited = REQUEST_ID.get();
//!         REQUEST_ID.set(2); // this task's copy only
//!         inherited
//!     });
//!     assert_eq!(handler.await.unwrap(), Some(1));
//!     assert_eq!(REQUEST_ID.get(), Some(1));
//! });
//! ```

mod abort;
mod as_completed;
mod builder;
mod cancel_on_drop;
pub(crate) mod contextvars;
mod error;
mod gather;
mod group;
mod group_child;
mod group_error;
mod group_shared;
mod id;
mod join;
pub(crate) mod raw;
mod shield;
pub(crate) mod slots;
pub(crate) mod state;
mod wait;
pub(crate) mod waker;

pub use abort::CancelHandle;
pub use builder::Builder;
pub use cancel_on_drop::CancelOnDrop;
pub use contextvars::{copy_context, ContextResetError, ContextSnapshot, ContextToken, ContextVar};
pub(crate) use error::payload_message;
pub use error::JoinError;
pub use id::TaskId;
pub use join::JoinHandle;

// Structured concurrency (asyncio's TaskGroup, gather, wait, as_completed, shield).
pub use as_completed::{
    as_completed, as_completed_with_timeout, AsCompleted, AsCompletedTimeout, TimedOut,
};
pub use gather::{gather_all, try_gather_all, GatherAll, TryGatherAll};
pub use group::{Spawner, TaskGroup};
pub use group_child::ChildHandle;
pub use group_error::{ClosedReason, ErrorGroup, GroupClosed};
pub use shield::{shield, Shielded};
pub use wait::{
    wait, wait_by, wait_with, Done, EmptyWait, NotDone, Outcome, ReturnWhen, TaskHandle, WaitResult,
};

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::runtime::context;
use raw::{prefix, Spawn, TaskMeta};

/// Spawns `future` as a task on the current thread's loop (asyncio's
/// `create_task`). No `Send` bound: the task never leaves this thread.
///
/// The task starts at the loop's next scheduling point, in FIFO order with
/// other ready tasks and `call_soon` callbacks.
///
/// # Panics
///
/// With no eddy runtime on this thread ("no eddy runtime on this thread:
/// call inside eddy::run / #\[eddy::main\]").
///
/// # Example
///
/// ```
/// use std::rc::Rc;
/// eddy_core::run(async {
///     let shared = Rc::new(5); // not Send, and that is fine
///     let s = shared.clone();
///     let task = eddy_core::spawn(async move { *s * 2 });
///     assert_eq!(task.await.unwrap(), 10);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_local_inner(future, None, Location::caller())
}

/// Spawns on this thread's loop; the task starts in a copy of the
/// spawner's context.
#[track_caller]
#[inline]
pub(crate) fn spawn_local_inner<F>(
    future: F,
    meta: Option<Box<TaskMeta>>,
    location: &'static Location<'static>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    // A copy of the spawner's context: no atomic operation when empty.
    spawn_local_in(future, meta, location, contextvars::current_in)
}

/// [`spawn_local_inner`] starting the task in `context` when given.
#[track_caller]
pub(crate) fn spawn_local_with<F>(
    future: F,
    meta: Option<Box<TaskMeta>>,
    location: &'static Location<'static>,
    context: Option<contextvars::Map>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match context {
        Some(given) => spawn_local_in(future, meta, location, move |_| given),
        None => spawn_local_inner(future, meta, location),
    }
}

/// Spawns on this thread's loop, starting the task in the context
/// `context` gives (a closure, so that the common case, a copy of the
/// spawner's, compiles to no more than that copy).
#[track_caller]
#[inline]
fn spawn_local_in<F>(
    future: F,
    meta: Option<Box<TaskMeta>>,
    location: &'static Location<'static>,
    context: impl FnOnce(&context::Local) -> contextvars::Map,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    context::expect_local(|local| {
        let context = context(local);
        let task = raw::allocate(
            future,
            Spawn {
                scheduler: local.shared.clone(),
                location,
                meta,
                context,
            },
        );
        context::bind(local, task);
        local
            .run_queue
            .borrow_mut()
            .push_back(context::Runnable::Task(task));
        // SAFETY: allocated with output type F::Output; the handle takes the
        // join reference.
        unsafe { JoinHandle::new(task) }
    })
}

/// Where a task is in its life.
///
/// # Example
///
/// ```
/// use eddy_core::task::TaskState;
/// eddy_core::run(async {
///     let t = eddy_core::spawn(std::future::pending::<()>());
///     let info = eddy_core::task::all().into_iter().find(|i| i.id() == t.id()).unwrap();
///     assert_eq!(info.state(), TaskState::Scheduled);
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// Waiting for a wake.
    Idle,
    /// In the run queue.
    Scheduled,
    /// Being polled now (the task that asked).
    Running,
}

/// A snapshot of one live task (asyncio's `Task` as `all_tasks` shows it).
///
/// # Example
///
/// ```
/// eddy_core::run(async {
///     let t = eddy_core::task::Builder::new().name("n").spawn(async {});
///     let info = eddy_core::task::all().into_iter().find(|i| i.id() == t.id()).unwrap();
///     assert_eq!(info.name(), Some("n"));
///     assert_eq!(info.polls(), 0);
/// });
/// ```
#[derive(Clone, Debug)]
pub struct TaskInfo {
    id: TaskId,
    name: Option<Arc<str>>,
    parent: Option<TaskId>,
    state: TaskState,
    polls: u32,
    location: &'static Location<'static>,
}

impl TaskInfo {
    /// The task's id.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let t = eddy_core::spawn(async { eddy_core::task::current().unwrap().id() });
    ///     let id = t.id();
    ///     assert_eq!(t.await.unwrap(), id);
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.id
    }
    /// The name given with [`Builder::name`], if any.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let t = eddy_core::spawn(async { eddy_core::task::current().unwrap().name().is_none() });
    ///     assert!(t.await.unwrap());
    /// });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// The parent given with [`Builder::parent`], if any.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let t = eddy_core::spawn(async { eddy_core::task::current().unwrap().parent() });
    ///     assert_eq!(t.await.unwrap(), None);
    /// });
    /// ```
    pub fn parent(&self) -> Option<TaskId> {
        self.parent
    }
    /// Idle, scheduled or running.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskState;
    /// eddy_core::run(async {
    ///     let t = eddy_core::spawn(async { eddy_core::task::current().unwrap().state() });
    ///     assert_eq!(t.await.unwrap(), TaskState::Running);
    /// });
    /// ```
    pub fn state(&self) -> TaskState {
        self.state
    }
    /// How many times the task has been polled.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let t = eddy_core::spawn(async { eddy_core::task::current().unwrap().polls() });
    ///     assert_eq!(t.await.unwrap(), 1);
    /// });
    /// ```
    pub fn polls(&self) -> u32 {
        self.polls
    }
    /// Where the task was spawned.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let t = eddy_core::spawn(async { eddy_core::task::current().unwrap().spawned_at().file().to_owned() });
    ///     assert!(t.await.unwrap().ends_with(".rs"));
    /// });
    /// ```
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.location
    }
}

impl fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.id)?;
        if let Some(n) = &self.name {
            write!(f, " {n:?}")?;
        }
        write!(
            f,
            " ({:?}, {} polls, spawned at {})",
            self.state, self.polls, self.location
        )
    }
}

/// # Safety
/// `task` must be alive (held by the live-task table or the caller).
unsafe fn info(task: std::ptr::NonNull<raw::Header>, running: bool) -> TaskInfo {
    // SAFETY: per the caller's contract.
    let p = unsafe { prefix(task) };
    let s = p.header.state.load();
    let state = if running || s.is_running() {
        TaskState::Running
    } else if s.is_notified() {
        TaskState::Scheduled
    } else {
        TaskState::Idle
    };
    TaskInfo {
        id: p.header.id,
        name: p.trailer.meta.as_ref().and_then(|m| m.name.clone()),
        parent: p.trailer.meta.as_ref().and_then(|m| m.parent),
        state,
        polls: p.trailer.polls.get(),
        location: p.trailer.location,
    }
}

/// The task being polled on this thread (asyncio's `current_task`), or
/// `None` outside a task (including in the `block_on` future itself).
///
/// # Example
///
/// ```
/// eddy_core::run(async {
///     assert!(eddy_core::task::current().is_none()); // the main future is not a task
///     let t = eddy_core::spawn(async { eddy_core::task::current().is_some() });
///     assert!(t.await.unwrap());
/// });
/// ```
pub fn current() -> Option<TaskInfo> {
    context::with_local(|l| {
        l.current_task.get().map(|task| {
            // SAFETY: the running task is kept alive by its poll reference.
            unsafe { info(task, true) }
        })
    })
    .flatten()
}

/// Every live task of this thread's loop (asyncio's `all_tasks`), in no
/// particular order. Empty outside a loop.
///
/// # Example
///
/// ```
/// eddy_core::run(async {
///     let t = eddy_core::spawn(std::future::pending::<()>());
///     assert!(eddy_core::task::all().iter().any(|i| i.id() == t.id()));
///     t.cancel();
/// });
/// ```
pub fn all() -> Vec<TaskInfo> {
    context::with_local(|l| {
        let current = l.current_task.get();
        l.owned
            .borrow()
            .iter()
            // SAFETY: the table entry keeps each task alive.
            .map(|(_, t)| unsafe { info(*t, Some(*t) == current) })
            .collect()
    })
    .unwrap_or_default()
}

/// Yields once: the task goes to the back of the run queue so others run
/// (asyncio's `await asyncio.sleep(0)`).
///
/// # Cancel safety
///
/// Cancel-safe: there is nothing to lose.
///
/// # Example
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// eddy_core::run(async {
///     let flag = Rc::new(Cell::new(false));
///     let f = flag.clone();
///     eddy_core::spawn(async move { f.set(true) });
///     eddy_core::yield_now().await;
///     assert!(flag.get());
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        crate::runtime::context::wake_current_by_ref(cx.waker());
        Poll::Pending
    }
}
