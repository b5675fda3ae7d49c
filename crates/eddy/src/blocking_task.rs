//! Blocking offload on the runtime's pool: [`spawn_blocking`],
//! [`to_thread`] (asyncio's name) and [`BlockingTask`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use eddy_blocking::{BlockingHandle, JoinError, Pool};

use crate::stack::{ClockHold, Stack};

/// The result of a blocking job, awaitable from a task (from
/// [`spawn_blocking`], [`to_thread`] or
/// [`Handle::run_in_executor`](crate::Handle::run_in_executor)).
///
/// Dropping it before the job starts cancels the job; a job that started
/// runs to completion (threads cannot be interrupted) and its result is
/// dropped. [`detach`](Self::detach) lets a queued job run anyway.
///
/// While the job is in flight a paused test clock does not jump ahead: the
/// loop is waiting for real work, not for a timer. Once the job is done
/// the clock is free again: if the task was already awaiting the result,
/// when it has read it (so a timeout around the await cannot fire in
/// between); otherwise as the job ends, so a finished job that nobody
/// awaits yet never holds the clock.
///
/// # Cancel safety
///
/// Dropping it loses only the job's result.
///
/// # Example
///
/// ```
/// # eddy::run(async {
/// let task: eddy::blocking::BlockingTask<u64> = eddy::to_thread(|| (1..=10).product());
/// assert_eq!(task.await.unwrap(), 3_628_800);
/// # });
/// ```
#[must_use = "a BlockingTask does nothing unless awaited; dropping it before the job starts cancels the job"]
pub struct BlockingTask<T> {
    /// The job holds a [`ClockHold`]; the pool lets it go by the rule
    /// above (see `eddy_blocking::Builder::on_submit`).
    inner: BlockingHandle<T>,
}

impl<T> BlockingTask<T> {
    /// Lets the job run even though nobody awaits it (fire and forget).
    ///
    /// # Example
    ///
    /// ```
    /// # eddy::run(async {
    /// eddy::spawn_blocking(|| println!("logged from a pool thread")).detach();
    /// # });
    /// ```
    pub fn detach(self) {
        self.inner.detach();
    }
}

impl<T> Future for BlockingTask<T> {
    type Output = Result<T, JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A clock hold that rode along with the result (because this task
        // was already waiting when the job ended) is dropped in here, on
        // the loop thread, as the result is handed out.
        Pin::new(&mut self.inner).poll(cx)
    }
}

impl<T> fmt::Debug for BlockingTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BlockingTask").field(&self.inner).finish()
    }
}

/// Runs `f` on `pool`, holding `hold` (a paused clock) until the job is
/// over. The pool decides when that is, under the lock that also
/// publishes the result: as the job ends if no task waits for the result
/// yet (a finished job nobody awaits never holds the clock), otherwise
/// when the waiting task reads the result (so a timeout around the await
/// cannot fire between the job's end and the task's wake-up). A runtime's
/// own pool also takes a hold of its own through its submit hook, on the
/// submitting thread's clock; the explicit one here covers a pool of the
/// caller's (`run_in_executor`, or one entered with `Pool::enter` and
/// reached by `spawn_blocking`) and a submission from another thread
/// (`Handle::spawn_blocking`). On the runtime's own pool from the loop
/// thread both holds are on the same clock: held twice, which costs two
/// atomic counts and no allocation (the `Arc<AtomicBool>` per job this
/// replaced was one).
pub(crate) fn spawn_on<F, T>(pool: &Pool, hold: ClockHold, f: F) -> BlockingTask<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    BlockingTask {
        inner: pool.spawn_with_guard(hold, f),
    }
}

/// Runs `f` on the runtime's blocking pool and returns its result as a
/// future (tokio's name; asyncio's [`to_thread`] is the same but for
/// context variables, see below). Use it for anything that blocks a
/// thread: file I/O, a synchronous client library, heavy computation.
///
/// A panic in `f` comes back as a [`JoinError`].
///
/// `f` runs in the pool thread's own context: the caller's
/// [`ContextVar`](crate::task::ContextVar)s are not visible in it (as with
/// asyncio's `run_in_executor`, and [`Handle::run_in_executor`](crate::Handle::run_in_executor)).
/// Use [`to_thread`] to take them along.
///
/// # Panics
///
/// Outside an eddy runtime (or a thread that entered a blocking `Pool`).
///
/// # Example
///
/// ```
/// # eddy::run(async {
/// let text = eddy::spawn_blocking(|| std::fs::read_to_string("Cargo.toml"))
///     .await
///     .unwrap();
/// # let _ = text;
/// # });
/// ```
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> BlockingTask<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let pool = Pool::try_current().unwrap_or_else(|| {
        panic!(
            "no eddy runtime on this thread: call spawn_blocking/to_thread inside eddy::run, \
             Runtime::block_on or #[eddy::main], or enter a blocking Pool with Pool::enter"
        )
    });
    spawn_on(&pool, Stack::hold_current_clock(), f)
}

/// asyncio's `to_thread`: [`spawn_blocking`], with `f` run in a copy of
/// the caller's context (its [`ContextVar`](crate::task::ContextVar)
/// values, as [`copy_context`](crate::task::copy_context) takes them), as
/// asyncio's `to_thread` does. What `f` sets stays in that copy, which is
/// dropped with the job: the caller does not see it.
///
/// # Panics
///
/// Outside an eddy runtime.
///
/// # Example
///
/// ```
/// # eddy::run(async {
/// // Five 20 ms blocking calls finish together, not one after another.
/// let calls = (0..5).map(|_| eddy::to_thread(|| std::thread::sleep(std::time::Duration::from_millis(20))));
/// eddy::gather_all(calls).await;
///
/// // The caller's context variables go along.
/// static USER: eddy::task::ContextVar<&'static str> = eddy::task::ContextVar::new("user");
/// USER.set("dora");
/// assert_eq!(eddy::to_thread(|| USER.get()).await.unwrap(), Some("dora"));
/// # });
/// ```
#[track_caller]
pub fn to_thread<F, T>(f: F) -> BlockingTask<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let mut context = eddy_core::task::copy_context();
    spawn_blocking(move || context.run(f))
}
