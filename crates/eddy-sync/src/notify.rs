//! [`Notify`]: wake one task or all waiting tasks, without data.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::budget::budgeted;
use crate::loom::{AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::waitlist::{Handoff, Registration, Stale, WaitList, WakeBatch};

/// Notifies tasks (tokio's `Notify`).
///
/// - [`notify_one`](Self::notify_one) wakes the longest-waiting task, or, if
///   none waits, stores a single permit that the next
///   [`notified`](Self::notified) consumes at once (permits do not stack).
/// - [`notify_waiters`](Self::notify_waiters) wakes every task waiting right
///   now, including `Notified` futures created but not yet polled; it
///   stores nothing for later ones.
///
/// # Examples
///
/// ```
/// use eddy_sync::Notify;
/// # futures::executor::block_on(async {
/// let n = Notify::new();
/// n.notify_one();          // stored as a permit
/// n.notified().await;      // consumes it
/// # });
/// ```
pub struct Notify {
    state: Mutex<NotifyState>,
    /// Number of `notify_waiters` calls so far (written under the lock).
    waiters_calls: AtomicUsize,
}

pub(crate) struct NotifyState {
    /// A `notify_one` with nobody waiting left a permit.
    permit: bool,
    list: WaitList<Woke>,
}

/// How a waiter was woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Woke {
    /// Not yet.
    No,
    /// By `notify_one`: this wake is owed to someone, pass it on if unused.
    One,
    /// By `notify_waiters`: a broadcast, nothing to pass on.
    All,
}

impl Notify {
    /// A `Notify` with no stored permit.
    ///
    /// # Examples
    ///
    /// ```
    /// let n = eddy_sync::Notify::new();
    /// # drop(n);
    /// ```
    pub fn new() -> Self {
        Notify {
            state: Mutex::new(NotifyState {
                permit: false,
                list: WaitList::new(),
            }),
            waiters_calls: AtomicUsize::new(0),
        }
    }

    /// A future that completes when this task is notified.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a `notify_one` wake handed to a dropped `Notified` goes
    /// to the next waiter (or back to the stored permit).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let n = eddy_sync::Notify::new();
    /// let fut = n.notified();
    /// n.notify_waiters();      // counts: `fut` existed already
    /// fut.await;
    /// # });
    /// ```
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            calls_seen: self.waiters_calls.load(Ordering::Acquire),
            reg: Registration::new(),
            done: false,
        }
    }

    /// Wakes the longest-waiting task, or stores one permit if none waits.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let n = eddy_sync::Notify::new();
    /// n.notify_one();
    /// n.notify_one(); // permits do not stack
    /// n.notified().await;
    /// # });
    /// ```
    pub fn notify_one(&self) {
        let waker = {
            let mut st = self.state.lock();
            notify_one_locked(&mut st)
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Wakes every task waiting now; stores nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let n = eddy_sync::Notify::new();
    /// let (a, b) = (n.notified(), n.notified());
    /// n.notify_waiters();
    /// futures::join!(a, b);
    /// # });
    /// ```
    pub fn notify_waiters(&self) {
        let mut wakers = WakeBatch::new();
        {
            let mut st = self.state.lock();
            self.waiters_calls.fetch_add(1, Ordering::Release);
            st.list.wake_all(&mut wakers, |w| *w = Woke::All);
        }
        wakers.wake_all();
    }
}

fn notify_one_locked(st: &mut NotifyState) -> Option<std::task::Waker> {
    if st.list.is_empty() {
        st.permit = true;
        None
    } else {
        st.list.wake_front(|w| *w = Woke::One)
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify").finish_non_exhaustive()
    }
}

impl Handoff for Notify {
    type Data = Woke;
    type State = NotifyState;

    fn lock_state(&self) -> MutexGuard<'_, NotifyState> {
        self.state.lock()
    }

    fn list(state: &mut NotifyState) -> &mut WaitList<Woke> {
        &mut state.list
    }

    fn pass_on(
        &self,
        st: &mut NotifyState,
        woke: Woke,
        _woken: bool,
        wakers: &mut WakeBatch,
    ) -> Option<Woke> {
        if woke == Woke::One {
            wakers.push_opt(notify_one_locked(st));
        }
        None
    }
}

/// Future of [`Notify::notified`].
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let n = eddy_sync::Notify::new();
/// n.notify_one();
/// let fut: eddy_sync::Notified<'_> = n.notified();
/// fut.await;
/// # });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
    calls_seen: usize,
    reg: Registration,
    done: bool,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(());
        }
        budgeted(cx, |cx| this.poll_notified(cx))
    }
}

impl Notified<'_> {
    #[inline]
    fn poll_notified(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let this = self;
        let mut stale = Stale::new(); // dropped after the guard
        let mut st = this.notify.state.lock();
        let ready = if this.reg.is_registered() {
            this.reg
                .poll_woken(&mut st.list, cx.waker(), &mut stale)
                .is_ready()
        } else if this.notify.waiters_calls.load(Ordering::Acquire) != this.calls_seen {
            true
        } else if st.permit {
            st.permit = false;
            true
        } else {
            this.reg.register(&mut st.list, Woke::No, cx.waker());
            false
        };
        if ready {
            this.done = true;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        self.reg.cancel(self.notify);
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
