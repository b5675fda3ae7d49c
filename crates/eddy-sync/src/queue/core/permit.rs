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
    /// Slots a reservation of `n` can take right now, with the lock held:
    /// none while putters are in line (they come first), else the free
    /// ones, plus the credit taken back if that is what it takes.
    fn room_for(&self, st: &mut super::State<T, S>, n: usize) -> usize {
        if !st.putters.is_empty() {
            return 0;
        }
        let free = st.maxsize - Self::taken(st);
        if free < n && self.reclaim_credit(st) {
            free + 1
        } else {
            free
        }
    }

    /// Takes `n` free slots as permits without waiting: all of them or
    /// none. Refused when shut down or when fewer are free (reserved
    /// slots are not free).
    pub(crate) fn try_reserve(&self, n: usize) -> Result<(), PutRefused<()>> {
        if n == 1 && self.take_credit() {
            return Ok(());
        }
        let mut st = self.state.lock();
        if st.shut_down {
            Err(PutRefused::ShutDown(()))
        } else if n > 0 && self.room_for(&mut st, n) < n {
            Err(PutRefused::Full(()))
        } else {
            st.permits += n;
            self.refill_credit(&mut st);
            Ok(())
        }
    }

    /// Polls for `n` permits (all or none), waiting in line with the
    /// putters. `Err` once the queue is shut down.
    ///
    /// A reservation of several that cannot have them all at once takes
    /// the free slots it finds (in `reserved`, as the first in line) and
    /// waits for the rest: freed slots go to it until it has them all, so
    /// nobody behind it overtakes it. A registration dropped while it
    /// waits is cancelled through [`Putters`](super::Putters), which gives
    /// every slot it held (gathered or granted) to the next in line.
    pub(crate) fn poll_reserve(
        &self,
        reg: &mut Registration,
        n: usize,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ()>> {
        // A waiting reservation was served reserved slots (the credit is
        // not set while it waits); a new one tries the credit first.
        if n == 1 && !reg.is_registered() && self.take_credit() {
            return Poll::Ready(Ok(()));
        }
        let mut stale = Stale::new(); // dropped after the guard
        let mut st = self.state.lock();
        let granted = if reg.is_registered() {
            match reg.poll_woken(&mut st.putters, cx.waker(), &mut stale) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(turn) => {
                    // Refused holds nothing; Granted holds them all.
                    let held = turn.held();
                    debug_assert!(held == 0 || held == n);
                    // The slots held for us become the permits' (or, shut
                    // down, nobody's: no putter waits after a shutdown).
                    st.reserved -= held;
                    held == n
                }
            }
        } else {
            n == 0
        };
        if st.shut_down {
            return Poll::Ready(Err(()));
        }
        if granted {
            st.permits += n;
            self.refill_credit(&mut st);
            return Poll::Ready(Ok(()));
        }
        let room = self.room_for(&mut st, n);
        if room >= n {
            st.permits += n;
            self.refill_credit(&mut st);
            return Poll::Ready(Ok(()));
        }
        // Not enough: wait, holding what there is (only possible with
        // nobody in line, so this one is first). Registered first: a waker
        // clone that panics must leave nothing held.
        reg.register(
            &mut st.putters,
            PutTurn::Waiting {
                want: n,
                held: room,
            },
            cx.waker(),
        );
        st.reserved += room;
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

    /// Gives `n` permits' unused slots back: to the waiting putters, so
    /// no capacity and no wakeup is lost.
    pub(crate) fn release_permits(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut wakers = WakeBatch::new();
        {
            let mut st = self.state.lock();
            debug_assert!(st.permits >= n, "a permit was released twice");
            st.permits -= n;
            Self::grant_slots(&mut st, n, &mut wakers);
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
