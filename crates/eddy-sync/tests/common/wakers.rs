//! Wakers that misbehave, for the tests that check the primitives survive
//! them: one that panics when woken, one whose clone panics, one that runs
//! a closure when woken, and one that runs a closure when dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Wake, Waker};

use futures::task::noop_waker_ref;

/// A waker that panics when woken.
pub fn panicking_waker() -> Waker {
    struct PanicWaker;
    impl Wake for PanicWaker {
        fn wake(self: Arc<Self>) {
            panic!("this waker panics");
        }
    }
    Waker::from(Arc::new(PanicWaker))
}

/// A waker whose `clone` panics (every waiting future clones the waker it
/// is polled with to keep it).
pub fn clone_panicking_waker() -> Waker {
    fn clone(_: *const ()) -> RawWaker {
        panic!("this waker's clone panics")
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: the data pointer is never read; wake, wake_by_ref and drop do
    // nothing, and clone never returns (it panics), so the RawWaker
    // contract holds for any number of threads and calls.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}

/// A waker that runs `f` when woken.
pub fn fn_waker(f: impl Fn() + Send + Sync + 'static) -> Waker {
    struct FnWaker<F>(F);
    impl<F: Fn() + Send + Sync + 'static> Wake for FnWaker<F> {
        fn wake(self: Arc<Self>) {
            (self.0)()
        }
        fn wake_by_ref(self: &Arc<Self>) {
            (self.0)()
        }
    }
    Waker::from(Arc::new(FnWaker(f)))
}

/// A waker that does nothing when woken and runs `f` when its last clone
/// is dropped: as if it owned a task whose future still holds a guard or a
/// place in line, which its drop gives back.
pub fn drop_callback_waker(f: impl Fn() + Send + Sync + 'static) -> Waker {
    struct OnDrop<F: Fn()>(F);
    impl<F: Fn() + Send + Sync + 'static> Wake for OnDrop<F> {
        fn wake(self: Arc<Self>) {}
    }
    impl<F: Fn()> Drop for OnDrop<F> {
        fn drop(&mut self) {
            (self.0)()
        }
    }
    Waker::from(Arc::new(OnDrop(f)))
}

/// Polls `fut` once with `waker`.
pub fn poll_with<F: Future>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

/// Polls a fresh `fut` once with a no-op waker, then drops it: takes and
/// releases the primitive's internal lock if it has to queue.
pub fn poll_once_and_drop<F: Future>(fut: F) {
    let mut fut = std::pin::pin!(fut);
    let _ = poll_with(fut.as_mut(), noop_waker_ref());
}
