//! The FIFO waiter list every primitive shares, and the one place where
//! cancel safety is implemented.
//!
//! A [`WaitList`] is a doubly linked FIFO threaded through a [`Slab`], so a
//! waiter can leave from the middle in O(1). It always lives inside the
//! primitive's internal mutex; it has no locking of its own.
//!
//! Every waiter node is in one of two states:
//!
//! - **queued**: linked in the FIFO, holding the waker of the future that
//!   waits, plus per-primitive data `D` (permits still needed, an item slot,
//!   ...);
//! - **woken**: unlinked from the FIFO by whoever served it (a release, a
//!   put, a notify). The slot stays in the slab, holding what the waiter was
//!   handed in `D`, until the waiting future comes back to take it.
//!
//! Only the waiting future removes its node: when it is polled after being
//! woken ([`WaitList::poll_woken`]), or when it is dropped
//! ([`Registration::cancel`]). Dropping a *woken* waiter is the dangerous
//! case: it was handed a lock, a permit, a notification or an item that it
//! never used. [`Registration::cancel`] gives the node's data back to the
//! primitive through [`Handoff::pass_on`], which hands it to the next
//! waiter. Every primitive but one uses this path, so "a cancelled waiter
//! passes the baton" is written once.
//!
//! The exception is the semaphore under `Mutex`, `RwLock` and the
//! semaphores (`raw_semaphore.rs`), the hottest hand-off in the crate: its
//! releaser removes a served node at once ([`WaitList::pop_front`]) and
//! the waiter learns it was served from a ticket compared with one atomic
//! counter, without taking the lock again. Its cancel path follows the
//! same rule: what a dropped waiter was granted goes to the next in line.
//!
//! Wakers are user code, run only with the list's lock released: the ones
//! to wake are collected in a [`WakeBatch`], and the ones the list lets go
//! of (replaced by a newer waker, or of a waiter that left) in a [`Stale`],
//! both woken or dropped after the guard.
//!
//! The exception is `Waker::clone`, which [`Registration::register`] and
//! [`WaitList::refresh_waker`] run under the lock (moving it out would mean
//! a clone on every poll, or a second lock round trip per new waker). Both
//! clone before they change anything, so a clone that panics leaves the
//! list as it was (the node keeps its old waker); the lock is released by
//! the unwind and does not poison. A clone that calls into the same
//! primitive deadlocks: the crate docs forbid it.

use std::task::{Poll, Waker};

use slab::Slab;

use crate::loom::MutexGuard;

/// "No node": the end of the FIFO, or a registration that holds no node.
pub(crate) const NIL: usize = usize::MAX;

/// A FIFO of waiters with O(1) push, pop and removal from the middle.
#[derive(Debug)]
pub(crate) struct WaitList<D> {
    nodes: Slab<Node<D>>,
    /// First queued node, or [`NIL`].
    head: usize,
    /// Last queued node, or [`NIL`].
    tail: usize,
    /// Number of queued (not yet woken) nodes.
    queued: usize,
}

#[derive(Debug)]
struct Node<D> {
    prev: usize,
    next: usize,
    /// `true` while linked in the FIFO; `false` once woken.
    queued: bool,
    waker: Option<Waker>,
    data: D,
}

