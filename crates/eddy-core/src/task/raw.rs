//! The task allocation: one heap block holding the header, the bookkeeping
//! trailer and the future (later its output), plus the type-erased vtable
//! through which the loop, wakers and join handles drive it.
//!
//! Thread rules, relied on by every `unsafe` block in this module:
//! - the stage (future or output) is touched by the owner loop thread while
//!   the task is not COMPLETE, and after COMPLETE only by whoever owns the
//!   output according to the state word (the join handle, or the loop side
//!   when there is no join interest);
//! - `owned_key` and `polls` are only touched on the owner loop thread;
//! - `context` (the task's context variables) is written by `allocate`,
//!   then only touched on the owner loop thread: by the context-variable
//!   code while the task is current (see `contextvars/place.rs` for its rules)
//!   and by `drop_future`, which empties it as the task completes. Every
//!   task completes before its allocation is freed, so the allocation's
//!   drop need not look at it (it is `ManuallyDrop`; `dealloc` checks it
//!   is empty in debug builds);
//! - `queue_next` is only touched under the inject-queue lock;
//! - the join-waker slot follows the `JOIN_WAKER` handshake in `state.rs`.

use std::cell::Cell as StdCell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Waker};

use super::contextvars::Map;
use super::error::{Failure, JoinError};
use super::state::{State, ToIdle, ToRunning};
use super::{waker, TaskId};
use crate::loom::{Arc, UnsafeCell};
use crate::runtime::{context, Shared};

/// `owned_key` of a task that has not reached its loop's live-task table.
pub(crate) const UNBOUND: u32 = u32::MAX;

/// The type-erased operations on a task.
pub(crate) struct Vtable {
    /// Poll (or cancel) the task; consumes one reference. Loop thread only.
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Drop the future of an idle task at shutdown. Loop thread only.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
    /// Move the output into `dst` (a `*mut Poll<Result<T, JoinError>>`)
    /// if complete, else register the waker.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// The join handle is gone: release its interest and reference.
    pub(crate) drop_join_handle: unsafe fn(NonNull<Header>),
    /// Free the allocation (the last reference is gone).
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
}

/// The part of a task that any thread may look at.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    /// Intrusive link for the inject queue (guarded by its lock).
    pub(crate) queue_next: UnsafeCell<Option<NonNull<Header>>>,
    pub(crate) vtable: &'static Vtable,
    pub(crate) id: TaskId,
}

/// Optional, rarely-set task metadata, boxed so unnamed tasks stay small.
#[derive(Debug)]
pub(crate) struct TaskMeta {
    pub(crate) name: Option<StdArc<str>>,
    pub(crate) parent: Option<TaskId>,
}

/// Bookkeeping that does not depend on the future's type.
#[repr(C)]
pub(crate) struct Trailer {
    pub(crate) scheduler: Arc<Shared>,
    pub(crate) owned_key: StdCell<u32>,
    pub(crate) polls: StdCell<u32>,
    pub(crate) location: &'static Location<'static>,
    pub(crate) meta: Option<Box<TaskMeta>>,
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
    /// The task's context variables (a `std` cell: only its loop thread
    /// touches it; emptied by `drop_future`, see the module's thread rules).
    pub(crate) context: std::cell::UnsafeCell<ManuallyDrop<Map>>,
}

/// Header and trailer: their offsets are the same for every future type.
#[repr(C)]
pub(crate) struct Prefix {
    pub(crate) header: Header,
    pub(crate) trailer: Trailer,
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, Failure>),
    Consumed,
}

/// The whole allocation.
#[repr(C)]
struct Cell<F: Future> {
    prefix: Prefix,
    stage: UnsafeCell<Stage<F>>,
}

/// What a new task starts with.
pub(crate) struct Spawn {
    pub(crate) scheduler: Arc<Shared>,
    pub(crate) location: &'static Location<'static>,
    pub(crate) meta: Option<Box<TaskMeta>>,
    /// The context the task starts in: a copy of its spawner's, or one
    /// given with `task::Builder::context`.
    pub(crate) context: Map,
}

