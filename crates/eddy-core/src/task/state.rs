//! The task's atomic state word: lifecycle bits plus a reference count.
//!
//! One `usize` holds everything other threads may race on, so every
//! transition is a single CAS or fetch-op and the protocol can be
//! model-checked with loom (see `tests` below and `tests/loom_*.rs`).
//!
//! Who may set what:
//! - only the owner loop thread sets `RUNNING` and `COMPLETE`;
//! - any thread holding a waker or the join handle sets `NOTIFIED`/`CANCELLED`;
//! - only the join handle clears `JOIN_INTEREST`, and sets/clears `JOIN_WAKER`
//!   while the task is not complete.

use crate::loom::{AtomicUsize, Ordering};

/// The future is being polled (or dropped) on the owner thread right now.
const RUNNING: usize = 1 << 0;
/// The future is gone; the stage holds the output (or nothing, once read).
const COMPLETE: usize = 1 << 1;
/// The task sits in a run queue, or must be re-queued when the poll ends.
/// A task is in at most one queue at a time because of this bit.
const NOTIFIED: usize = 1 << 2;
/// `cancel()` was called: the next time the loop runs the task it drops the
/// future instead of polling it.
const CANCELLED: usize = 1 << 3;
/// A `JoinHandle` exists and may read the output.
const JOIN_INTEREST: usize = 1 << 4;
/// The join waker slot holds a waker that the loop side must wake on
/// completion. While set and not complete, only the loop side may read the
/// slot; while clear, only the join handle may write it.
const JOIN_WAKER: usize = 1 << 5;

const REF_SHIFT: usize = 6;
/// One reference in the packed count.
const REF_ONE: usize = 1 << REF_SHIFT;
const REF_MASK: usize = !(REF_ONE - 1);

/// A new task is referenced by: its entry in the live-task table (bound
/// when it first reaches its loop), its join handle, and the run-queue
/// entry that schedules its first poll.
const INITIAL: usize = (3 * REF_ONE) | JOIN_INTEREST | NOTIFIED;

/// The packed state word.
pub(crate) struct State {
    val: AtomicUsize,
}

/// A copy of the state word at one moment.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn has_join_interest(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn has_join_waker(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_MASK) >> REF_SHIFT
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.has_join_interest())
            .field("join_waker", &self.has_join_waker())
            .field("refs", &self.ref_count())
            .finish()
    }
}

/// Result of taking a queued task to run it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToRunning {
    /// Poll the future.
    Poll,
    /// Drop the future: the task was cancelled.
    Cancel,
    /// Already complete; just release the queue's reference.
    Done,
}

/// Result of ending a poll that returned `Pending`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToIdle {
    /// Release the running reference (it may have been the last).
    Idle,
    /// Woken during the poll: keep the reference and re-queue.
    Requeue,
    /// Cancelled during the poll: drop the future now.
    Cancel,
}

/// What a wake asks of the scheduler.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// Nothing to do; the caller's reference (if by value) was released
    /// and it was not the last.
    Nothing,
    /// Push the task to its loop, handing over a reference.
    Submit,
    /// The caller's reference was the last: deallocate.
    Dealloc,
}

