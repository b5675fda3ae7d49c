//! The errors of [`TaskGroup`](super::TaskGroup): `ErrorGroup` (what
//! `join` returns) and `GroupClosed` (what `spawn` returns once closed).

use std::error::Error;
use std::fmt;

/// Every failure of a [`TaskGroup`](super::TaskGroup)'s children, in the
/// order they happened (Python's `ExceptionGroup`). Never empty.
/// Cancellations are not failures and do not appear here.
///
/// # Example
///
/// ```
/// use eddy_core::task::TaskGroup;
/// eddy_core::run(async {
///     let group = TaskGroup::new();
///     group.spawn(async { Err::<(), _>("disk full") }).unwrap();
///     let errors = group.join().await.unwrap_err();
///     assert_eq!(errors.len(), 1);
///     assert_eq!(errors.to_string(), "1 task of the group failed:\n  [1] disk full");
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorGroup<E> {
    errors: Vec<E>,
}

impl<E> ErrorGroup<E> {
    pub(crate) fn new(errors: Vec<E>) -> ErrorGroup<E> {
        debug_assert!(!errors.is_empty());
        ErrorGroup { errors }
    }

    /// How many children failed.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::new();
    ///     group.spawn(async { Err::<(), _>(1) }).unwrap();
    ///     group.spawn(async { Err::<(), _>(2) }).unwrap();
    ///     assert_eq!(group.join().await.unwrap_err().len(), 2);
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always false: a group that had no failure returns `Ok` from `join`.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::new();
    ///     group.spawn(async { Err::<(), _>(1) }).unwrap();
    ///     assert!(!group.join().await.unwrap_err().is_empty());
    /// });
    /// ```
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors, in the order they happened.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::new();
    ///     group.spawn(async { Err::<(), _>("a") }).unwrap();
    ///     let errors = group.join().await.unwrap_err();
    ///     assert_eq!(errors.iter().next(), Some(&"a"));
    /// });
    /// ```
    pub fn iter(&self) -> std::slice::Iter<'_, E> {
        self.errors.iter()
    }

    /// The first failure.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::new();
    ///     group.spawn(async { Err::<(), _>("first") }).unwrap();
    ///     assert_eq!(*group.join().await.unwrap_err().first(), "first");
    /// });
    /// ```
    pub fn first(&self) -> &E {
        &self.errors[0]
    }

    /// The errors as a `Vec`, in the order they happened.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::new();
    ///     group.spawn(async { Err::<(), _>(7) }).unwrap();
    ///     assert_eq!(group.join().await.unwrap_err().into_vec(), vec![7]);
    /// });
    /// ```
    pub fn into_vec(self) -> Vec<E> {
        self.errors
    }
}

impl<E> IntoIterator for ErrorGroup<E> {
    type Item = E;
    type IntoIter = std::vec::IntoIter<E>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl<'a, E> IntoIterator for &'a ErrorGroup<E> {
    type Item = &'a E;
    type IntoIter = std::slice::Iter<'a, E>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

impl<E: fmt::Display> fmt::Display for ErrorGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(
            f,
            "{n} task{} of the group failed:",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, e) in self.errors.iter().enumerate() {
            write!(f, "\n  [{}] {e}", i + 1)?;
        }
        Ok(())
    }
}

impl<E: Error + 'static> Error for ErrorGroup<E> {
    /// The first failure (iterate the group for the others).
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.errors.first().map(|e| e as &(dyn Error + 'static))
    }
}

/// Why a [`TaskGroup`](super::TaskGroup) refused a new child.
///
/// # Example
///
/// ```
/// use eddy_core::task::{ClosedReason, TaskGroup};
/// let group = TaskGroup::<()>::new();
/// group.cancel();
/// let err = group.spawn(async { Ok(()) }).unwrap_err();
/// assert_eq!(err.reason(), ClosedReason::Cancelled);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClosedReason {
    /// A child returned `Err` or panicked, so the group is cancelling the
    /// rest.
    Failed,
    /// [`TaskGroup::cancel`](super::TaskGroup::cancel) was called.
    Cancelled,
    /// The group was joined to the end, or dropped.
    Finished,
}

/// Returned by `spawn` on a group that no longer accepts children. It
/// holds the future, which was not started: take it back with
/// [`GroupClosed::into_future`].
///
/// # Example
///
/// ```
/// use eddy_core::task::TaskGroup;
/// eddy_core::run(async {
///     let group = TaskGroup::<()>::new();
///     let spawner = group.spawner();
///     group.join().await.unwrap();
///     let err = spawner.spawn(async { Ok(3) }).unwrap_err();
///     assert!(err.to_string().contains("finished"));
///     assert_eq!(err.into_future().await, Ok(3)); // still runnable, by hand
/// });
/// ```
pub struct GroupClosed<F> {
    future: F,
    reason: ClosedReason,
}

impl<F> GroupClosed<F> {
    pub(crate) fn new(future: F, reason: ClosedReason) -> GroupClosed<F> {
        GroupClosed { future, reason }
    }

    /// Why the group refused.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::{ClosedReason, TaskGroup};
    /// let group = TaskGroup::<()>::new();
    /// let spawner = group.spawner();
    /// drop(group);
    /// assert_eq!(spawner.spawn(async { Ok(()) }).unwrap_err().reason(), ClosedReason::Finished);
    /// ```
    pub fn reason(&self) -> ClosedReason {
        self.reason
    }

    /// The future that was not spawned.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// let group = TaskGroup::<()>::new();
    /// group.cancel();
    /// let future = group.spawn(async { Ok(1) }).unwrap_err().into_future();
    /// assert_eq!(futures_util::FutureExt::now_or_never(future), Some(Ok(1)));
    /// ```
    pub fn into_future(self) -> F {
        self.future
    }
}

impl<F> fmt::Debug for GroupClosed<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupClosed")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl<F> fmt::Display for GroupClosed<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.reason {
            ClosedReason::Failed => "a child failed and the group is cancelling the others",
            ClosedReason::Cancelled => "the group was cancelled",
            ClosedReason::Finished => "the group has finished (joined or dropped)",
        };
        write!(
            f,
            "the task group accepts no new tasks: {why}; the future was not started \
             (GroupClosed::into_future gives it back)"
        )
    }
}

impl<F> Error for GroupClosed<F> {}
