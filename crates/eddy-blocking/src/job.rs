//! One blocking job: the closure, its state word and the output slot, shared
//! by the queue entry (`Job`) and the [`BlockingHandle`] in one allocation.
//!
//! The state word decides the cancel-vs-start race: the worker moves it
//! `QUEUED -> RUNNING` with a CAS before taking the closure, and a dropped
//! handle (or a shutdown) moves it `QUEUED -> CANCELLED`. Whoever wins owns
//! the closure; the loser leaves it alone, so a job runs at most once and a
//! cancelled job never runs (its queue entry stays behind as a tombstone that
//! the worker skips).
//!
//! A job also carries what it holds while in flight (`held`: the pool's
//! submit-hook guard, a caller's guard; see `Builder::on_submit`). It is
//! let go when the job is over: as the job completes if no handle is
//! waiting for the result, otherwise together with the result, when the
//! handle hands it out (or is dropped). The choice is made under the slot
//! lock, the same lock a poll takes to register its waker, so there is no
//! moment between "the job is done" and "the waiting task has the result"
//! in which the guard is already gone.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::loom::{AtomicUsize, Mutex, Ordering};
use crate::JoinError;

const QUEUED: usize = 0;
const RUNNING: usize = 1;
const COMPLETE: usize = 2;
const CANCELLED: usize = 3;

/// A queue entry: something a worker can run or cancel.
pub type Job = Arc<dyn Run>;

/// The worker's side of a job.
pub trait Run: Send + Sync {
    /// Runs the closure unless the job was cancelled first. Returns `true`
    /// if it ran.
    fn run(&self) -> bool;
    /// Cancels a job that has not started; its handle resolves to the
    /// error `why` makes (called only if this call claims the job). Does
    /// nothing if it already started or was cancelled (its handle
    /// dropped). Returns `true` if it cancelled the job.
    fn cancel(&self, why: &dyn Fn() -> JoinError) -> bool;

    /// [`cancel`](Run::cancel) with the shutdown error.
    fn cancel_shutdown(&self) -> bool {
        self.cancel(&JoinError::shutdown)
    }
}

/// The handle's side of a job.
trait Join<T>: Send + Sync {
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>>;
    /// The handle was dropped: cancel the job if it has not started.
    fn abandon(&self);
}

struct Slot<T, G> {
    output: Option<Result<T, JoinError>>,
    waker: Option<Waker>,
    /// Held until the job is over (see the module docs).
    held: Option<G>,
}

struct Cell<F, T, G> {
    state: AtomicUsize,
    func: Mutex<Option<F>>,
    slot: Mutex<Slot<T, G>>,
}

impl<F, T, G> Cell<F, T, G> {
    fn try_claim(&self, to: usize) -> bool {
        self.state
            .compare_exchange(QUEUED, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Publishes the output and wakes the waiting handle, if any. Returns
    /// what the job held when nobody waits (the caller drops it); when a
    /// handle waits, that stays in the slot and goes with the output.
    #[must_use = "the released guard is dropped by the caller"]
    fn complete(&self, output: Result<T, JoinError>) -> Option<G> {
        let (waker, released) = {
            let mut slot = self.slot.lock();
            slot.output = Some(output);
            let waker = slot.waker.take();
            let released = if waker.is_none() {
                slot.held.take()
            } else {
                None
            };
            (waker, released)
        };
        if let Some(w) = waker {
            w.wake();
        }
        released
    }
}

impl<F, T, G> Run for Cell<F, T, G>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
    G: Send + 'static,
{
    fn run(&self) -> bool {
        if !self.try_claim(RUNNING) {
            return false;
        }
        let func = self.func.lock().take();
        let Some(func) = func else { return false };
        let output = catch_unwind(AssertUnwindSafe(func)).map_err(JoinError::panic);
        self.state.store(COMPLETE, Ordering::Release);
        // Dropped here, on the pool thread (inside `run_job`'s catch).
        drop(self.complete(output));
        true
    }

    fn cancel(&self, why: &dyn Fn() -> JoinError) -> bool {
        if !self.try_claim(CANCELLED) {
            return false;
        }
        let func = self.func.lock().take();
        // Called while cancelling a whole queue (shutdown, a racing
        // submitter, a worker between jobs, outside `run_job`'s catch):
        // user code run here — the waiting handle's waker, the
        // destructors of what the job captured or held — must not stop
        // the rest from being cancelled, nor unwind through the pool.
        // The handle learns first: its result is in the slot before the
        // waker runs, so a panicking waker loses nothing.
        let released = catch_unwind(AssertUnwindSafe(|| self.complete(Err(why())))).unwrap_or_else(
            |payload| {
                report_panic("waking a cancelled job's handle", &*payload);
                // The waker ran, so a handle waited: the held value stays
                // in the slot and goes with the result.
                None
            },
        );
        if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop((func, released)))) {
            report_panic("dropping a cancelled job's closure", &*payload);
        }
        true
    }
}

