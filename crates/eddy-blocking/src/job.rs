//! One blocking job: the closure, its state word and the output slot, shared
//! by the queue entry (`Job`) and the [`BlockingHandle`] in one allocation.
//!
//! The state word decides the cancel-vs-start race: the worker moves it
//! `QUEUED -> RUNNING` with a CAS before taking the closure, and a dropped
//! handle (or a shutdown) moves it `QUEUED -> CANCELLED`. Whoever wins owns
//! the closure; the loser leaves it alone, so a job runs at most once and a
//! cancelled job never runs (its queue entry stays behind as a tombstone that
//! the worker skips).

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
    /// shutdown error. Does nothing if it already started or was cancelled.
    fn cancel_shutdown(&self);
}

/// The handle's side of a job.
trait Join<T>: Send + Sync {
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>>;
    /// The handle was dropped: cancel the job if it has not started.
    fn abandon(&self);
}

struct Slot<T> {
    output: Option<Result<T, JoinError>>,
    waker: Option<Waker>,
}

struct Cell<F, T> {
    state: AtomicUsize,
    func: Mutex<Option<F>>,
    slot: Mutex<Slot<T>>,
}

impl<F, T> Cell<F, T> {
    fn try_claim(&self, to: usize) -> bool {
        self.state
            .compare_exchange(QUEUED, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn complete(&self, output: Result<T, JoinError>) {
        let waker = {
            let mut slot = self.slot.lock();
            slot.output = Some(output);
            slot.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<F, T> Run for Cell<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn run(&self) -> bool {
        if !self.try_claim(RUNNING) {
            return false;
        }
        let func = self.func.lock().take();
        let Some(func) = func else { return false };
        let output = catch_unwind(AssertUnwindSafe(func)).map_err(JoinError::panic);
        self.state.store(COMPLETE, Ordering::Release);
        self.complete(output);
        true
    }

    fn cancel_shutdown(&self) {
        if self.try_claim(CANCELLED) {
            let func = self.func.lock().take();
            // The handle learns first: dropping the closure runs the
            // destructors of what it captured, which may panic.
            self.complete(Err(JoinError::shutdown()));
            // Called while cancelling a whole queue (shutdown, a racing
            // submitter, a worker): one panicking destructor must not stop
            // the rest from being cancelled, nor unwind through the pool.
            if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(func))) {
                report_panic("dropping a cancelled job's closure", &*payload);
            }
        }
    }
}

impl<F, T> Join<T> for Cell<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        let mut slot = self.slot.lock();
        if let Some(out) = slot.output.take() {
            return Poll::Ready(out);
        }
        match &mut slot.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            w => *w = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    fn abandon(&self) {
        if self.try_claim(CANCELLED) {
            drop(self.func.lock().take());
        }
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

/// Creates a job and its handle (one allocation).
pub fn new_job<F, T>(func: F) -> (Job, BlockingHandle<T>)
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let cell = Arc::new(Cell {
        state: AtomicUsize::new(QUEUED),
        func: Mutex::new(Some(func)),
        slot: Mutex::new(Slot {
            output: None,
            waker: None,
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
