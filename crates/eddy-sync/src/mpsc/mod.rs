//! Multi-producer, single-consumer channels, bounded and unbounded.
//!
//! Built on the same engine as [`Queue`](crate::Queue): a bounded channel is
//! a FIFO queue with many senders and one receiver, where "all senders
//! dropped" is a gentle shutdown (the receiver drains what is left, then
//! gets `None`) and "receiver dropped or closed" refuses every later send.
//!
//! A bounded sender can also take a slot first and fill it later
//! ([`Sender::reserve`] → [`Permit`]), so a producer can wait for room
//! before it builds the message, or hold room across a decision; an
//! [`OwnedPermit`] ([`Sender::reserve_owned`]) holds its sender and can
//! be `'static`, and [`Sender::reserve_many`] takes several slots at once
//! (all or none) as a [`PermitIterator`]. Senders
//! keep the channel open; a [`WeakSender`] does not, and can be upgraded
//! back while a sender is still alive.
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

use crate::loom::{Arc, AtomicUsize, Ordering};
use crate::queue::core::{Fifo, QueueCore};
use crate::waitlist::Registration;

mod error;
mod permit;
mod receiver;
mod sender;
mod weak;

pub use permit::{OwnedPermit, Permit, PermitIterator};
pub use receiver::Receiver;
pub use sender::{Send, Sender, UnboundedSender};
pub use weak::{WeakSender, WeakUnboundedSender};

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

    /// Adds a sender unless the last one is already gone (a weak sender's
    /// upgrade): once the count reached 0 the channel is closed for good.
    fn try_add_sender(&self) -> bool {
        let mut n = self.senders.load(Ordering::Relaxed);
        loop {
            if n == 0 {
                return false;
            }
            match self
                .senders
                .compare_exchange_weak(n, n + 1, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => n = now,
            }
        }
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
