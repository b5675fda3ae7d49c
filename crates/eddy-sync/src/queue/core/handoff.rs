//! The queue's four waiter lists seen as [`Handoff`]s: what a dropped
//! waiter passes on (a getter's item, a putter's reserved slot; joiners
//! and closers hold nothing).

use super::{PutTurn, QueueCore, State, Store};
use crate::loom::MutexGuard;
use crate::waitlist::{Handoff, WaitList, WakeBatch};

/// Declares a [`Handoff`] view of one of the queue's waiter lists.
macro_rules! side {
    ($(#[$doc:meta])* $name:ident, $field:ident, $data:ty) => {
        $(#[$doc])*
        pub(crate) struct $name<'a, T, S>(pub(crate) &'a QueueCore<T, S>);

        impl<T, S: Store<T>> Handoff for $name<'_, T, S> {
            type Data = $data;
            type State = State<T, S>;

            fn lock_state(&self) -> MutexGuard<'_, State<T, S>> {
                self.0.state.lock()
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
                Self::give_back(state, data, woken, wakers)
            }
        }
    };
}

side!(
    /// Getters: a getter dropped after it was handed an item passes the item
    /// to the next getter, or puts it back in front of the store (the item
    /// never left the queue's count, so this never overfills it).
    Getters, getters, Option<T>
);
side!(
    /// Putters: a dropped putter's item dies with its future (it was never
    /// accepted); a reserved slot it held goes to the next putter.
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
    fn give_back(
        st: &mut State<T, S>,
        slot: Option<T>,
        _woken: bool,
        wakers: &mut WakeBatch,
    ) -> Option<Option<T>> {
        if let Some(item) = slot {
            if st.getters.is_empty() {
                st.handed -= 1;
                st.items.give_back(item);
            } else {
                wakers.push_opt(st.getters.wake_front(|s| *s = Some(item)));
            }
        }
        None
    }
}

impl<T, S: Store<T>> Putters<'_, T, S> {
    fn give_back(
        st: &mut State<T, S>,
        turn: PutTurn,
        _woken: bool,
        wakers: &mut WakeBatch,
    ) -> Option<PutTurn> {
        if turn == PutTurn::Slot {
            st.reserved -= 1;
            QueueCore::<T, S>::grant_slot(st, wakers);
        }
        None
    }
}

impl<T, S: Store<T>> Joiners<'_, T, S> {
    fn give_back(_: &mut State<T, S>, _: (), _: bool, _: &mut WakeBatch) -> Option<()> {
        None
    }
}

impl<T, S: Store<T>> Closers<'_, T, S> {
    fn give_back(_: &mut State<T, S>, _: (), _: bool, _: &mut WakeBatch) -> Option<()> {
        None
    }
}
