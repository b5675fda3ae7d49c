//! Why awaiting a task gave no value.

use std::any::Any;
use std::fmt;

use super::TaskId;

/// How a task ended without producing its value.
pub(crate) enum Failure {
    Cancelled,
    Panicked(Box<dyn Any + Send + 'static>),
    /// A `TaskGroup` child failed (returned `Err`, or panicked when
    /// `panicked`); the error or panic went to the group, whose `join`
    /// reports it.
    ToGroup {
        panicked: bool,
    },
}

/// Returned by a [`JoinHandle`](crate::JoinHandle) whose task was cancelled
/// or panicked.
///
/// The panic payload is handed back, so it can be re-raised with
/// [`std::panic::resume_unwind`].
///
/// # Example
///
/// ```
/// eddy_core::run(async {
///     let handle = eddy_core::spawn(async { panic!("boom") });
///     let err = handle.await.unwrap_err();
///     assert!(err.is_panic());
///     assert_eq!(err.panic_message(), Some("boom"));
/// });
/// ```
pub struct JoinError {
    id: TaskId,
    failure: Failure,
    /// The panic message, copied out so `&JoinError` never touches the
    /// payload (which is only `Send`).
    message: Option<String>,
}

// SAFETY: the payload (`Box<dyn Any + Send>`, not `Sync`) is only reached
// through `self` by value (`into_panic`, `try_into_panic`); shared access
// reads the copied message and the id only.
unsafe impl Sync for JoinError {}

impl JoinError {
    pub(crate) fn new(id: TaskId, failure: Failure) -> JoinError {
        let message = match &failure {
            Failure::Panicked(p) => payload_message(&**p).map(str::to_owned),
            Failure::Cancelled | Failure::ToGroup { .. } => None,
        };
        JoinError {
            id,
            failure,
            message,
        }
    }

    /// True if the task was cancelled (by `JoinHandle::cancel` or shutdown).
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let handle = eddy_core::spawn(std::future::pending::<()>());
    ///     handle.cancel();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.failure, Failure::Cancelled)
    }

    /// True if the task was a [`TaskGroup`](crate::task::TaskGroup) child
    /// that failed (returned `Err` or panicked): its error or panic went to
    /// the group, and [`TaskGroup::join`](crate::task::TaskGroup::join)
    /// reports it (errors in the `ErrorGroup`, a panic resumed).
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::new();
    ///     let child = group.spawn(async { Err::<(), _>("no") }).unwrap();
    ///     assert!(child.await.unwrap_err().is_group_failure());
    ///     assert_eq!(group.join().await.unwrap_err().len(), 1);
    /// });
    /// ```
    pub fn is_group_failure(&self) -> bool {
        matches!(self.failure, Failure::ToGroup { .. })
    }

    /// True if the task panicked.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let err = eddy_core::spawn(async { panic!("x") }).await.unwrap_err();
    ///     assert!(err.is_panic());
    /// });
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.failure, Failure::Panicked(_))
    }

    /// The id of the task that failed.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let handle = eddy_core::spawn(async { panic!("x") });
    ///     let id = handle.id();
    ///     assert_eq!(handle.await.unwrap_err().id(), id);
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The panic message, when the payload is a string (as `panic!` makes).
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let err = eddy_core::spawn(async { panic!("bad {}", 1) }).await.unwrap_err();
    ///     assert_eq!(err.panic_message(), Some("bad 1"));
    /// });
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The panic payload; panics if the task was cancelled instead.
    ///
    /// # Panics
    ///
    /// If [`is_panic`](Self::is_panic) is false: the task was cancelled,
    /// or it was a [`TaskGroup`](crate::task::TaskGroup) child whose
    /// failure went to the group. Use
    /// [`try_into_panic`](Self::try_into_panic) when either can happen.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let err = eddy_core::spawn(async { std::panic::panic_any(7u8) }).await.unwrap_err();
    ///     assert_eq!(*err.into_panic().downcast::<u8>().unwrap(), 7);
    /// });
    /// ```
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self.try_into_panic() {
            Ok(p) => p,
            Err(e) => panic!("JoinError::into_panic on a task that did not panic: {e}"),
        }
    }

    /// The panic payload, or the error back if the task was cancelled.
    ///
    /// # Errors
    ///
    /// `Err(self)`, unchanged, when the task did not panic: it was
    /// cancelled, or it was a [`TaskGroup`](crate::task::TaskGroup) child
    /// whose error or panic went to the group (its `join` reports it).
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let handle = eddy_core::spawn(std::future::pending::<()>());
    ///     handle.cancel();
    ///     assert!(handle.await.unwrap_err().try_into_panic().is_err());
    /// });
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.failure {
            Failure::Panicked(p) => Ok(p),
            Failure::Cancelled | Failure::ToGroup { .. } => Err(self),
        }
    }
}

/// The text of a panic payload made by `panic!`, if it is one.
pub(crate) fn payload_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failure {
            Failure::Cancelled => write!(
                f,
                "task {} was cancelled before it finished (JoinHandle::cancel or runtime shutdown)",
                self.id
            ),
            Failure::Panicked(_) => match &self.message {
                Some(msg) => write!(f, "task {} panicked: {msg}", self.id),
                None => write!(
                    f,
                    "task {} panicked with a non-string payload (use into_panic to get it)",
                    self.id
                ),
            },
            Failure::ToGroup { panicked: false } => write!(
                f,
                "task {} returned an error, which went to its TaskGroup: read it from the \
                 ErrorGroup that TaskGroup::join returns",
                self.id
            ),
            Failure::ToGroup { panicked: true } => write!(
                f,
                "task {} panicked; the panic went to its TaskGroup and resumes from \
                 TaskGroup::join",
                self.id
            ),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failure {
            Failure::Cancelled => write!(f, "JoinError::Cancelled({})", self.id),
            Failure::Panicked(_) => write!(
                f,
                "JoinError::Panicked({}, {:?})",
                self.id,
                self.message.as_deref().unwrap_or("..")
            ),
            Failure::ToGroup { panicked } => {
                write!(f, "JoinError::ToGroup({}, panicked: {panicked})", self.id)
            }
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> Self {
        std::io::Error::other(e.to_string())
    }
}
