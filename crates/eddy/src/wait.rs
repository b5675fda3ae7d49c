//! asyncio's `wait(..., timeout=)` and `as_completed(..., timeout=)`:
//! eddy-core's forms with the runtime's clock plugged in.

use std::future::Future;
use std::time::Duration;

use eddy_core::task::{AsCompletedTimeout, Outcome, ReturnWhen, TaskHandle, WaitResult};

use crate::time::Sleep;

/// Waits on tasks until `when` says stop or `timeout` passes, and returns
/// `(done, pending)` (asyncio's `asyncio.wait`). A timeout neither errors
/// nor cancels: what has not finished comes back in `pending`, still
/// running. `None` waits without a limit.
///
/// `handles` may be of any [`TaskHandle`](crate::task::TaskHandle) kind,
/// one kind per call: [`JoinHandle`](crate::JoinHandle)s,
/// [`TaskGroup`](crate::TaskGroup) children's
/// [`ChildHandle`](crate::task::ChildHandle)s, [`shield`](crate::shield)ed
/// tasks or [`CancelOnDrop`](crate::task::CancelOnDrop) handles. The
/// pending ones come back as the same kind, so a pending `CancelOnDrop`
/// still cancels its task when dropped and a pending child is still its
/// group's.
///
/// # Errors
///
/// [`EmptyWait`](crate::task::EmptyWait) if `handles` is empty (asyncio
/// raises `ValueError`).
///
/// # Cancel safety
///
/// Not cancel-safe: dropping the future drops the handles it holds, and
/// each does what dropping it always does: a `JoinHandle` or a shielded
/// task detaches (it keeps running, but its output is lost to you), a
/// `CancelOnDrop` cancels its task, a group child runs on in its group.
/// Use the timeout rather than an outer timeout to keep them.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use eddy::ReturnWhen;
///
/// eddy::run(async {
///     let quick = eddy::spawn(async { Ok::<_, ()>("quick") });
///     let slow = eddy::spawn(async {
///         eddy::sleep(Duration::from_secs(60)).await;
///         Ok::<_, ()>("slow")
///     });
///     let (done, pending) =
///         eddy::wait(vec![quick, slow], ReturnWhen::AllCompleted, Some(Duration::from_millis(20)))
///             .await
///             .unwrap();
///     assert_eq!(done.len(), 1);
///     assert_eq!(pending.len(), 1); // timed out: still running, not cancelled
///     pending[0].handle.cancel();
/// });
/// ```
///
/// With [`CancelOnDrop`](crate::task::CancelOnDrop) handles, dropping
/// what is still pending after the timeout cancels it (asyncio's
/// `wait` followed by cancelling the pending tasks):
///
/// ```
/// use std::time::Duration;
/// use eddy::ReturnWhen;
///
/// eddy::run(async {
///     let slow = eddy::spawn(eddy::sleep(Duration::from_secs(60)));
///     let id = slow.id();
///     let (done, pending) =
///         eddy::wait(vec![slow.cancel_on_drop()], ReturnWhen::AllCompleted, Some(Duration::ZERO))
///             .await
///             .unwrap();
///     assert!(done.is_empty());
///     drop(pending); // cancels the task
///     eddy::yield_now().await;
///     assert!(eddy::task::all().iter().all(|t| t.id() != id));
/// });
/// ```
pub async fn wait<T, H>(
    handles: Vec<H>,
    when: ReturnWhen,
    timeout: Option<Duration>,
) -> WaitResult<T, H>
where
    T: Outcome,
    H: TaskHandle<T>,
{
    eddy_core::task::wait_with(handles, when, timeout.map(crate::time::sleep)).await
}

/// [`wait`] for tasks whose output type does not implement
/// [`Outcome`](crate::task::Outcome) (tuples, `PathBuf`, ...):
/// `is_failure` says which outputs stop a
/// [`ReturnWhen::FirstError`](crate::ReturnWhen::FirstError) wait (a
/// panic always does; a cancellation never does). The other modes never
/// call it. `handles` may be of any
/// [`TaskHandle`](crate::task::TaskHandle) kind, as for [`wait`].
///
/// # Errors
///
/// [`EmptyWait`](crate::task::EmptyWait) if `handles` is empty.
///
/// # Cancel safety
///
/// As [`wait`]: not cancel-safe.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use eddy::ReturnWhen;
///
/// eddy::run(async {
///     let tasks = vec![eddy::spawn(async { (1u64, 2u32) }), eddy::spawn(async { (3, 4) })];
///     let (done, pending) =
///         eddy::wait_by(tasks, ReturnWhen::AllCompleted, Some(Duration::from_secs(5)), |_| false)
///             .await
///             .unwrap();
///     assert_eq!((done.len(), pending.len()), (2, 0));
/// });
/// ```
pub async fn wait_by<T, H>(
    handles: Vec<H>,
    when: ReturnWhen,
    timeout: Option<Duration>,
    is_failure: impl Fn(&T) -> bool,
) -> WaitResult<T, H>
where
    H: TaskHandle<T>,
{
    eddy_core::task::wait_by(handles, when, timeout.map(crate::time::sleep), is_failure).await
}

/// Yields the outputs of `futures` in completion order until `timeout`
/// passes (asyncio's `as_completed(aws, timeout=)`); when time runs out the
/// stream's last item is `Err(TimedOut)` naming how many were left, and the
/// futures not finished are dropped (cancelled) with the stream.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use futures_util::StreamExt;
///
/// eddy::run(async {
///     let delays = [30u64, 10, 3_600_000];
///     let futures = delays.map(|ms| async move {
///         eddy::sleep(Duration::from_millis(ms)).await;
///         ms
///     });
///     let items: Vec<_> = eddy::as_completed_with_timeout(futures, Duration::from_millis(500))
///         .collect()
///         .await;
///     assert_eq!(items[0], Ok(10));
///     assert_eq!(items[1], Ok(30));
///     assert_eq!(items[2].as_ref().unwrap_err().remaining(), 1);
/// });
/// ```
pub fn as_completed_with_timeout<I>(
    futures: I,
    timeout: Duration,
) -> AsCompletedTimeout<I::Item, Sleep>
where
    I: IntoIterator,
    I::Item: Future,
{
    eddy_core::task::as_completed_with_timeout(futures, crate::time::sleep(timeout))
}
