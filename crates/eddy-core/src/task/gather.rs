//! `gather!`, `gather_all` and their `try_` forms (asyncio's `gather`).
//!
//! The futures run concurrently inside the task that awaits the gather
//! (they are not spawned); pass [`JoinHandle`](crate::JoinHandle)s to
//! gather tasks. Plain `gather*` with `Result` outputs is asyncio's
//! `return_exceptions=True`; the `try_` forms are asyncio's default.

use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::MaybeDone;

use super::slots::Slots;

/// Awaits every future concurrently and gives their outputs as a tuple, in
/// argument order (asyncio's `gather(a, b, c)`).
///
/// The futures are evaluated where the macro is called and run inside the
/// task that awaits the result (see [`gather_all`] for many futures of one
/// type). Built on `futures::join!`.
///
/// # Cancel safety
///
/// Dropping the gather drops every future it holds, finished or not.
///
/// # Example
///
/// ```
/// async fn fetch(n: u32) -> u32 {
///     for _ in 0..(3 - n) {
///         eddy_core::yield_now().await; // finishes in reverse order
///     }
///     n * 10
/// }
/// eddy_core::run(async {
///     let (a, b, c) = eddy_core::gather!(fetch(1), fetch(2), fetch(3)).await;
///     assert_eq!((a, b, c), (10, 20, 30));
/// });
/// ```
#[macro_export]
macro_rules! gather {
    ($($future:expr),+ $(,)?) => {
        $crate::__gather_bind!(@gather () $($future,)+)
    };
}

/// Like [`gather!`] for futures returning `Result<_, E>` (one `E` for all):
/// stops at the first `Err`, drops the other futures and returns it;
/// otherwise gives `Ok((a, b, ...))` in argument order. Built on
/// `futures::try_join!`.
///
/// # Cancel safety
///
/// Dropping it drops every future it holds.
///
/// # Example
///
/// ```
/// eddy_core::run(async {
///     let ok = eddy_core::try_gather!(async { Ok::<_, String>(1) }, async { Ok(2) }).await;
///     assert_eq!(ok, Ok((1, 2)));
///     let err = eddy_core::try_gather!(
///         async { Ok::<u8, _>(1) },
///         async { Err::<u8, _>("bad".to_string()) },
///         std::future::pending::<Result<u8, String>>(), // dropped, never finishes
///     )
///     .await;
///     assert_eq!(err, Err("bad".to_string()));
/// });
/// ```
#[macro_export]
macro_rules! try_gather {
    ($($future:expr),+ $(,)?) => {
        $crate::__gather_bind!(@try_gather () $($future,)+)
    };
}

/// Binds each future to its own (hygienic) `future` variable where the
/// macro is called, then moves them all into one `async` block.
#[doc(hidden)]
#[macro_export]
macro_rules! __gather_bind {
    (@$kind:ident ($($bound:ident)*) $head:expr, $($rest:expr,)*) => {{
        let future = $head;
        $crate::__gather_bind!(@$kind ($($bound)* future) $($rest,)*)
    }};
    (@gather ($($bound:ident)*)) => {
        async move { $crate::__private::join!($($bound),*) }
    };
    (@try_gather ($($bound:ident)*)) => {
        async move { $crate::__private::try_join!($($bound),*) }
    };
}

/// Awaits every future of `futures` concurrently; the outputs come back in
/// input order (asyncio's `gather(*aws)`).
///
/// Linear time: one pass polls every future, allocating nothing per
/// future, so futures that are ready at once cost only that pass; futures
/// still pending then get a waker each and are polled again only when
/// woken.
///
/// A panic in one of the futures propagates out of the poll that ran it,
/// and ends the gather: polling it again panics (see [`GatherAll`]).
///
/// # Example
///
/// ```
/// eddy_core::run(async {
///     let tasks = (0..5).map(|i| eddy_core::spawn(async move { i * i }));
///     let squares: Vec<_> = eddy_core::task::gather_all(tasks).await;
///     let squares: Vec<u32> = squares.into_iter().map(Result::unwrap).collect();
///     assert_eq!(squares, [0, 1, 4, 9, 16]);
/// });
/// ```
pub fn gather_all<I>(futures: I) -> GatherAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    GatherAll {
        slots: Slots::new(futures),
        done: false,
    }
}

/// The future [`gather_all`] returns.
///
/// # Cancel safety
///
/// Dropping it drops every future and every output gathered so far.
///
/// # Panics
///
/// When a future it polls panics (the panic propagates), and when polled
/// again after that or after it returned its outputs.
///
/// # Example
///
/// ```
/// let gather: eddy_core::task::GatherAll<std::future::Ready<u8>> =
///     eddy_core::task::gather_all([std::future::ready(1), std::future::ready(2)]);
/// assert_eq!(eddy_core::run(gather), [1, 2]);
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct GatherAll<F: Future> {
    slots: Slots<F>,
    /// See [`poll_slots`].
    done: bool,
}

