//! The sending halves: [`Sender`] (bounded, with the [`Send`] future) and
//! [`UnboundedSender`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Chan, SendError, TrySendError};
use crate::budget::budgeted;
use crate::loom::Arc;
use crate::queue::core::{Closers, Fifo, PutRefused};
use crate::waitlist::Registration;

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
    pub(super) chan: Arc<Chan<T>>,
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

    /// The capacity given to [`channel`](super::channel).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::mpsc::channel::<u8>(3);
    /// assert_eq!(tx.max_capacity(), 3);
    /// ```
    pub fn max_capacity(&self) -> usize {
        // The core reads 0 for "unbounded", which is how it stores a
        // capacity of `usize::MAX`; a bounded channel is never 0.
        match self.chan.core.maxsize() {
            0 => usize::MAX,
            capacity => capacity,
        }
    }

    /// Free slots right now: what `try_send` could fill without waiting.
    /// A message counts until the receiver returns it, and neither a slot
    /// held for a woken sender that has not run yet nor one held by a
    /// [`Permit`](super::Permit) is free.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::mpsc::channel(3);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.capacity(), 2);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.core.free_slots()
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
            budgeted(cx, |cx| this.chan.core.poll_closed(&mut this.reg, cx))
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
    pub(super) chan: Arc<Chan<T>>,
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
