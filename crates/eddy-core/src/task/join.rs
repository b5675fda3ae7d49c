//! `JoinHandle`: await a task's output, cancel it, or detach by dropping.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use super::raw::{prefix, Header};
use super::state::Wake;
use super::{CancelHandle, JoinError, TaskId};

/// An owned permission to await a task's output.
///
/// Awaiting gives `Ok(value)`, or a [`JoinError`] if the task was cancelled
/// or panicked. Dropping the handle **detaches** the task: it keeps running
/// (asyncio keeps tasks alive the same way, but without the risk of the
/// task being garbage-collected). Use [`JoinHandle::cancel`] to stop it,
/// or [`JoinHandle::cancel_on_drop`] to make dropping the handle cancel
/// the task, as asyncio cancels a task whose awaiter is cancelled
/// (`wait_for` timing out, a cancelled `gather`).
///
/// The handle is `Send` when `T` is, even for tasks whose future is not:
/// the future itself never leaves its loop thread.
///
/// # Cancel safety
///
/// Awaiting is cancel-safe: dropping the `.await` (or the handle) loses
/// nothing; the task runs on and its output is dropped on completion.
///
/// # Example
///
/// ```
/// eddy_core::run(async {
///     let handle = eddy_core::spawn(async { 6 * 7 });
///     assert_eq!(handle.await.unwrap(), 42);
/// });
/// ```
pub struct JoinHandle<T> {
    raw: NonNull<Header>,
    _output: PhantomData<T>,
}

// SAFETY: the handle only reads the output (a `T`) and touches the atomic
// state and the join-waker slot, which are synchronised by the state word.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only allows `cancel`, `id` and `is_finished`, which
// touch atomics only.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    /// `raw` is a task whose output type is `T`; the handle takes over the
    /// join reference.
    pub(crate) unsafe fn new(raw: NonNull<Header>) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    /// The task this handle refers to (for crate-internal untyped
    /// references such as `AbortRef`).
    pub(crate) fn raw(&self) -> NonNull<Header> {
        self.raw
    }

    /// Cancels the task: its future is dropped (its destructors run) on its
    /// loop thread at the next scheduling point, and awaiting the handle
    /// gives `JoinError` with [`JoinError::is_cancelled`]. A task that has
    /// already finished keeps its output. Safe to call from any thread and
    /// more than once.
    ///
    /// If a destructor panics while the future is dropped, that panic is
    /// the task's outcome: awaiting gives [`JoinError::is_panic`] with its
    /// payload (as tokio's `abort` does, and as asyncio makes an exception
    /// raised in a `finally:` block the cancelled task's exception), and a
    /// detached task's goes to the runtime's unhandled-panic policy.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let handle = eddy_core::spawn(std::future::pending::<()>());
    ///     handle.cancel();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancel(&self) {
        // SAFETY: our join reference keeps the task alive.
        let p = unsafe { prefix(self.raw) };
        if p.header.state.transition_to_cancelled() == Wake::Submit {
            p.trailer.scheduler.schedule(self.raw);
        }
    }

    /// A [`CancelHandle`] for the task (tokio's `abort_handle`): it can
    /// cancel the task, check [`is_finished`](CancelHandle::is_finished)
    /// and give its id from any thread, without owning the output, so it
    /// can be cloned and handed around while this handle stays with
    /// whoever awaits the result.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let handle = eddy_core::spawn(std::future::pending::<()>());
    ///     let cancel = handle.cancel_handle();
    ///     let canceller = eddy_core::spawn(async move { cancel.cancel() });
    ///     canceller.await.unwrap();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    #[doc(alias = "abort_handle")]
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle::new(self)
    }

    /// Whether the task has finished (completed, panicked or been cancelled).
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let handle = eddy_core::spawn(async {});
    ///     assert!(!handle.is_finished());
    ///     eddy_core::yield_now().await;
    ///     assert!(handle.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        // SAFETY: our join reference keeps the task alive.
        unsafe { prefix(self.raw) }
            .header
            .state
            .load()
            .is_complete()
    }

    /// The output of a finished task, taken without charging the
    /// cooperative budget and without registering a waker; `None` while
    /// the task runs. For sweeps over many handles (`wait`'s final
    /// collection), where a budgeted poll would report finished tasks as
    /// pending once the budget ran out.
    pub(crate) fn try_take_output(&mut self) -> Option<Result<T, JoinError>> {
        if !self.is_finished() {
            return None;
        }
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: as in `poll`: our join reference keeps the task alive and
        // `out` has the task's output type. The task is complete, so the
        // read takes the output and never stores the waker.
        unsafe {
            let read = prefix(self.raw).header.vtable.try_read_output;
            read(self.raw, &mut out as *mut _ as *mut (), Waker::noop());
        }
        match out {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        }
    }

    /// Forgets the waker the last poll registered, so the task's completion
    /// wakes nobody until the handle is polled again. For combinators that
    /// hand back handles they polled with their own wakers (`wait`), as
    /// asyncio's `wait` removes its done-callbacks before returning.
    pub(crate) fn forget_waker(&mut self) {
        // SAFETY: our join reference keeps the task alive.
        let p = unsafe { prefix(self.raw) };
        if !p.header.state.load().has_join_waker() {
            return;
        }
        // Err: the task completed meanwhile and the loop side owns the slot
        // (it has woken, or is waking, that waker: nothing to undo).
        if p.header.state.unset_join_waker().is_ok() {
            p.trailer.join_waker.with_mut(|slot| {
                // SAFETY: we cleared JOIN_WAKER before completion, so the slot
                // is the join handle's again (the JOIN_WAKER handshake in
                // `raw.rs`); the loop side no longer reads it.
                unsafe { *slot = None };
            });
        }
    }

    /// The task's id.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let a = eddy_core::spawn(async {});
    ///     let b = eddy_core::spawn(async {});
    ///     assert_ne!(a.id(), b.id());
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        // SAFETY: our join reference keeps the task alive.
        unsafe { prefix(self.raw) }.header.id
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = std::task::ready!(crate::coop::poll_proceed(cx));
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: our join reference keeps the task alive; `out` has the
        // type the task's vtable writes (its output type is `T`).
        unsafe {
            let read = prefix(self.raw).header.vtable.try_read_output;
            read(self.raw, &mut out as *mut _ as *mut (), cx.waker());
        }
        if out.is_ready() {
            coop.made_progress();
        }
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: we give up the join reference exactly once.
        unsafe {
            let drop_join = prefix(self.raw).header.vtable.drop_join_handle;
            drop_join(self.raw);
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}
