//! The plumbing behind context variables (`context_var.rs`): the map a
//! context is, where the current one lives, and how it is handed to new
//! tasks, callbacks and snapshots.
//!
//! A context is an immutable map shared copy-on-write ([`Map`]): `None`
//! when empty, so copying an empty context costs no atomic operation;
//! otherwise an `Arc` of a short vector of [`Entry`]s (variable id and
//! value), scanned linearly (contexts hold a handful of variables, where a
//! scan beats hashing). Copying a context clones the `Arc`; a `set` copies
//! the vector only when it is shared (`Arc::make_mut`).
//!
//! The current context of a thread (a [`Place`]) is:
//! - inside a task's poll: the task's own, in its trailer
//!   (`Trailer::context`), found through the loop's `current_task`;
//! - elsewhere on a loop thread: [`LoopContext::current`], which holds the
//!   `block_on` future's context, except while a callback runs: the loop
//!   then puts it aside and the callback runs in the context it captured
//!   when it was scheduled (or an empty one), dropped when it returns;
//! - on a thread with no loop (blocking-pool threads, plain threads): a
//!   plain thread-local.
//!
//! Thread rules, relied on by every `unsafe` block here: each slot is only
//! touched on its own thread (a task's on its loop thread, while the task
//! is current, and when it completes; `allocate` and `dealloc` own the
//! whole task). A `&mut` to a slot is only made by [`Place::write`], by
//! `run_in` and by the loop between callbacks, none of which runs user
//! code while it holds it (replaced values are dropped afterwards). A
//! reader (`ContextVar::with`/`get`) lends a value of the current context
//! to user code (the closure, `T::clone`): `write` refuses meanwhile, so
//! nothing can replace, and so drop, that value under it. The reader count
//! is kept per domain (one loop, or the thread-local); user code running
//! under a read cannot make another slot of the same domain current (only
//! the loop switches tasks, and a nested `block_on` inside a loop panics),
//! and a `block_on` it starts on a plain thread is a domain of its own.

use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::fmt;
use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::raw::{prefix, Header};
use super::TaskId;
use crate::runtime::context::{self, Local};
use crate::runtime::Shared;

/// One variable's value.
pub(crate) type Value = Arc<dyn Any + Send + Sync>;
/// The entries of a non-empty context.
pub(crate) type Entries = Vec<Entry>;
/// A context: `None` is the empty one.
pub(crate) type Map = Option<Arc<Entries>>;

/// One variable's value in a context.
#[derive(Clone)]
pub(crate) struct Entry {
    id: u64,
    /// Where `value`'s data is: reading through it saves the lookup of
    /// the data's offset in the `Arc` (which `Arc::as_ptr` of a
    /// `dyn Any` takes from the vtable) on every `get`.
    data: NonNull<()>,
    value: Value,
}

// SAFETY: `data` points into the allocation `value` owns, which is
// `Send + Sync`; the pointer is only read through as `value`'s data.
unsafe impl Send for Entry {}
// SAFETY: as above.
unsafe impl Sync for Entry {}

impl Entry {
    fn new(id: u64, value: Value) -> Entry {
        Entry {
            id,
            data: NonNull::from(&*value).cast(),
            value,
        }
    }
}