/// Allocates a task holding `future`, with the three initial references
/// (live-task table, join handle, first run-queue entry).
pub(crate) fn allocate<F: Future + 'static>(future: F, spawn: Spawn) -> NonNull<Header> {
    let cell = Box::new(Cell {
        prefix: Prefix {
            header: Header {
                state: State::new(),
                queue_next: UnsafeCell::new(None),
                vtable: vtable::<F>(),
                id: TaskId::next(),
            },
            trailer: Trailer {
                scheduler: spawn.scheduler,
                owned_key: StdCell::new(UNBOUND),
                polls: StdCell::new(0),
                location: spawn.location,
                meta: spawn.meta,
                join_waker: UnsafeCell::new(None),
                context: std::cell::UnsafeCell::new(ManuallyDrop::new(spawn.context)),
            },
        },
        stage: UnsafeCell::new(Stage::Running(future)),
    });
    NonNull::from(Box::leak(cell)).cast()
}

fn vtable<F: Future + 'static>() -> &'static Vtable {
    &Vtable {
        poll: poll::<F>,
        shutdown: shutdown::<F>,
        try_read_output: try_read_output::<F>,
        drop_join_handle: drop_join_handle::<F>,
        dealloc: dealloc::<F>,
    }
}

/// The header and trailer of any task.
///
/// # Safety
/// `ptr` must point to a live task allocation.
pub(crate) unsafe fn prefix<'a>(ptr: NonNull<Header>) -> &'a Prefix {
    // SAFETY: the header is the first field of `Prefix`, which is the first
    // field of the `repr(C)` cell, so the pointer to the header is a pointer
    // to the prefix; the caller guarantees the allocation is live.
    unsafe { ptr.cast::<Prefix>().as_ref() }
}

/// # Safety
/// `ptr` must point to a live `Cell<F>`.
unsafe fn cell<'a, F: Future>(ptr: NonNull<Header>) -> &'a Cell<F> {
    // SAFETY: the allocation was made as a `Cell<F>` by `allocate::<F>`,
    // and this function is only reached through `F`'s vtable.
    unsafe { ptr.cast::<Cell<F>>().as_ref() }
}

/// Drops the future (if still there), then the task's context variables
/// (the future's destructors still see them), and returns the payload of
/// a panic raised by a destructor.
///
/// # Safety
/// Owner loop thread, task RUNNING (so nobody else touches the stage).
unsafe fn drop_future<F: Future>(cell: &Cell<F>) -> Option<Box<dyn std::any::Any + Send>> {
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        cell.stage.with_mut(|stage| {
            // SAFETY: exclusive access per the caller's contract.
            unsafe { *stage = Stage::Consumed };
        })
    }))
    .err();
    let mut panicked = panicked;
    // SAFETY: owner thread; the future is gone, so only the destructors of
    // the context's values can reach the slot (thread rules), and none runs
    // during this read. A load, in the common case.
    while unsafe { (*cell.prefix.trailer.context.get()).is_some() } {
        // SAFETY: as above; taking it runs no user code, and leaves `None`
        // behind, which needs no drop.
        let context = unsafe { (**cell.prefix.trailer.context.get()).take() };
        // The task is still current while its values are dropped: a
        // destructor that sets a variable puts a new map in the slot just
        // emptied. Drop that one too, or the task would be freed with it
        // (`ManuallyDrop`: leaked).
        panicked = drop_context(cell.prefix.header.id, context, panicked);
    }
    panicked
}

/// Drops a completed task's context; a panic of a value's destructor is
/// the task's (when its future's destructor did not panic first).
#[cold]
#[inline(never)]
fn drop_context(
    id: TaskId,
    context: Map,
    panicked: Option<Box<dyn std::any::Any + Send>>,
) -> Option<Box<dyn std::any::Any + Send>> {
    match catch_unwind(AssertUnwindSafe(move || drop(context))) {
        Ok(()) => panicked,
        Err(p) if panicked.is_none() => Some(p),
        Err(p) => {
            report_destructor_panic(id, &*p);
            panicked
        }
    }
}

