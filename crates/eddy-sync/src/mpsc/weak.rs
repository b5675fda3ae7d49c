//! Senders that do not keep the channel open: [`WeakSender`] and
//! [`WeakUnboundedSender`] (tokio's names).

use std::fmt;

use super::{Chan, Sender, UnboundedSender};
use crate::loom::Arc;

/// A bounded channel's sender that does not count as one: the channel
/// closes (the receiver gets `None` once drained) when the last
/// [`Sender`] is dropped, whatever weak senders remain. From
/// [`Sender::downgrade`]; [`upgrade`](Self::upgrade) gives a `Sender` back
/// while one is still alive.
///
/// Useful for a task that should be able to send while the channel is in
/// use without being the reason it stays open (a worker reporting to a
/// loop that ends when its real producers are gone).
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, mut rx) = eddy_sync::mpsc::channel(2);
/// let weak = tx.downgrade();
/// weak.upgrade().unwrap().send(1).await.unwrap();
/// drop(tx);
/// assert!(weak.upgrade().is_none());
/// assert_eq!(rx.recv().await, Some(1));
/// assert_eq!(rx.recv().await, None); // closed: only a weak sender is left
/// # });
/// ```
pub struct WeakSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// A [`WeakSender`] for this channel, which does not keep it open.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().unwrap().same_channel(&tx));
    /// ```
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> WeakSender<T> {
    /// A [`Sender`] again, or `None` once every `Sender` was dropped (the
    /// channel is then closed for good). A closed receiver does not make
    /// this fail; sends through the sender then do.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.chan.try_add_sender().then(|| Sender {
            chan: self.chan.clone(),
        })
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        WeakSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender")
            .field("chan", &self.chan.core)
            .finish()
    }
}

/// [`WeakSender`] for an unbounded channel: from
/// [`UnboundedSender::downgrade`], does not keep the channel open.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = eddy_sync::mpsc::unbounded_channel();
/// let weak = tx.downgrade();
/// weak.upgrade().unwrap().send(1).unwrap();
/// drop(tx);
/// assert!(weak.upgrade().is_none());
/// assert_eq!(rx.try_recv(), Ok(1));
/// assert!(rx.try_recv().is_err()); // closed and drained
/// ```
pub struct WeakUnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedSender<T> {
    /// A [`WeakUnboundedSender`] for this channel, which does not keep it
    /// open.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().unwrap().same_channel(&tx));
    /// ```
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        WeakUnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> WeakUnboundedSender<T> {
    /// An [`UnboundedSender`] again, or `None` once every one was dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn upgrade(&self) -> Option<UnboundedSender<T>> {
        self.chan.try_add_sender().then(|| UnboundedSender {
            chan: self.chan.clone(),
        })
    }
}

impl<T> Clone for WeakUnboundedSender<T> {
    fn clone(&self) -> Self {
        WeakUnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> fmt::Debug for WeakUnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakUnboundedSender")
            .field("chan", &self.chan.core)
            .finish()
    }
}
