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

use crate::loom::{Arc, Mutex};

/// Both halves share this; one small lock guards it (each side locks it a
/// couple of times in a channel's whole life).
struct Inner<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    /// The sent value, until received.
    value: Option<T>,
    /// The receiver waiting for the value.
    rx_waker: Option<Waker>,
    /// The sender waiting in `closed()`.
    tx_waker: Option<Waker>,
    /// The sender was used or dropped: no value will come after `value`.
    tx_done: bool,
    /// The receiver was dropped or closed: sending fails.
    rx_closed: bool,
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
        state: Mutex::new(State {
            value: None,
            rx_waker: None,
            tx_waker: None,
            tx_done: false,
            rx_closed: false,
        }),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner },
    )
}

/// The sender was dropped without sending.
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
        f.write_str("oneshot sender dropped without sending a value")
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
    /// The sender is gone without sending (or the value was already taken).
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no value yet: await the receiver to wait"),
            TryRecvError::Closed => f.write_str("no value will come: the sender is gone"),
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
        let waker = {
            let mut st = inner.state.lock();
            st.tx_done = true;
            if st.rx_closed {
                return Err(value);
            }
            st.value = Some(value);
            st.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
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
            .is_none_or(|inner| inner.state.lock().rx_closed)
    }

    /// Polls for the receiver going away (see [`closed`](Self::closed)).
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
        let Some(inner) = &self.inner else {
            return Poll::Ready(());
        };
        let mut st = inner.state.lock();
        if st.rx_closed {
            Poll::Ready(())
        } else {
            st.tx_waker = Some(cx.waker().clone());
            Poll::Pending
        }
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
            let waker = {
                let mut st = inner.state.lock();
                st.tx_done = true;
                st.rx_waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
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
        let mut st = self.inner.state.lock();
        match st.value.take() {
            Some(v) => Ok(v),
            None if st.tx_done => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Refuses the value: a later `send` fails, and `Sender::closed`
    /// completes. A value sent before `close` can still be received.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = eddy_sync::oneshot::channel();
    /// rx.close();
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn close(&mut self) {
        let waker = {
            let mut st = self.inner.state.lock();
            st.rx_closed = true;
            st.tx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut st = self.inner.state.lock();
        if let Some(v) = st.value.take() {
            return Poll::Ready(Ok(v));
        }
        if st.tx_done {
            return Poll::Ready(Err(RecvError));
        }
        match &st.rx_waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => st.rx_waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (waker, value) = {
            let mut st = self.inner.state.lock();
            st.rx_closed = true;
            (st.tx_waker.take(), st.value.take())
        };
        drop(value);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
