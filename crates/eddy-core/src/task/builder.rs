//! The task [`Builder`]: a name, a parent, a spawn location and a context
//! for a task before it is spawned.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use super::contextvars::{self, ContextSnapshot};
use super::raw::TaskMeta;
#[cfg(doc)]
use super::{all, current, spawn, TaskInfo};
use super::{spawn_local_with, JoinHandle, TaskId};

/// Configures a task before spawning it: a name (shown by [`current`],
/// [`all`], debug-mode reports and unhandled-panic logs), a parent, the
/// spawn location those show, and the context it starts in.
///
/// # Example
///
/// ```
/// eddy_core::run(async {
///     let task = eddy_core::task::Builder::new()
///         .name("fetcher")
///         .spawn(async { eddy_core::task::current().unwrap().name().map(str::to_owned) });
///     assert_eq!(task.await.unwrap().as_deref(), Some("fetcher"));
/// });
/// ```
#[derive(Clone, Debug, Default)]
pub struct Builder {
    name: Option<Arc<str>>,
    parent: Option<TaskId>,
    location: Option<&'static Location<'static>>,
    context: Option<ContextSnapshot>,
}

impl Builder {
    /// A builder with no name and no parent.
    ///
    /// # Example
    ///
    /// ```
    /// let builder = eddy_core::task::Builder::new();
    /// # drop(builder);
    /// ```
    pub fn new() -> Builder {
        Builder::default()
    }

    /// The task's name (asyncio's `create_task(name=...)`).
    ///
    /// # Example
    ///
    /// ```
    /// let builder = eddy_core::task::Builder::new().name("worker-1");
    /// # drop(builder);
    /// ```
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Records `parent` as the task that owns this one (task groups use it
    /// so [`all`] shows which group a child belongs to).
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let parent = eddy_core::spawn(async {}).id();
    ///     let child = eddy_core::task::Builder::new().parent(parent).spawn(async {});
    ///     let info = eddy_core::task::all().into_iter().find(|t| t.id() == child.id()).unwrap();
    ///     assert_eq!(info.parent(), Some(parent));
    /// });
    /// ```
    pub fn parent(mut self, parent: TaskId) -> Builder {
        self.parent = Some(parent);
        self
    }

    /// Records `location` as where the task was spawned ([`TaskInfo::spawned_at`],
    /// debug-mode slow-poll reports, unhandled-panic logs) instead of the
    /// caller of [`spawn`](Self::spawn).
    ///
    /// For libraries that spawn tasks on their user's behalf (a server's
    /// connection handlers, a pool's workers): make the public function
    /// `#[track_caller]`, capture [`Location::caller()`] in it, and pass
    /// that here, so reports point at the user's code rather than at the
    /// library's.
    ///
    /// # Example
    ///
    /// ```
    /// use std::panic::Location;
    ///
    /// #[track_caller]
    /// fn spawn_worker() -> eddy_core::JoinHandle<()> {
    ///     let caller = Location::caller();
    ///     eddy_core::task::Builder::new()
    ///         .name("worker")
    ///         .spawned_at(caller)
    ///         .spawn(async {})
    /// }
    ///
    /// eddy_core::run(async {
    ///     let line = line!() + 1;
    ///     let t = spawn_worker();
    ///     let info = eddy_core::task::all().into_iter().find(|i| i.id() == t.id()).unwrap();
    ///     assert_eq!(info.spawned_at().line(), line);
    /// });
    /// ```
    pub fn spawned_at(mut self, location: &'static Location<'static>) -> Builder {
        self.location = Some(location);
        self
    }

    /// Starts the task in `context` instead of a copy of the spawner's
    /// current context (asyncio's `create_task(coro, context=ctx)`). The
    /// task takes the snapshot: what it sets stays its own, as with any
    /// task.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::{copy_context, Builder, ContextVar};
    ///
    /// static USER: ContextVar<&'static str> = ContextVar::new("user");
    ///
    /// eddy_core::run(async {
    ///     USER.set("alice");
    ///     let as_alice = copy_context();
    ///     USER.set("bob");
    ///     let t = Builder::new().context(as_alice).spawn(async { USER.get() });
    ///     assert_eq!(t.await.unwrap(), Some("alice"));
    ///     assert_eq!(USER.get(), Some("bob"));
    /// });
    /// ```
    pub fn context(mut self, context: ContextSnapshot) -> Builder {
        self.context = Some(context);
        self
    }

    /// The explicit context, taken out of the builder.
    fn take_context(&mut self) -> Option<contextvars::Map> {
        self.context.take().map(ContextSnapshot::into_map)
    }

    fn meta(self) -> Option<Box<TaskMeta>> {
        if self.name.is_none() && self.parent.is_none() {
            None
        } else {
            Some(Box::new(TaskMeta {
                name: self.name,
                parent: self.parent,
            }))
        }
    }

    /// Spawns on the current thread's loop, like [`spawn`].
    ///
    /// # Panics
    ///
    /// With no eddy runtime on this thread.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let t = eddy_core::task::Builder::new().name("one").spawn(async { 1 });
    ///     assert_eq!(t.await.unwrap(), 1);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(mut self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let location = self.location.unwrap_or(Location::caller());
        let context = self.take_context();
        spawn_local_with(future, self.meta(), location, context)
    }

    /// Spawns a `Send` future on the loop behind `handle`, from any thread.
    ///
    /// # Errors
    ///
    /// [`SpawnError::Shutdown`](crate::SpawnError::Shutdown) once that
    /// runtime has shut down.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy_core::Runtime::new().unwrap();
    /// let t = eddy_core::task::Builder::new()
    ///     .name("remote")
    ///     .spawn_on(async { 3 }, &rt.handle())
    ///     .unwrap();
    /// assert_eq!(rt.block_on(t).unwrap(), 3);
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(
        mut self,
        future: F,
        handle: &crate::Handle,
    ) -> Result<JoinHandle<F::Output>, crate::SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let location = self.location.unwrap_or(Location::caller());
        let context = self.take_context();
        handle.spawn_inner(future, self.meta(), location, context)
    }
}
