//! The part of a loop that other threads reach: wakes, remote spawns and
//! remote callbacks, the driver's unparker, the unhandled-panic policy.

use std::any::Any;
use std::panic::Location;
use std::ptr::NonNull;

use super::context;
use super::inject::{Inject, Linked};
use crate::callback::RemoteCallback;
use crate::loom::{AtomicBool, Ordering, UnsafeCell};
use crate::park::Unpark;
use crate::task::raw::{prefix, Header};
use crate::task::{payload_message, TaskId};
use crate::UnhandledPanic;

// SAFETY: `queue_next` is a field of the header that lives as long as the
// task, and a task is in the inject queue at most once (NOTIFIED bit).
unsafe impl Linked for Header {
    fn next(&self) -> &UnsafeCell<Option<NonNull<Header>>> {
        &self.queue_next
    }
}

pub(crate) struct Shared {
    /// Tasks and callbacks from other threads, in submission order.
    pub(crate) inject: Inject<Header, RemoteCallback>,
    pub(crate) unparker: std::sync::Arc<dyn Unpark>,
    pub(crate) unhandled_panic: UnhandledPanic,
    /// Set by an unjoined panic under `UnhandledPanic::ShutdownRuntime`.
    pub(crate) shutdown_requested: AtomicBool,
    pub(crate) name: Option<String>,
}

impl Shared {
    /// Queues a task that was just notified; takes over one reference.
    #[inline]
    pub(crate) fn schedule(&self, task: NonNull<Header>) {
        // One thread-local lookup: push locally when this thread runs the
        // task's own loop.
        if !context::try_push_local_task(self, task) {
            self.schedule_remote(task);
        }
    }

    /// Queues from another thread (or outside `block_on`) and wakes the loop.
    pub(crate) fn schedule_remote(&self, task: NonNull<Header>) {
        match self.inject.push(task) {
            Ok(()) => self.unparker.unpark(),
            Err(task) => {
                // The loop is gone; it already cancelled every task, so
                // dropping this queue reference is all that is left.
                // SAFETY: we own this reference.
                unsafe { release(task) }
            }
        }
    }

    pub(crate) fn push_remote_callback(&self, cb: RemoteCallback) -> Result<(), RemoteCallback> {
        self.inject.push_callback(cb)?;
        self.unparker.unpark();
        Ok(())
    }

    /// A task panicked and nobody will see its `JoinError`.
    pub(crate) fn unhandled_panic(
        &self,
        id: TaskId,
        name: Option<&str>,
        location: &'static Location<'static>,
        payload: Box<dyn Any + Send>,
    ) {
        let msg = payload_message(&*payload).unwrap_or("<non-string payload>");
        tracing::error!(
            task.id = id.as_u64(),
            task.name = name.unwrap_or("<unnamed>"),
            task.spawned_at = %location,
            panic = msg,
            "a spawned task panicked and nobody joined it"
        );
        if self.unhandled_panic == UnhandledPanic::ShutdownRuntime {
            self.shutdown_requested.store(true, Ordering::Release);
            self.unparker.unpark();
        }
    }
}

/// Releases one task reference, deallocating on the last.
///
/// # Safety
/// The caller owns that reference.
pub(crate) unsafe fn release(task: NonNull<Header>) {
    // SAFETY: our reference keeps the task alive until released.
    let header = unsafe { &prefix(task).header };
    if header.state.ref_dec() {
        // SAFETY: it was the last reference.
        unsafe { (header.vtable.dealloc)(task) };
    }
}

impl Shared {
    /// A callback (`call_soon`, or a timer's `call_later`/`call_at`)
    /// queued from `location` panicked: logged, and the runtime shut down
    /// under `UnhandledPanic::ShutdownRuntime`, like an unjoined task panic.
    pub(crate) fn callback_panicked(
        &self,
        location: &'static Location<'static>,
        payload: Box<dyn Any + Send>,
    ) {
        tracing::error!(
            panic = payload_message(&*payload).unwrap_or("<non-string payload>"),
            callback.queued_at = %location,
            "a callback panicked (scheduled with call_soon, call_later or call_at)"
        );
        if self.unhandled_panic == UnhandledPanic::ShutdownRuntime {
            self.shutdown_requested.store(true, Ordering::Release);
        }
    }
}
