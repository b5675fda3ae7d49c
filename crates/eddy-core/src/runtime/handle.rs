//! `Handle`: the thread-safe way to reach a loop.

use std::fmt;
use std::future::Future;
use std::panic::Location;

use super::{context, Shared};
use crate::callback::{self, CallbackHandle};
use crate::loom::Arc;
use crate::task::contextvars;
use crate::task::raw::{self, Spawn};
use crate::task::JoinHandle;

/// A cloneable, `Send + Sync` reference to a loop: spawn `Send` futures and
/// schedule callbacks on it from any thread (asyncio's
/// `run_coroutine_threadsafe` and `call_soon_threadsafe`).
///
/// # Example
///
/// ```
/// let rt = eddy_core::Runtime::new().unwrap();
/// let handle = rt.handle();
/// let task = std::thread::spawn(move || handle.spawn(async { 40 + 2 }).unwrap())
///     .join()
///     .unwrap();
/// assert_eq!(rt.block_on(task).unwrap(), 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

/// Why a task could not be spawned.
///
/// # Example
///
/// ```
/// let rt = eddy_core::Runtime::new().unwrap();
/// let handle = rt.handle();
/// drop(rt);
/// let err = handle.spawn(async {}).unwrap_err();
/// assert!(err.to_string().contains("shut down"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpawnError {
    /// The runtime was shut down (dropped, or `eddy::run` returned).
    Shutdown,
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::Shutdown => f.write_str(
                "the eddy runtime has shut down and takes no new work; spawn on a runtime \
                 that is still alive (keep the Runtime, or spawn inside eddy::run)",
            ),
        }
    }
}

impl std::error::Error for SpawnError {}

impl Handle {
    /// The handle of the loop running on this thread.
    ///
    /// # Panics
    ///
    /// With no eddy runtime on this thread; see [`Handle::try_current`].
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let handle = eddy_core::Handle::current();
    ///     std::thread::spawn(move || drop(handle.spawn(async {}))).join().unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        context::expect_local(|l| Handle {
            shared: l.shared.clone(),
        })
    }

    /// The handle of the loop running on this thread, if any.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(eddy_core::Handle::try_current().is_none());
    /// eddy_core::run(async { assert!(eddy_core::Handle::try_current().is_some()) });
    /// ```
    pub fn try_current() -> Option<Handle> {
        context::with_local(|l| Handle {
            shared: l.shared.clone(),
        })
    }

    /// Spawns a `Send` future onto this loop from any thread. The loop is
    /// woken if it is parked. The task starts at the loop's next scheduling
    /// point (while a `block_on` is running).
    ///
    /// # Errors
    ///
    /// [`SpawnError::Shutdown`] once the runtime has shut down; the future
    /// is dropped without being polled.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy_core::Runtime::new().unwrap();
    /// let task = rt.handle().spawn(async { "hi" }).unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), "hi");
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_inner(future, None, Location::caller(), None)
    }

    /// Spawns with `meta`, recording `location`; the task starts in
    /// `context` when given, else in a copy of the calling thread's
    /// current context (its task's, or its loop's, or its own).
    pub(crate) fn spawn_inner<F>(
        &self,
        future: F,
        meta: Option<Box<raw::TaskMeta>>,
        location: &'static Location<'static>,
        context: Option<contextvars::Map>,
    ) -> Result<JoinHandle<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let is_local = context::is_current(&self.shared);
        if is_local {
            return Ok(crate::task::spawn_local_with(
                future, meta, location, context,
            ));
        }
        let task = raw::allocate(
            future,
            Spawn {
                scheduler: self.shared.clone(),
                location,
                meta,
                context: context.unwrap_or_else(contextvars::current),
            },
        );
        // SAFETY: the task was allocated with output type F::Output; the
        // handle takes the join reference.
        let join = unsafe { JoinHandle::new(task) };
        match self.shared.inject.push(task) {
            Ok(()) => {
                self.shared.unparker.unpark();
                Ok(join)
            }
            Err(task) => {
                // Closed: drop the future here (it is `Send`) and release
                // the queue reference; `join` releases its own.
                // SAFETY: the task is unbound and not running anywhere; its
                // vtable's shutdown only drops the future and completes it.
                unsafe {
                    let p = raw::prefix(task);
                    (p.header.vtable.shutdown)(task);
                    super::shared::release(task);
                }
                Err(SpawnError::Shutdown)
            }
        }
    }

    /// Schedules `f` on this loop from any thread (asyncio's
    /// `call_soon_threadsafe`); it runs at the loop's next scheduling point.
    /// After shutdown the callback is dropped without running and the
    /// returned handle reads as cancelled.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicBool, Ordering}};
    /// let rt = eddy_core::Runtime::new().unwrap();
    /// let ran = Arc::new(AtomicBool::new(false));
    /// let r = ran.clone();
    /// rt.handle().call_soon(move || r.store(true, Ordering::SeqCst));
    /// rt.block_on(eddy_core::yield_now());
    /// assert!(ran.load(Ordering::SeqCst));
    /// ```
    #[track_caller]
    pub fn call_soon(&self, f: impl FnOnce() + Send + 'static) -> CallbackHandle {
        let (cb, handle) = callback::remote(f);
        if self.shared.push_remote_callback(cb).is_err() {
            handle.cancel();
        }
        handle
    }

    /// Whether the runtime behind this handle has shut down.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy_core::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// assert!(!handle.is_shutdown());
    /// drop(rt);
    /// assert!(handle.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.shared.inject.is_closed()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("name", &self.shared.name)
            .finish_non_exhaustive()
    }
}
