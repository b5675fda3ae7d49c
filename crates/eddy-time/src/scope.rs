//! Deadline scopes: asyncio's `timeout()` / `timeout_at()` context
//! managers, with a handle that can move the deadline while the body runs.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::driver::TimeShared;
use crate::handle::current_shared;
use crate::instant::Instant;
use crate::loom::Mutex;
use crate::sleep::Sleep;
use crate::timeout::Elapsed;

/// Runs the body `body(scope)` under a deadline `duration` from now
/// (asyncio's `async with asyncio.timeout(delay) as scope`). If the deadline
/// passes first, the body is dropped (cancelled) and the result is
/// `Err(Elapsed)`; the body can move the deadline with
/// [`DeadlineHandle::reschedule`]. `Duration::MAX` (or any delay past the
/// clock's range) means no deadline: the scope's
/// [`when`](DeadlineHandle::when) is `None`, as asyncio's `timeout(None)`,
/// until the body reschedules it.
///
/// Nested scopes: the innermost scope whose deadline passed reports
/// `Elapsed` (and its handle says [`expired`](DeadlineHandle::expired)); an
/// outer scope expiring cancels the inner ones without marking them.
///
/// # Cancel safety
///
/// Dropping the scope drops the body; as cancel safe as the body.
///
/// # Panics
///
/// With no eddy runtime on this thread.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use eddy_time::{deadline, sleep, Instant};
/// eddy_time::run(async {
///     let out = deadline(Duration::from_millis(5), |scope| async move {
///         // More work than planned: push the deadline out while running.
///         scope.reschedule(Some(Instant::now() + Duration::from_secs(5)));
///         sleep(Duration::from_millis(20)).await;
///         "finished"
///     })
///     .await;
///     assert_eq!(out, Ok("finished"));
/// });
/// ```
#[track_caller]
pub fn deadline<F, Fut>(duration: Duration, body: F) -> Deadline<Fut>
where
    F: FnOnce(DeadlineHandle) -> Fut,
    Fut: Future,
{
    let shared = current_shared();
    // An instant past the clock's range would saturate to a made-up far
    // future that `when()` would then report: no deadline is `None`.
    let when = shared.clock.now().checked_add(duration);
    Deadline::new(shared, when, body)
}

/// Runs `body(scope)` under a deadline at `when` (`None` = no deadline
/// until rescheduled), asyncio's `timeout_at()`. See [`deadline`].
///
/// # Cancel safety
///
/// As [`deadline`].
///
/// # Panics
///
/// With no eddy runtime on this thread.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use eddy_time::{deadline_at, sleep, Instant};
/// eddy_time::run(async {
///     let out = deadline_at(None, |scope| async move {
///         assert_eq!(scope.when(), None);
///         // Now give it 1 ms.
///         scope.reschedule(Some(Instant::now() + Duration::from_millis(1)));
///         sleep(Duration::from_secs(3600)).await;
///     })
///     .await;
///     assert!(out.is_err());
/// });
/// ```
#[track_caller]
pub fn deadline_at<F, Fut>(when: impl Into<Option<Instant>>, body: F) -> Deadline<Fut>
where
    F: FnOnce(DeadlineHandle) -> Fut,
    Fut: Future,
{
    Deadline::new(current_shared(), when.into(), body)
}

/// Controls a running deadline scope: read or move its deadline, see
/// whether it expired. Cloneable, `Send + Sync`: it may be used from other
/// tasks and threads (the scope's task is woken to apply a new deadline).
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// eddy_time::run(async {
///     let mut kept = None;
///     let out = eddy_time::deadline(Duration::from_millis(1), |scope| {
///         kept = Some(scope.clone());
///         std::future::pending::<()>()
///     })
///     .await;
///     assert!(out.is_err());
///     assert!(kept.unwrap().expired());
/// });
/// ```
#[derive(Clone)]
pub struct DeadlineHandle {
    inner: Arc<Mutex<ScopeState>>,
}

struct ScopeState {
    /// The deadline (`None` = none).
    when: Option<Instant>,
    /// `when` changed since the scope last applied it to its timer.
    changed: bool,
    /// The deadline passed and the body was cancelled.
    expired: bool,
    /// The scope finished (body done, expired or dropped).
    finished: bool,
    /// The scope is polling its body right now: a reschedule from inside
    /// needs no wake, it is applied when the body returns.
    polling: bool,
    /// The task running the scope.
    waker: Option<Waker>,
}

