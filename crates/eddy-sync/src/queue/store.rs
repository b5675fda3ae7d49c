//! Where a queue keeps its items, and so the order `get` returns them in:
//! [`Fifo`], [`Lifo`] or [`Smallest`] first.
//!
//! [`Smallest`] runs user code (`Ord::cmp`) that may panic. Its heap does
//! every comparison of an operation before it moves anything, so a panic
//! leaves the heap exactly as it was; the panic is caught and handed to the
//! queue (with the item being stored, if any) so that the queue can put
//! its counters right and release its lock before it resumes the panic.

use std::any::Any;
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The payload of a caught panic, to resume once the queue is consistent.
pub(crate) type Panic = Box<dyn Any + Send + 'static>;

/// How a queue stores its items and in which order `pop` returns them.
///
/// `push`, `pop` and `give_back` fail only when a user comparison panicked
/// (never for [`Fifo`] and [`Lifo`]); the store is then unchanged, and a
/// failed `push` / `give_back` hands the item back.
pub(crate) trait Store<T>: Default {
    /// Whether a put hands its item straight to a waiting getter. Only
    /// where that is the item the getter would pop when it runs and a
    /// dropped getter's item can go back without reordering: the mpsc
    /// channels' FIFO (getters wait only on an empty store, and the one
    /// receiver holds at most one handed item). The other stores keep the
    /// item and set one aside for the getter, which pops the oldest, newest
    /// or smallest then.
    const HANDS_OFF: bool;

    fn push(&mut self, item: T) -> Result<(), (T, Panic)>;
    fn pop(&mut self) -> Result<Option<T>, Panic>;
    fn len(&self) -> usize;
    /// Puts back an item that was popped (handed to a getter that was then
    /// dropped), so that it is the next one popped where the order allows.
    fn give_back(&mut self, item: T) -> Result<(), (T, Panic)>;
    fn take_all(&mut self) -> Vec<T>;
}

/// First in, first out. `HAND_OFF` is [`Store::HANDS_OFF`]: true for the
/// mpsc channels, whose one receiver can hold at most one handed item, so
/// an item it gives back goes to the front in order; false for asyncio's
/// `Queue` (see [`ClaimedFifo`]).
pub(crate) struct Fifo<T, const HAND_OFF: bool = true>(VecDeque<T>);
/// The FIFO store of asyncio's `Queue`: a woken getter pops the front item
/// when it runs instead of being handed one. With several getters a
/// hand-off could reorder items: getters handed 1 and 2, both dropped, the
/// first gives 1 back to the front, then the second gives 2 back in front
/// of it. Keeping items in the store until a getter runs keeps them in
/// put order whatever is cancelled, as asyncio's `Queue` does.
pub(crate) type ClaimedFifo<T> = Fifo<T, false>;
/// Last in, first out.
pub(crate) struct Lifo<T>(Vec<T>);
/// Smallest first: a binary min-heap in a `Vec`.
pub(crate) struct Smallest<T>(Vec<T>);

impl<T, const HAND_OFF: bool> Default for Fifo<T, HAND_OFF> {
    fn default() -> Self {
        Fifo(VecDeque::new())
    }
}
impl<T> Default for Lifo<T> {
    fn default() -> Self {
        Lifo(Vec::new())
    }
}
impl<T: Ord> Default for Smallest<T> {
    fn default() -> Self {
        Smallest(Vec::new())
    }
}

impl<T, const HAND_OFF: bool> Store<T> for Fifo<T, HAND_OFF> {
    const HANDS_OFF: bool = HAND_OFF;

    #[inline]
    fn push(&mut self, item: T) -> Result<(), (T, Panic)> {
        self.0.push_back(item);
        Ok(())
    }
    #[inline]
    fn pop(&mut self) -> Result<Option<T>, Panic> {
        Ok(self.0.pop_front())
    }
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
    fn give_back(&mut self, item: T) -> Result<(), (T, Panic)> {
        self.0.push_front(item);
        Ok(())
    }
    fn take_all(&mut self) -> Vec<T> {
        self.0.drain(..).collect()
    }
}

impl<T> Store<T> for Lifo<T> {
    const HANDS_OFF: bool = false;

