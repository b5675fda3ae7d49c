//! Multi-producer, single-consumer channels, bounded and unbounded.
//!
//! Built on the same engine as [`Queue`](crate::Queue): a bounded channel is
//! a FIFO queue with many senders and one receiver, where "all senders
//! dropped" is a gentle shutdown (the receiver drains what is left, then
//! gets `None`) and "receiver dropped or closed" refuses every later send.
//!
//! # Examples
//!
//! ```
//! use eddy_sync::mpsc;
//! # futures::executor::block_on(async {
//! let (tx, mut rx) = mpsc::channel(8);
//! let tx2 = tx.clone();
//! tx.send(1).await.unwrap();
//! tx2.send(2).await.unwrap();
//! drop((tx, tx2));
//! assert_eq!(rx.recv().await, Some(1));
//! assert_eq!(rx.recv().await, Some(2));
//! assert_eq!(rx.recv().await, None); // every sender is gone
//! # });
//! ```

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::loom::{Arc, AtomicUsize, Ordering};
use crate::queue::core::{Closers, Fifo, GetRefused, Getters, PutRefused, QueueCore};
use crate::waitlist::Registration;

mod error;

struct Chan<T> {
    core: QueueCore<T, Fifo<T>>,
    /// Live `Sender`s / `UnboundedSender`s; the last one to go shuts the
    /// queue down gently.
    senders: AtomicUsize,
}

impl<T> Chan<T> {
    fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Chan {
            core: QueueCore::new(capacity),
            senders: AtomicUsize::new(1),
        })
    }

    fn add_sender(&self) {
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    fn drop_sender(&self) {
        if self.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.core.shutdown(false);
        }
    }
}

/// Creates a bounded channel holding up to `capacity` messages; `send`
/// waits while it is full.
///
/// # Panics
///
/// If `capacity` is 0.
///
/// # Examples
///
/// ```
/// let (tx, rx) = eddy_sync::mpsc::channel::<u8>(16);
/// assert_eq!(tx.max_capacity(), 16);
/// # drop(rx);
/// ```
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "mpsc::channel: capacity must be at least 1");
    let chan = Chan::new(capacity);
    (
        Sender { chan: chan.clone() },
        Receiver {
            chan,
            reg: Registration::new(),
        },
    )
}

/// Creates an unbounded channel: `send` never waits (memory is the limit).
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, mut rx) = eddy_sync::mpsc::unbounded_channel();
/// tx.send("hi").unwrap();
/// assert_eq!(rx.recv().await, Some("hi"));
/// # });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Chan::new(0);
    (
        UnboundedSender { chan: chan.clone() },
        Receiver {
            chan,
            reg: Registration::new(),
        },
    )
}

/// The receiving half of an unbounded channel: the same type as the bounded
/// [`Receiver`].
///
/// # Examples
///
/// ```
/// let (tx, mut rx): (_, eddy_sync::mpsc::UnboundedReceiver<u8>) =
///     eddy_sync::mpsc::unbounded_channel();
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub type UnboundedReceiver<T> = Receiver<T>;

pub use error::{SendError, TryRecvError, TrySendError};

