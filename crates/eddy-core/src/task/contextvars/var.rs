//! Context variables: asyncio's `contextvars` ([`ContextVar`],
//! [`ContextToken`], [`copy_context`], [`ContextSnapshot`]).
//!
//! A context is a set of variable values that follows the flow of
//! execution: every task has its own, which starts as a copy of its
//! spawner's; callbacks run in a copy of the context where they were
//! scheduled; the `block_on` future has one; a thread with no loop has
//! one. How they are stored and found is in `context_map.rs`.
//!
//! # Example
//!
//! ```
//! use eddy_core::task::ContextVar;
//!
//! static REQUEST_ID: ContextVar<u64> = ContextVar::new("request_id");
//!
//! async fn log(msg: &str) -> String {
//!     format!("[{}] {msg}", REQUEST_ID.get().unwrap_or(0))
//! }
//!
//! eddy_core::run(async {
//!     let handlers: Vec<_> = (1..=2)
//!         .map(|id| {
//!             eddy_core::spawn(async move {
//!                 REQUEST_ID.set(id);
//!                 eddy_core::yield_now().await; // the other handler runs here
//!                 log("done").await
//!             })
//!         })
//!         .collect();
//!     let mut lines = Vec::new();
//!     for h in handlers {
//!         lines.push(h.await.unwrap());
//!     }
//!     assert_eq!(lines, ["[1] done", "[2] done"]);
//!     assert_eq!(REQUEST_ID.get(), None); // the tasks' sets stayed theirs
//! });
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::context_map::{self, Map, Origin, Value, Writer};

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
///   other. [`Builder::context`](super::Builder::context) gives it another
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
    id: AtomicU64,
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
        let fresh = context_map::next_id();
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
        context_map::with_value(id, |value| {
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
        context_map::with_place(|place| {
            let origin = place.origin();
            // SAFETY: `insert` runs no user code; the value it replaces
            // moves into the token.
            let previous = unsafe {
                place.write(Writer::Set(self.name), |map| {
                    context_map::insert(map, id, value)
                })
            };
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
        let displaced = context_map::with_place(|place| {
            let here = place.origin();
            if here != origin {
                return Err(here);
            }
            // SAFETY: `insert`/`remove` run no user code; the value they
            // take out is dropped after the slot is released.
            Ok(unsafe {
                place.write(Writer::Reset(self.name), |map| match previous {
                    Some(v) => context_map::insert(map, id, v),
                    None => context_map::remove(map, id),
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

/// `v` as the `T` it holds.
///
/// # Safety
///
/// `v` must hold a `T`.
#[inline]
unsafe fn downcast<T: 'static>(v: &Value) -> &T {
    debug_assert!(v.is::<T>(), "a context variable's value has another type");
    // SAFETY: per the caller's contract; the data pointer of the
    // `Arc<dyn Any>` points at the `T`.
    unsafe { &*Arc::as_ptr(v).cast::<T>() }
}

impl<T> fmt::Debug for ContextVar<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextVar")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What [`ContextVar::set`] returns: [`ContextVar::reset`] takes it to put
/// back the value before that `set` (asyncio's `contextvars.Token`).
///
/// It remembers the context it was made in: resetting it anywhere else is
/// an error. It is `!Send` (a context never moves to another thread while
/// current), and consumed by `reset`, so it cannot be used twice.
/// Dropping it is fine: the variable keeps its value.
///
/// # Example
///
/// ```
/// static MODE: eddy_core::task::ContextVar<&'static str> = eddy_core::task::ContextVar::new("mode");
/// eddy_core::run(async {
///     let token = MODE.set("fast");
///     assert_eq!(token.previous(), None);
///     MODE.reset(token).unwrap();
/// });
/// ```
pub struct ContextToken<T> {
    var: u64,
    name: &'static str,
    previous: Option<Value>,
    origin: Origin,
    _value: PhantomData<fn() -> T>,
    _not_send: PhantomData<*const ()>,
}

impl<T: 'static> ContextToken<T> {
    /// The value the variable had before the `set` that made this token
    /// (asyncio's `Token.old_value`), `None` if it had none.
    ///
    /// # Example
    ///
    /// ```
    /// static MODE: eddy_core::task::ContextVar<&'static str> = eddy_core::task::ContextVar::new("mode");
    /// eddy_core::run(async {
    ///     MODE.set("fast");
    ///     let token = MODE.set("safe");
    ///     assert_eq!(token.previous(), Some(&"fast"));
    /// });
    /// ```
    pub fn previous(&self) -> Option<&T> {
        // SAFETY: the value was under this token's variable, a `ContextVar<T>`.
        self.previous.as_ref().map(|v| unsafe { downcast::<T>(v) })
    }
}

impl<T> fmt::Debug for ContextToken<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextToken")
            .field("var", &self.name)
            .field("had_previous", &self.previous.is_some())
            .field("made_in", &format_args!("{}", self.origin))
            .finish()
    }
}

/// [`ContextVar::reset`] was given a token it cannot use (asyncio's
/// `ValueError`).
///
/// # Example
///
/// ```
/// static STEP: eddy_core::task::ContextVar<u32> = eddy_core::task::ContextVar::new("step");
/// eddy_core::run(async {
///     let token = STEP.set(1);
///     // A callback runs in a copy of this context, not in this context.
///     eddy_core::call_soon(move || {
///         let err = STEP.reset(token).unwrap_err();
///         assert!(err.to_string().contains("another context"));
///     });
///     eddy_core::yield_now().await;
/// });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextResetError {
    var: &'static str,
    kind: ResetKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum ResetKind {
    OtherVar { token_var: &'static str },
    OtherContext { made_in: Origin, reset_in: Origin },
}

impl fmt::Display for ContextResetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ResetKind::OtherVar { token_var } => write!(
                f,
                "ContextVar {:?} cannot reset a token made by ContextVar {token_var:?}: pass \
                 the token to the reset of the variable whose set returned it",
                self.var
            ),
            ResetKind::OtherContext { made_in, reset_in } => write!(
                f,
                "ContextVar {:?}: the token was made in {made_in} but reset was called in \
                 another context, {reset_in}; nothing was changed. Reset a token in the \
                 task (or thread, callback or ContextSnapshot::run) whose set made it, \
                 before that ends; to change the value here, set it here",
                self.var
            ),
        }
    }
}

impl std::error::Error for ContextResetError {}

/// A copy of the current context (asyncio's `contextvars.copy_context()`):
/// every variable's value in it, as it is now. Later sets do not change
/// the snapshot, and the snapshot's [`run`](ContextSnapshot::run) does not
/// change the context it was copied from.
///
/// # Example
///
/// ```
/// use eddy_core::task::{copy_context, ContextVar};
///
/// static TRACE: ContextVar<u32> = ContextVar::new("trace");
///
/// eddy_core::run(async {
///     TRACE.set(7);
///     let mut snapshot = copy_context();
///     TRACE.set(8);
///     assert_eq!(snapshot.get(&TRACE), Some(7));
///     snapshot.run(|| assert_eq!(TRACE.get(), Some(7)));
///     assert_eq!(TRACE.get(), Some(8));
/// });
/// ```
pub fn copy_context() -> ContextSnapshot {
    ContextSnapshot {
        map: context_map::current(),
        id: 0,
    }
}

/// A context held as a value (asyncio's `contextvars.Context`): made by
/// [`copy_context`] (or empty, by `Default`), read with
/// [`get`](Self::get), entered with [`run`](Self::run), handed to a new
/// task with [`Builder::context`](super::Builder::context).
///
/// `Send + Sync`: it may be taken to another thread and run there (what
/// `eddy::to_thread` does). A clone is a separate context: it starts with
/// the same values, and what one `run` sets the other does not see.
///
/// # Example
///
/// ```
/// use eddy_core::task::{ContextSnapshot, ContextVar};
///
/// static TRACE: ContextVar<u32> = ContextVar::new("trace");
///
/// let mut ctx = ContextSnapshot::default(); // empty
/// ctx.run(|| TRACE.set(1));
/// assert_eq!(ctx.get(&TRACE), Some(1));
/// assert_eq!(TRACE.get(), None); // this thread's own context is untouched
/// ```
#[derive(Default)]
pub struct ContextSnapshot {
    map: Map,
    /// Names it in the tokens made in its `run`; assigned on first `run`.
    id: u64,
}

impl ContextSnapshot {
    /// A clone of `var`'s value in this snapshot (asyncio's `ctx.get(var)`
    /// / `ctx[var]`).
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::{copy_context, ContextVar};
    /// static USER: ContextVar<&'static str> = ContextVar::new("user");
    /// USER.set("carol");
    /// assert_eq!(copy_context().get(&USER), Some("carol"));
    /// ```
    pub fn get<T: Clone + Send + Sync + 'static>(&self, var: &ContextVar<T>) -> Option<T> {
        let id = var.id.load(Ordering::Relaxed);
        if id == 0 {
            return None;
        }
        let value = context_map::find(&self.map, id)?;
        // SAFETY: as in `ContextVar::with`; `self.map` keeps it alive, and
        // `&self` keeps `self.map` from changing while `T::clone` runs.
        Some(unsafe { value.cast::<T>().as_ref() }.clone())
    }

    /// Runs `f` with this snapshot as the current context and keeps in it
    /// what `f` sets (asyncio's `ctx.run(f)`), also when `f` panics.
    ///
    /// Outside a loop, the snapshot replaces the thread's own context
    /// while `f` runs; inside a task's poll (or the `block_on` future, or a
    /// callback) it replaces that one's. Tasks `f` spawns start with a
    /// copy of the snapshot. Tokens made in `f` can be reset only inside a
    /// `run` of this same snapshot.
    ///
    /// # Panics
    ///
    /// Inside a [`ContextVar::with`] closure (or a value's `Clone` run by
    /// [`ContextVar::get`]); if `f` panics, after the snapshot has taken
    /// back its context.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::{copy_context, ContextVar};
    /// static HITS: ContextVar<u32> = ContextVar::new("hits");
    /// eddy_core::run(async {
    ///     HITS.set(1);
    ///     let mut ctx = copy_context();
    ///     let seen = ctx.run(|| {
    ///         HITS.set(HITS.get().unwrap() + 1);
    ///         HITS.get()
    ///     });
    ///     assert_eq!(seen, Some(2));
    ///     assert_eq!(ctx.get(&HITS), Some(2)); // kept in the snapshot
    ///     assert_eq!(HITS.get(), Some(1)); // not in the context it was copied from
    /// });
    /// ```
    pub fn run<R>(&mut self, f: impl FnOnce() -> R) -> R {
        if self.id == 0 {
            self.id = context_map::next_id();
        }
        context_map::run_in(&mut self.map, self.id, f)
    }

    pub(crate) fn into_map(self) -> Map {
        self.map
    }
}

impl Clone for ContextSnapshot {
    /// A separate context with the same values (asyncio's `ctx.copy()`).
    fn clone(&self) -> ContextSnapshot {
        ContextSnapshot {
            map: self.map.clone(),
            id: 0,
        }
    }
}

impl fmt::Debug for ContextSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextSnapshot")
            .field("vars", &self.map.as_ref().map_or(0, |m| m.len()))
            .finish()
    }
}
