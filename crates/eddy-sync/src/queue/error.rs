//! Errors of the queues (asyncio's `QueueFull`, `QueueEmpty`, `QueueShutDown`).

use std::fmt;

/// The queue was shut down (asyncio's `QueueShutDown`). From `put`, it holds
/// the refused item; from `get`, nothing (`T = ()`).
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let q = eddy_sync::Queue::new(0);
/// q.shutdown(false);
/// let err = q.put("x").await.unwrap_err();
/// assert_eq!(err.into_inner(), "x");
/// assert!(q.get().await.is_err());
/// # });
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> QueueShutDown<T> {
    /// The item that was refused.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(eddy_sync::QueueShutDown(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown(..)")
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is shut down: no more items can be put, and none are left to get")
    }
}

impl<T> std::error::Error for QueueShutDown<T> {}

/// Why [`try_put`](crate::Queue::try_put) refused an item; the item is
/// handed back either way.
///
/// # Examples
///
/// ```
/// use eddy_sync::{Queue, TryPutError};
/// let q = Queue::new(1);
/// q.try_put(1).unwrap();
/// assert!(matches!(q.try_put(2), Err(TryPutError::QueueFull(2))));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TryPutError<T> {
    /// The queue holds `maxsize` items (asyncio's `QueueFull`); await
    /// `put` to wait for room.
    QueueFull(T),
    /// The queue was shut down (asyncio's `QueueShutDown`); no put will
    /// ever succeed again.
    QueueShutDown(T),
}

impl<T> TryPutError<T> {
    /// The refused item.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = eddy_sync::TryPutError::QueueFull('a');
    /// assert_eq!(e.into_inner(), 'a');
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::QueueFull(t) | TryPutError::QueueShutDown(t) => t,
        }
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::QueueFull(_) => f.write_str("QueueFull(..)"),
            TryPutError::QueueShutDown(_) => f.write_str("QueueShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::QueueFull(_) => {
                f.write_str("queue is full (QueueFull): await put() to wait for room")
            }
            TryPutError::QueueShutDown(_) => f.write_str("queue is shut down (QueueShutDown)"),
        }
    }
}

impl<T> std::error::Error for TryPutError<T> {}

/// Why [`try_get`](crate::Queue::try_get) returned no item.
///
/// # Examples
///
/// ```
/// use eddy_sync::{Queue, TryGetError};
/// let q = Queue::<u8>::new(0);
/// assert_eq!(q.try_get(), Err(TryGetError::QueueEmpty));
/// q.shutdown(false);
/// assert_eq!(q.try_get(), Err(TryGetError::QueueShutDown));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryGetError {
    /// No item right now (asyncio's `QueueEmpty`); await `get` to wait.
    QueueEmpty,
    /// Shut down and drained (asyncio's `QueueShutDown`); no item will come.
    QueueShutDown,
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::QueueEmpty => {
                f.write_str("queue is empty (QueueEmpty): await get() to wait")
            }
            TryGetError::QueueShutDown => {
                f.write_str("queue is shut down and drained (QueueShutDown): no item will come")
            }
        }
    }
}

impl std::error::Error for TryGetError {}

/// [`task_done`](crate::Queue::task_done) was called more times than items
/// were put (asyncio's `ValueError`).
///
/// # Examples
///
/// ```
/// let q = eddy_sync::Queue::<u8>::new(0);
/// assert_eq!(q.task_done(), Err(eddy_sync::TaskDoneError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than there were items put in the queue")
    }
}

impl std::error::Error for TaskDoneError {}
