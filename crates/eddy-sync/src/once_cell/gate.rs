//! The turn to initialise a [`OnceCell`]: the [`Gate`] behind the cell's
//! mutex (is the token taken, who waits), the [`Token`] its holder owns,
//! and the [`Claim`] future that waits for the token or the value.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::OnceCell;
use crate::budget::budgeted;
use crate::loom::{MutexGuard, Ordering};
use crate::waitlist::{Handoff, Registration, Stale, WaitList, WakeBatch};

/// Who may initialise, and who waits; behind the cell's mutex.
pub(crate) struct Gate {
    /// The token is taken: an initialiser is running, or a waiter was
    /// handed the token and has not run yet. While `false`, nobody waits.
    pub(super) busy: bool,
    /// Waiters, for the value or for the token. A node's data is `true`
    /// once it was handed the token.
    waiters: WaitList<bool>,
}

impl Gate {
    pub(super) const fn new() -> Self {
        Gate {
            busy: false,
            waiters: WaitList::new(),
        }
    }

    /// Passes the token to the first waiter, or back to the cell.
    fn hand_on(&mut self, wakers: &mut WakeBatch) {
        if self.waiters.is_empty() {
            self.busy = false;
        } else {
            wakers.push_opt(self.waiters.wake_front(|handed| *handed = true));
        }
    }
}

impl<T> Handoff for OnceCell<T> {
    type Data = bool;
    type State = Gate;

    fn lock_state(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock()
    }

    fn list(state: &mut Gate) -> &mut WaitList<bool> {
        &mut state.waiters
    }

    fn pass_on(
        &self,
        state: &mut Gate,
        handed: bool,
        woken: bool,
        wakers: &mut WakeBatch,
    ) -> Option<bool> {
        // A waiter woken for the value owes nobody anything; one handed the
        // token passes it on.
        if woken && handed {
            state.hand_on(wakers);
        }
        None
    }
}

/// The right to initialise. Dropped without [`fill`](Self::fill) (the
/// initialiser failed, panicked or was cancelled), it passes to the next
/// waiter.
pub(super) struct Token<'a, T> {
    pub(super) cell: &'a OnceCell<T>,
}

impl<'a, T> Token<'a, T> {
    /// Stores the value and wakes every waiter to read it.
    pub(super) fn fill(self, value: T) -> &'a T {
        let cell = self.cell;
        std::mem::forget(self); // the token is used up, not passed on
        cell.value.with_mut(|p| {
            // SAFETY: the token is held by one party at a time and `ready`
            // is clear, so nobody reads or writes the value meanwhile.
            unsafe { (*p).write(value) };
        });
        cell.ready.store(true, Ordering::Release);
        let mut wakers = WakeBatch::new();
        {
            let mut gate = cell.gate.lock();
            gate.busy = false;
            gate.waiters.wake_all(&mut wakers, |handed| *handed = false);
        }
        wakers.wake_all();
        cell.get().expect("the value was just stored")
    }
}

impl<T> Drop for Token<'_, T> {
    fn drop(&mut self) {
        let mut wakers = WakeBatch::new();
        self.cell.gate.lock().hand_on(&mut wakers);
        wakers.wake_all();
    }
}

/// Waits for the token (`Some`) or for the value to be set (`None`).
/// Dropped while handed the token, it passes it on.
pub(super) struct Claim<'a, T> {
    pub(super) cell: &'a OnceCell<T>,
    pub(super) reg: Registration,
}

impl<'a, T> Future for Claim<'a, T> {
    type Output = Option<Token<'a, T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Token<'a, T>>> {
        let this = self.get_mut();
        budgeted(cx, |cx| this.poll_claim(cx))
    }
}

impl<'a, T> Claim<'a, T> {
    fn poll_claim(&mut self, cx: &mut Context<'_>) -> Poll<Option<Token<'a, T>>> {
        let cell = self.cell;
        if !self.reg.is_registered() && cell.initialized() {
            return Poll::Ready(None);
        }
        let mut stale = Stale::new(); // dropped after the guard
        let mut gate = cell.gate.lock();
        if self.reg.is_registered() {
            return self
                .reg
                .poll_woken(&mut gate.waiters, cx.waker(), &mut stale)
                .map(|handed| handed.then(|| Token { cell }));
        }
        if cell.initialized() {
            return Poll::Ready(None);
        }
        if !gate.busy {
            gate.busy = true;
            return Poll::Ready(Some(Token { cell }));
        }
        self.reg.register(&mut gate.waiters, false, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Claim<'_, T> {
    fn drop(&mut self) {
        self.reg.cancel(self.cell);
    }
}
