//! `as_completed` (asyncio's `asyncio.as_completed`): a `Stream` of outputs
//! in completion order, on `futures::stream::FuturesUnordered`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::stream::{FusedStream, Stream};
use futures_util::stream::FuturesUnordered;

/// Runs `futures` concurrently and yields each output as it completes
/// (asyncio's `as_completed`). The futures run inside the task that polls
/// the stream; pass [`JoinHandle`](crate::JoinHandle)s to watch tasks.
///
/// # Example
///
/// ```
/// use futures_util::StreamExt;
/// eddy_core::run(async {
///     let delays = [3u32, 1, 2];
///     let futures = delays.map(|n| async move {
///         for _ in 0..n {
///             eddy_core::yield_now().await;
///         }
///         n
///     });
///     let order: Vec<u32> = eddy_core::task::as_completed(futures).collect().await;
///     assert_eq!(order, [1, 2, 3]);
/// });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    AsCompleted {
        inner: futures.into_iter().collect(),
    }
}

/// The stream [`as_completed`] returns.
///
/// # Cancel safety
///
/// Each `next()` is cancel-safe: an output is only taken out when it is
/// returned. Dropping the stream drops the futures not yet completed.
///
/// # Example
///
/// ```
/// use futures_util::StreamExt;
/// eddy_core::run(async {
///     let mut stream = eddy_core::task::as_completed([std::future::ready(1)]);
///     assert_eq!(stream.len(), 1);
///     assert_eq!(stream.next().await, Some(1));
///     assert_eq!(stream.next().await, None);
/// });
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F> {
    inner: FuturesUnordered<F>,
}

impl<F> AsCompleted<F> {
    /// How many futures have not completed yet.
    ///
    /// # Example
    ///
    /// ```
    /// let stream = eddy_core::task::as_completed([std::future::ready(1), std::future::ready(2)]);
    /// assert_eq!(stream.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// True when every future has completed.
    ///
    /// # Example
    ///
    /// ```
    /// let stream = eddy_core::task::as_completed(Vec::<std::future::Ready<u8>>::new());
    /// assert!(stream.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl<F: Future> Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.inner.len(), Some(self.inner.len()))
    }
}

impl<F: Future> FusedStream for AsCompleted<F> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<F> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.inner.len())
            .finish()
    }
}

/// The last item of [`as_completed_with_timeout`] when time ran out before
/// every future completed.
///
/// # Example
///
/// ```
/// use futures_util::StreamExt;
/// eddy_core::run(async {
///     let never = [std::future::pending::<()>()];
///     let mut stream = eddy_core::task::as_completed_with_timeout(never, std::future::ready(()));
///     let err = stream.next().await.unwrap().unwrap_err();
///     assert_eq!(err.remaining(), 1);
///     assert!(stream.next().await.is_none());
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimedOut {
    remaining: usize,
}

impl TimedOut {
    /// How many futures had not completed (they were dropped).
    ///
    /// # Example
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// eddy_core::run(async {
    ///     let never = [std::future::pending::<()>(), std::future::pending()];
    ///     let mut s = eddy_core::task::as_completed_with_timeout(never, std::future::ready(()));
    ///     assert_eq!(s.next().await, Some(Err(eddy_core::task::TimedOut::new(2))));
    /// });
    /// ```
    pub fn remaining(&self) -> usize {
        self.remaining
    }

    /// A `TimedOut` for `remaining` futures (for comparisons in tests).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(eddy_core::task::TimedOut::new(3).remaining(), 3);
    /// ```
    pub fn new(remaining: usize) -> TimedOut {
        TimedOut { remaining }
    }
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "as_completed timed out with {} future(s) still pending; they were dropped \
             (use a longer timeout, or wait() to keep them)",
            self.remaining
        )
    }
}

impl std::error::Error for TimedOut {}

/// [`as_completed`] with a deadline: `timer` is any future that completes
/// when time is up (the `eddy` facade passes `eddy::sleep(duration)`;
/// eddy-core has no clock). Items are `Ok(output)` in completion order; if
/// the timer fires first, the stream yields `Err(TimedOut)`, drops the
/// remaining futures, and ends.
///
/// # Example
///
/// ```
/// use futures_util::StreamExt;
/// eddy_core::run(async {
///     let quick = async { 1 };
///     let slow = async {
///         for _ in 0..10 {
///             eddy_core::yield_now().await;
///         }
///         2
///     };
///     let futures: [std::pin::Pin<Box<dyn std::future::Future<Output = i32>>>; 2] =
///         [Box::pin(quick), Box::pin(slow)];
///     let timer = eddy_core::yield_now(); // stands in for eddy::sleep(..)
///     let items: Vec<_> = eddy_core::task::as_completed_with_timeout(futures, timer).collect().await;
///     assert_eq!(items, [Ok(1), Err(eddy_core::task::TimedOut::new(1))]);
/// });
/// ```
pub fn as_completed_with_timeout<I, Tm>(futures: I, timer: Tm) -> AsCompletedTimeout<I::Item, Tm>
where
    I: IntoIterator,
    I::Item: Future,
    Tm: Future,
{
    AsCompletedTimeout {
        inner: as_completed(futures),
        timer: Some(timer),
        done: false,
    }
}

pin_project_lite::pin_project! {
    /// The stream [`as_completed_with_timeout`] returns.
    ///
    /// # Cancel safety
    ///
    /// Each `next()` is cancel-safe, as for [`AsCompleted`].
    ///
    /// # Example
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// eddy_core::run(async {
    ///     let s = eddy_core::task::as_completed_with_timeout([async { 5 }], std::future::pending::<()>());
    ///     assert_eq!(s.collect::<Vec<_>>().await, [Ok(5)]);
    /// });
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct AsCompletedTimeout<F, Tm> {
        inner: AsCompleted<F>,
        #[pin]
        timer: Option<Tm>,
        done: bool,
    }
}

impl<F: Future, Tm: Future> Stream for AsCompletedTimeout<F, Tm> {
    type Item = Result<F::Output, TimedOut>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut *this.inner).poll_next(cx) {
            Poll::Ready(Some(out)) => return Poll::Ready(Some(Ok(out))),
            Poll::Ready(None) => {
                *this.done = true;
                this.timer.set(None);
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if let Some(timer) = this.timer.as_mut().as_pin_mut() {
            if timer.poll(cx).is_ready() {
                *this.done = true;
                this.timer.set(None);
                let remaining = this.inner.len();
                *this.inner = AsCompleted {
                    inner: FuturesUnordered::new(),
                };
                return Poll::Ready(Some(Err(TimedOut { remaining })));
            }
        }
        Poll::Pending
    }
}

impl<F: Future, Tm: Future> FusedStream for AsCompletedTimeout<F, Tm> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<F, Tm> fmt::Debug for AsCompletedTimeout<F, Tm> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompletedTimeout")
            .field("remaining", &self.inner.len())
            .field("timed_out", &(self.done && self.timer.is_none()))
            .finish()
    }
}
