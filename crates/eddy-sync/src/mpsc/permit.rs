//! Taking slots before sending: [`Sender::reserve`] and
//! [`Sender::try_reserve`] give a [`Permit`], [`Sender::reserve_owned`] and
//! [`Sender::try_reserve_owned`] an [`OwnedPermit`], [`Sender::reserve_many`]
//! and [`Sender::try_reserve_many`] a [`PermitIterator`].

use std::fmt;
use std::future::Future;
use std::iter::FusedIterator;
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
        reserve(&self.chan, 1).await.map_err(|()| SendError(()))?;
        Ok(Permit { chan: &self.chan })
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
        try_reserve(&self.chan, 1)?;
        Ok(Permit { chan: &self.chan })
    }

    /// Waits until `n` slots are free and holds them all, as a
    /// [`PermitIterator`] that yields `n` [`Permit`]s: all `n` or none,
    /// never some. Slots the iterator has not yielded go back when it is
    /// dropped.
    ///
    /// It waits in the same FIFO line as [`send`](Self::send) and
    /// [`reserve`](Self::reserve). First in line, it holds each slot as
    /// it frees until it has `n`, so a stream of single sends behind it
    /// cannot starve it (and they wait for it). `n == 0` gives an empty
    /// iterator at once while the channel is open.
    ///
    /// # Errors
    ///
    /// [`SendError`]`(())` if the receiver is dropped or closed (before or
    /// while this waits).
    ///
    /// # Panics
    ///
    /// If `n` is more than [`max_capacity`](Self::max_capacity): such a
    /// reservation could never be granted, and an error would read as
    /// "closed" (tokio returns that error) or, from `try_reserve_many`, as
    /// "full", inviting a retry that can never succeed. Split the batch.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future before it completes holds no
    /// slot. The slots it had gathered while first in line, or that it was
    /// granted and never collected, go to the next senders in line (who
    /// are woken if that lets them go) or back to the channel.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = eddy_sync::mpsc::channel(4);
    /// let permits = tx.reserve_many(3).await.unwrap();
    /// assert_eq!(tx.capacity(), 1);
    /// for (permit, word) in permits.zip(["all", "or", "none"]) {
    ///     permit.send(word);
    /// }
    /// assert_eq!(rx.recv().await, Some("all"));
    /// assert_eq!(rx.recv().await, Some("or"));
    /// assert_eq!(rx.recv().await, Some("none"));
    /// # });
    /// ```
    pub async fn reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, SendError<()>> {
        self.check_many(n);
        reserve(&self.chan, n).await.map_err(|()| SendError(()))?;
        Ok(PermitIterator {
            chan: &self.chan,
            n,
        })
    }

    /// Takes `n` free slots as a [`PermitIterator`] without waiting: all
    /// `n` or none.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`]`(())` when fewer than `n` slots are free, or
    /// other senders are waiting (they come first);
    /// [`TrySendError::Closed`]`(())` once the receiver is dropped or
    /// closed.
    ///
    /// # Panics
    ///
    /// If `n` is more than [`max_capacity`](Self::max_capacity), as
    /// [`reserve_many`](Self::reserve_many).
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy_sync::mpsc::{channel, TrySendError};
    /// let (tx, mut rx) = channel(2);
    /// tx.try_send(0).unwrap();
    /// // One slot left: two cannot be had, and none is taken.
    /// assert!(matches!(tx.try_reserve_many(2), Err(TrySendError::Full(()))));
    /// assert_eq!(tx.capacity(), 1);
    /// let mut permits = tx.try_reserve_many(1).unwrap();
    /// assert_eq!(permits.len(), 1);
    /// permits.next().unwrap().send(1);
    /// assert_eq!(rx.try_recv(), Ok(0));
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        self.check_many(n);
        try_reserve(&self.chan, n)?;
        Ok(PermitIterator {
            chan: &self.chan,
            n,
        })
    }

    /// Refuses a batch the channel could never hold (see `reserve_many`).
    #[track_caller]
    fn check_many(&self, n: usize) {
        let capacity = self.max_capacity();
        assert!(
            n <= capacity,
            "reserve_many({n}) on a channel of capacity {capacity}: it could never be granted; \
             reserve at most max_capacity() slots at a time"
        );
    }

    /// [`reserve`](Self::reserve) for a permit that owns its sender, so it
    /// can be kept or moved anywhere (`'static`); the sender comes back
    /// from [`OwnedPermit::send`] or [`OwnedPermit::release`]. Clone the
    /// sender first to keep one.
    ///
    /// # Errors
    ///
    /// [`SendError`]`(())` if the receiver is dropped or closed (before or
    /// while this waits); the sender is dropped then.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe as [`reserve`](Self::reserve) is: a slot granted to the
    /// dropped future goes to the next waiting sender. The sender moved
    /// in is dropped with the future.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = eddy_sync::mpsc::channel(1);
    /// let permit = tx.reserve_owned().await.unwrap();
    /// let handle = std::thread::spawn(move || permit.send(42)); // 'static
    /// let tx = handle.join().unwrap(); // the sender comes back
    /// assert_eq!(rx.recv().await, Some(42));
    /// drop(tx);
    /// assert_eq!(rx.recv().await, None);
    /// # });
    /// ```
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        reserve(&self.chan, 1).await.map_err(|()| SendError(()))?;
        Ok(OwnedPermit { sender: Some(self) })
    }

    /// [`try_reserve`](Self::try_reserve) for a permit that owns its
    /// sender (see [`reserve_owned`](Self::reserve_owned)).
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] when no slot is free and
    /// [`TrySendError::Closed`] once the receiver is dropped or closed,
    /// each with the sender handed back.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy_sync::mpsc::{channel, TrySendError};
    /// let (tx, mut rx) = channel(1);
    /// let permit = tx.clone().try_reserve_owned().unwrap();
    /// let Err(TrySendError::Full(tx)) = tx.try_reserve_owned() else {
    ///     panic!("the only slot is the permit's");
    /// };
    /// permit.send(1);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert!(tx.try_reserve_owned().is_ok());
    /// ```
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match try_reserve(&self.chan, 1) {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(self)),
        }
    }
}

