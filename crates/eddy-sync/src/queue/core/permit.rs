//! Permits: a slot taken before its item exists (tokio's `Sender::reserve`
//! and `Permit`), for the [`mpsc`](crate::mpsc) channel.
//!
//! A permit is a putter that moved on without its item: waiting for room
//! is a put's wait (same FIFO of putters, same reserved-slot hand-off, so
//! a dropped reserve passes its slot on like a dropped put), and once it
//! has a slot that slot counts in `permits` until [`QueueCore::send_permit`]
//! moves an item into it or [`QueueCore::release_permit`] gives it back
//! to the first waiting putter.
//!
//! After a shutdown that was not immediate (the receiver closed, the
//! senders gone), an outstanding permit still delivers: getters keep
//! waiting on an empty store while one is out, and the last one to go
//! wakes them if the store is still empty. After an immediate shutdown
//! (the receiver dropped) its item is dropped, outside the lock.
//!
//! **The credit.** A reservation costs a lock round trip, and so does the
//! permit's send: about 11 ns a message more than a plain send, which
//! takes the lock once. So each permit operation that leaves room behind
//! (a granted reservation, a permit's send, a permit dropped unused)
//! prepays the next reservation: one more slot goes into `permits` and the
//! core's `credit` flag is set. The next `try_reserve` or `reserve` takes
//! that slot with one compare-and-swap and no lock; a producer looping on
//! `reserve` + `send` then takes the lock once per message, in `send`.
//!
//! The credit never costs anyone room or a turn: it is set only under the
//! lock, while no putter waits and the queue is not shut down; a put or a
//! reservation that finds the queue full takes it back first (so putters
//! queue only when it is gone, and it is not set again while they wait);
//! `shutdown` takes it back, so a reservation that wins it afterwards
//! cannot exist (one that won it before holds a permit taken before the
//! shutdown, as if it had taken the lock first). `free_slots` counts it
//! as free.

use std::task::{Context, Poll};

use super::{Caught, PutRefused, PutTurn, QueueCore, Store};
use crate::loom::Ordering;
use crate::waitlist::{Registration, Stale, WakeBatch};

impl<T, S: Store<T>> QueueCore<T, S> {
    /// Takes a free slot as a permit without waiting. Refused when shut
    /// down or when no slot is free (reserved slots are not free).
    pub(crate) fn try_reserve(&self) -> Result<(), PutRefused<()>> {
        if self.take_credit() {
            return Ok(());
        }
        let mut st = self.state.lock();
        if st.shut_down {
            Err(PutRefused::ShutDown(()))
        } else if !self.has_room(&mut st) {
            Err(PutRefused::Full(()))
        } else {
            st.permits += 1;
            self.refill_credit(&mut st);
            Ok(())
        }
    }

    /// Polls for a permit, waiting in line with the putters. `Err` once
    /// the queue is shut down. A registration dropped while pending is
    /// cancelled through [`Putters`](super::Putters), which passes on a
    /// slot it was granted.
    pub(crate) fn poll_reserve(
        &self,
        reg: &mut Registration,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ()>> {
        // A waiting reservation was served a reserved slot (the credit is
        // not set while it waits); a new one tries the credit first.
        if !reg.is_registered() && self.take_credit() {
            return Poll::Ready(Ok(()));
        }
        let mut stale = Stale::new(); // dropped after the guard
        let mut st = self.state.lock();
        let turn = if reg.is_registered() {
            match reg.poll_woken(&mut st.putters, cx.waker(), &mut stale) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(turn) => turn,
            }
        } else {
            PutTurn::Waiting
        };
        if turn == PutTurn::Slot {
            // The slot held for us becomes the permit's (or, shut down,
            // nobody's: no putter waits after a shutdown).
            st.reserved -= 1;
        }
        if st.shut_down {
            return Poll::Ready(Err(()));
        }
        if turn == PutTurn::Slot || self.has_room(&mut st) {
            st.permits += 1;
            self.refill_credit(&mut st);
            return Poll::Ready(Ok(()));
        }
        reg.register(&mut st.putters, PutTurn::Waiting, cx.waker());
        Poll::Pending
    }

    /// Moves `item` into a permit's slot: to the first getter, or into
    /// the store. Dropped instead after an immediate shutdown.
    pub(crate) fn send_permit(&self, item: T) {
        let mut caught = Caught::new(); // these three drop after the guard
        let mut wakers = WakeBatch::new();
        let mut discarded = None;
        {
            let mut st = self.state.lock();
            debug_assert!(st.permits > 0, "a permit was used twice");
            st.permits -= 1;
            if st.discard {
                discarded = Some(item);
            } else if let Err((item, panic)) = Self::accept(&mut st, item, &mut wakers) {
                // Not stored (only a user `Ord` panics): the slot is free
                // again, for the next putter in line.
                Self::grant_slot(&mut st, &mut wakers);
                caught.set(Some(item), panic);
            }
            self.refill_credit(&mut st);
            Self::wake_getters_if_ended(&mut st, &mut wakers);
        }
        wakers.wake_all();
        drop(discarded);
        caught.resume();
    }

    /// Gives a permit's unused slot back: to the first waiting putter, so
    /// no capacity and no wakeup is lost.
    pub(crate) fn release_permit(&self) {
        let mut wakers = WakeBatch::new();
        {
            let mut st = self.state.lock();
            debug_assert!(st.permits > 0, "a permit was released twice");
            st.permits -= 1;
            Self::grant_slot(&mut st, &mut wakers);
            self.refill_credit(&mut st);
            Self::wake_getters_if_ended(&mut st, &mut wakers);
        }
        wakers.wake_all();
    }

    /// Prepays the next reservation (see the module docs) if there is
    /// room, no putter waits, the queue is open and no credit is set.
    #[inline]
    fn refill_credit(&self, st: &mut super::State<T, S>) {
        if st.shut_down
            || !st.putters.is_empty()
            || Self::taken(st) >= st.maxsize
            || self.credit.load(Ordering::Relaxed)
        {
            return;
        }
        // Only lock holders set the flag, so it stays clear until this
        // store; the slot is counted before the flag offers it.
        st.permits += 1;
        self.credit.store(true, Ordering::Release);
    }

    /// After the last permit of a shut-down queue went, getters still
    /// waiting (on an empty store: the invariant) learn that nothing more
    /// will come.
    fn wake_getters_if_ended(st: &mut super::State<T, S>, wakers: &mut WakeBatch) {
        if Self::ended(st) {
            st.getters.wake_all(wakers, |_| {});
        }
    }
}