/// The sending half of a bounded channel. Clone it for more producers.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, mut rx) = eddy_sync::mpsc::channel(2);
/// tx.clone().send(1).await.unwrap();
/// assert_eq!(rx.recv().await, Some(1));
/// # });
/// ```
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting while the channel is full (waiting senders are
    /// served in FIFO order).
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver is dropped or closed.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes means the value was not
    /// sent: it is dropped with the future, never delivered. A slot the
    /// receiver had freed and reserved for this sender passes to the next
    /// waiting sender, so no capacity is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = eddy_sync::mpsc::channel(1);
    /// tx.send('a').await.unwrap();
    /// assert_eq!(rx.recv().await, Some('a'));
    /// # });
    /// ```
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send {
            inner: crate::queue::core::Put {
                core: &self.chan.core,
                item: Some(value),
                reg: Registration::new(),
            },
        }
    }

    /// Sends `value` if there is room, without waiting.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::mpsc::channel(1);
    /// assert!(tx.try_send(1).is_ok());
    /// assert!(tx.try_send(2).is_err());
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.core.try_put(value).map_err(|r| match r {
            PutRefused::Full(v) => TrySendError::Full(v),
            PutRefused::ShutDown(v) => TrySendError::Closed(v),
        })
    }

    /// Waits until the receiver is dropped or closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: waiting consumes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, rx) = eddy_sync::mpsc::channel::<u8>(1);
    /// drop(rx);
    /// tx.closed().await;
    /// # });
    /// ```
    pub async fn closed(&self) {
        closed(&self.chan).await
    }

    /// `true` once the receiver is dropped or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = eddy_sync::mpsc::channel::<u8>(1);
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.core.is_shut_down()
    }

    /// The capacity given to [`channel`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::mpsc::channel::<u8>(3);
    /// assert_eq!(tx.max_capacity(), 3);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.chan.core.maxsize()
    }

    /// Free slots right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::mpsc::channel(3);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.capacity(), 2);
    /// ```
    pub fn capacity(&self) -> usize {
        self.max_capacity().saturating_sub(self.chan.core.len())
    }

    /// `true` if both senders feed the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::mpsc::channel::<u8>(1);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

async fn closed<T>(chan: &Chan<T>) {
    struct Closed<'a, T> {
        chan: &'a Chan<T>,
        reg: Registration,
    }
    impl<T> Future for Closed<'_, T> {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let this = self.get_mut();
            this.chan.core.poll_closed(&mut this.reg, cx)
        }
    }
    impl<T> Drop for Closed<'_, T> {
        fn drop(&mut self) {
            self.reg.cancel(&Closers(&self.chan.core));
        }
    }
    Closed {
        chan,
        reg: Registration::new(),
    }
    .await
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("chan", &self.chan.core)
            .finish()
    }
}

/// Future of [`Sender::send`].
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, _rx) = eddy_sync::mpsc::channel(1);
/// let fut: eddy_sync::mpsc::Send<'_, u8> = tx.send(1);
/// fut.await.unwrap();
/// # });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Send<'a, T> {
    inner: crate::queue::core::Put<'a, T, Fifo<T>>,
}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.get_mut().inner)
            .poll(cx)
            .map_err(SendError)
    }
}

impl<T> fmt::Debug for Send<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Send").finish_non_exhaustive()
    }
}

/// The sending half of an unbounded channel; `send` never waits.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = eddy_sync::mpsc::unbounded_channel();
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedSender<T> {
    /// Sends `value` at once.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver is dropped or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = eddy_sync::mpsc::unbounded_channel();
    /// drop(rx);
    /// assert_eq!(tx.send(5).unwrap_err().0, 5);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.core.try_put(value).map_err(|r| match r {
            PutRefused::Full(v) | PutRefused::ShutDown(v) => SendError(v),
        })
    }

    /// Waits until the receiver is dropped or closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: waiting consumes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = eddy_sync::mpsc::unbounded_channel::<u8>();
    /// rx.close();
    /// tx.closed().await;
    /// # });
    /// ```
    pub async fn closed(&self) {
        closed(&self.chan).await
    }

    /// `true` once the receiver is dropped or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = eddy_sync::mpsc::unbounded_channel::<u8>();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.core.is_shut_down()
    }

    /// `true` if both senders feed the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::mpsc::unbounded_channel::<u8>();
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &UnboundedSender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender")
            .field("chan", &self.chan.core)
            .finish()
    }
}