/// Ids of variables, loops (their `block_on` contexts) and snapshots; 0 is
/// never handed out (it means "not assigned yet").
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh id, unique in the process.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Where the value of variable `id` in `map` is (valid while that
/// value's `Arc` lives).
#[inline]
pub(crate) fn find(map: &Map, id: u64) -> Option<NonNull<()>> {
    let entries = map.as_deref()?;
    // Most contexts hold one or two variables: the first is looked at
    // without setting up a loop.
    let (first, rest) = entries.split_first()?;
    if first.id == id {
        return Some(first.data);
    }
    rest.iter().find(|e| e.id == id).map(|e| e.data)
}

/// Sets variable `id` to `value` in `map`; the value it replaces, if any.
/// Runs no user code (a shared vector is cloned: that clones `Arc`s).
pub(crate) fn insert(map: &mut Map, id: u64, value: Value) -> Option<Value> {
    let entries = Arc::make_mut(map.get_or_insert_with(|| Arc::new(Vec::with_capacity(4))));
    let new = Entry::new(id, value);
    match entries.iter_mut().find(|e| e.id == id) {
        Some(e) => Some(mem::replace(e, new).value),
        None => {
            entries.push(new);
            None
        }
    }
}

/// Unsets variable `id` in `map`; the value it had, if any (the caller
/// drops it, outside any borrow of the slot). Runs no user code.
pub(crate) fn remove(map: &mut Map, id: u64) -> Option<Value> {
    let entries = map.as_ref()?;
    let at = entries.iter().position(|e| e.id == id)?;
    let entries = Arc::make_mut(map.as_mut()?);
    let old = entries.swap_remove(at).value;
    if entries.is_empty() {
        // Dropping an empty vector runs no user code.
        *map = None;
    }
    Some(old)
}

/// What a domain (one loop, or a thread's thread-local) keeps about the
/// use of its current slot.
pub(crate) struct Guards {
    /// How many `ContextVar::with`/`get` calls are reading the current
    /// slot (they run user code while they hold a `&` into it).
    readers: Cell<u32>,
    /// The id of the snapshot whose `ContextSnapshot::run` is swapped into
    /// the current slot, 0 for none (tokens made then belong to it).
    running: Cell<u64>,
}

impl Guards {
    const fn new() -> Guards {
        Guards {
            readers: Cell::new(0),
            running: Cell::new(0),
        }
    }
}

/// The contexts of a loop outside its tasks (a field of `Local`).
pub(crate) struct LoopContext {
    /// Names the `block_on` future's context in tokens.
    id: u64,
    /// The `block_on` future's context, or while a callback runs, the
    /// callback's. It starts as a copy of the context current where the
    /// runtime was built and lasts as long as the runtime, across
    /// `block_on` calls (asyncio's `Runner` keeps one context for all its
    /// `run` calls).
    current: UnsafeCell<Map>,
    /// While a callback runs, its run number (tokens made in a callback
    /// belong to that run); 0 outside callbacks.
    callback: Cell<u64>,
    /// Callbacks run so far.
    callbacks: Cell<u64>,
    guards: Guards,
}

impl LoopContext {
    /// The record of a new loop whose `block_on` future starts in `seed`.
    pub(crate) fn new(seed: Map) -> LoopContext {
        LoopContext {
            id: next_id(),
            current: UnsafeCell::new(seed),
            callback: Cell::new(0),
            callbacks: Cell::new(0),
            guards: Guards::new(),
        }
    }

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

/// The current context of a thread with no loop.
pub(crate) struct ThreadContext {
    current: UnsafeCell<Map>,
    guards: Guards,
}

thread_local! {
    static THREAD: ThreadContext = const {
        ThreadContext {
            current: UnsafeCell::new(None),
            guards: Guards::new(),
        }
    };
}

/// Which context a token was made in (see `ContextVar::reset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    Task(TaskId),
    /// The `block_on` future of the loop with this id.
    Main(u64),
    /// Run number `.1` of a callback of the loop with id `.0`.
    Callback(u64, u64),
    /// The thread's own context, outside any loop (tokens are `!Send`).
    Thread,
    /// A `ContextSnapshot::run` of the snapshot with this id.
    Snapshot(u64),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Task(id) => write!(f, "the context of task {id}"),
            Origin::Main(_) => f.write_str("the context of a runtime's block_on future"),
            Origin::Callback(..) => f.write_str("the context of a callback run"),
            Origin::Thread => f.write_str("this thread's own context (outside any event loop)"),
            Origin::Snapshot(_) => f.write_str("the context of a ContextSnapshot::run"),
        }
    }
}

