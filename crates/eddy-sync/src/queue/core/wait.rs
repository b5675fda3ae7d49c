//! The waiting side of [`QueueCore`]: polling a put, a get (one item or
//! several), `join` and `closed`, `task_done`, and `shutdown`. The
//! bookkeeping they share (offer, accept, grant, collect) is in `mod.rs`.

use std::task::{Context, Poll};

use super::*;

impl<T, S: Store<T>> QueueCore<T, S> {
    /// Polls a put of `item` (which stays in the future until accepted).
    /// `Err` hands the item back after a shutdown.
    pub(crate) fn poll_put(
        &self,
        reg: &mut Registration,
        item: &mut Option<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), T>> {
        let mut caught = Caught::new(); // these three drop after the guard
        let mut stale = Stale::new();
        let mut wakers = WakeBatch::new();
        let r = {
            let mut st = self.state.lock();
            // Polled first: a waker clone that panics in there must leave
            // the item in the future, not drop it under the lock.
            let turn = if reg.is_registered() {
                match reg.poll_woken(&mut st.putters, cx.waker(), &mut stale) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(turn) => turn,
                }
            } else {
                PutTurn::wants(1)
            };
            let v = item.take().expect("put polled after completion");
            let granted = turn == PutTurn::Granted(1);
            if granted {
                // Our reserved slot becomes ordinary room for `offer`.
                st.reserved -= 1;
            }
            if st.shut_down {
                Err(v)
            } else if granted {
                // The slot was held for us: nobody else could fill it.
                debug_assert!(Self::taken(&st) < st.maxsize);
                if let Err((v, panic)) = Self::accept(&mut st, v, &mut wakers) {
                    // Not stored: the slot is free again, for the next
                    // putter in line.
                    Self::grant_slot(&mut st, &mut wakers);
                    caught.set(Some(v), panic);
                }
                Ok(())
            } else {
                match self.offer(&mut st, v, &mut wakers) {
                    Ok(()) => Ok(()),
                    Err(Refusal::Full(v)) => {
                        *item = Some(v);
                        reg.register(&mut st.putters, PutTurn::wants(1), cx.waker());
                        return Poll::Pending;
                    }
                    Err(Refusal::Panicked(v, panic)) => {
                        caught.set(Some(v), panic);
                        Ok(())
                    }
                }
            }
        };
        wakers.wake_all();
        caught.resume();
        Poll::Ready(r)
    }

    /// Polls a get; `Err(())` once the queue is shut down and drained.
    #[inline]
    pub(crate) fn poll_get(
        &self,
        reg: &mut Registration,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, ()>> {
        let mut caught = Caught::<T>::new(); // these three drop after the guard
        let mut stale = Stale::new();
        let mut wakers = WakeBatch::new();
        let r = {
            let mut st = self.state.lock();
            let turn = if reg.is_registered() {
                match reg.poll_woken(&mut st.getters, cx.waker(), &mut stale) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(turn) => turn,
                }
            } else {
                GetTurn::Empty
            };
            // Woken empty-handed by the shutdown, a getter looks at the
            // store again: an item may be back since (a getter that was
            // handed one was dropped), and asyncio's getter re-checks the
            // queue, failing only once it is empty.
            match Self::collect_turn(&mut st, turn, &mut wakers) {
                Ok(Some(v)) => Ok(v),
                Ok(None) if Self::drained(&st) => Err(()),
                Ok(None) => {
                    reg.register(&mut st.getters, GetTurn::Empty, cx.waker());
                    return Poll::Pending;
                }
                Err(panic) => {
                    caught.set(None, panic);
                    Err(())
                }
            }
        };
        wakers.wake_all();
        caught.resume();
        Poll::Ready(r)
    }

    /// Polls a batch get into `buf` (up to `limit` items, at least one
    /// unless shut down and drained: then 0).
    pub(crate) fn poll_get_many(
        &self,
        reg: &mut Registration,
        buf: &mut Vec<T>,
        limit: usize,
        cx: &mut Context<'_>,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        let mut caught = Caught::<T>::new(); // these three drop after the guard
        let mut stale = Stale::new();
        let mut wakers = WakeBatch::new();
        let n = {
            let mut st = self.state.lock();
            let mut n = 0;
            if reg.is_registered() {
                let turn = match reg.poll_woken(&mut st.getters, cx.waker(), &mut stale) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(turn) => turn,
                };
                // Woken empty-handed: the store decides (see `poll_get`).
                if !matches!(turn, GetTurn::Empty) {
                    match Self::collect_turn(&mut st, turn, &mut wakers) {
                        Ok(Some(v)) => {
                            buf.push(v);
                            n = 1;
                        }
                        Ok(None) => {}
                        Err(panic) => caught.set(None, panic),
                    }
                }
            }
            while n < limit && !caught.is_set() {
                match Self::take(&mut st, &mut wakers) {
                    Ok(Some(v)) => {
                        buf.push(v);
                        n += 1;
                    }
                    Ok(None) => break,
                    Err(panic) => {
                        // Only a user `Ord` panics (no channel has one); the
                        // items already taken stay in `buf`.
                        caught.set(None, panic);
                        break;
                    }
                }
            }
            if n == 0 && !Self::drained(&st) && !caught.is_set() {
                reg.register(&mut st.getters, GetTurn::Empty, cx.waker());
                return Poll::Pending;
            }
            n
        };
        wakers.wake_all();
        caught.resume();
        Poll::Ready(n)
    }

    /// Marks one item done; `false` when none was outstanding.
    pub(crate) fn task_done(&self) -> bool {
        let mut wakers = WakeBatch::new();
        {
            let mut st = self.state.lock();
            if st.unfinished == 0 {
                return false;
            }
            st.unfinished -= 1;
            if st.unfinished == 0 {
                st.joiners.wake_all(&mut wakers, |_| {});
            }
        }
        wakers.wake_all();
        true
    }

    pub(crate) fn poll_join(&self, reg: &mut Registration, cx: &mut Context<'_>) -> Poll<()> {
        let mut stale = Stale::new(); // dropped after the guard
        let mut st = self.state.lock();
        if reg.is_registered() {
            return reg.poll_woken(&mut st.joiners, cx.waker(), &mut stale);
        }
        if st.unfinished == 0 {
            return Poll::Ready(());
        }
        reg.register(&mut st.joiners, (), cx.waker());
        Poll::Pending
    }

    pub(crate) fn poll_closed(&self, reg: &mut Registration, cx: &mut Context<'_>) -> Poll<()> {
        let mut stale = Stale::new(); // dropped after the guard
        let mut st = self.state.lock();
        if reg.is_registered() {
            return reg.poll_woken(&mut st.closers, cx.waker(), &mut stale);
        }
        if st.shut_down {
            return Poll::Ready(());
        }
        reg.register(&mut st.closers, (), cx.waker());
        Poll::Pending
    }

    /// Shuts the queue down: puts fail from now on; gets drain what is
    /// stored, then fail. With `immediate`, the items in the queue (stored,
    /// or handed to getters that have not run yet) are dropped (and counted
    /// as done) so gets fail at once. Every waiter is woken.
    pub(crate) fn shutdown(&self, immediate: bool) {
        let mut wakers = WakeBatch::new();
        let dropped;
        {
            let mut st = self.state.lock();
            st.shut_down = true;
            st.discard |= immediate;
            // Nobody may reserve from now on; a reservation that took the
            // credit before this holds a permit taken before the shutdown.
            self.reclaim_credit(&mut st);
            dropped = if immediate {
                let mut dropped = st.items.take_all();
                // Items handed to getters that have not run yet are still
                // in the queue (`len` counts them): asyncio drains them
                // too, and those getters find the queue shut down. Claims
                // were on stored items, gone now.
                let (mut handed, mut claimed) = (0, 0);
                for turn in st.getters.woken_mut() {
                    match std::mem::replace(turn, GetTurn::Empty) {
                        GetTurn::Item(item) => {
                            handed += 1;
                            dropped.push(item);
                        }
                        GetTurn::Claim => claimed += 1,
                        GetTurn::Empty => {}
                    }
                }
                st.handed -= handed;
                st.claimed -= claimed;
                debug_assert_eq!(st.claimed, 0, "every claim is a woken getter's");
                dropped
            } else {
                Vec::new()
            };
            st.unfinished = st.unfinished.saturating_sub(dropped.len() as u64);
            if st.unfinished == 0 {
                st.joiners.wake_all(&mut wakers, |_| {});
            }
            // Queued putters fail, and what the first held goes free;
            // putters holding reserved slots see the shutdown when they
            // run and fail too.
            let mut held = 0;
            st.putters.wake_all(&mut wakers, |turn| {
                held += turn.held();
                *turn = PutTurn::Refused;
            });
            st.reserved -= held;
            // Getters only wait while no stored item is free for them:
            // nothing more will come, unless a permit may still bring an
            // item (the last one to go wakes them, see `permit.rs`) or a
            // woken getter holding an item or a claim is dropped and gives
            // it back (the last one of those to be collected wakes them).
            Self::wake_getters_if_drained(&mut st, &mut wakers);
            st.closers.wake_all(&mut wakers, |_| {});
        }
        wakers.wake_all();
        drop(dropped);
    }
}