impl<D> Default for WaitList<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D> WaitList<D> {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        WaitList {
            nodes: Slab::new(),
            head: NIL,
            tail: NIL,
            queued: 0,
        }
    }

    /// `true` when no waiter is queued (woken nodes not yet collected do
    /// not count).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// Number of queued waiters.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.queued
    }

    /// Queues a waiter at the back and returns its key. (Takes the waker by
    /// value: cloning it is user code that may panic, which a caller must
    /// do before it changes any state.)
    pub(crate) fn push_back(&mut self, data: D, waker: Waker) -> usize {
        let key = self.nodes.insert(Node {
            prev: self.tail,
            next: NIL,
            queued: true,
            waker: Some(waker),
            data,
        });
        if self.tail == NIL {
            self.head = key;
        } else {
            self.nodes[self.tail].next = key;
        }
        self.tail = key;
        self.queued += 1;
        key
    }

    /// The data of the first queued waiter.
    #[inline]
    pub(crate) fn front_mut(&mut self) -> Option<&mut D> {
        if self.head == NIL {
            None
        } else {
            Some(&mut self.nodes[self.head].data)
        }
    }

    /// The data of every queued waiter, front to back.
    pub(crate) fn queued(&self) -> impl Iterator<Item = &D> + '_ {
        let mut key = self.head;
        std::iter::from_fn(move || {
            if key == NIL {
                return None;
            }
            let node = &self.nodes[key];
            key = node.next;
            Some(&node.data)
        })
    }

    /// The data of every woken waiter that has not come back for it yet,
    /// in no particular order (what they were handed, to take back).
    pub(crate) fn woken_mut(&mut self) -> impl Iterator<Item = &mut D> + '_ {
        self.nodes
            .iter_mut()
            .filter(|(_, node)| !node.queued)
            .map(|(_, node)| &mut node.data)
    }

    /// Wakes the first queued waiter: unlinks it, lets `serve` write what it
    /// is handed into its data, and returns its waker (to be woken once the
    /// caller has dropped its lock).
    #[inline]
    pub(crate) fn wake_front(&mut self, serve: impl FnOnce(&mut D)) -> Option<Waker> {
        let key = self.head;
        if key == NIL {
            return None;
        }
        self.unlink(key);
        let node = &mut self.nodes[key];
        node.queued = false;
        serve(&mut node.data);
        node.waker.take()
    }

    /// Removes the first queued waiter outright (for a primitive whose
    /// waiters learn that they were served some other way, see
    /// `raw_semaphore.rs`); returns its data and waker.
    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<(D, Option<Waker>)> {
        let key = self.head;
        if key == NIL {
            return None;
        }
        self.unlink(key);
        let node = self.nodes.remove(key);
        Some((node.data, node.waker))
    }

    /// Stores `waker` in queued node `key` unless it would wake the same
    /// task already; the waker it replaces goes to `stale`. The clone runs
    /// before anything changes: if it panics, the node keeps its waker.
    #[inline]
    pub(crate) fn refresh_waker(&mut self, key: usize, waker: &Waker, stale: &mut Stale) {
        match &mut self.nodes[key].waker {
            Some(w) if w.will_wake(waker) => {}
            slot => stale.keep(slot.replace(waker.clone())),
        }
    }

    /// Wakes every queued waiter in FIFO order, serving each with `serve`.
    pub(crate) fn wake_all(&mut self, wakers: &mut WakeBatch, mut serve: impl FnMut(&mut D)) {
        while let Some(w) = self.wake_front(&mut serve) {
            wakers.push(w);
        }
    }

    /// Polls node `key`: when it was woken, removes it and returns its data;
    /// otherwise refreshes its waker (see [`refresh_waker`](Self::refresh_waker))
    /// and returns `Pending`.
    #[inline]
    pub(crate) fn poll_woken(&mut self, key: usize, waker: &Waker, stale: &mut Stale) -> Poll<D> {
        if self.nodes[key].queued {
            self.refresh_waker(key, waker, stale);
            Poll::Pending
        } else {
            // Woken: the waker was taken then, none is left to drop.
            Poll::Ready(self.nodes.remove(key).data)
        }
    }

    /// Removes node `key` and returns its data if it was woken; leaves a
    /// queued node (and its waker) alone.
    #[inline]
    pub(crate) fn take_woken(&mut self, key: usize) -> Option<D> {
        if self.nodes[key].queued {
            None
        } else {
            Some(self.nodes.remove(key).data)
        }
    }

    /// Removes node `key`, returning its data and whether it had been woken;
    /// its waker, if still there, goes to `stale`.
    pub(crate) fn remove(&mut self, key: usize, stale: &mut Stale) -> (D, bool) {
        let queued = self.nodes[key].queued;
        if queued {
            self.unlink(key);
        }
        let node = self.nodes.remove(key);
        stale.keep(node.waker);
        (node.data, !queued)
    }

    fn unlink(&mut self, key: usize) {
        let (prev, next) = {
            let n = &self.nodes[key];
            (n.prev, n.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.nodes[prev].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.nodes[next].prev = prev;
        }
        self.queued -= 1;
    }
}

/// Wakers collected under a lock, woken after it is released (a waker may
/// run arbitrary code, including code that takes the same lock).
#[derive(Debug, Default)]
pub(crate) struct WakeBatch {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl WakeBatch {
    /// An empty batch (does not allocate).
    #[inline]
    pub(crate) const fn new() -> Self {
        WakeBatch {
            first: None,
            rest: Vec::new(),
        }
    }

    /// Adds a waker.
    #[inline]
    pub(crate) fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    /// Adds a waker if there is one.
    #[inline]
    pub(crate) fn push_opt(&mut self, waker: Option<Waker>) {
        if let Some(w) = waker {
            self.push(w);
        }
    }

