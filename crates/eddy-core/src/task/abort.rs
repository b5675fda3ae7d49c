//! `AbortRef`: an untyped reference to a task that can cancel it — at
//! the next scheduling point like `JoinHandle::cancel`, or at once
//! ("synchronous cancel") when the task is idle on this thread's running
//! loop. Task groups keep one per child; [`CancelHandle`] is its public
//! face (tokio's `AbortHandle`).

use std::fmt;
use std::ptr::NonNull;

use super::raw::{prefix, Header, UNBOUND};
use super::state::Wake;
use super::{JoinHandle, TaskId};
use crate::runtime::context;

/// Holds one task reference (not the join interest): the task's memory
/// stays valid while this exists, but its output stays with the handle.
pub(crate) struct AbortRef {
    raw: NonNull<Header>,
}

// SAFETY: what an `AbortRef` touches from whichever thread holds it is
// thread-safe: the header's atomic state word and immutable id, and the
// scheduler's `schedule`, which wakers already call from any thread.
// `cancel_now` reads the owner-thread-only `owned_key` and runs the
// vtable's `shutdown` only after checking that this thread runs the
// task's loop. Dropping the last reference deallocates on this thread,
// which is sound for the reason it is for a waker: the loop dropped the
// future before the task completed, and the output is not ours (the join
// handle, or the loop when nobody joins, dropped it before giving up its
// own reference), so nothing of the user's type `T` or future type is
// dropped here.
unsafe impl Send for AbortRef {}
// SAFETY: every method takes `&self` and is thread-safe as argued above.
unsafe impl Sync for AbortRef {}

impl AbortRef {
    /// A second reference to `handle`'s task.
    pub(crate) fn new<T>(handle: &JoinHandle<T>) -> AbortRef {
        let raw = handle.raw();
        // SAFETY: the handle's reference keeps the task alive while we take
        // ours; `Drop` releases it.
        unsafe { prefix(raw) }.header.state.ref_inc();
        AbortRef { raw }
    }

    /// Whether the task has finished (completed, panicked or cancelled).
    pub(crate) fn is_finished(&self) -> bool {
        // SAFETY: our reference keeps the task alive.
        unsafe { prefix(self.raw) }
            .header
            .state
            .load()
            .is_complete()
    }

    /// The task's id.
    pub(crate) fn id(&self) -> TaskId {
        // SAFETY: our reference keeps the task alive.
        unsafe { prefix(self.raw) }.header.id
    }

    /// Cancels at the loop's next scheduling point (as `JoinHandle::cancel`).
    pub(crate) fn cancel(&self) {
        // SAFETY: our reference keeps the task alive.
        let p = unsafe { prefix(self.raw) };
        if p.header.state.transition_to_cancelled() == Wake::Submit {
            p.trailer.scheduler.schedule(self.raw);
        }
    }

    /// Cancels and, when possible, drops the task's future before returning
    /// (its destructors run inside this call). That needs: this thread is
    /// running the task's loop (not shutting it down), and the task is not
    /// being polled right now (a task cannot drop its own future from inside
    /// its poll). Otherwise falls back to [`AbortRef::cancel`]. Returns true
    /// if the future is gone when this returns.
    pub(crate) fn cancel_now(&self) -> bool {
        // SAFETY: our reference keeps the task alive.
        let p = unsafe { prefix(self.raw) };
        let state = p.header.state.load();
        if state.is_complete() {
            return true;
        }
        // Only the owner thread sets RUNNING, and we check that we are on
        // it, so "not running" cannot change under us; other threads may
        // still set NOTIFIED/CANCELLED, which `transition_to_shutdown`'s CAS
        // loop tolerates. During runtime shutdown (inject queue closed) the
        // runtime walks a snapshot of the live-task table, which must not
        // lose entries behind its back: cancel lazily there.
        let synchronous = !state.is_running()
            && context::is_current(&p.trailer.scheduler)
            && !p.trailer.scheduler.inject.is_closed()
            && p.trailer.owned_key.get() != UNBOUND;
        if !synchronous {
            self.cancel();
            return false;
        }
        // The task is current while its future is dropped, as when the
        // loop cancels it: its destructors see its own context variables
        // and `task::current`, not those of whoever cancels it (asyncio
        // runs a cancelled task's `finally:` in the task's context).
        let _current = CurrentWhileDropped::enter(self.raw);
        // SAFETY: we are on the owner loop thread, the task is bound to its
        // live-task table and not running, and our reference keeps it alive
        // through the call. `shutdown` takes it to RUNNING|CANCELLED, drops
        // the future, completes it as cancelled (waking its join handle)
        // and unbinds it; a run-queue entry it may still have finds it
        // complete and only releases its reference.
        unsafe { (p.header.vtable.shutdown)(self.raw) };
        true
    }
}