/// The receiving half of a channel (bounded or unbounded). Also a
/// [`Stream`] of messages that ends when the channel is closed and drained.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// # futures::executor::block_on(async {
/// let (tx, rx) = eddy_sync::mpsc::channel(4);
/// for i in 0..3 { tx.send(i).await.unwrap(); }
/// drop(tx);
/// assert_eq!(rx.collect::<Vec<_>>().await, [0, 1, 2]);
/// # });
/// ```
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
    /// The receiver's place among the getters. It lives here rather than in
    /// the `recv` future, so a message handed to a dropped `recv` is kept
    /// for the next one.
    reg: Registration,
}

impl<T> Receiver<T> {
    /// Receives the next message, waiting if there is none; `None` once every
    /// sender is dropped (or the receiver closed) and the channel is drained.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a message handed over while the future was pending stays
    /// with the receiver and is returned by the next `recv`.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = eddy_sync::mpsc::channel(1);
    /// tx.send(1).await.unwrap();
    /// assert_eq!(rx.recv().await, Some(1));
    /// # });
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next message (the [`Stream`] impl uses this).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Poll};
    /// let (tx, mut rx) = eddy_sync::mpsc::channel(1);
    /// tx.try_send(9).unwrap();
    /// let mut cx = Context::from_waker(std::task::Waker::noop());
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(9)));
    /// ```
    #[inline]
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.core.poll_get(&mut self.reg, cx).map(Result::ok)
    }

    /// Receives up to `limit` messages into `buffer`, waiting until at
    /// least one is there; returns how many were added (0 only when `limit`
    /// is 0 or the channel is closed and drained).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, like [`recv`](Self::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = eddy_sync::mpsc::channel(8);
    /// for i in 0..5 { tx.send(i).await.unwrap(); }
    /// let mut buf = Vec::new();
    /// assert_eq!(rx.recv_many(&mut buf, 3).await, 3);
    /// assert_eq!(buf, [0, 1, 2]);
    /// # });
    /// ```
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| {
            self.chan
                .core
                .poll_get_many(&mut self.reg, buffer, limit, cx)
        })
        .await
    }

    /// Receives a message if one is there, without waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`], or [`TryRecvError::Disconnected`] once
    /// closed and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = eddy_sync::mpsc::channel(1);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if self.reg.is_registered() {
            // A message may have been handed to an earlier, dropped `recv`.
            let mut cx = Context::from_waker(std::task::Waker::noop());
            return match self.poll_recv(&mut cx) {
                Poll::Ready(Some(v)) => Ok(v),
                Poll::Ready(None) => Err(TryRecvError::Disconnected),
                Poll::Pending => Err(TryRecvError::Empty),
            };
        }
        self.chan.core.try_get().map_err(|r| match r {
            GetRefused::Empty => TryRecvError::Empty,
            GetRefused::ShutDown => TryRecvError::Disconnected,
        })
    }

    /// Closes the channel from the receiving side: sends fail from now on
    /// (waiting senders get their message back), while messages already in
    /// the channel can still be received.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = eddy_sync::mpsc::channel(2);
    /// tx.send(1).await.unwrap();
    /// rx.close();
    /// assert!(tx.send(2).await.is_err());
    /// assert_eq!(rx.recv().await, Some(1));
    /// assert_eq!(rx.recv().await, None);
    /// # });
    /// ```
    pub fn close(&mut self) {
        self.chan.core.shutdown(false);
    }

    /// `true` once no message can arrive any more (every sender dropped or
    /// [`close`](Self::close) called); messages may still be buffered.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = eddy_sync::mpsc::channel::<u8>(1);
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.core.is_shut_down()
    }

    /// Messages buffered right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = eddy_sync::mpsc::channel(2);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.core.len()
    }

    /// `true` when no message is buffered.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = eddy_sync::mpsc::channel::<u8>(2);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // A message handed to us goes back first, then everything buffered
        // is dropped and senders learn the channel is closed.
        self.reg.cancel(&Getters(&self.chan.core));
        self.chan.core.shutdown(true);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("chan", &self.chan.core)
            .finish()
    }
}
