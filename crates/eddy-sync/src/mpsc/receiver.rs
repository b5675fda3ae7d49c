//! The receiving half, [`Receiver`], shared by bounded and unbounded
//! channels.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::{Chan, TryRecvError};
use crate::budget::budgeted;
use crate::loom::Arc;
use crate::queue::core::{GetRefused, Getters};
use crate::waitlist::Registration;

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
    pub(super) chan: Arc<Chan<T>>,
    /// The receiver's place among the getters. It lives here rather than in
    /// the `recv` future, so a message handed to a dropped `recv` is kept
    /// for the next one.
    pub(super) reg: Registration,
}

impl<T> Receiver<T> {
    /// Receives the next message, waiting if there is none; `None` once every
    /// sender is dropped (or the receiver closed) and the channel is drained,
    /// including the messages of [`Permit`](super::Permit)s taken before:
    /// while one is outstanding, this waits for it to send or be dropped.
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

    /// Polls for the next message (the [`Stream`] impl uses this). Asks
    /// the cooperative [budget](crate::budget) first, like `recv`.
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
        budgeted(cx, |cx| self.poll_recv_unbudgeted(cx))
    }

    #[inline]
    fn poll_recv_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
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
            budgeted(cx, |cx| {
                self.chan
                    .core
                    .poll_get_many(&mut self.reg, buffer, limit, cx)
            })
        })
        .await
    }

    /// Receives a message if one is there, without waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`], or [`TryRecvError::Disconnected`] once
    /// closed and drained (`Empty` while a [`Permit`](super::Permit) taken
    /// before the close may still send).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = eddy_sync::mpsc::channel(1);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        // A message may have been handed to an earlier `recv` (dropped, or
        // pending: then its task's waker stays registered, for the task
        // may return `Pending` after this). Not a wait: no budget asked.
        self.chan
            .core
            .try_get_placed(&mut self.reg)
            .map_err(|r| match r {
                GetRefused::Empty => TryRecvError::Empty,
                GetRefused::ShutDown => TryRecvError::Disconnected,
            })
    }

    /// Closes the channel from the receiving side: sends and reservations
    /// fail from now on (waiting senders get their message back), while
    /// messages already in the channel can still be received, and so can
    /// those of [`Permit`](super::Permit)s taken before the close (`recv`
    /// waits for each to send or be dropped before it returns `None`).
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

    /// `true` once no new send can start (every sender dropped or
    /// [`close`](Self::close) called); messages may still be buffered, and
    /// a [`Permit`](super::Permit) taken before may still send.
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
        Getters::cancel(&self.chan.core, &mut self.reg);
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
