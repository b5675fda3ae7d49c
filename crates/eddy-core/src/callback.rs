//! `call_soon`: plain callbacks on the loop, FIFO with task steps.

use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::runtime::context;
use crate::runtime::Shared;

/// Handle to a callback scheduled with [`call_soon`] (or a timer callback of
/// a later crate). Dropping it does **not** cancel the callback.
///
/// # Example
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// eddy_core::run(async {
///     let hits = Rc::new(Cell::new(0));
///     let h = hits.clone();
///     let handle = eddy_core::call_soon(move || h.set(h.get() + 1));
///     handle.cancel();
///     eddy_core::yield_now().await;
///     assert_eq!(hits.get(), 0);
///     assert!(handle.is_cancelled());
/// });
/// ```
#[derive(Clone, Debug)]
pub struct CallbackHandle {
    state: Arc<CallbackState>,
}

#[derive(Debug)]
struct CallbackState {
    cancelled: AtomicBool,
    /// Where the callback was queued from (debug mode names it when the
    /// callback is slow or blocks the loop).
    location: &'static Location<'static>,
}

impl CallbackState {
    #[track_caller]
    fn new() -> Arc<CallbackState> {
        Arc::new(CallbackState {
            cancelled: AtomicBool::new(false),
            location: Location::caller(),
        })
    }
}

impl CallbackHandle {
    /// Prevents the callback from running if it has not run yet. Safe from
    /// any thread; a callback already running is not interrupted.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let handle = eddy_core::call_soon(|| unreachable!());
    ///     handle.cancel();
    ///     eddy_core::yield_now().await;
    /// });
    /// ```
    pub fn cancel(&self) {
        self.state.cancelled.store(true, Ordering::Release);
    }

    /// Whether [`CallbackHandle::cancel`] was called.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let handle = eddy_core::call_soon(|| {});
    ///     assert!(!handle.is_cancelled());
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.state.cancelled.load(Ordering::Acquire)
    }
}

/// A callback waiting in a run queue.
pub(crate) struct Callback {
    f: Box<dyn FnOnce()>,
    state: Arc<CallbackState>,
}

/// A callback sent from another thread (its closure is `Send`).
pub(crate) struct RemoteCallback {
    f: Box<dyn FnOnce() + Send>,
    state: Arc<CallbackState>,
}

impl RemoteCallback {
    pub(crate) fn into_local(self) -> Callback {
        Callback {
            f: self.f,
            state: self.state,
        }
    }
}

impl Callback {
    /// Where the callback was queued from.
    pub(crate) fn location(&self) -> &'static Location<'static> {
        self.state.location
    }

    /// Runs the callback unless cancelled; a panic is caught and reported
    /// through the unhandled-panic policy.
    pub(crate) fn run(self, shared: &Shared) {
        if self.state.cancelled.load(Ordering::Acquire) {
            return;
        }
        if let Err(payload) = catch_unwind(AssertUnwindSafe(self.f)) {
            shared.callback_panicked(payload);
        }
    }
}

/// Schedules `f` to run on the current loop, after what is already queued
/// (asyncio's `loop.call_soon`). Callbacks and task steps share one FIFO.
///
/// # Panics
///
/// With no eddy runtime on this thread.
///
/// # Example
///
/// ```
/// use std::{cell::RefCell, rc::Rc};
/// eddy_core::run(async {
///     let log = Rc::new(RefCell::new(Vec::new()));
///     for i in 0..3 {
///         let log = log.clone();
///         eddy_core::call_soon(move || log.borrow_mut().push(i));
///     }
///     eddy_core::yield_now().await;
///     assert_eq!(*log.borrow(), [0, 1, 2]);
/// });
/// ```
#[track_caller]
pub fn call_soon(f: impl FnOnce() + 'static) -> CallbackHandle {
    let state = CallbackState::new();
    let cb = Callback {
        f: Box::new(f),
        state: state.clone(),
    };
    context::push_local_callback(cb);
    CallbackHandle { state }
}

/// The thread-safe form behind `Handle::call_soon`.
#[track_caller]
pub(crate) fn remote(f: impl FnOnce() + Send + 'static) -> (RemoteCallback, CallbackHandle) {
    let state = CallbackState::new();
    (
        RemoteCallback {
            f: Box::new(f),
            state: state.clone(),
        },
        CallbackHandle { state },
    )
}
