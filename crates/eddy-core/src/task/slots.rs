//! `Slots`: drives many futures of one type to completion in linear time,
//! for `gather_all` and `wait`.
//!
//! The first pass polls every future with the caller's waker, allocating
//! nothing per future, so a batch of ready futures costs one pass. If some
//! are still pending, each gets its own waker (one small allocation per
//! pending future) that records its index in a ready list; later passes
//! poll only the futures whose wakers fired. The futures that pended in
//! the first pass registered the caller's waker, so all of them are polled
//! once more (with their own wakers) at the next pass.

use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use futures_util::future::MaybeDone;

use crate::loom::{AtomicWaker, Mutex};

/// Indices whose wakers fired since the last pass, and the caller's waker.
struct ReadyList {
    queue: Mutex<Vec<usize>>,
    parent: AtomicWaker,
}

/// The waker of one pending slot.
struct SlotWaker {
    index: usize,
    list: Arc<ReadyList>,
}

impl Wake for SlotWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.list.queue.lock().push(self.index);
        self.list.parent.wake();
    }
}

struct Tracker {
    list: Arc<ReadyList>,
    /// Built the first time a slot is polled after the first pass.
    wakers: Vec<Option<Waker>>,
    /// Scratch buffer swapped with the ready list each pass.
    batch: Vec<usize>,
}

pub(crate) struct Slots<F: Future> {
    slots: Pin<Box<[MaybeDone<F>]>>,
    /// Slots still holding a future.
    remaining: usize,
    tracker: Option<Tracker>,
}

impl<F: Future> Slots<F> {
    pub(crate) fn new(futures: impl IntoIterator<Item = F>) -> Slots<F> {
        let slots: Box<[MaybeDone<F>]> = futures.into_iter().map(MaybeDone::Future).collect();
        let remaining = slots.len();
        Slots {
            slots: Box::into_pin(slots),
            remaining,
            tracker: None,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn remaining(&self) -> usize {
        self.remaining
    }

    /// The slot at `i`, pinned.
    pub(crate) fn slot(&mut self, i: usize) -> Pin<&mut MaybeDone<F>> {
        // SAFETY: the boxed slice is pinned and never reallocated or moved,
        // so each element is structurally pinned: we hand out a pinned
        // reference and never move the element out.
        unsafe { self.slots.as_mut().map_unchecked_mut(|s| &mut s[i]) }
    }

    /// Polls what needs polling. `on_done(i, slot)` runs for each future
    /// that just finished (its output is in `slot`); `Break` stops early.
    /// `Ready(None)`: every slot is done; `Ready(Some(b))`: stopped by `b`.
    pub(crate) fn poll<B>(
        &mut self,
        cx: &mut Context<'_>,
        mut on_done: impl FnMut(usize, Pin<&mut MaybeDone<F>>) -> ControlFlow<B>,
    ) -> Poll<Option<B>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let Some(mut tracker) = self.tracker.take() else {
            return self.first_pass(cx, on_done);
        };
        tracker.list.parent.register(cx.waker());
        std::mem::swap(&mut *tracker.list.queue.lock(), &mut tracker.batch);
        let mut result = Poll::Pending;
        let mut stopped_at = tracker.batch.len();
        for n in 0..tracker.batch.len() {
            let i = tracker.batch[n];
            let waker = tracker.wakers[i].get_or_insert_with(|| {
                Waker::from(Arc::new(SlotWaker {
                    index: i,
                    list: tracker.list.clone(),
                }))
            });
            let mut slot = self.slot(i);
            if !matches!(*slot, MaybeDone::Future(_)) {
                continue; // woken again after it finished
            }
            if slot
                .as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_ready()
            {
                self.remaining -= 1;
                if let ControlFlow::Break(b) = on_done(i, self.slot(i)) {
                    result = Poll::Ready(Some(b));
                    stopped_at = n + 1;
                    break;
                }
                if self.remaining == 0 {
                    result = Poll::Ready(None);
                    break;
                }
            }
        }
        if stopped_at < tracker.batch.len() {
            // Stopped early: keep the unvisited wakes for the next pass.
            let rest = &tracker.batch[stopped_at..];
            tracker.list.queue.lock().extend_from_slice(rest);
        }
        tracker.batch.clear();
        self.tracker = Some(tracker);
        result
    }

    fn first_pass<B>(
        &mut self,
        cx: &mut Context<'_>,
        mut on_done: impl FnMut(usize, Pin<&mut MaybeDone<F>>) -> ControlFlow<B>,
    ) -> Poll<Option<B>> {
        let mut pending = Vec::new();
        for i in 0..self.slots.len() {
            if self.slot(i).poll(cx).is_ready() {
                self.remaining -= 1;
                if let ControlFlow::Break(b) = on_done(i, self.slot(i)) {
                    // Slots after `i` were never polled: track them all.
                    pending.extend((i + 1..self.slots.len()).filter(|&j| self.is_pending_at(j)));
                    self.start_tracking(cx, pending);
                    return Poll::Ready(Some(b));
                }
            } else {
                pending.push(i);
            }
        }
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        self.start_tracking(cx, pending);
        Poll::Pending
    }

    fn is_pending_at(&mut self, i: usize) -> bool {
        matches!(*self.slot(i), MaybeDone::Future(_))
    }

    /// Every still-pending slot is queued so the next pass polls it with
    /// its own waker.
    fn start_tracking(&mut self, cx: &mut Context<'_>, pending: Vec<usize>) {
        let list = Arc::new(ReadyList {
            queue: Mutex::new(pending),
            parent: AtomicWaker::new(),
        });
        list.parent.register(cx.waker());
        self.tracker = Some(Tracker {
            list,
            wakers: vec![None; self.slots.len()],
            batch: Vec::new(),
        });
    }
}
