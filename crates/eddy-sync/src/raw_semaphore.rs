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
//!
//! # Tickets
//!
//! Each queued acquirer draws a ticket (counting up, in queueing order).
//! Waiters are served strictly from the front, so tickets are served in
//! increasing order; `served` holds the last ticket served in full. A
//! served waiter's node is removed from the list by the releaser that
//! served it, and the waiter learns of it from `served >= ticket` — one
//! atomic load, without the lock. Only a waiter still queued takes the lock
//! when polled (to refresh its waker) or dropped (to leave the list).
//! Dropping a served waiter that never ran gives its permits back through
//! [`RawSemaphore::release_locked`], to the next in line. Tickets wrap
//! around; they are compared by wrapping distance, which is exact while
//! every live ticket (queued, or served and not yet polled) is less than
//! `isize::MAX` tickets away from `served`. That distance counts tickets
//! drawn, not waiters (an acquire given up while queued leaves a gap): it
//! is the number of acquires that queued between the two tickets. 2^63 is
//! out of reach on 64-bit targets; on a 32-bit target, 2^31 acquires
//! queued and given up while nobody is served (one waiter first in line
//! all along), or while a served waiter is never polled, would break it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::budget::budgeted;
use crate::loom::{AtomicUsize, Mutex, Ordering};
use crate::waitlist::{Stale, WaitList, WakeBatch, NIL};

const WAITERS: usize = 1;
const SHIFT: usize = 1;

/// Largest number of permits a semaphore can hold.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

#[cold]
#[inline(never)]
fn overflow(n: usize) -> ! {
    panic!(
        "semaphore permit count overflow: releasing {n} permits would leave more than \
         MAX_PERMITS ({MAX_PERMITS}) free"
    )
}

/// What a queued acquirer wants.
#[derive(Debug)]
pub(crate) struct Want {
    /// Permits asked for.
    requested: usize,
    /// Permits still missing (`requested - remaining` were already granted).
    remaining: usize,
    /// Place in line (see "Tickets" above).
    ticket: usize,
}

/// The queue of acquirers, behind the semaphore's lock.
#[derive(Debug)]
pub(crate) struct Waiters {
    list: WaitList<Want>,
    /// The ticket the next queued acquirer gets.
    next_ticket: usize,
}

#[derive(Debug)]
pub(crate) struct RawSemaphore {
    state: AtomicUsize,
    /// The last ticket served in full. Written only with `waiters` locked.
    served: AtomicUsize,
    waiters: Mutex<Waiters>,
}

impl RawSemaphore {
    pub(crate) fn new(permits: usize) -> Self {
        assert!(
            permits <= MAX_PERMITS,
            "a semaphore holds at most {MAX_PERMITS} permits, got {permits}"
        );
        RawSemaphore {
            state: AtomicUsize::new(permits << SHIFT),
            served: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters {
                list: WaitList::new(),
                next_ticket: 1,
            }),
        }
    }

    /// Whether the waiter holding `ticket` has been served in full.
    #[inline]
    fn is_served(&self, ticket: usize) -> bool {
        // Wrapping distance: see "Tickets" in the module docs.
        (self.served.load(Ordering::Acquire).wrapping_sub(ticket) as isize) >= 0
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
            let mut waiters = self.waiters.lock();
            if n > MAX_PERMITS {
                // Refuse an overflow before serving anyone: a panic halfway
                // through `release_locked` would leave served waiters
                // unwoken and the WAITERS flag set over an empty list.
                // While waiters queue no permit is free, so what is left
                // after serving them all is what would overflow.
                let wanted = waiters
                    .list
                    .queued()
                    .fold(0usize, |sum, w| sum.saturating_add(w.remaining));
                if n - n.min(wanted) > MAX_PERMITS {
                    overflow(n);
                }
            }
            self.release_locked(&mut waiters.list, n, &mut wakers);
        }
        wakers.wake_all();
    }

    /// The counter word with `n` more permits. Panics, before anything
    /// changed, if that is more than [`MAX_PERMITS`].
    fn checked_add(cur: usize, n: usize) -> usize {
        let permits = (cur >> SHIFT).checked_add(n);
        match permits {
            Some(p) if p <= MAX_PERMITS => (p << SHIFT) | (cur & WAITERS),
            _ => overflow(n),
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
                let (want, waker) = list.pop_front().expect("front exists");
                // Release: the waiter's `is_served` load sees everything the
                // releasers did before handing over the permits.
                self.served.store(want.ticket, Ordering::Release);
                wakers.push_opt(waker);
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

    /// Polls an acquisition of `n` permits from `place` in line.
    #[inline]
    fn poll_acquire(&self, place: &mut Place, n: usize, cx: &mut Context<'_>) -> Poll<()> {
        if place.key == NIL {
            if n == 0 || self.try_acquire(n) {
                return Poll::Ready(());
            }
            return self.register_slow(place, n, cx);
        }
        if self.is_served(place.ticket) {
            place.key = NIL;
            return Poll::Ready(());
        }
        // Before the guard: a replaced waker is dropped after unlocking.
        let mut stale = Stale::new();
        let mut waiters = self.waiters.lock();
        // `served` only moves under the lock: this answer is final.
        if self.is_served(place.ticket) {
            place.key = NIL;
            return Poll::Ready(());
        }
        waiters
            .list
            .refresh_waker(place.key, cx.waker(), &mut stale);
        Poll::Pending
    }

    /// Leaves the line: a served acquirer gives all `n` permits back, a
    /// queued one whatever part it was granted; either way to the waiters
    /// behind it first.
    fn cancel(&self, place: &Place, n: usize) {
        let mut stale = Stale::new();
        let mut wakers = WakeBatch::new();
        {
            let mut waiters = self.waiters.lock();
            let give_back = if self.is_served(place.ticket) {
                n
            } else {
                let (want, _) = waiters.list.remove(place.key, &mut stale);
                want.requested - want.remaining
            };
            // Always run: removing the last queued waiter must clear the
            // WAITERS flag even when it held nothing.
            self.release_locked(&mut waiters.list, give_back, &mut wakers);
        }
        wakers.wake_all();
        drop(stale);
    }

    #[cold]
    fn register_slow(&self, place: &mut Place, n: usize, cx: &mut Context<'_>) -> Poll<()> {
        // Clone the waker before touching the state: a clone that panics
        // must not leave free permits taken by nobody, or the WAITERS flag
        // set over an empty list.
        let waker = cx.waker().clone();
        let mut waiters = self.waiters.lock();
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
        place.ticket = waiters.next_ticket;
        waiters.next_ticket = waiters.next_ticket.wrapping_add(1);
        place.key = waiters.list.push_back(
            Want {
                requested: n,
                remaining: n - taken,
                ticket: place.ticket,
            },
            waker,
        );
        Poll::Pending
    }

    /// A future that acquires `n` permits.
    #[inline]
    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        Acquire {
            sem: self,
            n,
            place: Place {
                key: NIL,
                ticket: 0,
            },
        }
    }
}

