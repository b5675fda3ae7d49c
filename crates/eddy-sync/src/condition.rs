//! [`Condition<T>`]: asyncio's `Condition`, bound to its own [`Mutex`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::loom::{Mutex as StateMutex, MutexGuard as StateGuard};
use crate::mutex::{Lock, Mutex, MutexGuard};
use crate::waitlist::{Handoff, Registration, Stale, WaitList, WakeBatch};

/// A condition variable bound to a [`Mutex<T>`] it owns (asyncio's
/// `Condition`, whose lock is part of it).
///
/// Lock with [`lock`](Self::lock); [`wait`](Self::wait) takes the guard,
/// releases the lock while waiting for a notification, and hands the guard
/// back once it holds the lock again. [`notify`](Self::notify) and
/// [`notify_all`](Self::notify_all) wake waiters in FIFO order. As in
/// asyncio, notify while holding the lock: a waiter is registered before it
/// releases the lock, so a notifier holding the lock never misses it.
///
/// # Examples
///
/// ```
/// use eddy_sync::Condition;
/// use std::sync::Arc;
/// # futures::executor::block_on(async {
/// let cond = Arc::new(Condition::new(false));
/// let c2 = cond.clone();
/// let waiter = async move {
///     let ready = c2.wait_for(c2.lock().await, |ready| *ready).await;
///     assert!(*ready);
/// };
/// let setter = async {
///     *cond.lock().await = true;
///     cond.notify_all();
/// };
/// futures::join!(waiter, setter);
/// # });
/// ```
pub struct Condition<T> {
    mutex: Mutex<T>,
    /// Tasks waiting for a notification, in FIFO order.
    waiters: StateMutex<WaitList<()>>,
}

impl<T> Condition<T> {
    /// A condition whose lock protects `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = eddy_sync::Condition::new(Vec::<u8>::new());
    /// # drop(cond);
    /// ```
    pub fn new(value: T) -> Self {
        Condition {
            mutex: Mutex::new(value),
            waiters: StateMutex::new(WaitList::new()),
        }
    }

    /// The lock of this condition.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = eddy_sync::Condition::new(1);
    /// assert_eq!(*cond.mutex().try_lock().unwrap(), 1);
    /// ```
    pub fn mutex(&self) -> &Mutex<T> {
        &self.mutex
    }

    /// Waits for the lock (same as `self.mutex().lock()`).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, like [`Mutex::lock`].
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let cond = eddy_sync::Condition::new(0);
    /// *cond.lock().await += 1;
    /// # });
    /// ```
    pub fn lock(&self) -> Lock<'_, T> {
        self.mutex.lock()
    }

    /// Releases the lock held by `guard`, waits to be notified, then takes
    /// the lock again and returns the guard.
    ///
    /// # Panics
    ///
    /// If `guard` belongs to another mutex than [`self.mutex()`](Self::mutex).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe in the sense that nothing is lost: if the future is
    /// dropped after it was notified (while waiting for the notification to
    /// be seen, or while re-taking the lock), the notification passes to the
    /// next waiter, and a lock already handed to it passes on too. The guard
    /// moved into the future is gone with it: after cancellation the caller
    /// holds no lock (call [`lock`](Self::lock) to take it again); the
    /// mutex is never left locked by a dropped `wait`.
    ///
    /// Why this differs on paper from asyncio, which re-acquires the lock
    /// when a waiting task is cancelled: asyncio must, because the caller's
    /// `async with lock:` block still exits and releases it. Here the guard
    /// was moved into the future, so the scope that would release it is the
    /// future itself; re-acquiring in `drop` would need to block. The state
    /// after cancellation is the same as asyncio's after the `async with`
    /// block unwinds: lock free, nothing owed to anyone lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let cond = eddy_sync::Condition::new(0);
    /// let g = cond.lock().await;
    /// let w = cond.wait(g);
    /// let n = async { cond.notify(1) };
    /// let (g, ()) = futures::join!(w, n);
    /// assert_eq!(*g, 0);
    /// # });
    /// ```
    pub fn wait<'a>(&'a self, guard: MutexGuard<'a, T>) -> ConditionWait<'a, T> {
        assert!(
            std::ptr::eq(guard.mutex, &self.mutex),
            "Condition::wait: the guard belongs to another mutex than this condition's"
        );
        ConditionWait {
            cond: self,
            state: WaitState::Start(Some(guard)),
        }
    }

    /// Waits until `predicate` returns `true` for the protected value,
    /// checking it first and then after every notification, always with the
    /// lock held. Returns the guard.
    ///
    /// # Panics
    ///
    /// If `guard` belongs to another mutex than [`self.mutex()`](Self::mutex).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe like [`wait`](Self::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let cond = eddy_sync::Condition::new(3);
    /// let g = cond.wait_for(cond.lock().await, |v| *v == 3).await;
    /// assert_eq!(*g, 3);
    /// # });
    /// ```
    pub async fn wait_for<'a, F>(
        &'a self,
        mut guard: MutexGuard<'a, T>,
        mut predicate: F,
    ) -> MutexGuard<'a, T>
    where
        F: FnMut(&mut T) -> bool,
    {
        while !predicate(&mut guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes up to `n` waiters, longest-waiting first.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = eddy_sync::Condition::new(());
    /// cond.notify(2); // nobody waits: nothing happens
    /// ```
    pub fn notify(&self, n: usize) {
        let mut wakers = WakeBatch::new();
        {
            let mut list = self.waiters.lock();
            for _ in 0..n {
                match list.wake_front(|_| {}) {
                    Some(w) => wakers.push(w),
                    None => break,
                }
            }
        }
        wakers.wake_all();
    }

    /// Wakes every waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = eddy_sync::Condition::new(());
    /// cond.notify_all();
    /// ```
    pub fn notify_all(&self) {
        let mut wakers = WakeBatch::new();
        self.waiters.lock().wake_all(&mut wakers, |_| {});
        wakers.wake_all();
    }

    /// Tasks currently waiting for a notification.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(eddy_sync::Condition::new(()).waiting(), 0);
    /// ```
    pub fn waiting(&self) -> usize {
        self.waiters.lock().len()
    }
}

impl<T: fmt::Debug> fmt::Debug for Condition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("mutex", &self.mutex)
            .finish_non_exhaustive()
    }
}