unsafe fn poll<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: the vtable is only used on tasks allocated as `Cell<F>`, and
    // the caller's queue reference keeps it alive.
    let cell = unsafe { cell::<F>(ptr) };
    let header = &cell.prefix.header;
    match header.state.transition_to_running() {
        ToRunning::Done => {
            if header.state.ref_dec() {
                // SAFETY: that was the last reference.
                unsafe { dealloc::<F>(ptr) };
            }
        }
        // SAFETY: we are on the owner thread and the task is RUNNING.
        ToRunning::Cancel => unsafe { cancel::<F>(ptr) },
        ToRunning::Poll => {
            let trailer = &cell.prefix.trailer;
            trailer.polls.set(trailer.polls.get().wrapping_add(1));
            // SAFETY: the waker borrows the task, which our running
            // reference keeps alive for the duration of the poll.
            let waker = ManuallyDrop::new(unsafe { waker::from_raw(ptr) });
            let mut cx = Context::from_waker(&waker);
            let result = catch_unwind(AssertUnwindSafe(|| {
                cell.stage.with_mut(|stage| {
                    // SAFETY: RUNNING on the owner thread: exclusive access;
                    // the future never moves (it lives in the heap cell).
                    match unsafe { &mut *stage } {
                        Stage::Running(fut) => {
                            // SAFETY: the cell is heap-allocated and never
                            // moved, and the future is dropped in place.
                            unsafe { Pin::new_unchecked(fut) }.poll(&mut cx)
                        }
                        _ => unreachable!("a task was polled after its future was dropped"),
                    }
                })
            }));
            // Always taken, so a flag left by a task that completed cannot
            // requeue the next one.
            let self_woken = context::take_self_wake();
            match result {
                Ok(Poll::Pending) if self_woken => match header.state.transition_to_requeue() {
                    // The running reference moves to the run queue.
                    ToIdle::Requeue => context::push_local_task(ptr),
                    // SAFETY: still RUNNING on the owner thread.
                    ToIdle::Cancel => unsafe { cancel::<F>(ptr) },
                    ToIdle::Idle => unreachable!("a self-woken task is requeued"),
                },
                Ok(Poll::Pending) => match header.state.transition_to_idle() {
                    (ToIdle::Idle, last) => {
                        if last {
                            // SAFETY: the last reference is gone.
                            unsafe { dealloc::<F>(ptr) };
                        }
                    }
                    // The running reference moves to the run queue.
                    (ToIdle::Requeue, _) => context::push_local_task(ptr),
                    // SAFETY: still RUNNING on the owner thread.
                    (ToIdle::Cancel, _) => unsafe { cancel::<F>(ptr) },
                },
                Ok(Poll::Ready(output)) => {
                    // SAFETY: still RUNNING on the owner thread.
                    if let Some(p) = unsafe { drop_future(cell) } {
                        report_destructor_panic(header.id, &*p);
                    }
                    // SAFETY: as above.
                    unsafe { complete::<F>(ptr, Ok(output)) };
                }
                Err(payload) => {
                    // SAFETY: as above.
                    if let Some(p) = unsafe { drop_future(cell) } {
                        report_destructor_panic(header.id, &*p);
                    }
                    // SAFETY: as above.
                    unsafe { complete::<F>(ptr, Err(Failure::Panicked(payload))) };
                }
            }
        }
    }
}

fn report_destructor_panic(id: TaskId, payload: &(dyn std::any::Any + Send)) {
    tracing::error!(
        task.id = id.as_u64(),
        panic = super::error::payload_message(payload).unwrap_or("<non-string payload>"),
        "a task's future panicked while being dropped; the panic was caught"
    );
}

#[cold]
fn report_join_waker_panic(id: TaskId, payload: &(dyn std::any::Any + Send)) {
    tracing::error!(
        task.id = id.as_u64(),
        panic = super::error::payload_message(payload).unwrap_or("<non-string payload>"),
        "the waker of a task's join handle panicked when the task completed; the panic was caught"
    );
}

