//! A single-value channel: receivers see the latest value and can wait for
//! it to change (configuration, status, shutdown signals).
//!
//! # Examples
//!
//! ```
//! use eddy_sync::watch;
//! # futures::executor::block_on(async {
//! let (tx, mut rx) = watch::channel("starting");
//! tx.send("ready").unwrap();
//! rx.changed().await.unwrap();
//! assert_eq!(*rx.borrow_and_update(), "ready");
//! # });
//! ```

use std::fmt;
use std::future::{poll_fn, Future};
use std::ops::Deref;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::budget::budgeted;
use crate::loom::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use crate::waitlist::{Handoff, Registration, Stale, WaitList, WakeBatch};

/// Lock order: `value` before `state`, never the other way round.
struct Shared<T> {
    /// The value. A [`Ref`] holds a read lock, so borrows of one channel
    /// coexist (on one thread or many); a send takes the write lock and,
    /// while holding it, bumps the version, so a reader holding the value
    /// reads the version that goes with it.
    value: RwLock<T>,
    state: Mutex<State>,
}

struct State {
    /// Bumped on every send; a receiver has seen versions up to its own.
    version: u64,
    /// The sender is gone.
    closed: bool,
    receivers: usize,
    /// Receivers in `changed()`.
    waiters: WaitList<()>,
    /// The sender in `closed()`, waiting for `receivers` to reach 0.
    closers: WaitList<()>,
}

/// Creates a watch channel holding `init`.
///
/// # Examples
///
/// ```
/// let (tx, rx) = eddy_sync::watch::channel(0);
/// assert_eq!(*rx.borrow(), 0);
/// # drop(tx);
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        state: Mutex::new(State {
            version: 0,
            closed: false,
            receivers: 1,
            waiters: WaitList::new(),
            closers: WaitList::new(),
        }),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver {
            shared,
            seen: 0,
            reg: Registration::new(),
        },
    )
}

/// No receiver exists; holds the value that was not stored.
///
/// # Examples
///
/// ```
/// let (tx, rx) = eddy_sync::watch::channel(0);
/// drop(rx);
/// assert_eq!(tx.send(1).unwrap_err().0, 1);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no watch receiver exists; use send_replace() to store the value anyway")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The sender is gone and the receiver has seen the last value.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, mut rx) = eddy_sync::watch::channel(0);
/// drop(tx);
/// assert_eq!(rx.changed().await, Err(eddy_sync::watch::RecvError));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch sender dropped: the value will not change again")
    }
}

impl std::error::Error for RecvError {}

/// A borrow of the current value: a read lock on it.
///
/// Any number of borrows of one channel may be alive at once, on one
/// thread or many (comparing two receivers' values, or a receiver's and
/// the sender's, is fine), and a borrow taken while a send waits for the
/// lock does not wait behind that send. A send waits until every borrow
/// is gone (borrows that overlap without pause keep it waiting), so keep
/// them short, never hold one across an `.await`, and do not send from
/// the thread that holds one (that send would wait for itself). The other
/// methods of the channel (`changed`, `has_changed`, `subscribe`,
/// dropping a receiver, ...) may be called while a borrow is held.
///
/// Because borrows on several threads share `&T`, the channel's halves
/// are `Send` and `Sync` when `T: Send + Sync` (as tokio's are).
///
/// # Examples
///
/// ```
/// let (tx, rx) = eddy_sync::watch::channel(String::from("x"));
/// let r: eddy_sync::watch::Ref<'_, String> = rx.borrow();
/// let also = tx.borrow();
/// assert_eq!(r.len(), also.len());
/// ```
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

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
    shared: Arc<Shared<T>>,
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
    shared: Arc<Shared<T>>,
    /// The version this receiver has seen.
    seen: u64,
    reg: Registration,
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
