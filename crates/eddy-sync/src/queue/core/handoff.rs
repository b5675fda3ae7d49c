//! The queue's four waiter lists seen as [`Handoff`]s: what a dropped
//! waiter passes on (a getter's item, a putter's reserved slot; joiners
//! and closers hold nothing).

use std::cell::Cell;
use std::panic::resume_unwind;

use super::{GetTurn, Panic, PutTurn, QueueCore, State, Store};
use crate::loom::MutexGuard;
use crate::waitlist::{Handoff, Registration, WaitList, WakeBatch};

/// Declares a [`Handoff`] view of one of the queue's waiter lists.
macro_rules! side {
    ($(#[$doc:meta])* $name:ident, $field:ident, $data:ty) => {
        $(#[$doc])*
        pub(crate) struct $name<'a, T, S>(pub(crate) &'a QueueCore<T, S>);
        side!(@impl $name, $field, $data);
    };
    (@impl $name:ident, $field:ident, $data:ty) => {
        impl<T, S: Store<T>> Handoff for $name<'_, T, S> {
            type Data = $data;
            type State = State<T, S>;

            fn lock_state(&self) -> MutexGuard<'_, State<T, S>> {
                self.core().state.lock()
            }

            fn list(state: &mut State<T, S>) -> &mut WaitList<$data> {
                &mut state.$field
            }

            fn pass_on(
                &self,
                state: &mut State<T, S>,
                data: $data,
                woken: bool,
                wakers: &mut WakeBatch,
            ) -> Option<$data> {
                self.give_back(state, data, woken, wakers)
            }
        }
    };
}

/// Getters: a getter dropped after it was handed an item passes the item
/// to the next getter, or puts it back in front of the store (the item
/// never left the queue's count, so this never overfills it); one dropped
/// with a claim on a stored item passes the claim on the same way.
///
/// Putting an item back compares items in a store whose `give_back` can
/// panic (none of today's: only a FIFO store hands items off). If that
/// panics, the item is dropped (after the lock is released) and counted
/// done, and its slot goes to the next putter: the queue stays consistent.
/// The panic then goes on from the getter's drop, unless the thread is
/// already panicking (a second panic would abort).
pub(crate) struct Getters<'a, T, S> {
    core: &'a QueueCore<T, S>,
    /// A panic caught while putting an item back, resumed by `cancel`.
    caught: Cell<Option<Panic>>,
}
side!(@impl Getters, getters, GetTurn<T>);

impl<'a, T, S: Store<T>> Getters<'a, T, S> {
    /// Drops a getter's place in line (if it holds one), passing on an item
    /// it was handed.
    #[inline]
    pub(crate) fn cancel(core: &'a QueueCore<T, S>, reg: &mut Registration) {
        if !reg.is_registered() {
            return;
        }
        let getters = Getters {
            core,
            caught: Cell::new(None),
        };
        reg.cancel(&getters);
        if let Some(panic) = getters.caught.take() {
            if !std::thread::panicking() {
                resume_unwind(panic);
            }
        }
    }
}
side!(
    /// Putters: a dropped putter's item dies with its future (it was never
    /// accepted); reserved slots it held go to the next putters.
    Putters, putters, PutTurn
);
side!(
    /// Tasks in `join`: nothing to pass on (all are woken together).
    Joiners, joiners, ()
);
side!(
    /// Tasks waiting for shutdown: nothing to pass on.
    Closers, closers, ()
);

impl<T, S: Store<T>> Getters<'_, T, S> {
    fn core(&self) -> &QueueCore<T, S> {
        self.core
    }

    fn give_back(
        &self,
        st: &mut State<T, S>,
        turn: GetTurn<T>,
        _woken: bool,
        wakers: &mut WakeBatch,
    ) -> Option<GetTurn<T>> {
        let item = match turn {
            GetTurn::Empty => return None,
            GetTurn::Claim => {
                QueueCore::<T, S>::pass_claim(st, wakers);
                return None;
            }
            GetTurn::Item(item) => item,
        };
        if !st.getters.is_empty() {
            wakers.push_opt(st.getters.wake_front(|t| *t = GetTurn::Item(item)));
            return None;
        }
        st.handed -= 1;
        let (item, panic) = st.items.give_back(item).err()?;
        // The comparison panicked: the item leaves the queue. It is done
        // (as with `shutdown(true)`), and its slot is free. `task_done` may
        // already have been called for it (only the count is checked, as
        // in asyncio), so the count may be 0: it stays there.
        st.unfinished = st.unfinished.saturating_sub(1);
        if st.unfinished == 0 {
            st.joiners.wake_all(wakers, |_| {});
        }
        QueueCore::<T, S>::grant_slot(st, wakers);
        self.caught.set(Some(panic));
        // Dropped by `Registration::cancel` once the lock is released.
        Some(GetTurn::Item(item))
    }
}

/// The core of a one-field side.
macro_rules! core_of {
    ($($name:ident),*) => {$(
        impl<T, S> $name<'_, T, S> {
            fn core(&self) -> &QueueCore<T, S> {
                self.0
            }
        }
    )*};
}
core_of!(Putters, Joiners, Closers);

impl<T, S: Store<T>> Putters<'_, T, S> {
    fn give_back(
        &self,
        st: &mut State<T, S>,
        turn: PutTurn,
        _woken: bool,
        wakers: &mut WakeBatch,
    ) -> Option<PutTurn> {
        // Slots it was woken with, or (first in line, waiting for more
        // than one) slots it had gathered so far.
        QueueCore::<T, S>::return_slots(st, turn.held(), wakers);
        None
    }
}

impl<T, S: Store<T>> Joiners<'_, T, S> {
    fn give_back(&self, _: &mut State<T, S>, _: (), _: bool, _: &mut WakeBatch) -> Option<()> {
        None
    }
}

impl<T, S: Store<T>> Closers<'_, T, S> {
    fn give_back(&self, _: &mut State<T, S>, _: (), _: bool, _: &mut WakeBatch) -> Option<()> {
        None
    }
}
