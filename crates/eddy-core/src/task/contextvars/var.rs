//! [`ContextVar`]: a variable with a value per context; `get`/`with`
//! read it, `set` changes it and `reset` takes a token to undo a `set`.

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::map::{self, Value};
use super::place::{self, Writer};
use super::token::{ContextResetError, ContextToken, ResetKind};
#[cfg(doc)]
use super::{copy_context, ContextSnapshot};

/// A context variable (asyncio's `contextvars.ContextVar`): a value per
/// context, where each task has a context of its own that starts as a
/// copy of its spawner's.
///
/// Declare it as a `static` (not a `const`: each use of a `const` would
/// be a new variable, whose values no other use could see):
///
/// - [`set`](Self::set) changes the value in the current context and
///   returns a [`ContextToken`] that [`reset`](Self::reset) takes to put
///   the previous value back;
/// - [`get`](Self::get) clones the value out, [`with`](Self::with) lends
///   it (for values that are costly to clone).
///
/// Which context is current:
///
/// - inside a task: the task's. [`spawn`](crate::spawn) (and everything
///   built on it: `TaskGroup` children, `shield`, [`Handle::spawn`]
///   from another thread) gives the new task a **copy** of the spawner's
///   context, so later sets in the parent or in the child do not reach the
///   other. [`Builder::context`](crate::task::Builder::context) gives it another
///   one (asyncio's `create_task(coro, context=ctx)`);
/// - in the future given to [`Runtime::block_on`](crate::Runtime::block_on)
///   / [`run`](crate::run): the runtime's own context, a copy of the one
///   current where the runtime was built, kept across `block_on` calls
///   (like asyncio's `Runner`);
/// - in a callback ([`call_soon`](crate::call_soon),
///   [`Handle::call_soon`], eddy-time's loop-thread `call_later`/`call_at`):
///   a copy of the context where it was scheduled, dropped when the
///   callback returns, as in asyncio (eddy-time's thread-safe
///   `Handle::call_later`/`call_at` copy the scheduling thread's context
///   too);
/// - on a thread with no loop (a blocking-pool thread, a plain thread):
///   the thread's own. The facade's `eddy::to_thread` runs its function in
///   a copy of the caller's context, as asyncio's `to_thread` does
///   (`spawn_blocking` and `run_in_executor` do not, as asyncio's
///   `run_in_executor` does not).
///
/// The futures of `gather!`/`gather_all`/`join!` run inside the task that
/// awaits them, so they share its context (asyncio's `gather` wraps each
/// coroutine in a task of its own: spawn them for that).
///
/// A task's values are dropped when the task ends (after its future), on
/// its loop thread.
///
/// `T: Send + Sync` because a context can be copied to other threads
/// (`eddy::to_thread`, [`copy_context`]).
///
/// # Example
///
/// ```
/// use eddy_core::task::ContextVar;
///
/// static USER: ContextVar<String> = ContextVar::new("user");
///
/// eddy_core::run(async {
///     let token = USER.set("alice".to_string());
///     let child = eddy_core::spawn(async {
///         let seen = USER.get();
///         USER.set("bob".to_string()); // the child's own copy
///         seen
///     });
///     assert_eq!(child.await.unwrap().as_deref(), Some("alice"));
///     assert_eq!(USER.get().as_deref(), Some("alice"));
///     USER.reset(token).unwrap();
///     assert_eq!(USER.get(), None);
/// });
/// ```
///
/// [`Handle::spawn`]: crate::Handle::spawn
/// [`Handle::call_soon`]: crate::Handle::call_soon
pub struct ContextVar<T> {
    name: &'static str,
    /// Assigned on first `set` from a global counter (0: not yet). Values
    /// are found by this id, never by the variable's address.
    pub(super) id: AtomicU64,
    _value: PhantomData<fn() -> T>,
}

