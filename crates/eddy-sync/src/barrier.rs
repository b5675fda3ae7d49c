//! [`Barrier`]: asyncio's `Barrier`, a rendezvous for a fixed number of tasks.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::budget::budgeted;
use crate::loom::{Mutex, MutexGuard};
use crate::waitlist::{Handoff, Registration, Stale, WaitList, WakeBatch};

/// Lets `parties` tasks wait for each other (asyncio's `Barrier`).
///
/// Each [`wait`](Self::wait) blocks until `parties` tasks are waiting; then
/// all of them return, each with a distinct index in `0..parties` (in
/// arrival order; the task that completes the group gets `parties - 1`),
/// and the barrier is ready for the next round.
///
/// [`abort`](Self::abort) breaks the barrier: current and future waiters get
/// [`BrokenBarrier`] until [`reset`](Self::reset). A waiter that is
/// cancelled before the group is complete leaves it (it no longer counts).
///
/// # Examples
///
/// ```
/// use eddy_sync::Barrier;
/// # futures::executor::block_on(async {
/// let b = Barrier::new(3);
/// let (x, y, z) = futures::join!(b.wait(), b.wait(), b.wait());
/// let mut idx = [x.unwrap(), y.unwrap(), z.unwrap()];
/// idx.sort();
/// assert_eq!(idx, [0, 1, 2]);
/// # });
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<BarrierState>,
}

pub(crate) struct BarrierState {
    /// Tasks waiting in this round, in arrival order.
    list: WaitList<Outcome>,
    /// Set by `abort`, cleared by `reset`.
    broken: bool,
}

/// What a waiter was told when woken.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome {
    Waiting,
    Passed(usize),
    Broken,
}

/// The barrier was aborted (or reset while this task waited).
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let b = eddy_sync::Barrier::new(2);
/// b.abort();
/// assert_eq!(b.wait().await, Err(eddy_sync::BrokenBarrier));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenBarrier;

impl fmt::Display for BrokenBarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("barrier is broken (aborted or reset while waiting); call reset() to reuse it")
    }
}

impl std::error::Error for BrokenBarrier {}

impl Barrier {
    /// A barrier for `parties` tasks.
    ///
    /// # Panics
    ///
    /// If `parties` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(eddy_sync::Barrier::new(4).parties(), 4);
    /// ```
    pub fn new(parties: usize) -> Self {
        assert!(parties > 0, "Barrier::new: parties must be at least 1");
        Barrier {
            parties,
            state: Mutex::new(BarrierState {
                list: WaitList::new(),
                broken: false,
            }),
        }
    }

    /// Number of tasks that pass together.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(eddy_sync::Barrier::new(2).parties(), 2);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// Tasks waiting in the current round.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(eddy_sync::Barrier::new(2).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.state.lock().list.len()
    }

    /// `true` after [`abort`](Self::abort), until [`reset`](Self::reset).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = eddy_sync::Barrier::new(2);
    /// b.abort();
    /// assert!(b.is_broken());
    /// b.reset();
    /// assert!(!b.is_broken());
    /// ```
    pub fn is_broken(&self) -> bool {
        self.state.lock().broken
    }

    /// Waits until `parties` tasks wait, then returns this task's index.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrier`] if the barrier is broken, or is aborted or reset
    /// while this task waits.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropped before the round completes, the task leaves the
    /// round (others keep waiting for a full group); dropped after, it owes
    /// nothing (the others were released together with it).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let b = eddy_sync::Barrier::new(1);
    /// assert_eq!(b.wait().await, Ok(0));
    /// # });
    /// ```
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            reg: Registration::new(),
        }
    }

    /// Breaks the barrier: every waiter gets [`BrokenBarrier`], and so does
    /// every later `wait` until [`reset`](Self::reset).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let b = eddy_sync::Barrier::new(2);
    /// let w = b.wait();
    /// let abort = async { b.abort() };
    /// let (r, ()) = futures::join!(w, abort);
    /// assert!(r.is_err());
    /// # });
    /// ```
    pub fn abort(&self) {
        let mut wakers = WakeBatch::new();
        {
            let mut st = self.state.lock();
            st.broken = true;
            st.list.wake_all(&mut wakers, |o| *o = Outcome::Broken);
        }
        wakers.wake_all();
    }

    /// Returns the barrier to its empty, unbroken state. Tasks waiting right
    /// now get [`BrokenBarrier`] (as in asyncio).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let b = eddy_sync::Barrier::new(1);
    /// b.abort();
    /// b.reset();
    /// assert_eq!(b.wait().await, Ok(0));
    /// # });
    /// ```
    pub fn reset(&self) {
        let mut wakers = WakeBatch::new();
        {
            let mut st = self.state.lock();
            st.broken = false;
            st.list.wake_all(&mut wakers, |o| *o = Outcome::Broken);
        }
        wakers.wake_all();
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &st.list.len())
            .field("broken", &st.broken)
            .finish()
    }
}

impl Handoff for Barrier {
    type Data = Outcome;
    type State = BarrierState;

    fn lock_state(&self) -> MutexGuard<'_, BarrierState> {
        self.state.lock()
    }

    fn list(state: &mut BarrierState) -> &mut WaitList<Outcome> {
        &mut state.list
    }

    fn pass_on(
        &self,
        _: &mut BarrierState,
        _: Outcome,
        _: bool,
        _: &mut WakeBatch,
    ) -> Option<Outcome> {
        // Queued: leaving the list already took it out of the count.
        // Woken: the whole round was released together; nothing is owed.
        None
    }
}

/// Future of [`Barrier::wait`].
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let b = eddy_sync::Barrier::new(1);
/// let w: eddy_sync::BarrierWait<'_> = b.wait();
/// assert_eq!(w.await, Ok(0));
/// # });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    reg: Registration,
}

impl Future for BarrierWait<'_> {
    type Output = Result<usize, BrokenBarrier>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        budgeted(cx, |cx| self.get_mut().poll_wait(cx))
    }
}

impl BarrierWait<'_> {
    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<Result<usize, BrokenBarrier>> {
        let this = self;
        let mut stale = Stale::new(); // dropped after the guard
        let mut wakers = WakeBatch::new();
        let out = {
            let mut st = this.barrier.state.lock();
            if this.reg.is_registered() {
                match this.reg.poll_woken(&mut st.list, cx.waker(), &mut stale) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Outcome::Passed(i)) => Ok(i),
                    Poll::Ready(_) => Err(BrokenBarrier),
                }
            } else if st.broken {
                Err(BrokenBarrier)
            } else if st.list.len() + 1 == this.barrier.parties {
                // This task completes the group: release the round, indices
                // in arrival order.
                let mut next = 0;
                st.list.wake_all(&mut wakers, |o| {
                    *o = Outcome::Passed(next);
                    next += 1;
                });
                Ok(next)
            } else {
                this.reg
                    .register(&mut st.list, Outcome::Waiting, cx.waker());
                return Poll::Pending;
            }
        };
        wakers.wake_all();
        Poll::Ready(out)
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        self.reg.cancel(self.barrier);
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait").finish_non_exhaustive()
    }
}