impl<T> Handoff for Condition<T> {
    type Data = ();
    type State = WaitList<()>;

    fn lock_state(&self) -> StateGuard<'_, WaitList<()>> {
        self.waiters.lock()
    }

    fn list(state: &mut WaitList<()>) -> &mut WaitList<()> {
        state
    }

    fn pass_on(
        &self,
        list: &mut WaitList<()>,
        _: (),
        woken: bool,
        wakers: &mut WakeBatch,
    ) -> Option<()> {
        if woken {
            // Notified but never returned: the notification is someone's.
            wakers.push_opt(list.wake_front(|_| {}));
        }
        None
    }
}

enum WaitState<'a, T> {
    /// Not polled yet: still holds the caller's guard.
    Start(Option<MutexGuard<'a, T>>),
    /// Registered, lock released, waiting for a notification.
    Waiting(Registration),
    /// Notified; taking the lock again.
    Locking(Lock<'a, T>),
    /// Returned the guard.
    Done,
}

/// Future of [`Condition::wait`].
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let cond = eddy_sync::Condition::new(());
/// let g = cond.lock().await;
/// let w: eddy_sync::ConditionWait<'_, ()> = cond.wait(g);
/// cond.notify(1); // not yet registered: this notify is not for `w`
/// drop(w);        // gives the lock back
/// assert!(cond.mutex().try_lock().is_ok());
/// # });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct ConditionWait<'a, T> {
    cond: &'a Condition<T>,
    state: WaitState<'a, T>,
}

impl<'a, T> Future for ConditionWait<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                WaitState::Start(guard) => {
                    let mut reg = Registration::new();
                    reg.register(&mut this.cond.waiters.lock(), (), cx.waker());
                    // Registered first, released second: a notifier holding
                    // the lock cannot slip in between.
                    drop(guard.take());
                    this.state = WaitState::Waiting(reg);
                    return Poll::Pending;
                }
                WaitState::Waiting(reg) => {
                    let mut stale = Stale::new(); // dropped after the guard
                    let mut list = this.cond.waiters.lock();
                    if reg
                        .poll_woken(&mut list, cx.waker(), &mut stale)
                        .is_pending()
                    {
                        return Poll::Pending;
                    }
                    drop(list);
                    this.state = WaitState::Locking(this.cond.mutex.lock());
                }
                WaitState::Locking(lock) => {
                    let guard = std::task::ready!(Pin::new(lock).poll(cx));
                    this.state = WaitState::Done;
                    return Poll::Ready(guard);
                }
                WaitState::Done => panic!("ConditionWait polled after completion"),
            }
        }
    }
}

impl<T> Drop for ConditionWait<'_, T> {
    fn drop(&mut self) {
        match &mut self.state {
            WaitState::Waiting(reg) => reg.cancel(self.cond),
            WaitState::Locking(_) => {
                // Notified, but the caller will never see it: pass it on.
                // (Dropping the `Lock` future passes the lock on as well.)
                self.cond.notify(1);
            }
            WaitState::Start(_) | WaitState::Done => {}
        }
    }
}

impl<T> fmt::Debug for ConditionWait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionWait").finish_non_exhaustive()
    }
}
