//! [`Receiver`], a receiving half: borrows the value and waits for it to
//! change ([`Receiver::changed`], [`Receiver::wait_for`]).

use std::fmt;
use std::future::poll_fn;
use std::task::{Context, Poll};

use super::{RecvError, Ref, Shared, State};
use crate::budget::budgeted;
use crate::loom::{Arc, MutexGuard};
use crate::waitlist::{Handoff, Registration, Stale, WaitList, WakeBatch};

/// A receiving half; clone for more receivers (a clone has seen what this
/// one has seen).
///
/// # Examples
///
/// ```
/// let (tx, rx) = eddy_sync::watch::channel(0);
/// let rx2 = rx.clone();
/// tx.send(1).unwrap();
/// assert!(rx2.has_changed().unwrap());
/// ```
pub struct Receiver<T> {
    pub(super) shared: Arc<Shared<T>>,
    /// The version this receiver has seen.
    pub(super) seen: u64,
    pub(super) reg: Registration,
}

impl<T> Handoff for Shared<T> {
    type Data = ();
    type State = State;

    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    fn list(state: &mut State) -> &mut WaitList<()> {
        &mut state.waiters
    }

    fn pass_on(&self, _: &mut State, _: (), _: bool, _: &mut WakeBatch) -> Option<()> {
        // A change wakes every waiter: nothing is owed to anyone else.
        None
    }
}

impl<T> Receiver<T> {
    /// Borrows the current value without marking it seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = eddy_sync::watch::channel(7);
    /// assert_eq!(*rx.borrow(), 7);
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.value.read(),
        }
    }

    /// Borrows the current value and marks it seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = eddy_sync::watch::channel(7);
    /// tx.send(8).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 8);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        // The value first (the lock order): while it is read-locked no send
        // can change it or its version.
        let guard = self.shared.value.read();
        self.seen = self.shared.state.lock().version;
        Ref { guard }
    }

    /// `true` if a value was sent since this receiver last marked one seen.
    ///
    /// # Errors
    ///
    /// [`RecvError`] when the sender is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = eddy_sync::watch::channel(0);
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send(1).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let st = self.shared.state.lock();
        if st.closed {
            return Err(RecvError);
        }
        Ok(st.version != self.seen)
    }

    /// Polls for a change (see [`changed`](Self::changed)). Asks the
    /// cooperative [budget](crate::budget) first, like `changed`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Poll};
    /// let (tx, mut rx) = eddy_sync::watch::channel(0);
    /// let mut cx = Context::from_waker(std::task::Waker::noop());
    /// assert!(rx.poll_changed(&mut cx).is_pending());
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.poll_changed(&mut cx), Poll::Ready(Ok(())));
    /// ```
    pub fn poll_changed(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RecvError>> {
        budgeted(cx, |cx| self.poll_changed_unbudgeted(cx))
    }

    #[inline]
    fn poll_changed_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RecvError>> {
        let Receiver { shared, seen, reg } = self;
        poll_changed(shared, seen, reg, cx)
    }

    /// Waits until a value is sent that this receiver has not seen, and
    /// marks it seen. Returns at once if one already was.
    ///
    /// # Errors
    ///
    /// [`RecvError`] when the sender is gone and nothing new was sent.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: the receiver's seen version only moves when this
    /// returns `Ok`.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = eddy_sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// rx.changed().await.unwrap();
    /// assert_eq!(*rx.borrow(), 1);
    /// # });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        poll_fn(|cx| self.poll_changed(cx)).await
    }

    /// Waits until the value satisfies `f`, then returns a borrow of that
    /// value (tokio's `wait_for`). The current value is checked first, then
    /// each new one; every value `f` is shown is marked seen, as
    /// [`borrow_and_update`](Self::borrow_and_update) would.
    ///
    /// `f` runs with the value read-locked: it must not send on this
    /// channel (the send would wait for the lock `f` runs under).
    ///
    /// # Errors
    ///
    /// [`RecvError`] when the sender is gone and the last value it left
    /// does not satisfy `f`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future loses nothing; this receiver has
    /// seen the values `f` was shown, and a later `wait_for` checks the
    /// current value again.
    ///
    /// # Panics
    ///
    /// If `f` panics; the value it was shown counts as seen and the
    /// channel is unaffected.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = eddy_sync::watch::channel(0);
    /// let waiter = async { *rx.wait_for(|v| *v >= 2).await.unwrap() };
    /// let sender = async {
    ///     for i in 1..=3 {
    ///         tx.send(i).unwrap();
    ///     }
    /// };
    /// let (seen, ()) = futures::join!(waiter, sender);
    /// assert!(seen >= 2);
    /// # });
    /// ```
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let Receiver { shared, seen, reg } = self;
        let shared: &Shared<T> = shared;
        loop {
            let closed = {
                // The value first (the lock order), as in borrow_and_update.
                let guard = shared.value.read();
                let closed = {
                    let st = shared.state.lock();
                    *seen = st.version;
                    st.closed
                };
                if f(&guard) {
                    return Ok(Ref { guard });
                }
                closed
            };
            if closed {
                return Err(RecvError);
            }
            poll_fn(|cx| budgeted(cx, |cx| poll_changed(shared, seen, reg, cx))).await?;
        }
    }

    /// Marks the current value unseen: [`has_changed`](Self::has_changed)
    /// is `true` and [`changed`](Self::changed) returns at once, whether or
    /// not a new value was sent (tokio's `mark_changed`). For a receiver
    /// that should act on the value it starts with, as on every later one.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, _rx) = eddy_sync::watch::channel("initial");
    /// let mut rx = tx.subscribe(); // counts the current value as seen
    /// rx.mark_changed();
    /// assert!(rx.has_changed().unwrap());
    /// rx.changed().await.unwrap(); // at once
    /// assert_eq!(*rx.borrow_and_update(), "initial");
    /// assert!(!rx.has_changed().unwrap());
    /// # });
    /// ```
    pub fn mark_changed(&mut self) {
        // Any version but the current one reads as unseen; one behind can
        // never come back (versions only grow).
        self.seen = self.shared.state.lock().version.wrapping_sub(1);
    }

    /// Marks the current value seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = eddy_sync::watch::channel(0);
    /// tx.send(1).unwrap();
    /// rx.mark_unchanged();
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.state.lock().version;
    }
}

/// A receiver's `poll_changed`, on its parts (so `wait_for` can wait while
/// it holds the channel's `Shared` borrowed).
#[inline]
fn poll_changed<T>(
    shared: &Shared<T>,
    seen: &mut u64,
    reg: &mut Registration,
    cx: &mut Context<'_>,
) -> Poll<Result<(), RecvError>> {
    let mut stale = Stale::new(); // dropped after the guard
    let mut st = shared.state.lock();
    if reg.is_registered()
        && reg
            .poll_woken(&mut st.waiters, cx.waker(), &mut stale)
            .is_pending()
    {
        return Poll::Pending;
    }
    if st.version != *seen {
        *seen = st.version;
        return Poll::Ready(Ok(()));
    }
    if st.closed {
        return Poll::Ready(Err(RecvError));
    }
    reg.register(&mut st.waiters, (), cx.waker());
    Poll::Pending
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.state.lock().receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
            reg: Registration::new(),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.reg.cancel(&*self.shared);
        let mut wakers = WakeBatch::new();
        {
            let mut st = self.shared.state.lock();
            st.receivers -= 1;
            if st.receivers == 0 {
                st.closers.wake_all(&mut wakers, |_| {});
            }
        }
        wakers.wake_all();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}