    #[inline]
    fn push(&mut self, item: T) -> Result<(), (T, Panic)> {
        self.0.push(item);
        Ok(())
    }
    #[inline]
    fn pop(&mut self) -> Result<Option<T>, Panic> {
        Ok(self.0.pop())
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn give_back(&mut self, item: T) -> Result<(), (T, Panic)> {
        self.0.push(item);
        Ok(())
    }
    fn take_all(&mut self) -> Vec<T> {
        std::mem::take(&mut self.0)
    }
}

/// `a < b`.
#[inline]
fn less<T: Ord>(a: &T, b: &T) -> bool {
    a.cmp(b) == Ordering::Less
}

impl<T: Ord> Smallest<T> {
    /// Where `item` would settle if appended and sifted up: only compares.
    fn settle_up(&self, item: &T) -> usize {
        let mut pos = self.0.len();
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if !less(item, &self.0[parent]) {
                break;
            }
            pos = parent;
        }
        pos
    }

    /// Where the last item would settle if it replaced the root (which is
    /// being popped) and sifted down among the others: only compares.
    fn settle_down(&self) -> usize {
        let end = self.0.len() - 1; // the last item leaves its place
        let moved = &self.0[end];
        let mut hole = 0;
        loop {
            let mut child = 2 * hole + 1;
            if child >= end {
                return hole;
            }
            if child + 1 < end && less(&self.0[child + 1], &self.0[child]) {
                child += 1;
            }
            if !less(&self.0[child], moved) {
                return hole;
            }
            hole = child;
        }
    }

    /// Adds `item` at `pos`, an ancestor of the next free index (or that
    /// index itself), shifting the items on the path down one level. No
    /// comparison: cannot panic.
    fn insert_at(&mut self, item: T, pos: usize) {
        self.0.push(item);
        let mut i = self.0.len() - 1;
        while i > pos {
            let parent = (i - 1) / 2;
            self.0.swap(i, parent);
            i = parent;
        }
    }

    /// Removes the root, moving the last item to `pos` (a node other than
    /// the last) and the items on the path from the root to `pos` up one
    /// level. No comparison: cannot panic.
    fn remove_root(&mut self, pos: usize) -> T {
        let root = self.0.swap_remove(0);
        // The path from the root to `pos` is spelled by the bits of `pos +
        // 1` below its leading one (0: left child, 1: right child).
        let n = pos + 1;
        let depth = usize::BITS - 1 - n.leading_zeros();
        let mut cur = 0;
        for level in (0..depth).rev() {
            let next = (n >> level) - 1;
            self.0.swap(cur, next);
            cur = next;
        }
        root
    }

    /// Runs the comparisons of an operation, catching a panic.
    #[inline]
    fn compare<R>(&self, f: impl FnOnce(&Self) -> R) -> Result<R, Panic> {
        catch_unwind(AssertUnwindSafe(|| f(self)))
    }
}

impl<T: Ord> Store<T> for Smallest<T> {
    const HANDS_OFF: bool = false;

    fn push(&mut self, item: T) -> Result<(), (T, Panic)> {
        match self.compare(|heap| heap.settle_up(&item)) {
            Ok(pos) => {
                self.insert_at(item, pos);
                Ok(())
            }
            Err(panic) => Err((item, panic)),
        }
    }
    fn pop(&mut self) -> Result<Option<T>, Panic> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let pos = self.compare(Self::settle_down)?;
        Ok(Some(self.remove_root(pos)))
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn give_back(&mut self, item: T) -> Result<(), (T, Panic)> {
        self.push(item)
    }
    fn take_all(&mut self) -> Vec<T> {
        std::mem::take(&mut self.0)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn smallest_pops_in_order_under_mixed_pushes_and_pops() {
        let mut heap = Smallest::default();
        let mut model: Vec<u32> = Vec::new();
        let mut seed = 0x2545_f491_u32;
        for _ in 0..5000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let r = seed >> 16;
            if r.is_multiple_of(3) {
                let want = model.iter().copied().min();
                if let Some(m) = want {
                    model.remove(model.iter().position(|&x| x == m).unwrap());
                }
                assert_eq!(heap.pop().ok().unwrap(), want);
            } else {
                let v = r % 64;
                heap.push(v).ok().unwrap();
                model.push(v);
            }
            assert_eq!(heap.len(), model.len());
        }
        model.sort_unstable();
        let rest: Vec<u32> = std::iter::from_fn(|| heap.pop().ok().unwrap()).collect();
        assert_eq!(rest, model);
    }
}
