//! `wait` (asyncio's `asyncio.wait`): wait on task handles until the first
//! completes, the first fails, or all complete — optionally with a timeout
//! that neither errors nor cancels. It takes any of eddy's handle kinds
//! ([`TaskHandle`]) and gives the pending ones back as the same kind.

use std::convert::Infallible;
use std::fmt;
use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::pin::pin;
use std::task::Poll;

use futures_util::future::MaybeDone;

use super::slots::Slots;
use super::{JoinError, JoinHandle, TaskId};

/// What [`wait`] needs of a handle beyond awaiting it; sealed, so only
/// eddy's handle kinds implement [`TaskHandle`].
pub(super) mod sealed {
    use super::JoinError;

    pub trait Sealed<T> {
        /// The output of a finished task, taken without charging the
        /// cooperative budget and without registering a waker; `None`
        /// while the task runs. Mapped as awaiting the handle maps it.
        fn take_finished_output(&mut self) -> Option<Result<T, JoinError>>;

        /// Forgets the waker the last poll registered, so the task's
        /// completion wakes nobody until the handle is polled again.
        fn forget_join_waker(&mut self);
    }
}

/// A handle to a spawned task that [`wait`], [`wait_with`] and [`wait_by`]
/// accept: a plain [`JoinHandle`], a [`TaskGroup`](super::TaskGroup)
/// child's [`ChildHandle`](super::ChildHandle), a
/// [`Shielded`](super::Shielded) task from [`shield`](super::shield), or a
/// [`CancelOnDrop`](super::CancelOnDrop) from
/// [`JoinHandle::cancel_on_drop`]. Each awaits to `Result<T, JoinError>`.
///
/// asyncio's `wait` takes any task; eddy has several handle kinds, each
/// with its own rule for what dropping it does (detach, cancel, stay in
/// the group), so `wait` is generic over the kind and gives the pending
/// handles back as the very kind that went in: a pending `CancelOnDrop`
/// still cancels its task when dropped, a pending `ChildHandle` is still
/// its group's child. It is a sealed trait rather than any `Future`
/// because `wait` must take a finished task's output without a budgeted
/// poll and unregister its own waker from the handles it returns, which
/// only task handles can do (use [`as_completed`](super::as_completed)
/// for arbitrary futures). One call takes one kind (the handles come in
/// one `Vec`): to wait on plain, shielded and cancel-on-drop tasks
/// together, turn them into plain handles first
/// ([`Shielded::into_handle`](super::Shielded::into_handle),
/// [`CancelOnDrop::detach`](super::CancelOnDrop::detach)), which gives up
/// cancelling on drop.
///
/// The methods are the ones every kind has, for code generic over the
/// kind (cancelling whatever [`wait`] left pending, say).
///
/// # Example
///
/// ```
/// use eddy_core::task::{wait, ReturnWhen, TaskHandle};
///
/// // Works for any handle kind `wait` returns.
/// fn cancel_all<T, H: TaskHandle<T>>(pending: &[eddy_core::task::NotDone<T, H>]) {
///     for p in pending {
///         p.handle.cancel();
///     }
/// }
///
/// eddy_core::run(async {
///     let tasks = vec![
///         eddy_core::spawn(async { 1 }).cancel_on_drop(),
///         eddy_core::spawn(std::future::pending()).cancel_on_drop(),
///     ];
///     let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted).await.unwrap();
///     assert_eq!(*done[0].result.as_ref().unwrap(), 1);
///     cancel_all(&pending);
///     let last = pending.into_iter().next().unwrap().handle;
///     assert!(last.await.unwrap_err().is_cancelled());
/// });
/// ```
pub trait TaskHandle<T>: Future<Output = Result<T, JoinError>> + Unpin + sealed::Sealed<T> {
    /// The task's id.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskHandle;
    /// eddy_core::run(async {
    ///     let shielded = eddy_core::task::shield(async {});
    ///     let id = TaskHandle::id(&shielded);
    ///     assert_eq!(id, shielded.into_handle().id());
    /// });
    /// ```
    fn id(&self) -> TaskId;

