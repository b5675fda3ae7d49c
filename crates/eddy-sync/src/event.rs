//! [`Event`]: asyncio's `Event`, a flag tasks can wait on.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::budget::budgeted;
use crate::loom::{AtomicBool, Mutex, MutexGuard, Ordering};
use crate::waitlist::{Handoff, Registration, Stale, WaitList, WakeBatch};

/// A flag that tasks can wait on (asyncio's `Event`).
///
/// [`set`](Self::set) wakes every task waiting at that moment; they all
/// return, even if the flag is [`clear`](Self::clear)ed again before they
/// run. While the flag is set, [`wait`](Self::wait) returns at once.
///
/// # Examples
///
/// ```
/// use eddy_sync::Event;
/// # futures::executor::block_on(async {
/// let ev = Event::new();
/// assert!(!ev.is_set());
/// ev.set();
/// ev.wait().await;
/// ev.clear();
/// assert!(!ev.is_set());
/// # });
/// ```
pub struct Event {
    /// The flag. Set before the waiters are taken under the lock, read under
    /// the lock before queueing, so a waiter either sees it or is woken.
    set: AtomicBool,
    list: Mutex<WaitList<()>>,
}

impl Event {
    /// A new event, not set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!eddy_sync::Event::new().is_set());
    /// ```
    pub fn new() -> Self {
        Event {
            set: AtomicBool::new(false),
            list: Mutex::new(WaitList::new()),
        }
    }

    /// `true` while the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = eddy_sync::Event::new();
    /// ev.set();
    /// assert!(ev.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }

    /// Sets the flag and wakes every waiting task.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let ev = eddy_sync::Event::new();
    /// let w = ev.wait();
    /// ev.set();
    /// w.await;
    /// # });
    /// ```
    pub fn set(&self) {
        if self.set.swap(true, Ordering::AcqRel) {
            return; // already set: nobody can be waiting
        }
        let mut wakers = WakeBatch::new();
        self.list.lock().wake_all(&mut wakers, |_| {});
        wakers.wake_all();
    }

    /// Clears the flag; later `wait`s block until the next `set`.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = eddy_sync::Event::new();
    /// ev.set();
    /// ev.clear();
    /// assert!(!ev.is_set());
    /// ```
    pub fn clear(&self) {
        self.set.store(false, Ordering::Release);
    }

    /// Waits until the flag is set (returns at once if it is).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: `set` wakes every waiter, so a dropped waiter owes
    /// nobody anything.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let ev = eddy_sync::Event::new();
    /// ev.set();
    /// ev.wait().await;
    /// # });
    /// ```
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            reg: Registration::new(),
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}

impl Handoff for Event {
    type Data = ();
    type State = WaitList<()>;

    fn lock_state(&self) -> MutexGuard<'_, WaitList<()>> {
        self.list.lock()
    }

    fn list(state: &mut WaitList<()>) -> &mut WaitList<()> {
        state
    }

    fn pass_on(&self, _: &mut WaitList<()>, _: (), _: bool, _: &mut WakeBatch) -> Option<()> {
        // A set wakes everyone: nothing is owed to anybody else.
        None
    }
}

/// Future of [`Event::wait`].
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let ev = eddy_sync::Event::new();
/// ev.set();
/// let w: eddy_sync::EventWait<'_> = ev.wait();
/// w.await;
/// # });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct EventWait<'a> {
    event: &'a Event,
    reg: Registration,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        budgeted(cx, |cx| self.get_mut().poll_wait(cx))
    }
}

impl EventWait<'_> {
    #[inline]
    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let this = self;
        if !this.reg.is_registered() && this.event.is_set() {
            return Poll::Ready(());
        }
        let mut stale = Stale::new(); // dropped after the guard
        let mut list = this.event.list.lock();
        if this.reg.is_registered() {
            return this.reg.poll_woken(&mut list, cx.waker(), &mut stale);
        }
        if this.event.is_set() {
            return Poll::Ready(());
        }
        this.reg.register(&mut list, (), cx.waker());
        Poll::Pending
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        self.reg.cancel(self.event);
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait").finish_non_exhaustive()
    }
}