/// Future of [`RawSemaphore::acquire`]. Dropping it before it completes
/// returns every permit it was granted to the waiters behind it.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub(crate) struct Acquire<'a> {
    sem: &'a RawSemaphore,
    n: usize,
    place: Place,
}

/// An acquirer's place in line.
#[derive(Debug)]
struct Place {
    /// Its node in the waiter list, or `NIL` before it queued / once served.
    key: usize,
    /// Its ticket, valid while `key != NIL`.
    ticket: usize,
}

impl Future for Acquire<'_> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // The budget is asked before anything is looked at: a refused poll
        // of a served waiter leaves its permits with it (its drop passes
        // them on, as for a waiter that never ran).
        budgeted(cx, |cx| this.sem.poll_acquire(&mut this.place, this.n, cx))
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if self.place.key != NIL {
            self.sem.cancel(&self.place, self.n);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use futures::task::noop_waker;
    use std::pin::pin;

    #[test]
    fn tickets_keep_fifo_order_across_wrap_around() {
        let sem = RawSemaphore::new(0);
        sem.served.store(usize::MAX - 2, Ordering::Relaxed);
        sem.waiters.lock().next_ticket = usize::MAX - 1;
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        // Tickets MAX-1, MAX, 0, 1: the queue straddles the wrap.
        let mut a = pin!(sem.acquire(1));
        let mut b = pin!(sem.acquire(1));
        let mut c = pin!(sem.acquire(1));
        let mut d = pin!(sem.acquire(1));
        for f in [a.as_mut(), b.as_mut(), c.as_mut(), d.as_mut()] {
            assert!(f.poll(&mut cx).is_pending());
        }
        sem.release(2);
        assert!(a.as_mut().poll(&mut cx).is_ready());
        assert!(b.as_mut().poll(&mut cx).is_ready());
        assert!(
            c.as_mut().poll(&mut cx).is_pending(),
            "ticket 0 is not served yet"
        );
        sem.release(1);
        assert!(c.as_mut().poll(&mut cx).is_ready());
        assert!(d.as_mut().poll(&mut cx).is_pending());
        sem.release(1);
        assert!(d.as_mut().poll(&mut cx).is_ready());
        sem.release(1);
        assert_eq!(sem.available(), 1);
    }

    #[test]
    fn a_served_waiter_dropped_before_it_ran_passes_its_permits_on() {
        let sem = RawSemaphore::new(0);
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut next = pin!(sem.acquire(2));
        {
            let mut first = pin!(sem.acquire(2));
            assert!(first.as_mut().poll(&mut cx).is_pending());
            assert!(next.as_mut().poll(&mut cx).is_pending());
            sem.release(2); // serves `first`, which never runs
        }
        assert!(next.as_mut().poll(&mut cx).is_ready());
        assert_eq!(sem.available(), 0);
    }
}
