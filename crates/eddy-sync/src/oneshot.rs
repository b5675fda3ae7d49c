//! A channel for exactly one value (a reply, a result, a completion).
//!
//! # Examples
//!
//! ```
//! use eddy_sync::oneshot;
//! # futures::executor::block_on(async {
//! let (tx, rx) = oneshot::channel();
//! tx.send(42).unwrap();
//! assert_eq!(rx.await, Ok(42));
//! # });
//! ```

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::budget::budgeted;
use crate::loom::{Arc, AtomicUsize, Ordering, UnsafeCell};

// The channel's state word. Each flag says who may touch which cell.

/// `rx_waker` holds the receiver's waker. While set, the receiver does not
/// write the cell and the sender may read it (to wake). The receiver clears
/// it before replacing the waker, which fails once `TX_DONE` is set.
const RX_WAKER: usize = 1;
/// `tx_waker` holds the sender's waker (`closed()`), with the same rules
/// as `RX_WAKER`, against `RX_CLOSED`.
const TX_WAKER: usize = 1 << 1;
/// `value` holds the sent value. Set with `TX_DONE` by one compare-exchange
/// that fails if `RX_CLOSED` is set, so a value is only published to an
/// open receiver; from then on only the receiver touches the cell.
const VALUE_SENT: usize = 1 << 2;
/// The sender sent or was dropped: no value comes after this. The sender
/// never writes a cell again.
const TX_DONE: usize = 1 << 3;
/// The receiver closed or was dropped: `send` fails from now on.
const RX_CLOSED: usize = 1 << 4;

/// The one allocation both halves share: a state word and three cells
/// whose ownership the state word decides (see the flags above).
struct Inner<T> {
    state: AtomicUsize,
    /// Written by the sender before `VALUE_SENT` is published, then only
    /// by the receiver.
    value: UnsafeCell<Option<T>>,
    rx_waker: UnsafeCell<Option<Waker>>,
    tx_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the cells are only accessed under the state-word protocol above,
// which gives each one a single writer at a time (and readers only while no
// one writes); the value crosses threads, hence `T: Send`.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as for `Send`: `&Inner` only reaches the cells under the protocol.
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Inner<T> {
    /// Stores `waker` in `cell` (guarded by `flag`) unless `done` is set;
    /// returns `false` if `done` was set before or while storing (the
    /// caller's event happened: it must not wait).
    fn register(
        &self,
        cell: &UnsafeCell<Option<Waker>>,
        flag: usize,
        done: usize,
        waker: &Waker,
    ) -> bool {
        let mut state = self.state.load(Ordering::Acquire);
        if state & done != 0 {
            return false;
        }
        if state & flag != 0 {
            // SAFETY: while `flag` is set nobody writes the cell (the other
            // side only reads it to wake), so this shared read is sound.
            let same = cell.with(|w| unsafe { (*w).as_ref() }.is_some_and(|w| w.will_wake(waker)));
            if same {
                return true;
            }
            // Take the flag back to own the cell; fails once `done` is set.
            loop {
                if state & done != 0 {
                    return false;
                }
                match self.state.compare_exchange_weak(
                    state,
                    state & !flag,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => break,
                    Err(actual) => state = actual,
                }
            }
        }
        // SAFETY: `flag` is clear and only this side sets it, so the other
        // side does not read the cell now: this side has it exclusively.
        cell.with_mut(|w| unsafe { *w = Some(waker.clone()) });
        let prev = self.state.fetch_or(flag, Ordering::AcqRel);
        prev & done == 0
    }

    /// Wakes the waker in `cell` if `prev` (the state before this side's
    /// final transition) says one is stored.
    fn wake(&self, cell: &UnsafeCell<Option<Waker>>, prev: usize, flag: usize) {
        if prev & flag != 0 {
            cell.with(|w| {
                // SAFETY: `flag` was set when this side's final flag went
                // up, so the other side will not write the cell again;
                // reads are all that can happen concurrently.
                let waker = unsafe { &*w };
                if let Some(w) = waker {
                    w.wake_by_ref();
                }
            });
        }
    }
}

/// Creates a one-value channel.
///
/// # Examples
///
/// ```
/// let (tx, rx) = eddy_sync::oneshot::channel::<String>();
/// # drop((tx, rx));
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner },
    )
}

/// No value came: the sender was dropped without sending, or the receiver
/// was [closed](Receiver::close) before a value was sent.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, rx) = eddy_sync::oneshot::channel::<u8>();
/// drop(tx);
/// assert_eq!(rx.await, Err(eddy_sync::oneshot::RecvError));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no oneshot value: the sender was dropped without sending, \
             or the receiver was closed first",
        )
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
///
/// # Examples
///
/// ```
/// use eddy_sync::oneshot::{channel, TryRecvError};
/// let (tx, mut rx) = channel::<u8>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Not sent yet.
    Empty,
    /// No value will come: the sender is gone without sending, the
    /// receiver was closed before a value was sent, or the value was
    /// already taken.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no value yet: await the receiver to wait"),
            TryRecvError::Closed => {
                f.write_str("no value will come: the sender is gone or the receiver was closed")
            }
        }
    }
}

impl std::error::Error for TryRecvError {}

