//! The `Waker` of a task: a pointer to its header plus one reference.
//!
//! Wakers are `Send + Sync`. A wake only touches the state word and, when
//! the task must be queued, its loop's scheduler: the local run queue when
//! woken on the loop thread (no lock), the inject queue otherwise.

use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::raw::{prefix, Header};
use super::state::Wake;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker for the task at `ptr` that owns one reference.
///
/// # Safety
/// The caller gives that reference to the waker (or wraps the result in
/// `ManuallyDrop` to borrow one it holds).
pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Waker {
    // SAFETY: the vtable functions below uphold the RawWaker contract for a
    // pointer to a live task header that owns one reference.
    unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &VTABLE)) }
}

/// Whether `waker` is an eddy task's waker (its data is then a task
/// header).
#[inline]
pub(crate) fn is_task_waker(waker: &Waker) -> bool {
    std::ptr::eq(waker.vtable(), &VTABLE)
}

unsafe fn clone(data: *const ()) -> RawWaker {
    let ptr = data as *mut Header;
    // SAFETY: the waker being cloned holds a reference, so the task is alive.
    unsafe { (*ptr).state.ref_inc() };
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: `data` came from `from_raw` and is non-null.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    // SAFETY: this waker's reference keeps the task alive until consumed.
    let p = unsafe { prefix(ptr) };
    match p.header.state.transition_to_notified_by_val() {
        Wake::Nothing => {}
        // Our reference moves into the queue.
        Wake::Submit => p.trailer.scheduler.schedule(ptr),
        // SAFETY: our reference was the last.
        Wake::Dealloc => unsafe { (p.header.vtable.dealloc)(ptr) },
    }
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: `data` came from `from_raw` and is non-null.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    // SAFETY: the borrowed waker's reference keeps the task alive.
    let p = unsafe { prefix(ptr) };
    if p.header.state.transition_to_notified_by_ref() == Wake::Submit {
        // A new reference was taken for the queue.
        p.trailer.scheduler.schedule(ptr);
    }
}

unsafe fn drop_waker(data: *const ()) {
    let ptr = data as *mut Header;
    // SAFETY: the waker holds a reference, so the task is alive until we
    // release it; after a last release nothing else can reach it.
    unsafe {
        if (*ptr).state.ref_dec() {
            ((*ptr).vtable.dealloc)(NonNull::new_unchecked(ptr));
        }
    }
}
