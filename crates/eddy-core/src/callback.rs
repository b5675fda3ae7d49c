//! `call_soon`: plain callbacks on the loop, FIFO with task steps.
//!
//! Context variables: a callback runs in a copy of the context that was
//! current where it was scheduled (`call_soon`, `Handle::call_soon`, the
//! loop-thread `call_later`/`call_at` through `ParkedCallback::new`), as
//! asyncio's callbacks do; the copy is its own and is dropped when it
//! returns. It never sees nor changes the `block_on` future's context.
//! The closure is wrapped only when that context is not empty (see
//! `task::contextvars::capture_for_callback`), so the common case costs
//! one null check.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::ptr;
use std::sync::Arc;

use crate::loom::{Arc as LoomArc, AtomicBool, Ordering};
use crate::runtime::context::{self, Runnable};
use crate::runtime::Shared;
use crate::task::contextvars;

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
pub(crate) struct CallbackState {
    cancelled: AtomicBool,
    /// Where the callback was queued from (debug mode names it when the
    /// callback is slow or blocks the loop).
    location: &'static Location<'static>,
}

impl CallbackState {
    fn at(location: &'static Location<'static>) -> Arc<CallbackState> {
        Arc::new(CallbackState {
            cancelled: AtomicBool::new(false),
            location,
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
    /// Whether this is the callback of `state`.
    pub(crate) fn is(&self, state: &Arc<CallbackState>) -> bool {
        Arc::ptr_eq(&self.state, state)
    }

    /// Where the callback was queued from.
    pub(crate) fn location(&self) -> &'static Location<'static> {
        self.state.location
    }

    /// Runs the callback unless cancelled (then its closure is only
    /// dropped); a panic, in the closure or in its destructor, is caught
    /// and reported through the unhandled-panic policy.
    pub(crate) fn run(self, shared: &Shared) {
        if self.state.cancelled.load(Ordering::Acquire) {
            self.discard(shared);
        } else if let Err(payload) = catch_unwind(AssertUnwindSafe(self.f)) {
            shared.callback_panicked(self.state.location, payload);
        }
    }

    /// Drops the callback unrun (cancelled, or the loop is shutting down).
    /// A panic in its closure's destructor is caught and reported like a
    /// panic in the callback: it must not unwind out of the loop, nor out
    /// of a shutdown that still has tasks to cancel.
    pub(crate) fn discard(self, shared: &Shared) {
        let location = self.state.location;
        let f = self.f;
        if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(f))) {
            shared.callback_panicked(location, payload);
        }
    }
}

/// Schedules `f` to run on the current loop, after what is already queued
/// (asyncio's `loop.call_soon`). Callbacks and task steps share one FIFO.
///
/// `f` runs in a copy of the current context (the
/// [`ContextVar`](crate::task::ContextVar)s set where `call_soon` is
/// called), as asyncio's callbacks do; what it sets is dropped when it
/// returns.
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
    queue_local(Location::caller(), contextvars::capture_for_callback(f))
}

/// [`call_soon`] naming `location` as the place the callback was queued
/// from (debug mode reports a slow callback there): for a driver queuing a
/// callback it holds on behalf of its caller, such as a timer callback
/// when its timer fires. Not a public API.
///
/// Unlike `call_soon`, it captures no context (the driver's caller was
/// elsewhere, earlier): `f` runs in an empty context.
///
/// # Panics
///
/// With no eddy runtime on this thread.
#[doc(hidden)]
#[track_caller]
pub fn call_soon_from(
    location: &'static Location<'static>,
    f: impl FnOnce() + 'static,
) -> CallbackHandle {
    queue_local(location, Box::new(f))
}

#[track_caller]
fn queue_local(location: &'static Location<'static>, f: Box<dyn FnOnce()>) -> CallbackHandle {
    let state = CallbackState::at(location);
    let cb = Callback {
        f,
        state: state.clone(),
    };
    context::push_local_callback(cb);
    CallbackHandle { state }
}

/// The thread-safe form behind `Handle::call_soon`: `f` runs in a copy of
/// the calling thread's current context.
#[track_caller]
pub(crate) fn remote(f: impl FnOnce() + Send + 'static) -> (RemoteCallback, CallbackHandle) {
    remote_from(
        Location::caller(),
        contextvars::capture_for_remote_callback(f),
    )
}

/// [`remote`] naming `location` as the place the callback was queued
/// from, capturing no context (for the loop's own messages).
fn remote_from(
    location: &'static Location<'static>,
    f: Box<dyn FnOnce() + Send>,
) -> (RemoteCallback, CallbackHandle) {
    let state = CallbackState::at(location);
    (
        RemoteCallback {
            f,
            state: state.clone(),
        },
        CallbackHandle { state },
    )
}