/// Sends the one value.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = eddy_sync::oneshot::channel();
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub struct Sender<T> {
    /// `None` once used.
    inner: Option<Arc<Inner<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value`, consuming the sender.
    ///
    /// # Errors
    ///
    /// Hands the value back if the receiver was dropped or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = eddy_sync::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(3), Err(3));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("oneshot sender already used");
        let mut state = inner.state.load(Ordering::Acquire);
        if state & RX_CLOSED != 0 {
            inner.state.fetch_or(TX_DONE, Ordering::AcqRel);
            return Err(value);
        }
        // SAFETY: `VALUE_SENT` is not set, so the receiver does not read the
        // cell; the sender is its only writer.
        inner.value.with_mut(|v| unsafe { *v = Some(value) });
        loop {
            if state & RX_CLOSED != 0 {
                // Closed meanwhile: the value was never published, take it back.
                // SAFETY: as above; `VALUE_SENT` was never set.
                let value = inner.value.with_mut(|v| unsafe { (*v).take() });
                inner.state.fetch_or(TX_DONE, Ordering::AcqRel);
                return Err(value.expect("the value was stored above"));
            }
            match inner.state.compare_exchange_weak(
                state,
                state | VALUE_SENT | TX_DONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(prev) => {
                    inner.wake(&inner.rx_waker, prev, RX_WAKER);
                    return Ok(());
                }
                Err(actual) => state = actual,
            }
        }
    }

    /// `true` once the receiver is dropped or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = eddy_sync::oneshot::channel::<u8>();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(|inner| inner.state.load(Ordering::Acquire) & RX_CLOSED != 0)
    }

    /// Polls for the receiver going away (see [`closed`](Self::closed)).
    /// Asks the cooperative [budget](crate::budget) first.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Poll};
    /// let (mut tx, rx) = eddy_sync::oneshot::channel::<u8>();
    /// let mut cx = Context::from_waker(std::task::Waker::noop());
    /// assert!(tx.poll_closed(&mut cx).is_pending());
    /// drop(rx);
    /// assert!(tx.poll_closed(&mut cx).is_ready());
    /// ```
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        budgeted(cx, |cx| {
            let Some(inner) = &self.inner else {
                return Poll::Ready(());
            };
            if inner.register(&inner.tx_waker, TX_WAKER, RX_CLOSED, cx.waker()) {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
    }

    /// Waits until the receiver is dropped or closed (so the work whose
    /// result nobody wants can stop).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: waiting consumes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (mut tx, rx) = eddy_sync::oneshot::channel::<u8>();
    /// drop(rx);
    /// tx.closed().await;
    /// # });
    /// ```
    pub async fn closed(&mut self) {
        poll_fn(|cx| self.poll_closed(cx)).await
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let prev = inner.state.fetch_or(TX_DONE, Ordering::AcqRel);
            inner.wake(&inner.rx_waker, prev, RX_WAKER);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// Receives the one value: `.await` it.
///
/// # Cancel safety
///
/// Awaiting `&mut Receiver` is cancel-safe: the value stays in the channel
/// until a poll returns it.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, mut rx) = eddy_sync::oneshot::channel();
/// tx.send("done").unwrap();
/// assert_eq!((&mut rx).await, Ok("done"));
/// # });
/// ```
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Receiver<T> {
    /// Takes the value if it was sent, without waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if not sent yet; [`TryRecvError::Closed`] if
    /// the sender is gone without sending or the value was already taken.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = eddy_sync::oneshot::channel();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let state = self.inner.state.load(Ordering::Acquire);
        if state & VALUE_SENT != 0 {
            return self.take_value().ok_or(TryRecvError::Closed);
        }
        // Closed without a value: `send` can no longer publish one.
        if state & (TX_DONE | RX_CLOSED) != 0 {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// Takes the published value (`None` if already taken).
    fn take_value(&mut self) -> Option<T> {
        // SAFETY: `VALUE_SENT` was seen (Acquire), so the sender is done
        // with the cell, and `&mut self` makes this receiver its only user.
        self.inner.value.with_mut(|v| unsafe { (*v).take() })
    }

    /// Refuses the value: a later `send` fails, and `Sender::closed`
    /// completes. A value sent before `close` can still be received;
    /// otherwise awaiting the receiver returns [`RecvError`] at once
    /// instead of waiting for a value that can no longer come.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = eddy_sync::oneshot::channel();
    /// rx.close();
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn close(&mut self) {
        let prev = self.inner.state.fetch_or(RX_CLOSED, Ordering::AcqRel);
        if prev & (RX_CLOSED | TX_DONE) == 0 {
            self.inner.wake(&self.inner.tx_waker, prev, TX_WAKER);
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Asked before the state is read: a refused poll leaves a sent
        // value in the channel.
        budgeted(cx, |cx| self.get_mut().poll_recv(cx))
    }
}

impl<T> Receiver<T> {
    #[inline]
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let this = self;
        let inner = &*this.inner;
        // After `close` no value can be published any more (the send's
        // compare-exchange fails on `RX_CLOSED`), and a failed `send` wakes
        // nobody: waiting for `TX_DONE` then could wait forever.
        if inner.state.load(Ordering::Acquire) & (TX_DONE | RX_CLOSED) == 0
            && inner.register(&inner.rx_waker, RX_WAKER, TX_DONE, cx.waker())
        {
            return Poll::Pending;
        }
        // The sender is done or the receiver closed: the value is there, or
        // none will come.
        let state = inner.state.load(Ordering::Acquire);
        if state & VALUE_SENT != 0 {
            if let Some(v) = this.take_value() {
                return Poll::Ready(Ok(v));
            }
        }
        Poll::Ready(Err(RecvError))
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // A value sent but never received is dropped with the allocation.
        self.close();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
