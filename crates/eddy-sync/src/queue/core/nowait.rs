//! The operations of [`QueueCore`] that never wait: `try_put`, `try_get`
//! and the receiver form that may hold a place in line.

use super::*;

impl<T, S: Store<T>> QueueCore<T, S> {
    /// Puts without waiting.
    #[inline]
    pub(crate) fn try_put(&self, item: T) -> Result<(), PutRefused<T>> {
        let mut caught = Caught::new();
        let mut wakers = WakeBatch::new();
        let r = {
            let mut st = self.state.lock();
            if st.shut_down {
                Err(PutRefused::ShutDown(item))
            } else {
                match self.offer(&mut st, item, &mut wakers) {
                    Ok(()) => Ok(()),
                    Err(Refusal::Full(item)) => Err(PutRefused::Full(item)),
                    Err(Refusal::Panicked(item, panic)) => {
                        caught.set(Some(item), panic);
                        Ok(())
                    }
                }
            }
        };
        wakers.wake_all();
        caught.resume();
        r
    }

    /// Gets without waiting.
    #[inline]
    pub(crate) fn try_get(&self) -> Result<T, GetRefused> {
        let mut caught = Caught::<T>::new();
        let mut wakers = WakeBatch::new();
        let r = {
            let mut st = self.state.lock();
            let got = Self::take(&mut st, &mut wakers);
            Self::settle_try_get(&st, got, &mut caught)
        };
        wakers.wake_all();
        caught.resume();
        r
    }

    /// Gets without waiting, for a getter that may hold a place in line
    /// (a channel receiver keeps its place between `recv`s): collects an
    /// item handed to that place, or tries the store if it holds none. A
    /// place still queued stays queued with the waker it has, so a task
    /// whose last poll went `Pending` is still woken; the store is empty
    /// then (getters queue only on an empty store).
    #[inline]
    pub(crate) fn try_get_placed(&self, reg: &mut Registration) -> Result<T, GetRefused> {
        if !reg.is_registered() {
            return self.try_get();
        }
        let mut caught = Caught::<T>::new();
        let mut wakers = WakeBatch::new();
        let r = {
            let mut st = self.state.lock();
            match reg.take_woken(&mut st.getters) {
                None => Err(GetRefused::Empty),
                Some(turn) => {
                    let got = Self::collect_turn(&mut st, turn, &mut wakers);
                    Self::settle_try_get(&st, got, &mut caught)
                }
            }
        };
        wakers.wake_all();
        caught.resume();
        r
    }

    /// What a get that does not wait answers, given what it found: the
    /// item, `ShutDown` once the queue is shut down and drained, else
    /// `Empty`. A panic of the store's comparison is kept in `caught`, to
    /// resume once the lock is released.
    #[inline]
    fn settle_try_get(
        st: &State<T, S>,
        got: Result<Option<T>, Panic>,
        caught: &mut Caught<T>,
    ) -> Result<T, GetRefused> {
        match got {
            Ok(Some(v)) => Ok(v),
            Ok(None) if Self::drained(st) => Err(GetRefused::ShutDown),
            Ok(None) => Err(GetRefused::Empty),
            Err(panic) => {
                caught.set(None, panic);
                Err(GetRefused::Empty)
            }
        }
    }
}