    /// Wakes every collected waker, in the order they were added.
    ///
    /// A waker that panics does not cost the ones after it their wake-up
    /// (they may have been handed a lock, a permit or an item, and must
    /// run to use it or pass it on): they are woken while the panic
    /// unwinds, and the panic then goes on to the caller.
    ///
    /// Most batches are empty (a put or get that woke nobody): that check
    /// stays inline in every caller, the waking does not.
    #[inline(always)]
    pub(crate) fn wake_all(self) {
        if self.first.is_some() {
            self.wake_some();
        }
    }

    /// [`wake_all`](Self::wake_all) of a batch holding at least one waker.
    fn wake_some(self) {
        let WakeBatch { first, rest } = self;
        let Some(first) = first else { return };
        if rest.capacity() == 0 {
            // One waker (a mutex or permit hand-off): nothing to guard.
            first.wake();
            return;
        }
        let mut rest = WakeRest(rest.into_iter());
        first.wake();
        for w in &mut rest.0 {
            w.wake();
        }
    }
}

/// The wakers of a batch still to wake. Dropped with some left only when
/// a waker panicked: then it wakes them.
struct WakeRest(std::vec::IntoIter<Waker>);

impl Drop for WakeRest {
    fn drop(&mut self) {
        for w in &mut self.0 {
            // Already unwinding: another panic here would abort.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.wake()));
        }
    }
}

/// A waker a [`WaitList`] let go of with the lock held (replaced by a newer
/// one, or that of a waiter that left), kept to be dropped once the lock is
/// released. Dropping a waker runs user code: it may be the last reference
/// to a task whose future holds a guard or a place in line of this very
/// primitive, and dropping that calls back in, which would deadlock on the
/// non-reentrant lock. Declare the `Stale` before taking the lock: locals
/// drop in reverse order, so it goes after the guard.
#[derive(Debug, Default)]
pub(crate) struct Stale(Option<Waker>);

impl Stale {
    /// Nothing kept yet.
    #[inline]
    pub(crate) const fn new() -> Self {
        Stale(None)
    }

    /// Keeps `waker` (one per lock scope: every caller lets go of at most
    /// one waker while it holds the lock).
    #[inline]
    fn keep(&mut self, waker: Option<Waker>) {
        debug_assert!(
            waker.is_none() || self.0.is_none(),
            "a second stale waker in one lock scope would be dropped under the lock"
        );
        if waker.is_some() {
            self.0 = waker;
        }
    }
}

/// A primitive whose waiters live in a [`WaitList`] under a mutex, and
/// which knows how to pass on what a dropped waiter held.
pub(crate) trait Handoff {
    /// Per-waiter data stored in the list.
    type Data;
    /// The state behind the primitive's mutex.
    type State;

    /// Locks the primitive's state.
    fn lock_state(&self) -> MutexGuard<'_, Self::State>;

    /// The list that holds this kind of waiter inside the state.
    fn list(state: &mut Self::State) -> &mut WaitList<Self::Data>;

    /// Gives back what a removed waiter held. `woken` says whether it had
    /// been served (handed a lock, permit, notification or item) before it
    /// was dropped; queued waiters may hold partial grants too (permits).
    /// Wakers of waiters served as a result go into `wakers`. Returns what
    /// must be dropped once the lock is released (a user value whose `Drop`
    /// must not run under the lock), if anything.
    fn pass_on(
        &self,
        state: &mut Self::State,
        data: Self::Data,
        woken: bool,
        wakers: &mut WakeBatch,
    ) -> Option<Self::Data>;
}

/// A waiting future's claim on a node of some [`WaitList`]: the node's key,
/// or [`NIL`] when it holds none.
#[derive(Debug)]
pub(crate) struct Registration {
    key: usize,
}

impl Default for Registration {
    fn default() -> Self {
        Self::new()
    }
}

impl Registration {
    /// A registration with no node.
    #[inline]
    pub(crate) const fn new() -> Self {
        Registration { key: NIL }
    }

    /// `true` when a node is held.
    #[inline]
    pub(crate) fn is_registered(&self) -> bool {
        self.key != NIL
    }

    /// Queues a new node and remembers its key.
    #[inline]
    pub(crate) fn register<D>(&mut self, list: &mut WaitList<D>, data: D, waker: &Waker) {
        debug_assert!(self.key == NIL);
        self.key = list.push_back(data, waker.clone());
    }

    /// Polls the held node (see [`WaitList::poll_woken`]); once it is ready
    /// the registration holds no node any more. A waker it replaces goes to
    /// `stale`, to be dropped after unlocking.
    #[inline]
    pub(crate) fn poll_woken<D>(
        &mut self,
        list: &mut WaitList<D>,
        waker: &Waker,
        stale: &mut Stale,
    ) -> Poll<D> {
        let r = list.poll_woken(self.key, waker, stale);
        if r.is_ready() {
            self.key = NIL;
        }
        r
    }

