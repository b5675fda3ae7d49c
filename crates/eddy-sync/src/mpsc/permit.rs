//! Taking a slot before sending: [`Sender::reserve`], [`Sender::try_reserve`]
//! and the [`Permit`] they give.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Chan, SendError, Sender, TrySendError};
use crate::budget::budgeted;
use crate::queue::core::{PutRefused, Putters};
use crate::waitlist::Registration;

impl<T> Sender<T> {
    /// Waits for a free slot and holds it as a [`Permit`]; the permit
    /// then sends without waiting and cannot fail. Waiting reservations
    /// and [`send`](Self::send)s are served together, in FIFO order.
    ///
    /// Use it to wait for room before building a message, or to hold
    /// room while deciding whether to send at all: a permit dropped
    /// unused gives its slot to the next waiting sender.
    ///
    /// # Errors
    ///
    /// [`SendError`]`(())` if the receiver is dropped or closed (before or
    /// while this waits).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future before it completes holds no
    /// slot, and a slot the receiver had freed and reserved for it passes
    /// to the next waiting sender, so no capacity is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = eddy_sync::mpsc::channel(1);
    /// let permit = tx.reserve().await.unwrap();
    /// assert!(tx.try_send("too soon").is_err()); // the slot is the permit's
    /// permit.send("built after the wait");
    /// assert_eq!(rx.recv().await, Some("built after the wait"));
    /// # });
    /// ```
    #[doc(alias = "acquire")]
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        Reserve {
            chan: &self.chan,
            reg: Registration::new(),
        }
        .await
        .map(|()| Permit { chan: &self.chan })
        .map_err(|()| SendError(()))
    }

    /// Takes a free slot as a [`Permit`] without waiting.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`]`(())` when every slot is taken (by messages,
    /// permits, or slots held for woken senders), and
    /// [`TrySendError::Closed`]`(())` once the receiver is dropped or
    /// closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy_sync::mpsc::{channel, TrySendError};
    /// let (tx, mut rx) = channel(1);
    /// let permit = tx.try_reserve().unwrap();
    /// assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    /// drop(permit); // the slot is free again
    /// tx.try_reserve().unwrap().send(5);
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match self.chan.core.try_reserve() {
            Ok(()) => Ok(Permit { chan: &self.chan }),
            Err(PutRefused::Full(())) => Err(TrySendError::Full(())),
            Err(PutRefused::ShutDown(())) => Err(TrySendError::Closed(())),
        }
    }
}

/// The wait of [`Sender::reserve`].
struct Reserve<'a, T> {
    chan: &'a Chan<T>,
    reg: Registration,
}

impl<T> Future for Reserve<'_, T> {
    type Output = Result<(), ()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        let this = self.get_mut();
        budgeted(cx, |cx| this.chan.core.poll_reserve(&mut this.reg, cx))
    }
}

impl<T> Drop for Reserve<'_, T> {
    fn drop(&mut self) {
        self.reg.cancel(&Putters(&self.chan.core));
    }
}

/// One slot of a bounded channel, held for a message not sent yet: from
/// [`Sender::reserve`] or [`Sender::try_reserve`] (tokio's `Permit`).
///
/// [`send`](Self::send) fills the slot without waiting and cannot fail.
/// Dropping the permit unused gives the slot to the next waiting sender.
/// The slot counts against the channel's capacity while the permit lives
/// ([`Sender::capacity`] excludes it).
///
/// A permit taken before the receiver [closed](super::Receiver::close)
/// the channel still delivers: the receiver's `recv` returns `None` only
/// once every such permit was used or dropped, so a receiver that closes
/// and then drains sees every message it had granted room for. (So do not
/// hold a permit while waiting for that receiver.) If the receiver is
/// dropped, the message is dropped with it.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, mut rx) = eddy_sync::mpsc::channel(4);
/// let permit = tx.reserve().await.unwrap();
/// rx.close();
/// permit.send(1); // reserved before the close: still delivered
/// assert_eq!(rx.recv().await, Some(1));
/// assert_eq!(rx.recv().await, None);
/// # });
/// ```
#[must_use = "a permit holds a slot of the channel until it sends or is dropped"]
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the held slot, without waiting; it reaches the
    /// receiver unless the receiver is dropped (then it is dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = eddy_sync::mpsc::channel(1);
    /// let permit = tx.try_reserve().unwrap();
    /// permit.send('x');
    /// assert_eq!(rx.try_recv(), Ok('x'));
    /// ```
    pub fn send(self, value: T) {
        let chan = self.chan;
        // The slot is spent here, not given back by `Drop`.
        std::mem::forget(self);
        chan.core.send_permit(value);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.core.release_permit();
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("chan", &self.chan.core)
            .finish()
    }
}