/// A callback held on its loop, off the run queue, until it is released
/// (queued to run, FIFO with task steps, as by [`call_soon`]) or dropped
/// (its closure is dropped on the loop, unrun). Not a public API: it is how
/// eddy-time keeps a loop-thread `call_later` callback, whose closure need
/// not be `Send`, while the timer that releases it waits in a wheel shared
/// with other threads.
///
/// It is `Send + Sync` and may be released or dropped on any thread: on
/// its loop's thread (inside that loop) it acts at once; elsewhere it sends
/// the loop a message to do so. The closure itself never leaves the loop.
/// Callbacks still parked when the loop shuts down are dropped there with
/// the queued ones, and a `ParkedCallback` released or dropped later finds
/// nothing to do.
#[doc(hidden)]
pub struct ParkedCallback {
    shared: LoomArc<Shared>,
    /// The callback's state: who it is (a stale `key`, reused by another
    /// callback, holds another state) and where it was queued from.
    state: Arc<CallbackState>,
    /// Its slot in the loop's table of parked callbacks.
    key: u32,
    /// Released: `Drop` has nothing left to do. (A `bool` rather than an
    /// `Option` around the fields, so enums holding a `ParkedCallback`
    /// can keep their tag in its spare values: eddy-time's wheel entries
    /// stay as small as before.)
    released: bool,
}

impl ParkedCallback {
    /// Parks `f` on the current loop; the handle cancels it (it then never
    /// runs, even if already released). `location` is where the caller
    /// scheduled it (debug mode names it when the callback is slow). `f`
    /// will run in a copy of the context current now, as `call_soon`'s
    /// callbacks do.
    ///
    /// # Panics
    ///
    /// With no eddy runtime on this thread.
    #[track_caller]
    pub fn new(
        location: &'static Location<'static>,
        f: impl FnOnce() + 'static,
    ) -> (ParkedCallback, CallbackHandle) {
        let state = CallbackState::at(location);
        let cb = Callback {
            f: contextvars::capture_for_callback(f),
            state: state.clone(),
        };
        let (shared, key) = context::expect_local(|l| {
            let key = l.parked.borrow_mut().insert(cb);
            let key = u32::try_from(key).expect("more than 4 billion parked callbacks");
            (l.shared.clone(), key)
        });
        let parked = ParkedCallback {
            shared,
            state: state.clone(),
            key,
            released: false,
        };
        (parked, CallbackHandle { state })
    }

    /// Whether `handle` is the handle [`ParkedCallback::new`] returned with
    /// this callback.
    pub fn is(&self, handle: &CallbackHandle) -> bool {
        Arc::ptr_eq(&self.state, &handle.state)
    }

    /// Queues the callback on its loop, after what is already queued (it
    /// runs as a `call_soon` callback would, unless cancelled first).
    pub fn release(mut self) {
        self.released = true;
        let key = self.key as usize;
        let done = context::with_local(|l| {
            if !ptr::eq(&*l.shared, &*self.shared) {
                return false;
            }
            if let Some(cb) = l.take_parked(key, &self.state) {
                l.run_queue.borrow_mut().push_back(Runnable::Callback(cb));
            }
            true
        });
        if done != Some(true) {
            // Off the loop: the loop queues it when the message runs.
            let state = self.state.clone();
            self.send(move || {
                context::with_local(|l| {
                    if let Some(cb) = l.take_parked(key, &state) {
                        l.run_queue.borrow_mut().push_back(Runnable::Callback(cb));
                    }
                });
            });
        }
    }

    /// Sends `f` to run on the loop (as a callback named after this one);
    /// after shutdown there is nothing left to act on, and it is dropped.
    fn send(&self, f: impl FnOnce() + Send + 'static) {
        if self.shared.inject.is_closed() {
            return;
        }
        let (cb, _) = remote_from(self.state.location, Box::new(f));
        // Refused if the loop closed meanwhile: it dropped the callback.
        let _ = self.shared.push_remote_callback(cb);
    }
}

impl Drop for ParkedCallback {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let key = self.key as usize;
        let done = context::with_local(|l| {
            if !ptr::eq(&*l.shared, &*self.shared) {
                return false;
            }
            // The closure is dropped after the table is released: its
            // destructor may schedule callbacks.
            drop(l.take_parked(key, &self.state));
            true
        });
        if done != Some(true) {
            let state = self.state.clone();
            self.send(move || {
                context::with_local(|l| drop(l.take_parked(key, &state)));
            });
        }
    }
}

impl fmt::Debug for ParkedCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParkedCallback")
            .field("released", &self.released)
            .finish_non_exhaustive()
    }
}
