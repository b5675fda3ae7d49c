//! The watch channel's errors: [`SendError`] and [`RecvError`].

use std::fmt;

/// No receiver exists; holds the value that was not stored.
///
/// # Examples
///
/// ```
/// let (tx, rx) = eddy_sync::watch::channel(0);
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
        f.write_str("no watch receiver exists; use send_replace() to store the value anyway")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The sender is gone and the receiver has seen the last value.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let (tx, mut rx) = eddy_sync::watch::channel(0);
/// drop(tx);
/// assert_eq!(rx.changed().await, Err(eddy_sync::watch::RecvError));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch sender dropped: the value will not change again")
    }
}

impl std::error::Error for RecvError {}
