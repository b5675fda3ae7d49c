//! [`SetError`]: why [`OnceCell::set`] did not store its value.

use std::fmt;

#[cfg(doc)]
use super::OnceCell;

/// Returned by [`OnceCell::set`] when the value cannot be stored; the value
/// is handed back.
///
/// # Examples
///
/// ```
/// use eddy_sync::{OnceCell, SetError};
/// let cell = OnceCell::new();
/// cell.set(1).unwrap();
/// let err = cell.set(2).unwrap_err();
/// assert!(matches!(err, SetError::AlreadyInitialized(2)));
/// assert_eq!(err.into_inner(), 2);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell already holds a value: read it with
    /// [`get`](OnceCell::get).
    AlreadyInitialized(T),
    /// An initialiser is running (a [`get_or_init`](OnceCell::get_or_init)
    /// somewhere), or is about to (a waiter was handed the turn): await
    /// `get_or_init` to wait for its value.
    Initializing(T),
}

impl<T> SetError<T> {
    /// The value that was not stored.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(eddy_sync::SetError::Initializing("x").into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            SetError::AlreadyInitialized(v) | SetError::Initializing(v) => v,
        }
    }

    /// `true` for [`SetError::AlreadyInitialized`].
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = eddy_sync::OnceCell::from(1);
    /// assert!(cell.set(2).unwrap_err().is_already_initialized());
    /// ```
    pub fn is_already_initialized(&self) -> bool {
        matches!(self, SetError::AlreadyInitialized(_))
    }

    /// `true` for [`SetError::Initializing`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(eddy_sync::SetError::Initializing(()).is_initializing());
    /// ```
    pub fn is_initializing(&self) -> bool {
        matches!(self, SetError::Initializing(_))
    }
}

impl<T> fmt::Debug for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitialized(_) => f.write_str("AlreadyInitialized(..)"),
            SetError::Initializing(_) => f.write_str("Initializing(..)"),
        }
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitialized(_) => {
                f.write_str("the OnceCell already holds a value; read it with get()")
            }
            SetError::Initializing(_) => f.write_str(
                "another task is initialising the OnceCell; await get_or_init() to wait for \
                 its value",
            ),
        }
    }
}

impl<T> std::error::Error for SetError<T> {}
