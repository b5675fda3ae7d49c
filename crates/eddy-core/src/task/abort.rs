//! `AbortRef`: an untyped, crate-private reference to a task that can
//! cancel it — at the next scheduling point like `JoinHandle::cancel`, or
//! at once ("synchronous cancel") when the task is idle on this thread's
//! running loop. Task groups keep one per child.

use std::ptr::NonNull;

use super::raw::{prefix, Header, UNBOUND};
use super::state::Wake;
use super::JoinHandle;
use crate::runtime::context;

/// Holds one task reference (not the join interest): the task's memory
/// stays valid while this exists, but its output stays with the handle.
pub(crate) struct AbortRef {
    raw: NonNull<Header>,
}

impl AbortRef {
    /// A second reference to `handle`'s task.
    pub(crate) fn new<T>(handle: &JoinHandle<T>) -> AbortRef {
        let raw = handle.raw();
        // SAFETY: the handle's reference keeps the task alive while we take
        // ours; `Drop` releases it.
        unsafe { prefix(raw) }.header.state.ref_inc();
        AbortRef { raw }
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
