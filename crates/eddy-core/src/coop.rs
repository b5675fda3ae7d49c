//! The cooperative budget: a busy task cannot starve its siblings or I/O.
//!
//! Before each task poll the loop grants a budget of [`BUDGET`] units.
//! Resources (timers, sockets, channels of later crates) call
//! [`poll_proceed`] before doing work; once the budget is spent they return
//! `Pending` after waking the task, so it goes to the back of the run queue.
//! Outside an eddy loop the budget is unlimited.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Units granted to a task for one poll.
///
/// # Example
///
/// ```
/// assert_eq!(eddy_core::coop::BUDGET, 128);
/// ```
pub const BUDGET: u8 = 128;

thread_local! {
    /// `None` = unconstrained (not inside an eddy task poll).
    static CURRENT: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Proof that one unit of budget was taken. Dropping it without calling
/// [`RestoreOnPending::made_progress`] gives the unit back, so a resource that
/// returns `Pending` anyway does not charge the task.
///
/// # Example
///
/// ```
/// use std::task::{Context, Poll, Waker};
/// let mut cx = Context::from_waker(Waker::noop());
/// // Outside an eddy task the budget is unconstrained: always Ready.
/// if let Poll::Ready(unit) = eddy_core::coop::poll_proceed(&mut cx) {
///     unit.made_progress(); // the operation did its work: keep the unit spent
/// }
/// ```
#[must_use = "drop it after the operation: it restores the unit unless made_progress() was called"]
#[derive(Debug)]
pub struct RestoreOnPending(Cell<Option<u8>>);

impl RestoreOnPending {
    /// Keeps the unit spent: the operation did useful work.
    ///
    /// # Example
    ///
    /// ```
    /// use std::task::{Context, Poll};
    /// use eddy_core::coop;
    ///
    /// fn poll_resource(cx: &mut Context<'_>) -> Poll<u32> {
    ///     let coop = match coop::poll_proceed(cx) {
    ///         Poll::Ready(coop) => coop,
    ///         Poll::Pending => return Poll::Pending,
    ///     };
    ///     coop.made_progress();
    ///     Poll::Ready(7)
    /// }
    /// let waker = futures_util::task::noop_waker();
    /// assert_eq!(poll_resource(&mut Context::from_waker(&waker)), Poll::Ready(7));
    /// ```
    pub fn made_progress(&self) {
        self.0.set(None);
    }
}

impl Drop for RestoreOnPending {
    fn drop(&mut self) {
        if let Some(previous) = self.0.get() {
            CURRENT.with(|c| c.set(Some(previous)));
        }
    }
}

/// Takes one unit of the current task's budget, or wakes the task and
/// returns `Pending` when the budget is spent.
///
/// # Example
///
/// ```
/// use std::task::{Context, Poll};
/// let waker = futures_util::task::noop_waker();
/// let mut cx = Context::from_waker(&waker);
/// // Outside an eddy task the budget is unlimited.
/// assert!(eddy_core::coop::poll_proceed(&mut cx).is_ready());
/// ```
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    CURRENT.with(|c| match c.get() {
        None => Poll::Ready(RestoreOnPending(Cell::new(None))),
        Some(0) => {
            crate::runtime::context::wake_current_by_ref(cx.waker());
            Poll::Pending
        }
        Some(n) => {
            c.set(Some(n - 1));
            Poll::Ready(RestoreOnPending(Cell::new(Some(n))))
        }
    })
}

/// Whether the current task still has budget (always true outside a task).
///
/// # Example
///
/// ```
/// assert!(eddy_core::coop::has_budget_remaining());
/// ```
pub fn has_budget_remaining() -> bool {
    CURRENT.with(|c| c.get() != Some(0))
}

/// Runs `f` with a fresh budget, restoring the previous one afterwards.
pub(crate) fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(Option<u8>);
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(CURRENT.with(|c| c.replace(Some(BUDGET))));
    f()
}
