//! A multi-producer, multi-consumer channel where every receiver sees every
//! message (a bounded ring; slow receivers skip ahead).
//!
//! The channel keeps the last `capacity` messages. A receiver that falls
//! further behind gets [`RecvError::Lagged`]`(n)` — `n` messages it missed —
//! and then continues with the oldest message still kept.
//!
//! Each receiver clones the messages it takes (`T::clone`, under the
//! channel's internal lock: it must not call into the same channel). A
//! clone that panics costs nobody a message: see [`Receiver::recv`].
//!
//! # Examples
//!
//! ```
//! use eddy_sync::broadcast;
//! # futures::executor::block_on(async {
//! let (tx, mut a) = broadcast::channel(16);
//! let mut b = tx.subscribe();
//! tx.send("hello").unwrap();
//! assert_eq!(a.recv().await, Ok("hello"));
//! assert_eq!(b.recv().await, Ok("hello"));
//! # });
//! ```

use std::fmt;
use std::future::poll_fn;
use std::task::{Context, Poll};

use crate::budget::budgeted;
use crate::loom::{Arc, Mutex, MutexGuard};
use crate::waitlist::{Handoff, Registration, Stale, WaitList, WakeBatch};

struct Shared<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    /// Ring of the last `capacity` messages; message `seq` lives at
    /// `seq % capacity`.
    ring: Vec<Option<T>>,
    /// Sequence number of the next message.
    tail: u64,
    senders: usize,
    receivers: usize,
    /// Receivers waiting for a message past `tail`.
    waiters: WaitList<()>,
}

impl<T> State<T> {
    fn capacity(&self) -> u64 {
        self.ring.len() as u64
    }
}

/// Creates a broadcast channel keeping the last `capacity` messages.
///
/// # Panics
///
/// If `capacity` is 0.
///
/// # Examples
///
/// ```
/// let (tx, rx) = eddy_sync::broadcast::channel::<u32>(8);
/// assert_eq!(tx.receiver_count(), 1);
/// # drop(rx);
/// ```
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "broadcast::channel: capacity must be at least 1"
    );
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            ring: (0..capacity).map(|_| None).collect(),
            tail: 0,
            senders: 1,
            receivers: 1,
            waiters: WaitList::new(),
        }),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver {
            shared,
            next: 0,
            reg: Registration::new(),
        },
    )
}

/// No receiver exists; holds the message that was not sent.
///
/// # Examples
///
/// ```
/// let (tx, rx) = eddy_sync::broadcast::channel(1);
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
        f.write_str("no broadcast receiver exists; subscribe() before sending")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Receiver::recv`] returned no message.
///
/// # Examples
///
/// ```
/// use eddy_sync::broadcast::{channel, RecvError};
/// # futures::executor::block_on(async {
/// let (tx, mut rx) = channel(1);
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// assert_eq!(rx.recv().await, Err(RecvError::Lagged(1)));
/// assert_eq!(rx.recv().await, Ok(2));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// Every sender is gone and this receiver saw every kept message.
    Closed,
    /// This receiver fell behind and missed this many messages; the next
    /// `recv` returns the oldest message still kept.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("broadcast channel closed: every sender is gone"),
            RecvError::Lagged(n) => write!(
                f,
                "receiver lagged behind and missed {n} messages; receive again to continue"
            ),
        }
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no message.
///
/// # Examples
///
/// ```
/// use eddy_sync::broadcast::{channel, TryRecvError};
/// let (tx, mut rx) = channel::<u8>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No new message right now.
    Empty,
    /// Every sender is gone and nothing is left.
    Closed,
    /// Missed this many messages (see [`RecvError::Lagged`]).
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no new broadcast message: await recv() to wait"),
            TryRecvError::Closed => f.write_str("broadcast channel closed: every sender is gone"),
            TryRecvError::Lagged(n) => write!(f, "receiver lagged and missed {n} messages"),
        }
    }
}

impl std::error::Error for TryRecvError {}

/// The sending half; clone for more senders.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = eddy_sync::broadcast::channel(4);
/// tx.clone().send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T: Clone> Sender<T> {
    /// Sends `value` to every receiver; returns how many receivers exist.
    /// Never waits: when the ring is full the oldest message is dropped
    /// (receivers that had not read it get `Lagged`).
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value when no receiver exists.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::broadcast::channel(4);
    /// assert_eq!(tx.send(1).unwrap(), 1);
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut wakers = WakeBatch::new();
        let (receivers, old) = {
            let mut st = self.shared.state.lock();
            if st.receivers == 0 {
                return Err(SendError(value));
            }
            let idx = (st.tail % st.capacity()) as usize;
            let old = st.ring[idx].replace(value);
            st.tail += 1;
            st.waiters.wake_all(&mut wakers, |_| {});
            (st.receivers, old)
        };
        wakers.wake_all();
        drop(old);
        Ok(receivers)
    }

    /// A new receiver that sees messages sent from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::broadcast::channel::<u8>(4);
    /// let rx2 = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// # drop(rx2);
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        let next = {
            let mut st = self.shared.state.lock();
            st.receivers += 1;
            st.tail
        };
        Receiver {
            shared: self.shared.clone(),
            next,
            reg: Registration::new(),
        }
    }

    /// Receivers alive right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = eddy_sync::broadcast::channel::<u8>(4);
    /// drop(rx);
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.state.lock().receivers
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.state.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wakers = WakeBatch::new();
        {
            let mut st = self.shared.state.lock();
            st.senders -= 1;
            if st.senders == 0 {
                st.waiters.wake_all(&mut wakers, |_| {});
            }
        }
        wakers.wake_all();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// A receiving half: sees every message sent after it was created (unless