    /// Cancels the task (see [`JoinHandle::cancel`]); awaiting the handle
    /// then gives a cancelled [`JoinError`].
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskHandle;
    /// eddy_core::run(async {
    ///     let shielded = eddy_core::task::shield(std::future::pending::<()>());
    ///     TaskHandle::cancel(&shielded);
    ///     assert!(shielded.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    fn cancel(&self);

    /// Whether the task has finished: completed, failed, panicked or been
    /// cancelled (see [`JoinHandle::is_finished`]).
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskHandle;
    /// eddy_core::run(async {
    ///     let shielded = eddy_core::task::shield(async {});
    ///     assert!(!shielded.is_finished());
    ///     eddy_core::yield_now().await;
    ///     assert!(shielded.is_finished());
    /// });
    /// ```
    fn is_finished(&self) -> bool;
}

impl<T> sealed::Sealed<T> for JoinHandle<T> {
    fn take_finished_output(&mut self) -> Option<Result<T, JoinError>> {
        self.try_take_output()
    }

    fn forget_join_waker(&mut self) {
        self.forget_waker();
    }
}

impl<T> TaskHandle<T> for JoinHandle<T> {
    fn id(&self) -> TaskId {
        JoinHandle::id(self)
    }

    fn cancel(&self) {
        JoinHandle::cancel(self);
    }

    fn is_finished(&self) -> bool {
        JoinHandle::is_finished(self)
    }
}

/// When [`wait`] returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`,
/// `ALL_COMPLETED`).
///
/// # Example
///
/// ```
/// use eddy_core::task::{wait, ReturnWhen};
/// eddy_core::run(async {
///     let tasks = vec![eddy_core::spawn(async { 1 }), eddy_core::spawn(std::future::pending())];
///     let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted).await.unwrap();
///     assert_eq!((done.len(), pending.len()), (1, 1));
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnWhen {
    /// As soon as any task finishes (completes, fails, panics or is
    /// cancelled).
    FirstCompleted,
    /// As soon as any task fails — it panicked, its output is a failure
    /// per [`Outcome`] (an `Err`), or it is a
    /// [`TaskGroup`](super::TaskGroup) child whose `Err` or panic went to
    /// its group ([`JoinError::is_group_failure`]) — or when all have
    /// finished. A cancelled task does not count as a failure (asyncio's
    /// `FIRST_EXCEPTION` skips cancelled tasks too): the wait goes on, and
    /// the task is in `done` with its cancelled [`JoinError`].
    FirstError,
    /// When every task has finished.
    AllCompleted,
}

/// Whether a task's output counts as a failure for
/// [`ReturnWhen::FirstError`]. `Result` outputs fail when `Err`; the other
/// implementations here never fail. For your own output types implement it
/// (the default says "never fails"), or return `Result`; for foreign types
/// that have no implementation (tuples, `PathBuf`, ...) use [`wait_by`]
/// with a closure instead.
///
/// # Example
///
/// ```
/// use eddy_core::task::Outcome;
/// struct Reply { status: u16 }
/// impl Outcome for Reply {
///     fn is_failure(&self) -> bool { self.status >= 500 }
/// }
/// assert!(Reply { status: 503 }.is_failure());
/// assert!(Err::<(), ()>(()).is_failure());
/// assert!(!7u32.is_failure());
/// ```
pub trait Outcome {
    /// True if this output should stop a [`ReturnWhen::FirstError`] wait.
    fn is_failure(&self) -> bool {
        false
    }
}

impl<T, E> Outcome for Result<T, E> {
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

impl<T: Outcome + ?Sized> Outcome for Box<T> {
    fn is_failure(&self) -> bool {
        (**self).is_failure()
    }
}

macro_rules! never_fails {
    ($($t:ty),* $(,)?) => { $(impl Outcome for $t {})* };
}
never_fails!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String,
    &'static str,
    Infallible,
    std::time::Duration,
    std::time::Instant,
);
impl<T> Outcome for Option<T> {}
impl<T> Outcome for Vec<T> {}