/// Where the current context lives (see the module docs).
#[derive(Clone, Copy)]
pub(crate) enum Place<'a> {
    /// The task being polled on this loop.
    Task(&'a Local, NonNull<Header>),
    /// This loop, outside its tasks.
    Loop(&'a Local),
    /// A thread with no loop.
    Thread(&'a ThreadContext),
}

impl<'a> Place<'a> {
    #[inline]
    fn on_loop(local: &'a Local) -> Place<'a> {
        match local.current_task.get() {
            Some(task) => Place::Task(local, task),
            None => Place::Loop(local),
        }
    }

    /// The slot (valid for `'a`; the thread rules say who may use it).
    #[inline]
    fn slot(self) -> *mut Map {
        match self {
            // SAFETY: the task being polled is kept alive by the poll's
            // reference for as long as it is current. The trailer's slot
            // is a `ManuallyDrop<Map>`, which has `Map`'s layout.
            Place::Task(_, task) => unsafe { prefix(task) }.trailer.context.get().cast::<Map>(),
            Place::Loop(local) => local.contexts.current.get(),
            Place::Thread(t) => t.current.get(),
        }
    }

    #[inline]
    fn guards(self) -> &'a Guards {
        match self {
            Place::Task(local, _) | Place::Loop(local) => &local.contexts.guards,
            Place::Thread(t) => &t.guards,
        }
    }

    /// The context a token made here belongs to.
    pub(crate) fn origin(self) -> Origin {
        let running = self.guards().running.get();
        if running != 0 {
            return Origin::Snapshot(running);
        }
        match self {
            // SAFETY: as in `slot`.
            Place::Task(_, task) => Origin::Task(unsafe { prefix(task) }.header.id),
            Place::Loop(local) => match local.contexts.callback.get() {
                0 => Origin::Main(local.contexts.id),
                n => Origin::Callback(local.contexts.id, n),
            },
            Place::Thread(_) => Origin::Thread,
        }
    }

    /// Runs `f` (which may run user code) with where variable `id`'s
    /// value is in the current context. The value cannot be dropped while
    /// `f` runs: `write` refuses meanwhile.
    #[inline]
    fn with_value<R>(self, id: u64, f: impl FnOnce(Option<NonNull<()>>) -> R) -> R {
        // SAFETY: a short-lived `&` (no user code runs while it lives);
        // no `&mut` to the slot is held (see `copy`).
        let found = find(unsafe { &*self.slot() }, id);
        let guards = self.guards();
        guards.readers.set(guards.readers.get() + 1);
        let _done = Reading(guards);
        f(found)
    }

    /// Runs `f` with the current slot, mutably.
    ///
    /// # Panics
    ///
    /// While a `ContextVar::with`/`get` on this thread is reading the
    /// context (`what` names the caller in the message).
    ///
    /// # Safety
    ///
    /// `f` must run no user code (no value's destructor: return replaced
    /// values and drop them after this returns).
    #[inline]
    pub(crate) unsafe fn write<R>(self, what: Writer, f: impl FnOnce(&mut Map) -> R) -> R {
        if self.guards().readers.get() != 0 {
            busy(what);
        }
        // SAFETY: no reader holds the slot, and `f` runs no user code (the
        // caller's contract), so nothing else touches it meanwhile.
        f(unsafe { &mut *self.slot() })
    }

    /// A copy of the current context.
    #[inline]
    fn copy(self) -> Map {
        // SAFETY: a short-lived `&`; no `&mut` to the slot is held (the
        // code holding one runs no user code, so it cannot reach here).
        unsafe { (*self.slot()).clone() }
    }
}

/// Who wants to write the current context (named when it cannot).
#[derive(Clone, Copy)]
pub(crate) enum Writer {
    /// `ContextVar::set` of the variable with this name.
    Set(&'static str),
    /// `ContextVar::reset` of the variable with this name.
    Reset(&'static str),
    /// `ContextSnapshot::run`.
    Run,
}

impl fmt::Display for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Writer::Set(name) => write!(f, "ContextVar::set (of {name:?})"),
            Writer::Reset(name) => write!(f, "ContextVar::reset (of {name:?})"),
            Writer::Run => f.write_str("ContextSnapshot::run"),
        }
    }
}

/// Decrements the reader count, also when the reader's closure panics.
struct Reading<'a>(&'a Guards);

impl Drop for Reading<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.readers.set(self.0.readers.get() - 1);
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn busy(what: Writer) -> ! {
    panic!(
        "{what} was called while ContextVar::with or ContextVar::get on this thread was reading \
         the context (from inside a `with` closure, or from a value's Clone): set, reset or run \
         after that closure returns (take what you need out of it first)"
    )
}

/// Runs `f` (which may run user code) with where variable `id`'s value is
/// in the current context (`None`: it has none there). Writes to the
/// context refuse while `f` runs, so the value stays alive.
#[inline]
pub(crate) fn with_value<R>(id: u64, f: impl FnOnce(Option<NonNull<()>>) -> R) -> R {
    context::with_local_or(
        f,
        |f, local| Place::on_loop(local).with_value(id, f),
        |f| {
            let mut f = Some(f);
            let on_thread = THREAD
                .try_with(|t| Place::Thread(t).with_value(id, f.take().expect("called once")));
            match on_thread {
                Ok(r) => r,
                // This thread's thread-locals are being destroyed: it has
                // no context left.
                Err(_) => (f.take().expect("not called"))(None),
            }
        },
    )
}

