//! The loop-thread state and the thread-local pointer that finds it.
//!
//! `CONTEXT` is set while `block_on` runs (and during shutdown). A wake on
//! the loop thread sees it and pushes to the local run queue without a lock.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ptr::{self, NonNull};
use std::task::Waker;

use slab::Slab;

use super::debug::Debug;
use super::inject::Popped;
use super::main_task::MainSlot;
use super::Shared;
use crate::callback::{Callback, CallbackState};
use crate::loom::Arc;
use crate::task::contextvars::LoopContext;
use crate::task::raw::{prefix, Header, UNBOUND};
use crate::task::waker as task_waker;

pub(crate) const NO_RUNTIME: &str =
    "no eddy runtime on this thread: call inside eddy::run / #[eddy::main]";

/// One entry of the run queue.
pub(crate) enum Runnable {
    /// A notified task; the entry owns one reference.
    Task(NonNull<Header>),
    Callback(Callback),
    /// The `block_on` future's turn (see `main_task`).
    Main,
}

/// Everything the loop thread owns.
pub(crate) struct Local {
    pub(crate) shared: Arc<Shared>,
    pub(crate) run_queue: RefCell<VecDeque<Runnable>>,
    /// Live tasks; each entry owns one reference until the task completes.
    pub(crate) owned: RefCell<Slab<NonNull<Header>>>,
    pub(crate) current_task: Cell<Option<NonNull<Header>>>,
    /// Set by [`wake_current_by_ref`] when the task being polled woke
    /// itself; read and cleared by the task's poll as it ends (see there).
    pub(crate) self_woken: Cell<bool>,
    pub(crate) debug: Option<Debug>,
    /// The running `block_on` future's waker and queue state.
    pub(crate) main: MainSlot,
    /// Callbacks held off the run queue until released (see
    /// `ParkedCallback`): loop-thread timer callbacks waiting for their
    /// timers. Dropped unrun at shutdown.
    pub(crate) parked: RefCell<Slab<Callback>>,
    /// Context variables outside tasks: the `block_on` future's context,
    /// swapped for a callback's while one runs (see `task::contextvars`).
    pub(crate) contexts: LoopContext,
}

impl Local {
    /// Takes parked callback `key` out of the table if it still holds the
    /// callback of `state` (the key may have been reused since). The
    /// caller drops or queues it after the table is released.
    pub(crate) fn take_parked(
        &self,
        key: usize,
        state: &std::sync::Arc<CallbackState>,
    ) -> Option<Callback> {
        let mut parked = self.parked.borrow_mut();
        if parked.get(key).is_some_and(|cb| cb.is(state)) {
            Some(parked.remove(key))
        } else {
            None
        }
    }

    /// Moves up to `max` remote tasks, with the remote callbacks queued
    /// among them, into the local queue in submission order, binding tasks
    /// spawned from other threads (see `inject.rs`). Whether there was
    /// anything to move.
    #[inline]
    pub(crate) fn pull_remote(&self, max: usize) -> bool {
        let remote = !self.shared.inject.is_empty();
        if remote {
            self.pull_inject(max);
        }
        remote
    }

    #[inline(never)]
    fn pull_inject(&self, max: usize) {
        let mut queue = self.run_queue.borrow_mut();
        self.shared.inject.pop_batch(max, |popped| match popped {
            Popped::Task(task) => {
                // SAFETY: the queue reference keeps the task alive.
                if unsafe { prefix(task) }.trailer.owned_key.get() == UNBOUND {
                    bind(self, task);
                }
                queue.push_back(Runnable::Task(task));
            }
            Popped::Callback(cb) => queue.push_back(Runnable::Callback(cb.into_local())),
        });
    }
}

#[cfg(not(loom))]
thread_local! {
    static CONTEXT: Cell<*const Local> = const { Cell::new(ptr::null()) };
}

// loom runs every model thread on one OS thread: a std thread-local would
// make another model thread look like the loop's.
#[cfg(loom)]
loom::thread_local! {
    static CONTEXT: Cell<*const Local> = Cell::new(ptr::null());
}

/// Restores the previous context on drop.
pub(crate) struct EnterGuard(*const Local);

impl Drop for EnterGuard {
    fn drop(&mut self) {
        CONTEXT.with(|c| c.set(self.0));
    }
}

/// Makes `local` the current loop of this thread.
pub(crate) fn enter(local: &Local) -> EnterGuard {
    EnterGuard(CONTEXT.with(|c| c.replace(local)))
}

/// Whether a loop is running on this thread.
pub(crate) fn is_entered() -> bool {
    CONTEXT.with(|c| !c.get().is_null())
}

/// Runs `f` with the current loop, if any.
#[inline]
pub(crate) fn with_local<R>(f: impl FnOnce(&Local) -> R) -> Option<R> {
    // Only the pointer is read inside `with`: its closure stays small, so
    // the thread-local access inlines to one load, whatever `f` is.
    let p = CONTEXT.with(Cell::get);
    if p.is_null() {
        None
    } else {
        // SAFETY: the pointer is set by `enter` from a `&Local` that
        // outlives the guard, and reset when the guard drops; the guard
        // cannot drop while `f` runs, which borrows nothing from it.
        Some(f(unsafe { &*p }))
    }
}

