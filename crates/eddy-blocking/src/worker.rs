//! A pool thread: its own deque (in a thread-local, so a job it runs can push
//! nested jobs onto it), the find-work order and the park/exit loop.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use crossbeam_deque::{Steal, Worker};

use crate::job::Job;
use crate::pool::{PoolHandle, Shared};
use crate::sleep::{Park, Waiter};

/// What a pool thread keeps in its thread-local.
struct Local {
    /// The pool's shared state: tells our pool from another, and lets a
    /// job submit to its pool after every handle was dropped.
    shared: Arc<Shared>,
    deque: Worker<Job>,
    pool: Weak<PoolHandle>,
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// Pushes `job` onto this thread's deque if this is a thread of `shared`'s
/// pool; otherwise hands the job back.
pub(crate) fn push_local(shared: &Arc<Shared>, job: Job) -> Result<(), Job> {
    // `try_with`: a job submitted at thread exit (a runtime dropped from a
    // `thread_local!`) may find the slot destroyed; this is then no pool
    // thread.
    let mut job = Some(job);
    let _ = LOCAL.try_with(|l| {
        if let Some(local) = &*l.borrow() {
            if Arc::ptr_eq(&local.shared, shared) {
                if let Some(job) = job.take() {
                    local.deque.push(job);
                }
            }
        }
    });
    match job {
        None => Ok(()),
        Some(job) => Err(job),
    }
}

/// `true` if this thread is one of `shared`'s pool threads.
pub(crate) fn is_thread_of(shared: &Arc<Shared>) -> bool {
    LOCAL
        .try_with(|l| {
            l.borrow()
                .as_ref()
                .is_some_and(|local| Arc::ptr_eq(&local.shared, shared))
        })
        .unwrap_or(false)
}

/// The pool this thread belongs to, if it is a pool thread. When every
/// handle of the pool was dropped (a job still running while the pool
/// drains its queue), a new handle onto the same threads and queue: the
/// pool stays closed (threads exit once idle), and jobs submitted through
/// it join the queue the pool is draining.
pub(crate) fn current_pool() -> Option<Arc<PoolHandle>> {
    LOCAL
        .try_with(|l| {
            l.borrow().as_ref().map(|local| {
                local
                    .pool
                    .upgrade()
                    .unwrap_or_else(|| PoolHandle::draining(local.shared.clone()))
            })
        })
        .ok()
        .flatten()
}

fn pop_local() -> Option<Job> {
    LOCAL.with(|l| l.borrow().as_ref().and_then(|local| local.deque.pop()))
}

/// Local deque first, then the injector, then the other threads' deques.
/// Emptiness is checked before each steal: a steal pins crossbeam's epoch,
/// an emptiness check does not.
fn find_job(shared: &Shared) -> Option<Job> {
    if let Some(job) = pop_local() {
        return Some(job);
    }
    while !shared.injector.is_empty() {
        match shared.injector.steal() {
            Steal::Success(job) => return Some(job),
            Steal::Empty => break,
            Steal::Retry => {}
        }
    }
    shared.steal_from_others()
}

/// The body of a pool thread. It starts out searching (its spawner counted
/// it); see `sleep.rs` for the searching protocol.
pub(crate) fn run(shared: Arc<Shared>, pool: Weak<PoolHandle>) {
    let deque = Worker::new_fifo();
    let id = shared.register(deque.stealer());
    LOCAL.with(|l| {
        *l.borrow_mut() = Some(Local {
            shared: shared.clone(),
            deque,
            pool: pool.clone(),
        })
    });

    let waiter = Waiter::new();
    // At the top of the loop the thread is always counted as searching.
    let exited_by_park = loop {
        if let Some(job) = find_job(&shared) {
            if shared.sleep.stop_searching() && shared.has_queued_work() {
                // We were the last searcher and more is queued: hand the
                // search on so that job does not wait behind ours.
                shared.wake_one(&pool);
            }
            if shared.is_shutdown() {
                job.cancel_shutdown();
            } else {
                shared.run_job(job);
            }
            shared.sleep.start_searching();
            continue;
        }
        shared.sleep.stop_searching();
        if shared.is_shutdown() {
            break false;
        }
        match shared
            .sleep
            .park(&waiter, shared.keep_alive, || shared.has_queued_work())
        {
            Park::Work => {}
            Park::Exit => break true,
        }
    };

    // Cancel whatever is still queued locally (only possible at shutdown).
    let local = LOCAL.with(|l| l.borrow_mut().take());
    if let Some(local) = local {
        while let Some(job) = local.deque.pop() {
            job.cancel_shutdown();
        }
    }
    shared.unregister(id);
    if !exited_by_park {
        shared.sleep.leave();
    }
}