/// A task that finished before [`wait`] returned.
///
/// # Example
///
/// ```
/// use eddy_core::task::{wait, ReturnWhen};
/// eddy_core::run(async {
///     let (done, _) = wait(vec![eddy_core::spawn(async { 'x' })], ReturnWhen::AllCompleted)
///         .await
///         .unwrap();
///     assert_eq!(done[0].index, 0);
///     assert_eq!(done[0].result.as_ref().unwrap(), &'x');
/// });
/// ```
#[derive(Debug)]
pub struct Done<T> {
    /// Its position in the input.
    pub index: usize,
    /// What awaiting its handle gave.
    pub result: Result<T, JoinError>,
}

/// A task still running when [`wait`] returned; await its handle later.
///
/// `H` is the kind of handle that went in ([`TaskHandle`]), given back
/// as is: a [`CancelOnDrop`](super::CancelOnDrop) still cancels its task
/// when dropped, a [`ChildHandle`](super::ChildHandle) is still counted
/// by its group. It defaults to [`JoinHandle<T>`], so `NotDone<T>` names
/// what a wait on plain handles returns.
///
/// # Example
///
/// ```
/// use eddy_core::task::{wait, ReturnWhen};
/// eddy_core::run(async {
///     let (slow, abort) = futures_util::future::abortable(std::future::pending::<i32>());
///     let tasks = vec![eddy_core::spawn(async { Ok(1) }), eddy_core::spawn(slow)];
///     let (_, pending) = wait(tasks, ReturnWhen::FirstCompleted).await.unwrap();
///     assert_eq!(pending[0].index, 1);
///     abort.abort();
///     let result = pending.into_iter().next().unwrap().handle.await.unwrap();
///     assert!(result.is_err()); // the abortable task saw the abort
/// });
/// ```
pub struct NotDone<T, H = JoinHandle<T>> {
    /// Its position in the input.
    pub index: usize,
    /// Its handle, still owning the task.
    pub handle: H,
    /// `T` is the task's value type: it is in `NotDone`'s parameters so
    /// the default `H = JoinHandle<T>` keeps `NotDone<T>` meaning what it
    /// meant before other handle kinds were accepted.
    value: PhantomData<fn() -> T>,
}

impl<T, H: fmt::Debug> fmt::Debug for NotDone<T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotDone")
            .field("index", &self.index)
            .field("handle", &self.handle)
            .finish()
    }
}

/// [`wait`] was given no handles (asyncio raises `ValueError` here).
///
/// # Example
///
/// ```
/// use eddy_core::task::{wait, ReturnWhen};
/// eddy_core::run(async {
///     let err = wait(Vec::<eddy_core::JoinHandle<()>>::new(), ReturnWhen::AllCompleted).await;
///     assert!(err.unwrap_err().to_string().contains("no tasks"));
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmptyWait;

impl fmt::Display for EmptyWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "wait was given no tasks, so it could never return: pass at least one task handle",
        )
    }
}

impl std::error::Error for EmptyWait {}

/// What [`wait`] returns: `(done, pending)`, each in input order. `H` is
/// the kind of handle waited on (see [`NotDone`]); it defaults to
/// [`JoinHandle<T>`], so `WaitResult<T>` is the result of waiting on plain
/// handles.
///
/// # Example
///
/// ```
/// use eddy_core::task::{wait, ReturnWhen, WaitResult};
/// eddy_core::run(async {
///     let result: WaitResult<Result<u8, ()>> =
///         wait(vec![eddy_core::spawn(async { Ok(1) })], ReturnWhen::AllCompleted).await;
///     let (done, pending) = result.unwrap();
///     assert_eq!((done.len(), pending.len()), (1, 0));
/// });
/// ```
pub type WaitResult<T, H = JoinHandle<T>> = Result<(Vec<Done<T>>, Vec<NotDone<T, H>>), EmptyWait>;

