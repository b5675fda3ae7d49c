//! The cooperative budget: how a runtime makes eddy-sync's operations
//! yield, without eddy-sync depending on that runtime.
//!
//! A task that keeps finding its channel, queue or lock ready never
//! returns `Pending` on its own, so on a cooperative executor it would
//! hold the thread until the work runs out: its siblings, due timers and
//! I/O would starve. Runtimes fix that with a budget per task poll that
//! every resource charges. eddy-sync works under any executor, so it does
//! not know the runtime's budget; instead the runtime installs a [`Hook`]
//! once per process with [`set_hook`], and every awaiting operation asks
//! it. The `eddy` facade installs eddy-core's budget
//! (`eddy::coop`) when it builds a runtime. With no hook installed the
//! operations are never refused (`futures::executor::block_on`, tokio,
//! or any other executor: nothing changes).
//!
//! # What is charged
//!
//! Every poll of an awaiting operation first asks
//! [`Hook::poll_proceed`], before it looks at the primitive's state. If
//! the budget is spent, the poll returns `Pending` (the hook has already
//! woken the task, so it is polled again once its siblings had a turn)
//! having changed nothing: a waiter that was already handed a message, a
//! permit, the lock or a notification keeps it for its next poll, and if
//! it is dropped instead it passes it on exactly as a waiter dropped
//! before it ran does. A poll that completes (with a value or an error,
//! such as a closed channel) then charges one unit through
//! [`Hook::made_progress`]; a poll that goes `Pending` because there is
//! nothing to take charges nothing, so a task polling many idle futures at
//! once does not spend its budget waiting (nor spin on it).
//!
//! The operations that ask are the awaiting forms, and the `poll_*`
//! methods behind them:
//!
//! - [`mpsc`](crate::mpsc): `Receiver::recv`, `recv_many`, `poll_recv`
//!   (and the `Stream` impl), `Sender::send`, `reserve`, `closed`;
//! - [`Queue`](crate::Queue), [`LifoQueue`](crate::LifoQueue),
//!   [`PriorityQueue`](crate::PriorityQueue): `put`, `get`, `join`;
//! - [`broadcast`](crate::broadcast): `Receiver::recv` / `poll_recv`;
//!   [`watch`](crate::watch): `Receiver::changed` / `poll_changed`,
//!   `Receiver::wait_for` once the current value does not satisfy it
//!   (the first check is a borrow, which never asks), `Sender::closed`;
//!   [`oneshot`](crate::oneshot): awaiting the `Receiver`,
//!   `Sender::closed` / `poll_closed`;
//! - [`Mutex`](crate::Mutex) and [`RwLock`](crate::RwLock) locking,
//!   [`Semaphore`](crate::Semaphore) and
//!   [`BoundedSemaphore`](crate::BoundedSemaphore) acquiring (a
//!   [`Condition`](crate::Condition) wait re-takes its lock this way; its
//!   wait for a notification always suspends first);
//! - [`Event::wait`](crate::Event::wait),
//!   [`Notify::notified`](crate::Notify::notified),
//!   [`Barrier::wait`](crate::Barrier::wait);
//! - [`OnceCell::get_or_init`](crate::OnceCell::get_or_init) and
//!   `get_or_try_init` whenever the cell is empty (to wait for another
//!   task's initialiser, or to take the turn to run their own); a cell
//!   that holds its value is read without asking.
//!
//! The `try_*` forms and everything that does not wait
//! (`UnboundedSender::send`, `broadcast::Sender::send`, `watch::Sender::send`,
//! `oneshot::Sender::send`, releases and notifies) never ask: they cannot
//! return `Pending`.

use std::sync::OnceLock;
use std::task::{Context, Poll};

/// A runtime's cooperative budget, as eddy-sync consults it (see the
/// [module docs](self)). Both functions are called on the thread that
/// polls the operation, from inside that poll.
///
/// # Example
///
/// A hook that never refuses (what having none installed amounts to):
///
/// ```
/// use std::task::Poll;
/// let hook = eddy_sync::budget::Hook {
///     poll_proceed: |_cx| Poll::Ready(()),
///     made_progress: || {},
/// };
/// # let _ = hook;
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Hook {
    /// Whether the polling task may go on: `Ready(())` while it has budget
    /// left (and always outside the runtime's tasks); once the budget is
    /// spent, wakes the task through `cx` (or arranges to poll it again)
    /// and returns `Pending`. Charges nothing: [`made_progress`](Self::made_progress)
    /// does, once the operation completed.
    pub poll_proceed: fn(&mut Context<'_>) -> Poll<()>,
    /// Charges one unit of the polling task's budget: the operation that
    /// [`poll_proceed`](Self::poll_proceed) let through just completed.
    pub made_progress: fn(),
}

static HOOK: OnceLock<Hook> = OnceLock::new();

/// Installs the process-wide budget hook. The first installation wins and
/// stays for the life of the process; a later call changes nothing and
/// hands its hook back. (One process-wide hook keeps the check to one
/// atomic load on every operation; a runtime whose budget is thread-local
/// answers "unconstrained" on threads it does not run.)
///
/// # Errors
///
/// `Err(hook)` if a hook was installed already.
///
/// # Example
///
/// ```
/// use std::cell::Cell;
/// use std::task::{Context, Poll};
///
/// thread_local!(static LEFT: Cell<Option<u32>> = const { Cell::new(None) });
///
/// fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
///     if LEFT.get() == Some(0) {
///         cx.waker().wake_by_ref();
///         Poll::Pending
///     } else {
///         Poll::Ready(())
///     }
/// }
/// fn made_progress() {
///     LEFT.set(LEFT.get().map(|n| n.saturating_sub(1)));
/// }
///
/// let hook = eddy_sync::budget::Hook { poll_proceed, made_progress };
/// assert!(eddy_sync::budget::set_hook(hook).is_ok());
/// assert!(eddy_sync::budget::set_hook(hook).is_err()); // first one wins
///
/// let (tx, mut rx) = eddy_sync::mpsc::unbounded_channel();
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// let mut cx = Context::from_waker(std::task::Waker::noop());
/// LEFT.set(Some(1)); // what the runtime grants a task poll
/// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
/// assert_eq!(rx.poll_recv(&mut cx), Poll::Pending); // spent: yield
/// LEFT.set(Some(1)); // the task's next poll
/// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(2)));
/// tx.send(3).unwrap();
/// assert_eq!(rx.try_recv(), Ok(3)); // try_* never ask the budget
/// ```
pub fn set_hook(hook: Hook) -> Result<(), Hook> {
    HOOK.set(hook)
}

/// Polls `op` under the budget: refuses (`Pending`, task woken by the hook)
/// before `op` runs when the budget is spent, and charges one unit when
/// `op` completes. With no hook installed it is `op(cx)`.
#[inline(always)]
pub(crate) fn budgeted<R>(
    cx: &mut Context<'_>,
    op: impl FnOnce(&mut Context<'_>) -> Poll<R>,
) -> Poll<R> {
    let hook = HOOK.get();
    if let Some(hook) = hook {
        if (hook.poll_proceed)(cx).is_pending() {
            return Poll::Pending;
        }
    }
    let r = op(cx);
    if let Some(hook) = hook {
        if r.is_ready() {
            (hook.made_progress)();
        }
    }
    r
}
