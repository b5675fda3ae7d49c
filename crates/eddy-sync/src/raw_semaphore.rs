//! The FIFO counting semaphore under [`Mutex`](crate::Mutex),
//! [`RwLock`](crate::RwLock), [`Semaphore`](crate::Semaphore) and
//! [`BoundedSemaphore`](crate::BoundedSemaphore).
//!
//! # State
//!
//! One `AtomicUsize`: `permits << 1 | WAITERS`.
//!
//! - `permits`: permits free for the taking.
//! - `WAITERS` (bit 0): the waiter list is not empty. Set and cleared only
//!   with the list's lock held. While it is set, `permits` is 0: a waiter
//!   that queues takes every free permit first (a partial grant), and a
//!   release hands its permits to the waiters at the front before anything
//!   goes back to the counter. So nobody can jump the queue, and while the
//!   bit is set the word only changes under the lock.
//!
//! Uncontended `acquire` and `release` are one compare-and-swap each and
//! never touch the lock.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::loom::{AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::waitlist::{Handoff, Registration, WaitList, WakeBatch};

const WAITERS: usize = 1;
const SHIFT: usize = 1;

/// Largest number of permits a semaphore can hold.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

/// What a queued acquirer wants.
#[derive(Debug)]
pub(crate) struct Want {
    /// Permits asked for.
    requested: usize,
    /// Permits still missing (`requested - remaining` were already granted).
    remaining: usize,
}

#[derive(Debug)]
pub(crate) struct RawSemaphore {
    state: AtomicUsize,
    waiters: Mutex<WaitList<Want>>,
}

impl RawSemaphore {
    pub(crate) fn new(permits: usize) -> Self {
        assert!(
            permits <= MAX_PERMITS,
            "a semaphore holds at most {MAX_PERMITS} permits, got {permits}"
        );
        RawSemaphore {
            state: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// Free permits right now.
    pub(crate) fn available(&self) -> usize {
        self.state.load(Ordering::Acquire) >> SHIFT
    }

    /// Takes `n` permits if they are free and nobody is waiting.
    #[inline]
    pub(crate) fn try_acquire(&self, n: usize) -> bool {
        let mut cur = self.state.load(Ordering::Relaxed);
        loop {
            if cur & WAITERS != 0 || (cur >> SHIFT) < n {
                return false;
            }
            match self.state.compare_exchange_weak(
                cur,
                cur - (n << SHIFT),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Returns `n` permits: to the waiters at the front first, the rest to
    /// the counter.
    #[inline]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut cur = self.state.load(Ordering::Relaxed);
        while cur & WAITERS == 0 {
            let new = Self::checked_add(cur, n);
            match self
                .state
                .compare_exchange_weak(cur, new, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        self.release_slow(n);
    }

    #[cold]
    fn release_slow(&self, n: usize) {
        let mut wakers = WakeBatch::new();
        {
            let mut list = self.waiters.lock();
            self.release_locked(&mut list, n, &mut wakers);
        }
        wakers.wake_all();
    }

    fn checked_add(cur: usize, n: usize) -> usize {
        let permits = (cur >> SHIFT).checked_add(n);
        match permits {
            Some(p) if p <= MAX_PERMITS => (p << SHIFT) | (cur & WAITERS),
            _ => panic!("semaphore permit count overflow (more than {MAX_PERMITS} permits)"),
        }
    }

    /// Distributes `n` permits with the list locked.
    fn release_locked(&self, list: &mut WaitList<Want>, mut n: usize, wakers: &mut WakeBatch) {
        while n > 0 {
            let Some(front) = list.front_mut() else { break };
            let give = n.min(front.remaining);
            front.remaining -= give;
            n -= give;
            if front.remaining == 0 {
                wakers.push_opt(list.wake_front(|_| {}));
            } else {
                break;
            }
        }
        if list.is_empty() {
            // Nobody waits: clear the flag and put the rest in the counter.
            // With the flag clear, fast paths may race us, hence the loop.
            let mut cur = self.state.load(Ordering::Relaxed);
            loop {
                let new = Self::checked_add(cur, n) & !WAITERS;
                match self.state.compare_exchange_weak(
                    cur,
                    new,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => break,
                    Err(actual) => cur = actual,
                }
            }
        } else {
            debug_assert_eq!(n, 0, "permits left over while a waiter still needs some");
        }
    }

    /// Polls an acquisition of `n` permits held in `reg`.
    #[inline]
    pub(crate) fn poll_acquire(
        &self,
        reg: &mut Registration,
        n: usize,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        if !reg.is_registered() {
            if n == 0 || self.try_acquire(n) {
                return Poll::Ready(());
            }
            return self.register_slow(reg, n, cx);
        }
        let mut list = self.waiters.lock();
        reg.poll_woken(&mut list, cx.waker()).map(|_| ())
    }

    #[cold]
    fn register_slow(&self, reg: &mut Registration, n: usize, cx: &mut Context<'_>) -> Poll<()> {
        let mut list = self.waiters.lock();
        // Take every free permit (all of them go to us: we are last in line
        // only if the list is empty, otherwise there are none).
        let mut cur = self.state.load(Ordering::Acquire);
        let taken = loop {
            if cur & WAITERS != 0 {
                // Others wait already: no free permits, flag already set.
                break 0;
            }
            let free = cur >> SHIFT;
            if free >= n {
                match self.state.compare_exchange_weak(
                    cur,
                    cur - (n << SHIFT),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return Poll::Ready(()),
                    Err(actual) => {
                        cur = actual;
                        continue;
                    }
                }
            }
            match self.state.compare_exchange_weak(
                cur,
                WAITERS,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break free,
                Err(actual) => cur = actual,
            }
        };
        reg.register(
            &mut list,
            Want {
                requested: n,
                remaining: n - taken,
            },
            cx.waker(),
        );
        Poll::Pending
    }

    /// A future that acquires `n` permits.
    #[inline]
    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        Acquire {
            sem: self,
            n,
            reg: Registration::new(),
        }
    }
}

impl Handoff for RawSemaphore {
    type Data = Want;
    type State = WaitList<Want>;

    fn lock_state(&self) -> MutexGuard<'_, WaitList<Want>> {
        self.waiters.lock()
    }

    fn list(state: &mut WaitList<Want>) -> &mut WaitList<Want> {
        state
    }

    fn pass_on(
        &self,
        list: &mut WaitList<Want>,
        want: Want,
        _woken: bool,
        wakers: &mut WakeBatch,
    ) -> Option<Want> {
        // Whatever was granted (all of it if woken, part of it if queued)
        // goes to the next in line. Always run: removing the last queued
        // waiter must clear the WAITERS flag even when it held nothing.
        self.release_locked(list, want.requested - want.remaining, wakers);
        None
    }
}

/// Future of [`RawSemaphore::acquire`]. Dropping it before it completes
/// returns every permit it was granted to the waiters behind it.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub(crate) struct Acquire<'a> {
    sem: &'a RawSemaphore,
    n: usize,
    reg: Registration,
}

impl Future for Acquire<'_> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.sem.poll_acquire(&mut this.reg, this.n, cx)
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        self.reg.cancel(self.sem);
    }
}