/// Waits on `handles` until `when` says to return (asyncio's
/// `asyncio.wait`). Returns `(done, pending)`: every task that has finished
/// by then — with its output, so nothing is lost — and the handles of the
/// rest, both in input order with their input index. Nothing is cancelled.
/// The handles of the rest keep no waker of the wait's: their tasks
/// finishing later wakes nobody until those handles are polled again.
///
/// `handles` may be of any [`TaskHandle`] kind — [`JoinHandle`]s,
/// [`TaskGroup`](super::TaskGroup) children's
/// [`ChildHandle`](super::ChildHandle)s, [`Shielded`](super::Shielded) or
/// [`CancelOnDrop`](super::CancelOnDrop) handles — one kind per call; the
/// pending ones come back as that same kind.
///
/// # Errors
///
/// [`EmptyWait`] if `handles` is empty.
///
/// # Cancel safety
///
/// Not cancel-safe: dropping the future drops the outputs of the tasks
/// already finished, and drops the handles of the rest, each doing what
/// dropping it always does (a [`JoinHandle`] or
/// [`Shielded`](super::Shielded) detaches its task, which runs on; a
/// [`CancelOnDrop`](super::CancelOnDrop) cancels it; a
/// [`ChildHandle`](super::ChildHandle)'s task runs on in its group). To
/// bound the wait without losing anything, use [`wait_with`]'s timer
/// instead of an outer timeout.
///
/// # Example
///
/// ```
/// use eddy_core::task::{wait, ReturnWhen};
/// eddy_core::run(async {
///     let tasks = vec![
///         eddy_core::spawn(async { Ok(1) }),
///         eddy_core::spawn(async { Err("failed") }),
///         eddy_core::spawn(std::future::pending()),
///     ];
///     let (done, pending) = wait(tasks, ReturnWhen::FirstError).await.unwrap();
///     assert_eq!(done.iter().map(|d| d.index).collect::<Vec<_>>(), [0, 1]);
///     assert_eq!(pending[0].index, 2);
/// });
/// ```
///
/// A [`TaskGroup`](super::TaskGroup)'s children: the pending one stays in
/// the group, which joins it.
///
/// ```
/// use eddy_core::task::{wait, ReturnWhen, TaskGroup};
/// eddy_core::run(async {
///     let group = TaskGroup::<()>::new();
///     let children = vec![
///         group.spawn(async { Ok('a') }).unwrap(),
///         group.spawn(async {
///             for _ in 0..3 {
///                 eddy_core::yield_now().await;
///             }
///             Ok('b')
///         }).unwrap(),
///     ];
///     let (done, pending) = wait(children, ReturnWhen::FirstCompleted).await.unwrap();
///     assert_eq!(*done[0].result.as_ref().unwrap(), 'a');
///     assert_eq!(group.len(), 1); // the pending child is still the group's
///     group.join().await.unwrap();
///     assert_eq!(pending.into_iter().next().unwrap().handle.await.unwrap(), 'b');
/// });
/// ```
pub async fn wait<T, H>(handles: Vec<H>, when: ReturnWhen) -> WaitResult<T, H>
where
    T: Outcome,
    H: TaskHandle<T>,
{
    wait_with(handles, when, None::<std::future::Pending<()>>).await
}

/// [`wait`] with a timeout: `timer` is any future that completes when time
/// is up (the `eddy` facade passes `eddy::sleep(duration)`; eddy-core has
/// no clock). On expiry it returns `(done, pending)` as they are then — a
/// timeout neither errors nor cancels. `None` waits without a limit.
/// `handles` may be of any [`TaskHandle`] kind, as for [`wait`].
///
/// # Errors
///
/// [`EmptyWait`] if `handles` is empty.
///
/// # Cancel safety
///
/// As [`wait`]: not cancel-safe.
///
/// # Example
///
/// ```
/// use eddy_core::task::{wait_with, ReturnWhen};
/// eddy_core::run(async {
///     let slow = eddy_core::spawn(std::future::pending::<()>());
///     let id = slow.id();
///     let timer = eddy_core::yield_now(); // stands in for eddy::sleep(..)
///     let (done, pending) = wait_with(vec![slow], ReturnWhen::AllCompleted, Some(timer))
///         .await
///         .unwrap();
///     assert!(done.is_empty());
///     assert_eq!(pending[0].handle.id(), id); // still running, not cancelled
///     pending[0].handle.cancel();
/// });
/// ```
pub async fn wait_with<T, H, Tm>(
    handles: Vec<H>,
    when: ReturnWhen,
    timer: Option<Tm>,
) -> WaitResult<T, H>
where
    T: Outcome,
    H: TaskHandle<T>,
    Tm: Future,
{
    wait_by(handles, when, timer, T::is_failure).await
}