/// Makes a task the loop's current task for the length of a synchronous
/// cancellation, then puts back the task (or none) that was current, and
/// its self-wake flag: a wake the cancelled task's destructors gave
/// itself is moot (it is complete), and must not requeue the caller.
struct CurrentWhileDropped {
    previous: Option<NonNull<Header>>,
    self_woken: bool,
}

impl CurrentWhileDropped {
    fn enter(task: NonNull<Header>) -> CurrentWhileDropped {
        let (previous, self_woken) = context::with_local(|l| {
            (
                l.current_task.replace(Some(task)),
                l.self_woken.replace(false),
            )
        })
        .expect("cancel_now runs on the task's loop thread");
        CurrentWhileDropped {
            previous,
            self_woken,
        }
    }
}

impl Drop for CurrentWhileDropped {
    fn drop(&mut self) {
        context::with_local(|l| {
            l.current_task.set(self.previous);
            l.self_woken.set(self.self_woken);
        });
    }
}

impl Clone for AbortRef {
    fn clone(&self) -> AbortRef {
        // SAFETY: our reference keeps the task alive while we take another;
        // the clone's `Drop` releases it.
        unsafe { prefix(self.raw) }.header.state.ref_inc();
        AbortRef { raw: self.raw }
    }
}

impl Drop for AbortRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference and give it up exactly once.
        let header = unsafe { &prefix(self.raw).header };
        if header.state.ref_dec() {
            // SAFETY: that was the last reference.
            unsafe { (header.vtable.dealloc)(self.raw) };
        }
    }
}

/// A handle that can cancel a task without owning its output (tokio's
/// `AbortHandle`): from [`JoinHandle::cancel_handle`] and the other task
/// handles' `cancel_handle`.
///
/// It can [`cancel`](Self::cancel) the task, tell whether it
/// [finished](Self::is_finished) and give its [`id`](Self::id), like the
/// join handle, but it cannot await the output. It is `Clone`, and `Send`
/// and `Sync` whatever the task's output type, so it can go to other
/// threads and other tasks while the join handle stays where the output
/// is wanted (a supervisor keeping one per worker, a shutdown path that
/// cancels tasks it did not spawn).
///
/// It keeps only the task's bookkeeping alive, never its output: the
/// output is dropped when the join handle is (or, for a detached task,
/// when the task finishes), however long cancel handles live. Cancelling
/// through it after the task finished does nothing.
///
/// # Example
///
/// ```
/// eddy_core::run(async {
///     let task = eddy_core::spawn(std::future::pending::<()>());
///     let cancel = task.cancel_handle();
///     // Cancel from another thread; the join handle stays here.
///     std::thread::spawn(move || cancel.cancel()).join().unwrap();
///     assert!(task.await.unwrap_err().is_cancelled());
/// });
/// ```
#[doc(alias = "AbortHandle")]
#[derive(Clone)]
pub struct CancelHandle {
    task: AbortRef,
}

impl CancelHandle {
    pub(super) fn new<T>(handle: &JoinHandle<T>) -> CancelHandle {
        CancelHandle {
            task: AbortRef::new(handle),
        }
    }

    /// Cancels the task, exactly as [`JoinHandle::cancel`] does: its future
    /// is dropped on its loop thread at the next scheduling point, and
    /// awaiting its join handle gives a [cancelled](super::JoinError::is_cancelled)
    /// error. A task that already finished keeps its output. Safe to call
    /// from any thread, more than once, and after the join handle is gone.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let task = eddy_core::spawn(std::future::pending::<()>());
    ///     let id = task.id();
    ///     let cancel = task.cancel_handle();
    ///     drop(task); // detached: only the cancel handle reaches it now
    ///     cancel.cancel();
    ///     eddy_core::yield_now().await;
    ///     assert!(cancel.is_finished());
    ///     assert!(eddy_core::task::all().iter().all(|t| t.id() != id));
    /// });
    /// ```
    #[doc(alias = "abort")]
    pub fn cancel(&self) {
        self.task.cancel();
    }

    /// Whether the task has finished (completed, panicked or been
    /// cancelled).
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let cancel = eddy_core::spawn(async { 1 }).cancel_handle();
    ///     assert!(!cancel.is_finished());
    ///     eddy_core::yield_now().await;
    ///     assert!(cancel.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// The task's id (the same as [`JoinHandle::id`]).
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let task = eddy_core::spawn(async {});
    ///     assert_eq!(task.cancel_handle().id(), task.id());
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.task.id()
    }
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}