/// The wait for `n` slots of `chan`, counted as permits once granted.
fn reserve<T>(chan: &Chan<T>, n: usize) -> Reserve<'_, T> {
    Reserve {
        chan,
        n,
        reg: Registration::new(),
    }
}

/// Takes `n` free slots of `chan` as permits, or none.
fn try_reserve<T>(chan: &Chan<T>, n: usize) -> Result<(), TrySendError<()>> {
    chan.core.try_reserve(n).map_err(|r| match r {
        PutRefused::Full(()) => TrySendError::Full(()),
        PutRefused::ShutDown(()) => TrySendError::Closed(()),
    })
}

/// The wait of [`Sender::reserve`].
struct Reserve<'a, T> {
    chan: &'a Chan<T>,
    n: usize,
    reg: Registration,
}

impl<T> Future for Reserve<'_, T> {
    type Output = Result<(), ()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        let this = self.get_mut();
        budgeted(cx, |cx| {
            this.chan.core.poll_reserve(&mut this.reg, this.n, cx)
        })
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
        self.chan.core.release_permits(1);
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("chan", &self.chan.core)
            .finish()
    }
}

/// `n` slots of a bounded channel, held for messages not sent yet, handed
/// out one [`Permit`] at a time: from [`Sender::reserve_many`] or
/// [`Sender::try_reserve_many`] (tokio's `PermitIterator`).
///
/// Each permit it yields is an ordinary [`Permit`]. Slots not yet yielded
/// stay held (and count against the capacity) until the iterator is
/// dropped, which gives them all back at once to the waiting senders.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = eddy_sync::mpsc::channel(3);
/// let mut permits = tx.try_reserve_many(3).unwrap();
/// permits.next().unwrap().send('a');
/// assert_eq!(permits.len(), 2);
/// drop(permits); // the two slots not used are free again
/// assert_eq!(tx.capacity(), 2);
/// assert_eq!(rx.try_recv(), Ok('a'));
/// ```
#[must_use = "a permit iterator holds slots of the channel until it is used up or dropped"]
pub struct PermitIterator<'a, T> {
    chan: &'a Chan<T>,
    /// Slots held and not yet yielded.
    n: usize,
}

impl<'a, T> Iterator for PermitIterator<'a, T> {
    type Item = Permit<'a, T>;

    fn next(&mut self) -> Option<Permit<'a, T>> {
        if self.n == 0 {
            return None;
        }
        // The slot passes to the permit (which gives it back if dropped).
        self.n -= 1;
        Some(Permit { chan: self.chan })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.n, Some(self.n))
    }
}

impl<T> ExactSizeIterator for PermitIterator<'_, T> {}

impl<T> FusedIterator for PermitIterator<'_, T> {}

impl<T> Drop for PermitIterator<'_, T> {
    fn drop(&mut self) {
        // One lock round trip for all of them (none when used up).
        self.chan.core.release_permits(self.n);
    }
}

impl<T> fmt::Debug for PermitIterator<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PermitIterator")
            .field("chan", &self.chan.core)
            .field("remaining", &self.n)
            .finish()
    }
}

/// One slot of a bounded channel, held by a permit that owns its
/// [`Sender`]: from [`Sender::reserve_owned`] or
/// [`Sender::try_reserve_owned`] (tokio's `OwnedPermit`).
///
/// It is a [`Permit`] with no borrow, so it can be `'static`: kept in a
/// struct, moved to another task or thread. [`send`](Self::send) and
/// [`release`](Self::release) hand the sender back; dropping the permit
/// gives the slot to the next waiting sender and drops the sender.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, mut rx) = eddy_sync::mpsc::channel(1);
/// let permit = tx.reserve_owned().await.unwrap();
/// let tx = permit.release(); // unused: the slot is free again
/// assert_eq!(tx.capacity(), 1);
/// tx.send(3).await.unwrap();
/// assert_eq!(rx.recv().await, Some(3));
/// # });
/// ```
#[must_use = "an owned permit holds a slot of the channel until it sends or is dropped"]
pub struct OwnedPermit<T> {
    /// `None` only once `send` or `release` took it.
    sender: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    /// Sends `value` into the held slot, without waiting, and gives the
    /// sender back. The message reaches the receiver unless the receiver
    /// is dropped (then it is dropped), as with [`Permit::send`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = eddy_sync::mpsc::channel(1);
    /// let tx = tx.try_reserve_owned().unwrap().send(1);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self
            .sender
            .take()
            .expect("an owned permit holds its sender until it is used");
        sender.chan.core.send_permit(value);
        sender
    }

    /// Gives the slot back unused (to the next waiting sender) and hands
    /// the sender back.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = eddy_sync::mpsc::channel::<u8>(1);
    /// let permit = tx.try_reserve_owned().unwrap();
    /// let tx = permit.release();
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn release(mut self) -> Sender<T> {
        let sender = self
            .sender
            .take()
            .expect("an owned permit holds its sender until it is used");
        sender.chan.core.release_permits(1);
        sender
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            sender.chan.core.release_permits(1);
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit")
            .field("sender", &self.sender)
            .finish()
    }
}