/// Runs `f` with the place of the current context. On a thread with no
/// loop whose thread-locals are being destroyed (a value of the thread's
/// dying context, or another thread-local, setting a variable from its
/// destructor), the place is a throwaway context dropped when `f`
/// returns: the thread's own is being dropped anyway, and a panic there
/// would abort the process.
#[inline]
pub(crate) fn with_place<R>(f: impl FnOnce(Place<'_>) -> R) -> R {
    context::with_local_or(
        f,
        |f, local| f(Place::on_loop(local)),
        |f| {
            let mut f = Some(f);
            match THREAD.try_with(|t| (f.take().expect("called once"))(Place::Thread(t))) {
                Ok(r) => r,
                Err(_) => {
                    let gone = ThreadContext {
                        current: UnsafeCell::new(None),
                        guards: Guards::new(),
                    };
                    (f.take().expect("not called"))(Place::Thread(&gone))
                }
            }
        },
    )
}

/// A copy of the current context, wherever this runs.
pub(crate) fn current() -> Map {
    context::with_local_or(
        (),
        |(), local| current_in(local),
        |()| THREAD.try_with(|t| Place::Thread(t).copy()).unwrap_or(None),
    )
}

/// A copy of the current context of `local`'s loop (this thread's): what a
/// task spawned now starts with. `None` (no atomic operation) when empty.
#[inline]
pub(crate) fn current_in(local: &Local) -> Map {
    // SAFETY: as in `Place::copy`.
    let map = unsafe { &*Place::on_loop(local).slot() };
    match map {
        None => None,
        // Out of line: spawning stays small enough to inline where it is
        // called with an empty context.
        Some(_) => copy_nonempty(map),
    }
}

#[inline(never)]
fn copy_nonempty(map: &Map) -> Map {
    map.clone()
}

/// Runs `f` with `map` as the current context, leaving in `map` the
/// context `f` ended with (also when `f` panics). Tokens made meanwhile
/// belong to snapshot `id`.
///
/// # Panics
///
/// While a `ContextVar::with`/`get` on this thread is reading the context.
pub(crate) fn run_in<R>(map: &mut Map, id: u64, f: impl FnOnce() -> R) -> R {
    with_place(|place| {
        // SAFETY: a swap runs no user code.
        unsafe { place.write(Writer::Run, |slot| mem::swap(slot, map)) };
        let previous = place.guards().running.replace(id);
        let _restore = Restore {
            place,
            map,
            previous,
        };
        f()
    })
}

/// Swaps a snapshot's context back out of the slot `run_in` put it in.
struct Restore<'a, 'm> {
    place: Place<'a>,
    map: &'m mut Map,
    previous: u64,
}

impl Drop for Restore<'_, '_> {
    fn drop(&mut self) {
        self.place.guards().running.set(self.previous);
        // SAFETY: the reader count is back to what `run_in` checked (0):
        // readers release their count when they return or unwind, before
        // this guard drops. The swap runs no user code. The slot is still
        // the current one: only the loop switches tasks, and it does not
        // while `f` runs.
        unsafe { std::ptr::swap(self.place.slot(), self.map) };
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn value(v: u32) -> Value {
        Arc::new(v)
    }

    fn read(map: &Map, id: u64) -> Option<u32> {
        // SAFETY: the values of these tests are `u32`s, alive in `map`.
        find(map, id).map(|p| unsafe { *p.cast::<u32>().as_ref() })
    }

    #[test]
    fn a_shared_map_is_copied_on_write_and_an_unshared_one_is_not() {
        let mut map: Map = None;
        assert_eq!(insert(&mut map, 1, value(10)).map(|_| ()), None);
        let before = Arc::as_ptr(map.as_ref().unwrap());
        insert(&mut map, 2, value(20));
        assert_eq!(
            Arc::as_ptr(map.as_ref().unwrap()),
            before,
            "unshared: in place"
        );

        let copy = map.clone();
        let old = insert(&mut map, 1, value(11)).unwrap();
        assert_eq!(old.downcast_ref::<u32>(), Some(&10));
        assert_ne!(Arc::as_ptr(map.as_ref().unwrap()), before, "shared: copied");
        assert_eq!((read(&map, 1), read(&copy, 1)), (Some(11), Some(10)));
        assert_eq!((read(&map, 2), read(&copy, 2)), (Some(20), Some(20)));
    }

    #[test]
    fn removing_the_last_variable_empties_the_map() {
        let mut map: Map = None;
        assert!(remove(&mut map, 1).is_none());
        insert(&mut map, 1, value(1));
        insert(&mut map, 2, value(2));
        let copy = map.clone();
        assert!(remove(&mut map, 3).is_none());
        assert_eq!(
            remove(&mut map, 1).and_then(|v| v.downcast_ref::<u32>().copied()),
            Some(1)
        );
        assert_eq!((read(&map, 1), read(&map, 2)), (None, Some(2)));
        assert!(remove(&mut map, 2).is_some());
        assert!(map.is_none());
        assert_eq!((read(&copy, 1), read(&copy, 2)), (Some(1), Some(2)));
    }
}
