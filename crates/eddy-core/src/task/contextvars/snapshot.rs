//! [`copy_context`] and [`ContextSnapshot`]: a context held as a value,
//! to read, to run code in, or to hand to a new task.

use std::fmt;
use std::sync::atomic::Ordering;

use super::map::{self, Map};
use super::place;
use super::var::ContextVar;

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
        map: place::current(),
        id: 0,
    }
}

/// A context held as a value (asyncio's `contextvars.Context`): made by
/// [`copy_context`] (or empty, by `Default`), read with
/// [`get`](Self::get), entered with [`run`](Self::run), handed to a new
/// task with [`Builder::context`](crate::task::Builder::context).
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
        let value = map::find(&self.map, id)?;
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
            self.id = map::next_id();
        }
        place::run_in(&mut self.map, self.id, f)
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
