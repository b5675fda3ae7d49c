//! [`SubmitGuard`]: the value a pool's submit hook returns for one job,
//! kept with the job without an allocation of its own.
//!
//! The pool cannot name the hook's guard type (it is the caller's), so the
//! guard is type-erased. A `Box<dyn Send>` would cost one allocation per
//! job; instead a guard of up to two words (a clock hold is one `Arc`)
//! is stored inline, and only a larger one is boxed.

use std::mem::{align_of, size_of, MaybeUninit};
use std::ptr;

/// Inline room, in words.
type Storage = [usize; 2];

/// A type-erased, owned value whose only use is being dropped.
pub(crate) struct SubmitGuard {
    /// Holds a `U` (see `inline`), initialised for the guard's whole life.
    data: MaybeUninit<Storage>,
    /// Drops the `U` in `data`.
    drop_in_place: unsafe fn(*mut ()),
}

// SAFETY: a `SubmitGuard` only ever holds a `T: Send` (or a `Box` of one,
// which is `Send` too), see `new`; it gives no access to the value but
// dropping it, so moving it to another thread is moving a `Send` value.
unsafe impl Send for SubmitGuard {}

const fn fits<U>() -> bool {
    size_of::<U>() <= size_of::<Storage>() && align_of::<U>() <= align_of::<Storage>()
}

/// # Safety
/// `p` points to a valid `U` that is not used again.
unsafe fn drop_as<U>(p: *mut ()) {
    // SAFETY: per the contract, `p` is a valid `U` owned by the caller.
    unsafe { ptr::drop_in_place(p.cast::<U>()) }
}

impl SubmitGuard {
    /// Takes ownership of `value`: inline when it fits in two words,
    /// boxed otherwise.
    pub(crate) fn new<T: Send + 'static>(value: T) -> SubmitGuard {
        if fits::<T>() {
            SubmitGuard::inline(value)
        } else {
            SubmitGuard::inline(Box::new(value))
        }
    }

    fn inline<U: Send + 'static>(value: U) -> SubmitGuard {
        assert!(fits::<U>(), "SubmitGuard::inline: the value does not fit");
        let mut data = MaybeUninit::<Storage>::uninit();
        // SAFETY: `data` is large and aligned enough for a `U` (checked
        // just above), and uninitialised, so nothing is overwritten.
        unsafe { data.as_mut_ptr().cast::<U>().write(value) };
        SubmitGuard {
            data,
            drop_in_place: drop_as::<U>,
        }
    }
}

impl Drop for SubmitGuard {
    fn drop(&mut self) {
        // SAFETY: `data` holds the `U` written by `inline`, whose drop
        // function this is, and it is dropped exactly once, here.
        unsafe { (self.drop_in_place)(self.data.as_mut_ptr().cast::<()>()) }
    }
}

#[cfg(test)]
mod tests {
    use super::SubmitGuard;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    struct Count(Arc<AtomicUsize>);
    impl Drop for Count {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn inline_and_boxed_guards_drop_their_value_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let small = SubmitGuard::new(Count(drops.clone()));
        let big = SubmitGuard::new((Count(drops.clone()), [0u64; 8]));
        let zst = SubmitGuard::new(());
        let moved = std::thread::spawn(move || drop((small, zst)));
        moved.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        drop(big);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }
}
