//! How a callback runs in the context where it was scheduled: the loop
//! puts its own context aside around each callback
//! ([`LoopContext::enter_callback`], [`LoopContext::leave_callback`]), and
//! the callback's wrapper ([`capture_for_callback`]) installs the copy it
//! captured. The thread rules are in `place.rs`.

use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};

use super::map::Map;
use super::place::{current, LoopContext};
use crate::runtime::context;
use crate::runtime::Shared;

impl LoopContext {
    /// Called by the loop before it runs a callback: puts the `block_on`
    /// future's context aside (returned) and leaves the callback an empty
    /// one (its wrapper installs what it captured, see
    /// [`capture_for_callback`]).
    #[inline]
    pub(crate) fn enter_callback(&self) -> Map {
        let n = self.callbacks.get().wrapping_add(1).max(1);
        self.callbacks.set(n);
        self.callback.set(n);
        // SAFETY: the loop itself, between two runnables: no reader or
        // writer holds the slot (thread rules).
        unsafe { (*self.current.get()).take() }
    }

    /// Called by the loop after a callback: puts the `block_on` future's
    /// context back and drops what the callback's context became. A panic
    /// in a value's destructor is caught and reported like a panic of the
    /// callback queued from `location`.
    #[inline]
    pub(crate) fn leave_callback(
        &self,
        outer: Map,
        shared: &Shared,
        location: &'static Location<'static>,
    ) {
        self.callback.set(0);
        // SAFETY: as in `enter_callback`.
        let left = unsafe { mem::replace(&mut *self.current.get(), outer) };
        if left.is_some() {
            drop_callback_context(left, shared, location);
        }
    }
}

#[cold]
#[inline(never)]
fn drop_callback_context(left: Map, shared: &Shared, location: &'static Location<'static>) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(left))) {
        shared.callback_panicked(location, payload);
    }
}

/// Wraps a callback so it runs in a copy of the context current now (what
/// asyncio's `call_soon` does with `copy_context()`). With an empty
/// context the callback is boxed as it is: the loop runs every callback in
/// an empty context of its own.
#[inline]
pub(crate) fn capture_for_callback<F: FnOnce() + 'static>(f: F) -> Box<dyn FnOnce()> {
    match current() {
        None => Box::new(f),
        map => Box::new(move || {
            install_callback_context(map);
            f()
        }),
    }
}

/// [`capture_for_callback`] for a callback sent from another thread.
#[inline]
pub(crate) fn capture_for_remote_callback<F: FnOnce() + Send + 'static>(
    f: F,
) -> Box<dyn FnOnce() + Send> {
    match current() {
        None => Box::new(f),
        map => Box::new(move || {
            install_callback_context(map);
            f()
        }),
    }
}

/// Makes `map` the running callback's context (the loop left it empty,
/// see [`LoopContext::enter_callback`]).
fn install_callback_context(map: Map) {
    let old = context::with_local(|local| {
        debug_assert!(local.current_task.get().is_none() && local.contexts.callback.get() != 0);
        // SAFETY: called by the callback's wrapper before any of the
        // callback's own code: nothing reads or writes the slot.
        unsafe { mem::replace(&mut *local.contexts.current.get(), map) }
    });
    // Empty in practice (the loop emptied it); dropped outside the slot.
    drop(old);
}