/// Drops the future and completes the task as cancelled, or as panicked
/// when a destructor panicked while the future was dropped: the panic is
/// the task's outcome, as tokio reports it (`JoinError::is_panic`) and as
/// asyncio makes an exception raised in a `finally:` block during
/// cancellation the task's exception. Nobody joining, it goes to the
/// unhandled-panic policy like any other task panic.
///
/// # Safety
/// Owner thread, task RUNNING, caller holds the running reference.
unsafe fn cancel<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: per the caller's contract.
    let cell = unsafe { cell::<F>(ptr) };
    // SAFETY: per the caller's contract.
    let failure = match unsafe { drop_future(cell) } {
        Some(payload) => Failure::Panicked(payload),
        None => Failure::Cancelled,
    };
    // SAFETY: per the caller's contract.
    unsafe { complete::<F>(ptr, Err(failure)) };
}

/// Stores the output, publishes COMPLETE, hands the output to whoever owns
/// it, and releases the running and live-table references.
///
/// # Safety
/// Owner thread, task RUNNING, future already dropped, caller holds the
/// running reference.
unsafe fn complete<F: Future + 'static>(ptr: NonNull<Header>, output: Result<F::Output, Failure>) {
    // SAFETY: per the caller's contract.
    let cell = unsafe { cell::<F>(ptr) };
    let Prefix { header, trailer } = &cell.prefix;
    cell.stage.with_mut(|stage| {
        // SAFETY: RUNNING: exclusive access. The old value is `Consumed`.
        unsafe { std::ptr::write(stage, Stage::Finished(output)) };
    });
    let after = header.state.transition_to_complete();
    if !after.has_join_interest() {
        // Nobody can read the output: drop it here, on the owner thread.
        // SAFETY: without join interest the loop side owns the stage.
        let stage = cell
            .stage
            .with_mut(|stage| unsafe { std::mem::replace(&mut *stage, Stage::Consumed) });
        drop_output(header.id, trailer, stage);
    } else if after.has_join_waker() {
        // The join waker may be anyone's (a foreign executor awaiting the
        // handle): a panic in its wake or drop must not unwind out of the
        // loop between COMPLETE and the unbind below, which would leave a
        // completed task in the live-task table (shutdown then loops on
        // it forever) and `current_task` pointing at it.
        let woken = catch_unwind(AssertUnwindSafe(|| {
            trailer.join_waker.with(|slot| {
                // SAFETY: JOIN_WAKER is set and the task is COMPLETE, so the
                // join handle no longer writes the slot; we only read it.
                if let Some(w) = unsafe { &*slot } {
                    w.wake_by_ref();
                }
            })
        }));
        let before = header.state.unset_join_waker_after_complete();
        let dropped = if before.has_join_interest() {
            Ok(())
        } else {
            // The handle was dropped meanwhile and left the slot to us.
            catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: the handle is gone, so nobody else touches the slot.
                trailer.join_waker.with_mut(|slot| unsafe { *slot = None });
            }))
        };
        if let Err(p) = woken.and(dropped) {
            report_join_waker_panic(header.id, &*p);
        }
    }
    context::unbind(trailer.owned_key.get());
    if header.state.ref_dec_twice() {
        // SAFETY: those were the last references.
        unsafe { dealloc::<F>(ptr) };
    }
}

/// Drops an output nobody will read, reporting an unjoined panic.
fn drop_output<F: Future>(id: TaskId, trailer: &Trailer, stage: Stage<F>) {
    match stage {
        Stage::Finished(Err(Failure::Panicked(payload))) => {
            let name = trailer.meta.as_ref().and_then(|m| m.name.clone());
            trailer
                .scheduler
                .unhandled_panic(id, name.as_deref(), trailer.location, payload);
        }
        other => {
            if let Err(p) = catch_unwind(AssertUnwindSafe(move || drop(other))) {
                report_destructor_panic(id, &*p);
            }
        }
    }
}

unsafe fn shutdown<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: the caller (the loop at shutdown) holds the live-table
    // reference, so the task is alive.
    let header = unsafe { &prefix(ptr).header };
    if header.state.transition_to_shutdown() {
        // `complete` releases a running reference; take one.
        header.state.ref_inc();
        // SAFETY: the task is now RUNNING on the owner thread.
        unsafe { cancel::<F>(ptr) };
    }
}