/// it lags behind by more than the capacity).
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = eddy_sync::broadcast::channel(4);
/// tx.send(1).unwrap();
/// let mut rx2 = rx.clone(); // same position as `rx`
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert_eq!(rx2.try_recv(), Ok(1));
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// Sequence number of the next message for this receiver.
    next: u64,
    reg: Registration,
}

impl<T> Handoff for Shared<T> {
    type Data = ();
    type State = State<T>;

    fn lock_state(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock()
    }

    fn list(state: &mut State<T>) -> &mut WaitList<()> {
        &mut state.waiters
    }

    fn pass_on(&self, _: &mut State<T>, _: (), _: bool, _: &mut WakeBatch) -> Option<()> {
        // Every send wakes every waiter: nothing is owed to anyone else.
        None
    }
}

/// Reads the next message for a receiver at `next`, with the lock held:
/// `None` means "nothing new yet".
fn read<T: Clone>(next: &mut u64, st: &mut State<T>) -> Option<Result<T, TryRecvError>> {
    let oldest = st.tail.saturating_sub(st.capacity());
    if *next < oldest {
        let missed = oldest - *next;
        *next = oldest;
        return Some(Err(TryRecvError::Lagged(missed)));
    }
    if *next < st.tail {
        let idx = (*next % st.capacity()) as usize;
        // Clone first: the position moves only once the message is had (a
        // `Clone` that panics must not skip it).
        let v = st.ring[idx].clone().expect("kept message slot is filled");
        *next += 1;
        return Some(Ok(v));
    }
    if st.senders == 0 {
        return Some(Err(TryRecvError::Closed));
    }
    None
}

impl<T: Clone> Receiver<T> {
    /// Polls for the next message (see [`recv`](Self::recv), also for what
    /// a panicking `T::clone` does). Asks the cooperative
    /// [budget](crate::budget) first, like `recv`.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv), in `Poll::Ready(Err(..))`:
    /// [`RecvError::Lagged`] after falling behind (poll again to go on),
    /// [`RecvError::Closed`] when every sender is gone and all is read.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Poll};
    /// let (tx, mut rx) = eddy_sync::broadcast::channel(2);
    /// tx.send(1).unwrap();
    /// let mut cx = Context::from_waker(std::task::Waker::noop());
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Ok(1)));
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        budgeted(cx, |cx| self.poll_recv_unbudgeted(cx))
    }

    #[inline]
    fn poll_recv_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let Receiver { shared, next, reg } = self;
        let mut stale = Stale::new(); // dropped after the guard
        let mut st = shared.state.lock();
        if reg.is_registered()
            && reg
                .poll_woken(&mut st.waiters, cx.waker(), &mut stale)
                .is_pending()
        {
            return Poll::Pending;
        }
        match read(next, &mut st) {
            Some(Ok(v)) => Poll::Ready(Ok(v)),
            Some(Err(TryRecvError::Lagged(n))) => Poll::Ready(Err(RecvError::Lagged(n))),
            Some(Err(_)) => Poll::Ready(Err(RecvError::Closed)),
            None => {
                reg.register(&mut st.waiters, (), cx.waker());
                Poll::Pending
            }
        }
    }

    /// Receives the next message, waiting for one.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] after falling behind (then continue receiving),
    /// [`RecvError::Closed`] when every sender is gone and all is read.
    ///
    /// # Panics
    ///
    /// When `T::clone` panics, the panic goes on to the caller and the
    /// message is not consumed: this receiver's position does not move (its
    /// next receive clones the same message again), other receivers are not
    /// affected, and the channel stays usable. `T::clone` runs with the
    /// channel's internal lock held, so it must not call into the same
    /// channel (it would deadlock).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a receiver's position only moves when a message is
    /// returned.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = eddy_sync::broadcast::channel(2);
    /// tx.send(5).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.recv().await, Ok(5));
    /// assert!(rx.recv().await.is_err());
    /// # });
    /// ```
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Receives the next message if there is one, without waiting.
    ///
    /// # Errors
    ///
    /// See [`TryRecvError`].
    ///
    /// # Panics
    ///
    /// If `T::clone` panics; the message is kept, as with
    /// [`recv`](Self::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = eddy_sync::broadcast::channel(2);
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut st = self.shared.state.lock();
        read(&mut self.next, &mut st).unwrap_or(Err(TryRecvError::Empty))
    }

    /// A new receiver that sees messages sent from now on (unlike `clone`,
    /// which starts at this receiver's position).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = eddy_sync::broadcast::channel(2);
    /// tx.send(1).unwrap();
    /// let mut fresh = rx.resubscribe();
    /// assert!(fresh.try_recv().is_err());
    /// ```
    pub fn resubscribe(&self) -> Receiver<T> {
        let next = {
            let mut st = self.shared.state.lock();
            st.receivers += 1;
            st.tail
        };
        Receiver {
            shared: self.shared.clone(),
            next,
            reg: Registration::new(),
        }
    }

    /// Messages this receiver has not read yet (at most the capacity).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = eddy_sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let st = self.shared.state.lock();
        let oldest = st.tail.saturating_sub(st.capacity());
        (st.tail - self.next.max(oldest)) as usize
    }

    /// `true` when there is nothing new to read.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = eddy_sync::broadcast::channel::<u8>(4);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.state.lock().receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            next: self.next,
            reg: Registration::new(),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.reg.cancel(&*self.shared);
        self.shared.state.lock().receivers -= 1;
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}