impl State {
    pub(crate) fn new() -> State {
        State {
            val: AtomicUsize::new(INITIAL),
        }
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.val.load(Ordering::Acquire))
    }

    /// Runs `f` in a CAS loop; `f` returns the next word or `None` to stop.
    fn update<R>(&self, mut f: impl FnMut(Snapshot) -> (Option<usize>, R)) -> R {
        let mut cur = self.val.load(Ordering::Acquire);
        loop {
            let (next, out) = f(Snapshot(cur));
            let Some(next) = next else { return out };
            match self
                .val
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return out,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Loop thread, holding the queue entry's reference: NOTIFIED → RUNNING.
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.update(|s| {
            debug_assert!(s.is_notified() && !s.is_running(), "{s:?}");
            if s.is_complete() {
                return (Some(s.0 & !NOTIFIED), ToRunning::Done);
            }
            let next = (s.0 & !NOTIFIED) | RUNNING;
            let action = if s.is_cancelled() {
                ToRunning::Cancel
            } else {
                ToRunning::Poll
            };
            (Some(next), action)
        })
    }

    /// Loop thread, after a `Pending` poll: RUNNING → idle. The running
    /// reference is kept for `Requeue` (it moves to the queue) and `Cancel`
    /// (the caller still runs the task), and released for `Idle`; the bool
    /// says whether that release was the last reference.
    pub(crate) fn transition_to_idle(&self) -> (ToIdle, bool) {
        let mut last = false;
        let action = self.update(|s| {
            debug_assert!(s.is_running());
            if s.is_cancelled() {
                return (None, ToIdle::Cancel);
            }
            let next = s.0 & !RUNNING;
            if s.is_notified() {
                last = false;
                (Some(next), ToIdle::Requeue)
            } else {
                last = Snapshot(next).ref_count() == 1;
                (Some(next - REF_ONE), ToIdle::Idle)
            }
        });
        (action, last)
    }

    /// Loop thread, after a `Pending` poll in which the task woke itself
    /// (recorded without touching this word, see
    /// `context::wake_current_by_ref`): RUNNING → NOTIFIED, the running
    /// reference moving to the queue, as `transition_to_idle` does for a
    /// task woken during its poll. `Cancel` if cancelled meanwhile.
    pub(crate) fn transition_to_requeue(&self) -> ToIdle {
        self.update(|s| {
            debug_assert!(s.is_running(), "{s:?}");
            if s.is_cancelled() {
                return (None, ToIdle::Cancel);
            }
            (Some((s.0 & !RUNNING) | NOTIFIED), ToIdle::Requeue)
        })
    }

    /// Loop thread: RUNNING → COMPLETE. Returns the state after.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_xor(RUNNING | COMPLETE, Ordering::AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete(), "{prev:?}");
        Snapshot(prev.0 ^ (RUNNING | COMPLETE))
    }

    /// Loop thread at shutdown: take an idle, never-to-run-again task to
    /// RUNNING so its future can be dropped. False if it is already complete.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.update(|s| {
            if s.is_complete() {
                return (None, false);
            }
            debug_assert!(!s.is_running());
            (Some(s.0 | RUNNING | CANCELLED), true)
        })
    }

    /// Wake by value: the caller gives up one reference.
    pub(crate) fn transition_to_notified_by_val(&self) -> Wake {
        self.update(|s| {
            if s.is_running() {
                // The poller re-queues; our reference is not the last (the
                // poller holds one).
                debug_assert!(s.ref_count() >= 2);
                (Some((s.0 | NOTIFIED) - REF_ONE), Wake::Nothing)
            } else if s.is_complete() || s.is_notified() {
                let next = s.0 - REF_ONE;
                let action = if Snapshot(next).ref_count() == 0 {
                    Wake::Dealloc
                } else {
                    Wake::Nothing
                };
                (Some(next), action)
            } else {
                // Our reference moves into the run queue.
                (Some(s.0 | NOTIFIED), Wake::Submit)
            }
        })
    }

    /// Wake by reference: on `Submit` a new reference was taken for the queue.
    pub(crate) fn transition_to_notified_by_ref(&self) -> Wake {
        self.update(|s| {
            if s.is_complete() || s.is_notified() {
                (None, Wake::Nothing)
            } else if s.is_running() {
                (Some(s.0 | NOTIFIED), Wake::Nothing)
            } else {
                (Some((s.0 | NOTIFIED) + REF_ONE), Wake::Submit)
            }
        })
    }

    /// `JoinHandle::cancel`: on `Submit` a new reference was taken for the queue.
    pub(crate) fn transition_to_cancelled(&self) -> Wake {
        self.update(|s| {
            if s.is_complete() || s.is_cancelled() {
                (None, Wake::Nothing)
            } else if s.is_running() || s.is_notified() {
                (Some(s.0 | NOTIFIED | CANCELLED), Wake::Nothing)
            } else {
                (Some((s.0 | NOTIFIED | CANCELLED) + REF_ONE), Wake::Submit)
            }
        })
    }

    /// Join handle: publishes the waker it just wrote into the slot.
    /// `Err` if the task completed meanwhile (the handle keeps the slot).
    pub(crate) fn set_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s.has_join_interest() && !s.has_join_waker());
            if s.is_complete() {
                (None, Err(s))
            } else {
                (Some(s.0 | JOIN_WAKER), Ok(()))
            }
        })
    }

    /// Join handle: takes the slot back to replace the waker.
    /// `Err` if the task completed meanwhile (the loop side owns the slot).
    pub(crate) fn unset_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s.has_join_interest());
            if s.is_complete() {
                // The handle saw JOIN_WAKER set, but the task may have
                // completed since (on the loop thread, while the handle is
                // polled on another) and the loop side may already have
                // cleared it (`unset_join_waker_after_complete`).
                (None, Err(s))
            } else {
                debug_assert!(s.has_join_waker());
                (Some(s.0 & !JOIN_WAKER), Ok(()))
            }
        })
    }

    /// Loop side after waking the join waker on completion: gives the slot
    /// back. Returns the state before, so the caller can tell whether the
    /// join handle is gone (then the loop side drops the waker).
    pub(crate) fn unset_join_waker_after_complete(&self) -> Snapshot {
        Snapshot(self.val.fetch_and(!JOIN_WAKER, Ordering::AcqRel))
    }

    /// Join handle dropped. Returns the state before. If not complete, the
    /// join-waker bit is cleared too, so the handle owns the slot and drops
    /// its waker; if complete, the handle owns the output and drops it.
    pub(crate) fn drop_join_interest(&self) -> Snapshot {
        self.update(|s| {
            debug_assert!(s.has_join_interest());
            let mut next = s.0 & !JOIN_INTEREST;
            if !s.is_complete() {
                next &= !JOIN_WAKER;
            }
            (Some(next), s)
        })
    }

    pub(crate) fn ref_inc(&self) {
        let prev = self.val.fetch_add(REF_ONE, Ordering::Relaxed);
        // Guard against a count so large it would wrap into the flag bits.
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Releases one reference; true if it was the last.
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.val.fetch_sub(REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= 1);
        prev.ref_count() == 1
    }

    /// Releases two references; true if they were the last.
    pub(crate) fn ref_dec_twice(&self) -> bool {
        let prev = Snapshot(self.val.fetch_sub(2 * REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= 2);
        prev.ref_count() == 2
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn first_poll_then_idle_releases_running_ref() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(), (ToIdle::Idle, false));
        assert_eq!(s.load().ref_count(), 2);
    }

    #[test]
    fn wake_while_running_requeues() {
        let s = State::new();
        s.ref_inc(); // a waker
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_notified_by_val(), Wake::Nothing);
        assert_eq!(s.transition_to_idle(), (ToIdle::Requeue, false));
        assert!(s.load().is_notified());
    }

    #[test]
    fn cancel_idle_task_submits_once() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle().0, ToIdle::Idle);
        assert_eq!(s.transition_to_cancelled(), Wake::Submit);
        assert_eq!(s.transition_to_cancelled(), Wake::Nothing);
        assert_eq!(s.transition_to_notified_by_ref(), Wake::Nothing);
        assert_eq!(s.transition_to_running(), ToRunning::Cancel);
    }

    #[test]
    fn wake_after_complete_releases_and_reports_last() {
        let s = State::new();
        s.ref_inc(); // a waker: 4 refs
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        let after = s.transition_to_complete();
        assert!(after.is_complete() && !after.is_running());
        assert!(!s.ref_dec_twice()); // running + owned refs
        let before = s.drop_join_interest();
        assert!(before.is_complete());
        assert!(!s.ref_dec()); // join handle's ref
        assert_eq!(s.transition_to_notified_by_val(), Wake::Dealloc);
    }

    #[test]
    fn join_waker_handshake() {
        let s = State::new();
        assert!(s.set_join_waker().is_ok());
        assert!(s.load().has_join_waker());
        assert!(s.unset_join_waker().is_ok());
        assert!(s.set_join_waker().is_ok());
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        let after = s.transition_to_complete();
        assert!(after.has_join_waker());
        assert!(s.unset_join_waker_after_complete().has_join_interest());
        assert!(!s.load().has_join_waker());
    }

    #[test]
    fn join_handle_replacing_its_waker_as_the_task_completes() {
        // The handle (on another thread) saw JOIN_WAKER set and goes to
        // replace its waker; meanwhile the loop completes the task, wakes
        // the old waker and clears the bit. The handle must learn that the
        // output is ready (this used to trip a debug assertion).
        let s = State::new();
        assert!(s.set_join_waker().is_ok());
        assert!(s.load().has_join_waker()); // the handle's snapshot
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert!(s.transition_to_complete().has_join_waker());
        s.unset_join_waker_after_complete();
        assert!(s.unset_join_waker().unwrap_err().is_complete());
    }
}