unsafe fn try_read_output<F: Future + 'static>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker) {
    // SAFETY: the join handle's reference keeps the task alive.
    let cell = unsafe { cell::<F>(ptr) };
    if !can_read_output(&cell.prefix, waker) {
        return;
    }
    // SAFETY: COMPLETE with join interest: the join handle (our caller)
    // owns the stage.
    let stage = cell
        .stage
        .with_mut(|stage| unsafe { std::mem::replace(&mut *stage, Stage::Consumed) });
    let id = cell.prefix.header.id;
    let out = match stage {
        Stage::Finished(Ok(v)) => Ok(v),
        Stage::Finished(Err(f)) => Err(JoinError::new(id, f)),
        _ => panic!("JoinHandle polled after it returned its output"),
    };
    // SAFETY: the join handle passes a `*mut Poll<Result<F::Output, JoinError>>`.
    unsafe { *(dst as *mut Poll<Result<F::Output, JoinError>>) = Poll::Ready(out) };
}

/// The join side of the JOIN_WAKER handshake: true if the output is ready,
/// else `waker` is registered to be woken on completion.
fn can_read_output(prefix: &Prefix, waker: &Waker) -> bool {
    let state = &prefix.header.state;
    let snapshot = state.load();
    if snapshot.is_complete() {
        return true;
    }
    if snapshot.has_join_waker() {
        let same = prefix.trailer.join_waker.with(|slot| {
            // SAFETY: JOIN_WAKER set, not complete: the loop side does not
            // write the slot, and reading it here races with no writer.
            unsafe { &*slot }
                .as_ref()
                .is_some_and(|w| w.will_wake(waker))
        });
        if same {
            return false;
        }
        if state.unset_join_waker().is_err() {
            return true;
        }
    }
    set_join_waker(prefix, waker.clone())
}

/// Writes the slot (we own it: JOIN_WAKER is clear) and publishes it.
/// True if the task completed meanwhile.
fn set_join_waker(prefix: &Prefix, waker: Waker) -> bool {
    prefix.trailer.join_waker.with_mut(|slot| {
        // SAFETY: JOIN_WAKER is clear, so only the join handle touches it.
        unsafe { *slot = Some(waker) };
    });
    if prefix.header.state.set_join_waker().is_err() {
        prefix.trailer.join_waker.with_mut(|slot| {
            // SAFETY: publishing failed, so the slot is still ours.
            unsafe { *slot = None };
        });
        return true;
    }
    false
}

unsafe fn drop_join_handle<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: the join handle's reference keeps the task alive.
    let cell = unsafe { cell::<F>(ptr) };
    let Prefix { header, trailer } = &cell.prefix;
    let before = header.state.drop_join_interest();
    if before.is_complete() {
        // We own the output: drop it (an unread panic is unhandled).
        // SAFETY: COMPLETE and we held the join interest.
        let stage = cell
            .stage
            .with_mut(|stage| unsafe { std::mem::replace(&mut *stage, Stage::Consumed) });
        drop_output(header.id, trailer, stage);
    } else if before.has_join_waker() {
        // We cleared JOIN_WAKER before completion: the slot is ours.
        // SAFETY: see above.
        trailer.join_waker.with_mut(|slot| unsafe { *slot = None });
    }
    if header.state.ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { dealloc::<F>(ptr) };
    }
}

unsafe fn dealloc<F: Future + 'static>(ptr: NonNull<Header>) {
    debug_assert!(
        // SAFETY: no reference is left: nobody else touches the task.
        unsafe { (*prefix(ptr).trailer.context.get()).is_none() },
        "a task was freed before it completed: its context was not dropped"
    );
    // SAFETY: made by `Box::leak` in `allocate::<F>`; no reference is left.
    // The stage holds no future here (futures are dropped on the owner
    // thread before completion), so this is sound on any thread.
    drop(unsafe { Box::from_raw(ptr.cast::<Cell<F>>().as_ptr()) });
}