impl DeadlineHandle {
    /// Moves the deadline: `None` removes it, a past instant expires the
    /// scope at the loop's next tick (asyncio's `Timeout.reschedule`). No
    /// effect once the scope has finished.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use eddy_time::Instant;
    /// eddy_time::run(async {
    ///     let out = eddy_time::deadline(Duration::from_secs(3600), |scope| async move {
    ///         scope.reschedule(Some(Instant::now())); // expire now
    ///         std::future::pending::<()>().await
    ///     })
    ///     .await;
    ///     assert!(out.is_err());
    /// });
    /// ```
    pub fn reschedule(&self, when: Option<Instant>) {
        let waker = {
            let mut st = self.inner.lock();
            if st.finished {
                return;
            }
            st.when = when;
            st.changed = true;
            if st.polling {
                None
            } else {
                st.waker.clone()
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Whether the deadline passed and cancelled the body (asyncio's
    /// `Timeout.expired()`).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let out = eddy_time::deadline(Duration::from_secs(1), |scope| async move {
    ///         assert!(!scope.expired());
    ///         1
    ///     })
    ///     .await;
    ///     assert_eq!(out, Ok(1));
    /// });
    /// ```
    pub fn expired(&self) -> bool {
        self.inner.lock().expired
    }

    /// The current deadline (`None` = none), asyncio's `Timeout.when()`.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let at = eddy_time::Instant::now() + Duration::from_secs(1);
    ///     eddy_time::deadline_at(at, |scope| async move {
    ///         assert_eq!(scope.when(), Some(at));
    ///     })
    ///     .await
    ///     .unwrap();
    /// });
    /// ```
    pub fn when(&self) -> Option<Instant> {
        self.inner.lock().when
    }
}

impl fmt::Debug for DeadlineHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.lock();
        f.debug_struct("DeadlineHandle")
            .field("when", &st.when)
            .field("expired", &st.expired)
            .finish()
    }
}

pin_project! {
    /// The future of a deadline scope ([`deadline`], [`deadline_at`]):
    /// `Ok(body output)` or `Err(Elapsed)` once the body was cancelled.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let scope = eddy_time::deadline(Duration::from_secs(1), |_| async { 2 });
    ///     assert_eq!(scope.handle().when().is_some(), true);
    ///     assert_eq!(scope.await, Ok(2));
    /// });
    /// ```
    #[must_use = "a deadline scope does nothing until awaited"]
    pub struct Deadline<Fut> {
        #[pin]
        body: Option<Fut>,
        scope: DeadlineHandle,
        shared: Arc<TimeShared>,
        sleep: Option<Sleep>,
    }

    impl<Fut> PinnedDrop for Deadline<Fut> {
        fn drop(this: Pin<&mut Self>) {
            this.scope.inner.lock().finished = true;
        }
    }
}

impl<Fut: Future> Deadline<Fut> {
    fn new<F>(shared: Arc<TimeShared>, when: Option<Instant>, body: F) -> Deadline<Fut>
    where
        F: FnOnce(DeadlineHandle) -> Fut,
    {
        let scope = DeadlineHandle {
            inner: Arc::new(Mutex::new(ScopeState {
                when,
                changed: true,
                expired: false,
                finished: false,
                polling: false,
                waker: None,
            })),
        };
        Deadline {
            body: Some(body(scope.clone())),
            scope,
            shared,
            sleep: None,
        }
    }
}

impl<Fut> Deadline<Fut> {
    /// A handle to this scope (the same one the body got).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// eddy_time::run(async {
    ///     let scope = eddy_time::deadline(Duration::from_secs(1), |_| std::future::pending::<()>());
    ///     let handle = scope.handle();
    ///     handle.reschedule(Some(eddy_time::Instant::now()));
    ///     assert!(scope.await.is_err());
    ///     assert!(handle.expired());
    /// });
    /// ```
    pub fn handle(&self) -> DeadlineHandle {
        self.scope.clone()
    }
}

impl<Fut: Future> Future for Deadline<Fut> {
    type Output = Result<Fut::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let body = this
            .body
            .as_mut()
            .as_pin_mut()
            .expect("deadline scope polled after it completed");
        this.scope.inner.lock().polling = true;
        let polled = body.poll(cx);
        let mut st = this.scope.inner.lock();
        st.polling = false;
        if let Poll::Ready(out) = polled {
            st.finished = true;
            drop(st);
            this.body.set(None);
            *this.sleep = None;
            return Poll::Ready(Ok(out));
        }
        if st.changed {
            st.changed = false;
            match (st.when, this.sleep.as_mut()) {
                (None, _) => *this.sleep = None,
                (Some(when), Some(sleep)) => sleep.reset(when),
                (Some(when), None) => {
                    *this.sleep = Some(Sleep::new_or_due(this.shared.clone(), when))
                }
            }
        }
        if !st.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            st.waker = Some(cx.waker().clone());
        }
        drop(st);
        let Some(sleep) = this.sleep.as_mut() else {
            return Poll::Pending;
        };
        match sleep.poll_unbudgeted(cx) {
            Poll::Ready(()) => {
                {
                    let mut st = this.scope.inner.lock();
                    st.expired = true;
                    st.finished = true;
                }
                // Cancel the body before reporting the timeout.
                this.body.set(None);
                *this.sleep = None;
                Poll::Ready(Err(Elapsed::new()))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<Fut> fmt::Debug for Deadline<Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deadline")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}