impl<F, T, G> Join<T> for Cell<F, T, G>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
    G: Send + 'static,
{
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        let mut slot = self.slot.lock();
        if let Some(out) = slot.output.take() {
            // The result is seen: what rode along with it can go.
            let held = slot.held.take();
            drop(slot);
            drop(held);
            return Poll::Ready(out);
        }
        match &mut slot.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            w => *w = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    fn abandon(&self) {
        let func = if self.try_claim(CANCELLED) {
            self.func.lock().take()
        } else {
            None
        };
        let held = {
            let mut slot = self.slot.lock();
            // Nobody waits any more: a running job lets go of what it
            // holds as it completes, and does not wake a stale waker.
            slot.waker = None;
            if self.state.load(Ordering::Acquire) == RUNNING {
                None
            } else {
                // Cancelled just now, or over: nothing left to hold for.
                slot.held.take()
            }
        };
        drop(func);
        drop(held);
    }
}

/// Logs a panic the pool caught outside a job's closure (user code run by
/// the pool: a destructor, a waker) and carries on.
pub(crate) fn report_panic(what: &str, payload: &(dyn std::any::Any + Send)) {
    tracing::error!(
        panic = crate::error::panic_message(payload).unwrap_or("(no message)"),
        "eddy-blocking: a panic while {what}; the pool caught it and carries on"
    );
}

/// Creates a job and its handle (one allocation); the job holds `held`
/// until it is over (see the module docs).
pub fn new_job<F, T, G>(func: F, held: G) -> (Job, BlockingHandle<T>)
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
    G: Send + 'static,
{
    let cell = Arc::new(Cell {
        state: AtomicUsize::new(QUEUED),
        func: Mutex::new(Some(func)),
        slot: Mutex::new(Slot {
            output: None,
            waker: None,
            held: Some(held),
        }),
    });
    let handle = BlockingHandle {
        cell: Some(cell.clone()),
    };
    (cell, handle)
}

/// The result of a job submitted with [`Pool::spawn`](crate::Pool::spawn):
/// a future of `Result<T, JoinError>` that works under any executor.
///
/// Awaiting it gives the closure's return value, or a [`JoinError`] if the
/// closure panicked or never ran because the pool was shut down.
///
/// Dropping the handle before the job has started removes the job: it will
/// never run. A job that has started **cannot be interrupted**: it runs to
/// completion on its pool thread and its result is dropped there (a panic
/// in the result's destructor is logged through `tracing`; the thread
/// carries on).
///
/// # Cancel safety
///
/// Dropping the handle is the only form of cancellation. Before the job
/// starts, the job is cancelled and never runs; after it started, it runs to
/// completion and the result is lost. Polling again after a `Pending` loses
/// nothing.
///
/// ```
/// use eddy_blocking::Pool;
///
/// let pool = Pool::new();
/// let handle = pool.spawn(|| 6 * 7);
/// assert_eq!(futures::executor::block_on(handle).unwrap(), 42);
/// ```
#[must_use = "a BlockingHandle does nothing unless awaited; dropping it before the job starts cancels the job"]
pub struct BlockingHandle<T> {
    cell: Option<Arc<dyn Join<T>>>,
}

impl<T> std::fmt::Debug for BlockingHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingHandle")
            .field("done", &self.cell.is_none())
            .finish()
    }
}

impl<T> BlockingHandle<T> {
    /// Lets the job run even though nobody will await it (fire and
    /// forget); its output is dropped when it finishes. Plain dropping, by
    /// contrast, cancels a job that has not started.
    ///
    /// # Example
    ///
    /// ```
    /// let pool = eddy_blocking::Pool::new();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// pool.spawn(move || tx.send(42).unwrap()).detach();
    /// assert_eq!(rx.recv().unwrap(), 42);
    /// ```
    pub fn detach(mut self) {
        self.cell = None;
    }
}

impl<T> Future for BlockingHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let cell = self
            .cell
            .as_ref()
            .expect("BlockingHandle polled after it returned its result");
        let out = std::task::ready!(cell.poll_join(cx));
        self.cell = None;
        Poll::Ready(out)
    }
}

impl<T> Drop for BlockingHandle<T> {
    fn drop(&mut self) {
        if let Some(cell) = self.cell.take() {
            cell.abandon();
        }
    }
}
