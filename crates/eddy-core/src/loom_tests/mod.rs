//! loom models of the task state machine, the inject queue and the main
//! future's remote wake.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p eddy-core --release --lib loom_`.
//! Each model plays the real `State` / `Inject` code from several threads
//! and checks that every reference is released exactly once and that no
//! wake or cancellation is lost.

use std::ptr::NonNull;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

use crate::loom::UnsafeCell;
use crate::runtime::inject::{Inject, Linked, Popped};
use crate::runtime::main_task::RemoteWake;
use crate::task::state::{State, ToIdle, ToRunning, Wake};

mod inject;
mod slots;

/// Stands in for a run queue: holds "references" pushed by wakes.
#[derive(Default)]
struct Queue(Mutex<usize>);

impl Queue {
    fn push(&self) {
        *self.0.lock().unwrap() += 1;
    }
    fn take_all(&self) -> usize {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Runs queued entries the way the loop does, until none is left, for a
/// task that completes on its first poll. Returns deallocations observed.
fn drain_completed(state: &State, queue: &Queue) -> usize {
    let mut deallocs = 0;
    for _ in 0..queue.take_all() {
        assert_eq!(state.transition_to_running(), ToRunning::Done);
        if state.ref_dec() {
            deallocs += 1;
        }
    }
    deallocs
}

#[test]
fn loom_wake_vs_complete_vs_join_drop() {
    loom::model(|| {
        let state = Arc::new(State::new());
        state.ref_inc(); // a waker held by another thread
        let queue = Arc::new(Queue::default());
        let deallocs = Arc::new(AtomicUsize::new(0));

        let waker = {
            let (s, q, d) = (state.clone(), queue.clone(), deallocs.clone());
            thread::spawn(move || match s.transition_to_notified_by_val() {
                Wake::Submit => q.push(),
                Wake::Dealloc => {
                    d.fetch_add(1, Ordering::SeqCst);
                }
                Wake::Nothing => {}
            })
        };
        let joiner = {
            let (s, d) = (state.clone(), deallocs.clone());
            thread::spawn(move || {
                s.drop_join_interest();
                if s.ref_dec() {
                    d.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        // The loop: first poll completes the task.
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        state.transition_to_complete();
        if state.ref_dec_twice() {
            deallocs.fetch_add(1, Ordering::SeqCst);
        }
        waker.join().unwrap();
        joiner.join().unwrap();
        let more = drain_completed(&state, &queue);
        assert_eq!(deallocs.load(Ordering::SeqCst) + more, 1);
    });
}

#[test]
fn loom_wake_during_poll_is_not_lost() {
    loom::model(|| {
        let state = Arc::new(State::new());
        state.ref_inc(); // a waker
        let queue = Arc::new(Queue::default());
        // The task becomes ready only once the other thread has set this.
        let ready = Arc::new(AtomicUsize::new(0));

        let waker = {
            let (s, q, r) = (state.clone(), queue.clone(), ready.clone());
            thread::spawn(move || {
                r.store(1, Ordering::SeqCst);
                match s.transition_to_notified_by_val() {
                    Wake::Submit => q.push(),
                    Wake::Nothing => {}
                    Wake::Dealloc => unreachable!("the loop and the join handle hold refs"),
                }
            })
        };
        // First poll: pending unless `ready` is already visible.
        let mut pending_polls = 0;
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        let mut done = ready.load(Ordering::SeqCst) == 1;
        loop {
            if done {
                state.transition_to_complete();
                assert!(!state.ref_dec_twice());
                break;
            }
            pending_polls += 1;
            match state.transition_to_idle() {
                (ToIdle::Requeue, _) => {
                    assert_eq!(state.transition_to_running(), ToRunning::Poll);
                }
                (ToIdle::Idle, last) => {
                    assert!(!last);
                    // Parked: only a queued wake may run it again.
                    waker.join().unwrap();
                    assert_eq!(queue.take_all(), 1, "a wake after the poll was lost");
                    assert_eq!(state.transition_to_running(), ToRunning::Poll);
                    done = ready.load(Ordering::SeqCst) == 1;
                    assert!(done);
                    state.transition_to_complete();
                    assert!(!state.ref_dec_twice());
                    state.drop_join_interest();
                    assert!(state.ref_dec(), "join handle held the last ref");
                    return;
                }
                (ToIdle::Cancel, _) => unreachable!(),
            }
            done = ready.load(Ordering::SeqCst) == 1;
        }
        let _ = pending_polls;
        waker.join().unwrap();
        let _ = queue.take_all();
        state.drop_join_interest();
        let snapshot = state.load();
        // Only the join ref (and possibly a released waker ref) remain.
        assert!(snapshot.ref_count() <= 1, "{snapshot:?}");
    });
}

#[test]
fn loom_cancel_vs_pending_poll() {
    loom::model(|| {
        let state = Arc::new(State::new());
        let queue = Arc::new(Queue::default());
        let canceller = {
            let (s, q) = (state.clone(), queue.clone());
            thread::spawn(move || {
                if s.transition_to_cancelled() == Wake::Submit {
                    q.push();
                }
            })
        };
        let mut cancelled = false;
        match state.transition_to_running() {
            ToRunning::Cancel => cancelled = true,
            ToRunning::Poll => match state.transition_to_idle() {
                (ToIdle::Cancel, _) => cancelled = true,
                (ToIdle::Requeue, _) => queue.push(),
                (ToIdle::Idle, last) => assert!(!last),
            },
            ToRunning::Done => unreachable!(),
        }
        canceller.join().unwrap();
        if !cancelled {
            // The cancellation must have queued the task exactly once.
            assert_eq!(queue.take_all(), 1);
            assert_eq!(state.transition_to_running(), ToRunning::Cancel);
        }
        state.transition_to_complete();
        assert!(state.load().is_complete());
    });
}

/// A task that woke itself during its poll (`yield_now`, recorded in a
/// plain flag, see `context::wake_current_by_ref`) is requeued by
/// `transition_to_requeue` while another thread cancels it and a third
/// wakes it: it ends up in the queue exactly once, and runs as a
/// cancellation unless the requeue came first and the cancel found it
/// queued (then the queued run cancels it).
#[test]
fn loom_self_wake_requeue_vs_remote_cancel_and_wake() {
    loom::model(|| {
        let state = Arc::new(State::new());
        state.ref_inc(); // the remote waker's reference
        let queue = Arc::new(Queue::default());
        // The poll is under way when the other threads start.
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        let canceller = {
            let (s, q) = (state.clone(), queue.clone());
            thread::spawn(move || {
                if s.transition_to_cancelled() == Wake::Submit {
                    q.push();
                }
            })
        };
        let waker = {
            let (s, q) = (state.clone(), queue.clone());
            thread::spawn(move || match s.transition_to_notified_by_val() {
                Wake::Submit => q.push(),
                Wake::Nothing => {}
                Wake::Dealloc => unreachable!("the loop and the join handle hold refs"),
            })
        };
        let cancelled_now = match state.transition_to_requeue() {
            ToIdle::Requeue => {
                queue.push();
                false
            }
            ToIdle::Cancel => true,
            ToIdle::Idle => unreachable!("a self-woken task is never idle"),
        };
        canceller.join().unwrap();
        waker.join().unwrap();
        if !cancelled_now {
            // Requeued by us; neither remote party may have queued it again.
            assert_eq!(queue.take_all(), 1, "queued more than once");
            assert_eq!(state.transition_to_running(), ToRunning::Cancel);
        } else {
            assert_eq!(queue.take_all(), 0, "a running task was queued");
        }
        let after = state.transition_to_complete();
        assert!(after.is_complete() && !after.is_running());
        // The running/queue reference and the live-table reference go;
        // the join handle's stays, and the remote waker's was released.
        assert!(!state.ref_dec_twice());
        assert_eq!(state.load().ref_count(), 1);
    });
}

/// The loop's side of the join-waker models: on another thread, polls the
/// task to completion and, if a join waker is registered, "wakes" it.
/// Returns the waker woken (the value in the slot), or `None`.
fn complete_on_loop(
    state: &Arc<State>,
    slot: &Arc<UnsafeCell<Option<usize>>>,
) -> thread::JoinHandle<Option<usize>> {
    let (s, slot) = (state.clone(), slot.clone());
    thread::spawn(move || {
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        let after = s.transition_to_complete();
        if after.has_join_interest() && after.has_join_waker() {
            // SAFETY (model): JOIN_WAKER set and complete: the loop side
            // owns the slot.
            let w = slot.with(|p| unsafe { *p });
            s.unset_join_waker_after_complete();
            Some(w.expect("a registered waker"))
        } else {
            None
        }
    })
}

#[test]
fn loom_join_waker_handshake() {
    loom::model(|| {
        let state = Arc::new(State::new());
        let slot = Arc::new(UnsafeCell::new(None::<usize>));

        // The loop completes the task and wakes the join waker if set.
        let looper = complete_on_loop(&state, &slot);
        // The join handle registers a waker unless already complete.
        let mut saw_complete = state.load().is_complete();
        if !saw_complete {
            // SAFETY (model): JOIN_WAKER clear, the handle owns the slot.
            slot.with_mut(|p| unsafe { *p = Some(7) });
            if state.set_join_waker().is_err() {
                // SAFETY (model): publishing failed; still ours.
                slot.with_mut(|p| unsafe { *p = None });
                saw_complete = true;
            }
        }
        let woken = looper.join().unwrap();
        assert!(woken.is_none() || woken == Some(7));
        // Either the handle saw completion itself, or it was woken.
        assert!(saw_complete || woken.is_some());
        assert!(!(saw_complete && woken.is_some()));
    });
}

/// A join handle polled again with a different waker (on another thread)
/// swaps its registered waker while the loop completes the task: the new
/// waker is woken, or the handle sees the completion itself; the slot is
/// never touched by both sides at once.
#[test]
fn loom_join_waker_swap_vs_complete() {
    loom::model(|| {
        let state = Arc::new(State::new());
        // The first poll registered waker 7.
        let slot = Arc::new(UnsafeCell::new(Some(7usize)));
        assert!(state.set_join_waker().is_ok());
        let looper = complete_on_loop(&state, &slot);
        // The second poll, with waker 8.
        let saw_complete = match state.unset_join_waker() {
            Err(snapshot) => {
                assert!(snapshot.is_complete());
                true
            }
            Ok(()) => {
                // SAFETY (model): JOIN_WAKER cleared before completion: the
                // handle owns the slot again.
                slot.with_mut(|p| unsafe { *p = Some(8) });
                if state.set_join_waker().is_err() {
                    // SAFETY (model): publishing failed; still ours.
                    slot.with_mut(|p| unsafe { *p = None });
                    true
                } else {
                    false
                }
            }
        };
        let w = looper.join().unwrap().unwrap_or(0);
        if saw_complete {
            // The old waker may have been woken before the swap: harmless.
            assert!(w == 0 || w == 7, "woke {w}");
        } else {
            assert_eq!(w, 8, "the current waker must be woken");
        }
    });
}