impl<F: Future> Future for GatherAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        // `Slots` is `Unpin` (its futures live in a pinned box).
        let this = self.get_mut();
        let slots = &mut this.slots;
        let all_done = |_, _: Pin<&mut MaybeDone<F>>| ControlFlow::<()>::Continue(());
        match poll_slots(&mut this.done, "gather_all", slots, cx, all_done) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => Poll::Ready(
                (0..slots.len())
                    .map(|i| {
                        slots
                            .slot(i)
                            .take_output()
                            .expect("every slot holds an output once all are done")
                    })
                    .collect(),
            ),
        }
    }
}

/// One pass of `slots` for the gather named `name`, guarded by `done`.
///
/// `done` is set for the length of the pass and stays set unless it ends
/// `Pending`: after the gather returned, or after a future panicked out of
/// a pass (which leaves the pass's bookkeeping half-updated: finished
/// outputs would be counted twice and waiting futures never woken), a
/// further poll panics naming the gather instead of hanging or returning
/// made-up outputs.
fn poll_slots<F: Future, B>(
    done: &mut bool,
    name: &str,
    slots: &mut Slots<F>,
    cx: &mut Context<'_>,
    on_done: impl FnMut(usize, Pin<&mut MaybeDone<F>>) -> ControlFlow<B>,
) -> Poll<Option<B>> {
    assert!(
        !*done,
        "{name} polled after completion (it returned, or a future it was polling panicked)"
    );
    *done = true;
    let out = slots.poll(cx, on_done);
    if out.is_pending() {
        *done = false;
    }
    out
}

impl<F: Future> fmt::Debug for GatherAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherAll")
            .field("len", &self.slots.len())
            .field("remaining", &self.slots.remaining())
            .finish()
    }
}

/// Like [`gather_all`] for futures returning `Result<T, E>`: the first
/// `Err` (in completion order) drops every other future at once and is
/// returned; otherwise `Ok` with every value in input order.
///
/// # Example
///
/// ```
/// eddy_core::run(async {
///     let all_ok = eddy_core::task::try_gather_all((1..=3).map(|i| async move { Ok::<_, String>(i) }));
///     assert_eq!(all_ok.await, Ok(vec![1, 2, 3]));
///     let one_bad = eddy_core::task::try_gather_all((1..=3).map(|i| async move {
///         if i == 2 { Err(format!("item {i} failed")) } else { Ok(i) }
///     }));
///     assert_eq!(one_bad.await, Err("item 2 failed".to_string()));
/// });
/// ```
pub fn try_gather_all<I, T, E>(futures: I) -> TryGatherAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    TryGatherAll {
        slots: Slots::new(futures),
        done: false,
    }
}

/// The future [`try_gather_all`] returns.
///
/// # Cancel safety
///
/// Dropping it drops every future and every value gathered so far.
///
/// # Panics
///
/// When a future it polls panics (the panic propagates), and when polled
/// again after that or after it returned.
///
/// # Example
///
/// ```
/// use std::future::{ready, Ready};
/// let gather: eddy_core::task::TryGatherAll<Ready<Result<u8, ()>>> =
///     eddy_core::task::try_gather_all([ready(Ok(1)), ready(Err(()))]);
/// assert_eq!(eddy_core::run(gather), Err(()));
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct TryGatherAll<F: Future> {
    slots: Slots<F>,
    /// See [`poll_slots`].
    done: bool,
}

impl<T, E, F: Future<Output = Result<T, E>>> Future for TryGatherAll<F> {
    type Output = Result<Vec<T>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Vec<T>, E>> {
        let this = self.get_mut();
        let first_err = |_, mut slot: Pin<&mut MaybeDone<F>>| {
            if matches!(slot.as_mut().output_mut(), Some(Err(_))) {
                match slot.take_output() {
                    Some(Err(e)) => return ControlFlow::Break(e),
                    _ => unreachable!("the output was just seen to be an Err"),
                }
            }
            ControlFlow::Continue(())
        };
        let slots = &mut this.slots;
        match poll_slots(&mut this.done, "try_gather_all", slots, cx, first_err) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(e)) => {
                // Drop the other futures now, not when this future is dropped.
                this.slots = Slots::new(std::iter::empty());
                Poll::Ready(Err(e))
            }
            Poll::Ready(None) => Poll::Ready(Ok((0..slots.len())
                .map(|i| match slots.slot(i).take_output() {
                    Some(Ok(v)) => v,
                    _ => unreachable!("every slot holds an Ok once all are done"),
                })
                .collect())),
        }
    }
}

impl<F: Future> fmt::Debug for TryGatherAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGatherAll")
            .field("len", &self.slots.len())
            .field("remaining", &self.slots.remaining())
            .finish()
    }
}