/// [`wait_with`] for outputs of any type: `is_failure` says which outputs
/// stop a [`ReturnWhen::FirstError`] wait, instead of [`Outcome`] (which
/// foreign types such as tuples cannot implement). The other modes never
/// call it. `handles` may be of any [`TaskHandle`] kind, as for [`wait`].
///
/// # Errors
///
/// [`EmptyWait`] if `handles` is empty.
///
/// # Cancel safety
///
/// As [`wait`]: not cancel-safe.
///
/// # Example
///
/// ```
/// use eddy_core::task::{wait_by, ReturnWhen};
/// eddy_core::run(async {
///     let tasks = vec![
///         eddy_core::spawn(async { (200u16, "ok") }),
///         eddy_core::spawn(async { (503u16, "busy") }),
///         eddy_core::spawn(std::future::pending()),
///     ];
///     let timer = None::<std::future::Pending<()>>;
///     let (done, pending) = wait_by(tasks, ReturnWhen::FirstError, timer, |(status, _)| {
///         *status >= 500
///     })
///     .await
///     .unwrap();
///     assert_eq!((done.len(), pending.len()), (2, 1));
///     pending[0].handle.cancel();
/// });
/// ```
pub async fn wait_by<T, H, Tm, F>(
    handles: Vec<H>,
    when: ReturnWhen,
    timer: Option<Tm>,
    is_failure: F,
) -> WaitResult<T, H>
where
    H: TaskHandle<T>,
    Tm: Future,
    F: Fn(&T) -> bool,
{
    if handles.is_empty() {
        return Err(EmptyWait);
    }
    let mut slots = Slots::new(handles);
    let mut timer = pin!(timer);
    poll_fn(|cx| {
        let stop = |_, slot: std::pin::Pin<&mut MaybeDone<H>>| match when {
            ReturnWhen::FirstCompleted => ControlFlow::Break(()),
            ReturnWhen::FirstError => match &*slot {
                MaybeDone::Done(Err(e)) if !e.is_cancelled() => ControlFlow::Break(()),
                MaybeDone::Done(Ok(out)) if is_failure(out) => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            },
            ReturnWhen::AllCompleted => ControlFlow::Continue(()),
        };
        if slots.poll(cx, stop).is_ready() {
            return Poll::Ready(());
        }
        match timer.as_mut().as_pin_mut() {
            Some(t) => t.poll(cx).map(drop),
            None => Poll::Pending,
        }
    })
    .await;
    // Collect what finished meanwhile too, so `done` is everything done now.
    let mut done = Vec::new();
    let mut pending = Vec::new();
    for index in 0..slots.len() {
        let slot = slots.slot(index).get_mut();
        if let MaybeDone::Future(handle) = slot {
            // Not a budgeted poll: past the task's cooperative budget that
            // would leave finished tasks in `pending`.
            if let Some(result) = handle.take_finished_output() {
                *slot = MaybeDone::Done(result);
            }
        }
        match std::mem::replace(slot, MaybeDone::Gone) {
            MaybeDone::Done(result) => done.push(Done { index, result }),
            MaybeDone::Future(mut handle) => {
                // It holds a waker of this wait (or of the task awaiting it):
                // its completion must not wake anyone now that we return.
                handle.forget_join_waker();
                pending.push(NotDone {
                    index,
                    handle,
                    value: PhantomData,
                });
            }
            MaybeDone::Gone => unreachable!("wait takes each output once"),
        }
    }
    Ok((done, pending))
}
