//! [`TaskGroup::run`]: a group with a body, as asyncio's
//! `async with TaskGroup() as tg:` block — a child's failure cancels the
//! body as well as the other children.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

use super::super::group_error::ErrorGroup;
use super::super::group_shared::Status;
use super::TaskGroup;

impl<E: 'static> TaskGroup<E> {
    /// Runs `body` as the group's body, then joins the children: asyncio's
    /// `async with TaskGroup() as tg:` block. The body spawns children
    /// through a [`Spawner`](super::Spawner) taken before the call. If a
    /// child fails while the body runs, the body is cancelled (dropped at
    /// its current await, its destructors run) together with the other
    /// children, as asyncio cancels the task running the `async with`
    /// block. Without `run`, a failure cancels only the children: code
    /// between `spawn` and [`join`](TaskGroup::join) runs on.
    ///
    /// Returns the body's value when the body finished and no child failed.
    ///
    /// # Errors
    ///
    /// An [`ErrorGroup`] with every `Err` the children returned, as
    /// [`join`](TaskGroup::join); the body's value (if it finished before
    /// a child failed) is dropped.
    ///
    /// # Panics
    ///
    /// Resumes the first child panic after the body and the siblings are
    /// dropped, as `join` does. A panic in the body propagates from this
    /// call; the group is dropped while it unwinds, which cancels every
    /// child.
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future drops the body and the group, which
    /// cancels every child (see [`TaskGroup`] for when they are dropped),
    /// as dropping [`join`](TaskGroup::join)'s future does.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::task::TaskGroup;
    /// eddy_core::run(async {
    ///     let group = TaskGroup::new();
    ///     let tg = group.spawner();
    ///     let result = group
    ///         .run(async move {
    ///             tg.spawn(async { Err::<(), _>("fetch failed") }).unwrap();
    ///             // Cancelled by the child's failure: never returns.
    ///             std::future::pending::<()>().await;
    ///         })
    ///         .await;
    ///     let errors = result.unwrap_err();
    ///     assert_eq!(errors.iter().collect::<Vec<_>>(), [&"fetch failed"]);
    /// });
    /// ```
    pub async fn run<T>(self, body: impl Future<Output = T>) -> Result<T, ErrorGroup<E>> {
        let mut body = pin!(Some(body));
        let value = std::future::poll_fn(|cx| {
            let mut inner = self.shared.inner.borrow_mut();
            if inner.status == Status::Failed {
                inner.body_waker = None;
                drop(inner);
                // Dropped here, before the group is joined: its
                // destructors see the group failed.
                body.set(None);
                return Poll::Ready(None);
            }
            match &mut inner.body_waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            // The body may spawn into the group or look at it.
            drop(inner);
            let Some(running) = body.as_mut().as_pin_mut() else {
                unreachable!("the body is polled only until it finishes or is dropped");
            };
            match running.poll(cx) {
                Poll::Ready(v) => {
                    body.set(None);
                    self.shared.inner.borrow_mut().body_waker = None;
                    Poll::Ready(Some(v))
                }
                Poll::Pending => Poll::Pending,
            }
        })
        .await;
        let joined = self.join().await;
        match (joined, value) {
            (Ok(()), Some(v)) => Ok(v),
            (Err(errors), _) => Err(errors),
            // The body is dropped only once the group failed, and a failed
            // group's join returns its errors or resumes its panic.
            (Ok(()), None) => unreachable!("a failed TaskGroup joined without a failure"),
        }
    }
}
