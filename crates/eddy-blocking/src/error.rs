//! The crate's error types: [`JoinError`], [`SpawnError`], [`BuildError`].

use std::any::Any;
use std::fmt;
use std::io;
use std::sync::Arc;

/// Why a [`BlockingHandle`](crate::BlockingHandle) has no value.
///
/// Either the job panicked (the payload is kept, see
/// [`into_panic`](JoinError::into_panic)), or it never ran: its pool was
/// shut down first ([`is_shutdown`](JoinError::is_shutdown)), or the pool
/// had no thread and the system refused to start one
/// ([`is_no_thread`](JoinError::is_no_thread)).
///
/// ```
/// use eddy_blocking::Pool;
///
/// let pool = Pool::new();
/// let err = futures::executor::block_on(pool.spawn(|| panic!("boom"))).unwrap_err();
/// assert!(err.is_panic());
/// assert!(err.to_string().contains("boom"));
/// ```
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    /// In a mutex only so that `JoinError` is `Sync` (the payload is not).
    Panic(parking_lot::Mutex<Box<dyn Any + Send + 'static>>),
    Shutdown,
    /// The OS error of the failed thread start, shared by every job it
    /// stranded.
    NoThread(Arc<io::Error>),
}

impl JoinError {
    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> Self {
        JoinError {
            repr: Repr::Panic(parking_lot::Mutex::new(payload)),
        }
    }

    pub(crate) fn shutdown() -> Self {
        JoinError {
            repr: Repr::Shutdown,
        }
    }

    pub(crate) fn no_thread(err: Arc<io::Error>) -> Self {
        JoinError {
            repr: Repr::NoThread(err),
        }
    }

    /// `true` if the job ran and panicked.
    ///
    /// ```
    /// # use eddy_blocking::Pool;
    /// let pool = Pool::new();
    /// let err = futures::executor::block_on(pool.spawn(|| panic!("x"))).unwrap_err();
    /// assert!(err.is_panic() && !err.is_shutdown());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// `true` if the job never ran because its pool was shut down (before it
    /// was submitted, or while it was still queued).
    ///
    /// ```
    /// # use eddy_blocking::Pool;
    /// # use std::time::Duration;
    /// let pool = Pool::new();
    /// pool.shutdown_timeout(Duration::from_secs(1));
    /// let err = futures::executor::block_on(pool.spawn(|| 1)).unwrap_err();
    /// assert!(err.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        matches!(self.repr, Repr::Shutdown)
    }

    /// `true` if the job never ran because the pool had no thread to run it
    /// and the system refused to start one (too many threads for the
    /// process or the system, or no memory for the thread's stack). Every
    /// job queued at that moment gets this error rather than waiting for a
    /// thread that may never come; the OS error is the
    /// [`source`](std::error::Error::source). A pool that still has threads
    /// keeps the job queued for them instead.
    ///
    /// ```
    /// # use eddy_blocking::Pool;
    /// // A stack size no system can map: no thread ever starts.
    /// let pool = Pool::builder().stack_size(1 << 62).build().unwrap();
    /// let err = futures::executor::block_on(pool.spawn(|| 1)).unwrap_err();
    /// assert!(err.is_no_thread() && !err.is_shutdown());
    /// assert!(std::error::Error::source(&err).is_some());
    /// ```
    pub fn is_no_thread(&self) -> bool {
        matches!(self.repr, Repr::NoThread(_))
    }

    /// The panic payload; panics (with this error's message) if the job did
    /// not panic. Pass it to [`std::panic::resume_unwind`] to re-raise.
    ///
    /// # Panics
    ///
    /// If the job did not panic ([`is_panic`](JoinError::is_panic) is
    /// false): use [`try_into_panic`](JoinError::try_into_panic) when it
    /// may have been a shutdown or a missing thread.
    ///
    /// ```
    /// # use eddy_blocking::Pool;
    /// let pool = Pool::new();
    /// let err = futures::executor::block_on(pool.spawn(|| panic!("boom"))).unwrap_err();
    /// let payload = err.into_panic();
    /// assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    /// ```
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self.try_into_panic() {
            Ok(p) => p,
            Err(e) => panic!("JoinError::into_panic on an error that is not a panic: {e}"),
        }
    }

    /// The panic payload, or the error itself if the job did not panic.
    ///
    /// # Errors
    ///
    /// `Err(self)`, unchanged, when the job never ran (the pool was shut
    /// down, or had no thread and could not start one).
    ///
    /// ```
    /// # use eddy_blocking::Pool;
    /// let pool = Pool::new();
    /// let err = futures::executor::block_on(pool.spawn(|| panic!("boom"))).unwrap_err();
    /// assert!(err.try_into_panic().is_ok());
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(p.into_inner()),
            repr => Err(JoinError { repr }),
        }
    }
}

