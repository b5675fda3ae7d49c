//! Where a queue keeps its items, and so the order `get` returns them in:
//! [`Fifo`], [`Lifo`] or [`Smallest`] first.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// How a queue stores its items and in which order `pop` returns them.
pub(crate) trait Store<T>: Default {
    fn push(&mut self, item: T);
    fn pop(&mut self) -> Option<T>;
    fn len(&self) -> usize;
    /// Puts back an item that was popped (handed to a getter that was then
    /// dropped), so that it is the next one popped where the order allows.
    fn give_back(&mut self, item: T);
    fn take_all(&mut self) -> Vec<T>;
}

/// First in, first out.
pub(crate) struct Fifo<T>(VecDeque<T>);
/// Last in, first out.
pub(crate) struct Lifo<T>(Vec<T>);
/// Smallest first.
pub(crate) struct Smallest<T>(BinaryHeap<Reverse<T>>);

impl<T> Default for Fifo<T> {
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
        Smallest(BinaryHeap::new())
    }
}

impl<T> Store<T> for Fifo<T> {
    #[inline]
    fn push(&mut self, item: T) {
        self.0.push_back(item)
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
    fn give_back(&mut self, item: T) {
        self.0.push_front(item)
    }
    fn take_all(&mut self) -> Vec<T> {
        self.0.drain(..).collect()
    }
}

impl<T> Store<T> for Lifo<T> {
    fn push(&mut self, item: T) {
        self.0.push(item)
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn give_back(&mut self, item: T) {
        self.0.push(item)
    }
    fn take_all(&mut self) -> Vec<T> {
        std::mem::take(&mut self.0)
    }
}

impl<T: Ord> Store<T> for Smallest<T> {
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item))
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(t)| t)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn give_back(&mut self, item: T) {
        self.0.push(Reverse(item))
    }
    fn take_all(&mut self) -> Vec<T> {
        std::mem::take(&mut self.0)
            .into_vec()
            .into_iter()
            .map(|Reverse(t)| t)
            .collect()
    }
}