impl<T: Send + Sync + 'static> ContextVar<T> {
    /// A variable named `name` (shown in error messages and `Debug`), with
    /// no value in any context. `const`, to be a `static`.
    ///
    /// # Example
    ///
    /// ```
    /// static DEPTH: eddy_core::task::ContextVar<u32> = eddy_core::task::ContextVar::new("depth");
    /// assert_eq!(DEPTH.get(), None);
    /// ```
    pub const fn new(name: &'static str) -> ContextVar<T> {
        ContextVar {
            name,
            id: AtomicU64::new(0),
            _value: PhantomData,
        }
    }

    /// The name given to [`new`](Self::new).
    ///
    /// # Example
    ///
    /// ```
    /// static DEPTH: eddy_core::task::ContextVar<u32> = eddy_core::task::ContextVar::new("depth");
    /// assert_eq!(DEPTH.name(), "depth");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The variable's id, assigned on first use (a `compare_exchange` makes
    /// every thread agree on one).
    #[inline]
    fn id(&self) -> u64 {
        match self.id.load(Ordering::Relaxed) {
            0 => self.assign_id(),
            id => id,
        }
    }

    #[cold]
    #[inline(never)]
    fn assign_id(&self) -> u64 {
        let fresh = map::next_id();
        match self
            .id
            .compare_exchange(0, fresh, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => fresh,
            Err(winner) => winner,
        }
    }

    /// A clone of the value in the current context, or `None` when it has
    /// none (asyncio's `var.get()`; pass a default with `unwrap_or`).
    ///
    /// # Panics
    ///
    /// Never by itself. `T::clone` runs while the context is being read:
    /// a `set` or `reset` from inside it panics (see [`with`](Self::with)).
    ///
    /// # Example
    ///
    /// ```
    /// static LIMIT: eddy_core::task::ContextVar<usize> = eddy_core::task::ContextVar::new("limit");
    /// eddy_core::run(async {
    ///     assert_eq!(LIMIT.get().unwrap_or(10), 10);
    ///     LIMIT.set(3);
    ///     assert_eq!(LIMIT.get(), Some(3));
    /// });
    /// ```
    #[inline]
    pub fn get(&self) -> Option<T>
    where
        T: Clone,
    {
        self.with(|v| v.cloned())
    }

    /// Runs `f` with a reference to the value in the current context (or
    /// `None`), without cloning it: for values that are costly to clone.
    ///
    /// # Panics
    ///
    /// If `f` calls [`set`](Self::set) or [`reset`](Self::reset) (of any
    /// variable) or [`ContextSnapshot::run`]: the value it borrows could be
    /// dropped under it. Take what you need out of the closure and set
    /// afterwards.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::ContextVar;
    ///
    /// static CONFIG: ContextVar<Vec<String>> = ContextVar::new("config");
    ///
    /// eddy_core::run(async {
    ///     CONFIG.set(vec!["verbose".to_string(); 1000]);
    ///     let verbose = CONFIG.with(|c| c.is_some_and(|c| c.iter().any(|o| o == "verbose")));
    ///     assert!(verbose);
    /// });
    /// ```
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        let id = self.id.load(Ordering::Relaxed);
        if id == 0 {
            // Never set anywhere.
            return f(None);
        }
        place::with_value(id, |value| {
            // SAFETY: every value stored under `id` was stored by `set` or
            // `reset` of this variable, as an `Arc<T>`: ids are unique per
            // variable (a global counter, never reused) and a variable has
            // one `T`. It stays alive while `f` runs (`with_value`).
            f(value.map(|v| unsafe { v.cast::<T>().as_ref() }))
        })
    }

    /// Sets the value in the current context (asyncio's `var.set(value)`)
    /// and returns a token with which [`reset`](Self::reset) puts back the
    /// value before this `set`. The token may be ignored.
    ///
    /// # Panics
    ///
    /// Inside a [`with`](Self::with) closure or a value's `Clone` run by
    /// [`get`](Self::get). (On a thread with no loop that is exiting, a
    /// value's destructor may still call `set`: the value goes into a
    /// throwaway context, dropped at once, as the thread's is.)
    ///
    /// # Example
    ///
    /// ```
    /// static LANG: eddy_core::task::ContextVar<&'static str> = eddy_core::task::ContextVar::new("lang");
    /// LANG.set("en"); // outside a loop: this thread's own context
    /// assert_eq!(LANG.get(), Some("en"));
    /// eddy_core::run(async {
    ///     assert_eq!(LANG.get(), Some("en")); // the runtime copied it when built
    ///     LANG.set("fr");
    /// });
    /// assert_eq!(LANG.get(), Some("en"));
    /// ```
    pub fn set(&self, value: T) -> ContextToken<T> {
        let id = self.id();
        let value: Value = Arc::new(value);
        place::with_place(|place| {
            let origin = place.origin();
            // SAFETY: `insert` runs no user code; the value it replaces
            // moves into the token.
            let previous =
                unsafe { place.write(Writer::Set(self.name), |map| map::insert(map, id, value)) };
            ContextToken {
                var: id,
                name: self.name,
                previous,
                origin,
                _value: PhantomData,
                _not_send: PhantomData,
            }
        })
    }

    /// Puts back the value the variable had before the [`set`](Self::set)
    /// that returned `token` (or unsets it, if it had none), as asyncio's
    /// `var.reset(token)` does.
    ///
    /// # Errors
    ///
    /// [`ContextResetError`] (asyncio's `ValueError`), changing nothing,
    /// when `token` was made in another context than the current one (in
    /// another task, or in the task's parent, ...) or by another variable.
    /// The token is consumed either way.
    ///
    /// # Panics
    ///
    /// Inside a [`with`](Self::with) closure.
    ///
    /// # Example
    ///
    /// ```
    /// static LEVEL: eddy_core::task::ContextVar<u8> = eddy_core::task::ContextVar::new("level");
    /// eddy_core::run(async {
    ///     let outer = LEVEL.set(1);
    ///     let inner = LEVEL.set(2);
    ///     LEVEL.reset(inner).unwrap();
    ///     assert_eq!(LEVEL.get(), Some(1));
    ///     LEVEL.reset(outer).unwrap();
    ///     assert_eq!(LEVEL.get(), None);
    ///
    ///     // A token is !Send, but a spawned task stays on this thread; it
    ///     // runs in a copy of this context, not in this context.
    ///     let token = LEVEL.set(3);
    ///     let other_task = eddy_core::spawn(async move { LEVEL.reset(token).is_err() });
    ///     assert!(other_task.await.unwrap());
    ///     assert_eq!(LEVEL.get(), Some(3));
    /// });
    /// ```
    pub fn reset(&self, token: ContextToken<T>) -> Result<(), ContextResetError> {
        let id = self.id.load(Ordering::Relaxed);
        if token.var != id {
            return Err(ContextResetError {
                var: self.name,
                kind: ResetKind::OtherVar {
                    token_var: token.name,
                },
            });
        }
        let ContextToken {
            previous, origin, ..
        } = token;
        let displaced = place::with_place(|place| {
            let here = place.origin();
            if here != origin {
                return Err(here);
            }
            // SAFETY: `insert`/`remove` run no user code; the value they
            // take out is dropped after the slot is released.
            Ok(unsafe {
                place.write(Writer::Reset(self.name), |map| match previous {
                    Some(v) => map::insert(map, id, v),
                    None => map::remove(map, id),
                })
            })
        });
        match displaced {
            Ok(old) => {
                drop(old);
                Ok(())
            }
            Err(here) => Err(ContextResetError {
                var: self.name,
                kind: ResetKind::OtherContext {
                    made_in: origin,
                    reset_in: here,
                },
            }),
        }
    }
}

impl<T> fmt::Debug for ContextVar<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextVar")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