/// The message of a panic payload (`&str` or `String`), if it has one.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Panic(p) => match panic_message(p.lock().as_ref()) {
                Some(msg) => write!(
                    f,
                    "blocking job panicked: {msg} (JoinError::into_panic gives the payload to re-raise)"
                ),
                None => f.write_str(
                    "blocking job panicked (JoinError::into_panic gives the payload to re-raise)",
                ),
            },
            Repr::Shutdown => f.write_str(
                "blocking job did not run: its pool was shut down (by Pool::shutdown_timeout, \
                 or by the runtime that owns it shutting down); submit jobs while the runtime \
                 or pool is running, or to one that still is",
            ),
            Repr::NoThread(err) => write!(
                f,
                "blocking job did not run: the pool had no thread and could not start one \
                 ({err}); the process is at its thread limit or short of memory for thread \
                 stacks: raise the limit (ulimit -u), run fewer threads elsewhere in the \
                 process or set a smaller Builder::stack_size, then submit the job again"
            ),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Panic(p) => f
                .debug_tuple("JoinError::Panic")
                .field(&panic_message(p.lock().as_ref()).unwrap_or("..."))
                .finish(),
            Repr::Shutdown => f.write_str("JoinError::Shutdown"),
            Repr::NoThread(err) => f.debug_tuple("JoinError::NoThread").field(err).finish(),
        }
    }
}

impl std::error::Error for JoinError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.repr {
            Repr::NoThread(err) => Some(&**err),
            _ => None,
        }
    }
}

/// [`Pool::try_spawn`](crate::Pool::try_spawn) refused a job because the pool
/// was shut down.
///
/// ```
/// # use eddy_blocking::Pool;
/// # use std::time::Duration;
/// let pool = Pool::new();
/// pool.shutdown_timeout(Duration::from_secs(1));
/// let err = pool.try_spawn(|| 1).unwrap_err();
/// assert!(err.to_string().contains("shut down"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnError {
    _private: (),
}

impl SpawnError {
    pub(crate) fn shutdown() -> Self {
        SpawnError { _private: () }
    }
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "cannot submit a blocking job: the pool was shut down (by Pool::shutdown_timeout, \
             or by the runtime that owns it shutting down); submit jobs while the runtime or \
             pool is running, or build a new one",
        )
    }
}

impl std::error::Error for SpawnError {}

/// [`Builder::build`](crate::Builder::build) refused the configuration.
///
/// ```
/// # use eddy_blocking::Pool;
/// let err = Pool::builder().max_threads(0).build().unwrap_err();
/// assert!(err.to_string().contains("max_threads"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    kind: BuildErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum BuildErrorKind {
    ZeroThreads,
    NulInThreadName,
}

impl BuildError {
    pub(crate) fn zero_threads() -> Self {
        BuildError {
            kind: BuildErrorKind::ZeroThreads,
        }
    }

    pub(crate) fn nul_in_thread_name() -> Self {
        BuildError {
            kind: BuildErrorKind::NulInThreadName,
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            BuildErrorKind::ZeroThreads => f.write_str(
                "invalid blocking pool: max_threads(0) leaves no thread to run jobs; \
                 pass at least 1 (the default is 512)",
            ),
            BuildErrorKind::NulInThreadName => f.write_str(
                "invalid blocking pool: the thread_name prefix contains a NUL byte, which a \
                 thread name cannot hold; remove it",
            ),
        }
    }
}

impl std::error::Error for BuildError {}