/// Runs `on_loop` with `arg` and the current loop, or `off_loop` with
/// `arg` when this thread runs no loop (one closure or the other gets
/// `arg`, which is how both can use what the caller moves in).
#[inline]
pub(crate) fn with_local_or<A, R>(
    arg: A,
    on_loop: impl FnOnce(A, &Local) -> R,
    off_loop: impl FnOnce(A) -> R,
) -> R {
    let p = CONTEXT.with(Cell::get);
    if p.is_null() {
        off_loop(arg)
    } else {
        // SAFETY: as in `with_local`.
        on_loop(arg, unsafe { &*p })
    }
}

/// Runs `f` with the current loop, or panics naming the fix.
#[track_caller]
#[inline]
pub(crate) fn expect_local<R>(f: impl FnOnce(&Local) -> R) -> R {
    match with_local(f) {
        Some(r) => r,
        None => panic!("{NO_RUNTIME}"),
    }
}

/// Whether the loop running on this thread has work queued: a task or
/// callback in its run queue, its `block_on` future woken, or work other
/// threads submitted. False with no loop. For drivers deciding whether the
/// loop is truly idle after they dispatched events (see
/// `crate::__driver::has_ready_work`).
pub fn has_ready_work() -> bool {
    with_local(|l| {
        !l.run_queue.borrow().is_empty() || l.main.wants_poll() || !l.shared.inject.is_empty()
    })
    .unwrap_or(false)
}

/// Whether `shared` is the loop running on this thread.
#[inline]
pub(crate) fn is_current(shared: &Shared) -> bool {
    with_local(|l| ptr::eq(&*l.shared, shared)).unwrap_or(false)
}

/// Wakes `waker` by reference. When it is the waker of the task being
/// polled on this thread (the common case of `yield_now` and of an
/// exhausted coop budget), the wake is recorded in a plain flag instead:
/// the task is RUNNING, so a wake could only mark it to be requeued when
/// its poll ends, and the poll's end reads the flag
/// ([`take_self_wake`]) and requeues it with the same one state
/// transition it needs anyway. That saves the atomic read-modify-write of
/// a wake. Any other waker is woken as usual.
#[inline]
pub(crate) fn wake_current_by_ref(waker: &Waker) {
    let deferred = with_local(|l| {
        let is_current = l
            .current_task
            .get()
            .is_some_and(|t| ptr::eq(waker.data(), t.as_ptr() as *const ()))
            && task_waker::is_task_waker(waker);
        if is_current {
            l.self_woken.set(true);
        }
        is_current
    });
    if deferred != Some(true) {
        waker.wake_by_ref();
    }
}

/// Called by a task's poll as it ends: whether the task woke itself with
/// [`wake_current_by_ref`] during the poll. Clears the flag.
#[inline]
pub(crate) fn take_self_wake() -> bool {
    with_local(|l| l.self_woken.replace(false)).unwrap_or(false)
}

/// Pushes a notified task (one reference) to this thread's run queue.
pub(crate) fn push_local_task(task: NonNull<Header>) {
    let pushed = with_local(|l| {
        // SAFETY: the queue reference keeps the task alive.
        let owner = unsafe { &prefix(task).trailer.scheduler };
        if ptr::eq(&**owner, &*l.shared) {
            l.run_queue.borrow_mut().push_back(Runnable::Task(task));
            true
        } else {
            false
        }
    });
    if pushed != Some(true) {
        // Not on the owner loop (cannot happen for a requeue, which runs on
        // it; kept for safety): go through the inject queue.
        // SAFETY: the reference keeps the task alive.
        unsafe { prefix(task) }
            .trailer
            .scheduler
            .schedule_remote(task);
    }
}

/// Pushes `task` (one reference) to the local run queue if this thread is
/// running `owner`'s loop; false otherwise (the caller keeps the reference).
#[inline]
pub(crate) fn try_push_local_task(owner: &Shared, task: NonNull<Header>) -> bool {
    with_local(|l| {
        if ptr::eq(&*l.shared, owner) {
            l.run_queue.borrow_mut().push_back(Runnable::Task(task));
            true
        } else {
            false
        }
    })
    .unwrap_or(false)
}

#[track_caller]
pub(crate) fn push_local_callback(cb: Callback) {
    expect_local(|l| l.run_queue.borrow_mut().push_back(Runnable::Callback(cb)));
}

/// Records a task in the live-task table of `local` (the table entry takes
/// over the task's live-table reference).
pub(crate) fn bind(local: &Local, task: NonNull<Header>) {
    let key = local.owned.borrow_mut().insert(task);
    let key = u32::try_from(key).expect("more than 4 billion live tasks");
    // SAFETY: the task is alive; `owned_key` is only touched on this thread.
    unsafe { prefix(task) }.trailer.owned_key.set(key);
}

/// Removes a completed task from the live-task table. The caller releases
/// the reference the entry held.
pub(crate) fn unbind(key: u32) {
    if key == UNBOUND {
        return;
    }
    with_local(|l| {
        let mut owned = l.owned.borrow_mut();
        owned.try_remove(key as usize);
        // (Only for a table that grew past a few cache lines.)
        if owned.is_empty() && owned.capacity() > 64 {
            // As the timer wheel does: a burst of tasks finishing in any
            // order leaves the slab's free list scattered over the table,
            // so later spawns land on cold cache lines. Once no task is
            // live, start again from key 0 (the capacity is kept).
            owned.clear();
        }
    });
}
