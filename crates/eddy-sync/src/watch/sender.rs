//! [`Sender`], the sending half: sends, borrows, subscribes, and waits in
//! [`Sender::closed`] for every receiver to go.

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Receiver, Ref, SendError, Shared, State};
use crate::budget::budgeted;
use crate::loom::{Arc, MutexGuard};
use crate::waitlist::{Handoff, Registration, Stale, WaitList, WakeBatch};

/// The sending half (one per channel).
///
/// # Examples
///
/// ```
/// let (tx, rx) = eddy_sync::watch::channel(1);
/// tx.send_replace(2);
/// assert_eq!(*rx.borrow(), 2);
/// ```
pub struct Sender<T> {
    pub(super) shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Stores `value` and wakes every receiver waiting in `changed()`.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value, leaving the channel unchanged, when no
    /// receiver exists.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = eddy_sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.state.lock().receivers == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Stores `value` even with no receiver, and returns the old value.
    /// No user code runs under the channel's lock: the old value is handed
    /// back (`send` drops it after releasing the lock).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let mut value = value;
        self.send_modify(|v| std::mem::swap(v, &mut value));
        value
    }

    /// Changes the value in place, then wakes the waiting receivers.
    ///
    /// `modify` runs with the channel's internal locks held: it must not
    /// call into the same channel (a method of this sender or of one of
    /// its receivers, a [`Ref`] borrow, dropping a receiver). That would
    /// deadlock. The send waits until no [`Ref`] borrows the value.
    ///
    /// # Panics
    ///
    /// If `modify` panics, the panic goes on to the caller once the lock
    /// is released, and the send still counts: the value stays as `modify`
    /// left it, it is a new version (`has_changed` is `true`) and the
    /// receivers waiting in `changed()` are woken, so no receiver misses a
    /// change it can see through `borrow`. The channel keeps working.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = eddy_sync::watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Changes the value in place and, if `modify` returns `true`,
    /// publishes it as a new version and wakes the waiting receivers
    /// (tokio's `send_if_modified`); returns what `modify` returned. With
    /// `false` nobody is told: `changed()` does not fire and `has_changed`
    /// stays as it was (a `borrow` still sees what `modify` did, so return
    /// `false` only when it changed nothing that matters).
    ///
    /// `modify` runs with the channel's internal locks held, with the same
    /// rules as for [`send_modify`](Self::send_modify).
    ///
    /// # Panics
    ///
    /// If `modify` panics, the panic goes on to the caller and the value
    /// is published as for `send_modify` (it may be half changed, so no
    /// receiver may miss it).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = eddy_sync::watch::channel(3);
    /// // Only a real change wakes the receivers.
    /// assert!(!tx.send_if_modified(|v| std::mem::replace(v, 3) != 3));
    /// assert!(!rx.has_changed().unwrap());
    /// assert!(tx.send_if_modified(|v| std::mem::replace(v, 4) != 4));
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        let mut wakers = WakeBatch::new();
        let outcome = {
            let mut value = self.shared.value.write();
            // The closure may leave the value half changed when it panics:
            // publish that as a new version all the same.
            let outcome = catch_unwind(AssertUnwindSafe(|| modify(&mut value)));
            if !matches!(outcome, Ok(false)) {
                // Bumped while the value is still write-locked: a reader
                // that holds the value reads the version that goes with it.
                let mut st = self.shared.state.lock();
                st.version += 1;
                st.waiters.wake_all(&mut wakers, |_| {});
            }
            drop(value);
            outcome
        };
        wakers.wake_all();
        match outcome {
            Ok(modified) => modified,
            Err(panic) => resume_unwind(panic),
        }
    }

    /// Borrows the current value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::watch::channel(3);
    /// assert_eq!(*tx.borrow(), 3);
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.value.read(),
        }
    }

    /// A new receiver; it counts the current value as seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::watch::channel(0);
    /// let rx2 = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// # drop(rx2);
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let seen = {
            let mut st = self.shared.state.lock();
            st.receivers += 1;
            st.version
        };
        Receiver {
            shared: self.shared.clone(),
            seen,
            reg: Registration::new(),
        }
    }

    /// Receivers alive right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = eddy_sync::watch::channel(0);
    /// drop(rx);
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.state.lock().receivers
    }

    /// `true` when no receiver exists.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = eddy_sync::watch::channel(0);
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until no receiver exists (every one dropped); returns at once
    /// if none does. Lets a producer stop computing values nobody will
    /// read. A receiver made later by [`subscribe`](Self::subscribe) does
    /// not undo a `closed()` that has returned.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: waiting consumes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, rx) = eddy_sync::watch::channel(0);
    /// let rx2 = rx.clone();
    /// let producer = async {
    ///     tx.closed().await; // both receivers are gone
    ///     "stopped"
    /// };
    /// let consumers = async {
    ///     drop(rx);
    ///     drop(rx2);
    /// };
    /// let (stopped, ()) = futures::join!(producer, consumers);
    /// assert_eq!(stopped, "stopped");
    /// # });
    /// ```
    pub async fn closed(&self) {
        wait_closed(&self.shared).await
    }
}

/// The sender's wait in [`Sender::closed`], seen as a [`Handoff`] for its
/// list (nothing to pass on: the one event wakes every waiter).
struct Closers<'a, T>(&'a Shared<T>);

impl<T> Handoff for Closers<'_, T> {
    type Data = ();
    type State = State;

    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.0.state.lock()
    }

    fn list(state: &mut State) -> &mut WaitList<()> {
        &mut state.closers
    }

    fn pass_on(&self, _: &mut State, _: (), _: bool, _: &mut WakeBatch) -> Option<()> {
        None
    }
}

async fn wait_closed<T>(shared: &Shared<T>) {
    struct Closed<'a, T> {
        shared: &'a Shared<T>,
        reg: Registration,
    }
    impl<T> Future for Closed<'_, T> {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let this = self.get_mut();
            budgeted(cx, |cx| {
                let mut stale = Stale::new(); // dropped after the guard
                let mut st = this.shared.state.lock();
                if this.reg.is_registered() {
                    return this.reg.poll_woken(&mut st.closers, cx.waker(), &mut stale);
                }
                if st.receivers == 0 {
                    return Poll::Ready(());
                }
                this.reg.register(&mut st.closers, (), cx.waker());
                Poll::Pending
            })
        }
    }
    impl<T> Drop for Closed<'_, T> {
        fn drop(&mut self) {
            self.reg.cancel(&Closers(self.shared));
        }
    }
    Closed {
        shared,
        reg: Registration::new(),
    }
    .await
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wakers = WakeBatch::new();
        {
            let mut st = self.shared.state.lock();
            st.closed = true;
            st.waiters.wake_all(&mut wakers, |_| {});
        }
        wakers.wake_all();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}