    /// Takes what the held node was handed if it was woken (the
    /// registration then holds no node); a node still queued keeps its
    /// place and its waker. For a non-waiting check by the owner of a
    /// registration that outlives its futures (a channel receiver's
    /// `try_recv`): refreshing the waker there would replace the one the
    /// owner's last pending poll left with whatever the check has.
    #[inline]
    pub(crate) fn take_woken<D>(&mut self, list: &mut WaitList<D>) -> Option<D> {
        let data = list.take_woken(self.key)?;
        self.key = NIL;
        Some(data)
    }

    /// Drops the held node with the state already locked, passing on what it
    /// held. Wakers to fire after unlocking go into `wakers`, the node's own
    /// waker into `stale`; the returned leftover must be dropped after
    /// unlocking.
    #[must_use = "drop the leftover after releasing the lock"]
    pub(crate) fn cancel_locked<H: Handoff>(
        &mut self,
        owner: &H,
        state: &mut H::State,
        wakers: &mut WakeBatch,
        stale: &mut Stale,
    ) -> Option<H::Data> {
        if self.key == NIL {
            return None;
        }
        let (data, woken) = H::list(state).remove(self.key, stale);
        self.key = NIL;
        owner.pass_on(state, data, woken, wakers)
    }

    /// Drops the held node (if any), passing on what it held: the one
    /// implementation of cancel safety, called from every waiting future's
    /// `Drop`.
    #[inline]
    pub(crate) fn cancel<H: Handoff>(&mut self, owner: &H) {
        if self.key == NIL {
            return;
        }
        let mut stale = Stale::new();
        let mut wakers = WakeBatch::new();
        let leftover = {
            let mut state = owner.lock_state();
            self.cancel_locked(owner, &mut state, &mut wakers, &mut stale)
        };
        wakers.wake_all();
        drop(leftover);
        drop(stale);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use futures::task::noop_waker;

    #[test]
    fn fifo_order_and_middle_removal() {
        let w = noop_waker();
        let mut list = WaitList::new();
        let keys: Vec<usize> = (0..5).map(|i| list.push_back(i, w.clone())).collect();
        assert_eq!(list.len(), 5);
        let (d, woken) = list.remove(keys[2], &mut Stale::new());
        assert_eq!((d, woken), (2, false));
        assert_eq!(list.queued().copied().collect::<Vec<_>>(), [0, 1, 3, 4]);
        let mut order = Vec::new();
        while list.wake_front(|d| order.push(*d)).is_some() {}
        assert_eq!(order, vec![0, 1, 3, 4]);
        assert!(list.is_empty());
        // Woken nodes stay until their owner collects them.
        assert_eq!(
            list.poll_woken(keys[0], &w, &mut Stale::new()),
            Poll::Ready(0)
        );
        let (d, woken) = list.remove(keys[4], &mut Stale::new());
        assert_eq!((d, woken), (4, true));
    }

    #[test]
    fn a_panicking_waker_in_a_batch_does_not_skip_the_others() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use std::task::Wake;

        struct Counter(AtomicUsize, bool);
        impl Wake for Counter {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
                assert!(!self.1, "a panicking waker");
            }
        }
        let counters: Vec<_> = [false, true, false, true, false]
            .into_iter()
            .map(|panics| Arc::new(Counter(AtomicUsize::new(0), panics)))
            .collect();
        let mut batch = WakeBatch::new();
        for c in &counters {
            batch.push(Waker::from(c.clone()));
        }
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| batch.wake_all()));
        assert!(r.is_err(), "the first waker panic goes on to the caller");
        for c in &counters {
            assert_eq!(c.0.load(Ordering::SeqCst), 1, "every waker woken once");
        }
    }

    #[test]
    fn queued_node_stays_pending_and_keys_are_reused_safely() {
        let w = noop_waker();
        let mut list = WaitList::new();
        let a = list.push_back('a', w.clone());
        assert_eq!(list.poll_woken(a, &w, &mut Stale::new()), Poll::Pending);
        list.remove(a, &mut Stale::new());
        let b = list.push_back('b', w.clone());
        let c = list.push_back('c', w.clone());
        assert_eq!(list.front_mut(), Some(&mut 'b'));
        list.remove(b, &mut Stale::new());
        assert_eq!(list.front_mut(), Some(&mut 'c'));
        list.wake_front(|d| *d = 'C');
        assert_eq!(list.poll_woken(c, &w, &mut Stale::new()), Poll::Ready('C'));
        assert!(list.is_empty());
    }
}
