//! The plumbing behind context variables (`var.rs`): where the current
//! context lives, and how it is handed to new tasks and snapshots
//! (callbacks: `callback.rs`; the map itself: `map.rs`).
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

use std::cell::{Cell, UnsafeCell};
use std::fmt;
use std::mem;
use std::ptr::NonNull;

use super::map::{find, next_id, Map};
use crate::runtime::context::{self, Local};
use crate::task::raw::{prefix, Header};
use crate::task::TaskId;

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
    pub(super) current: UnsafeCell<Map>,
    /// While a callback runs, its run number (tokens made in a callback
    /// belong to that run); 0 outside callbacks.
    pub(super) callback: Cell<u64>,
    /// Callbacks run so far.
    pub(super) callbacks: Cell<u64>,
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
