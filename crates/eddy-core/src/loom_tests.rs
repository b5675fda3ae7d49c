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

/// A test node for the inject queue.
struct Node {
    next: UnsafeCell<Option<NonNull<Node>>>,
    value: usize,
}

// SAFETY: `next` is a field of the node, alive as long as the node.
unsafe impl Linked for Node {
    fn next(&self) -> &UnsafeCell<Option<NonNull<Node>>> {
        &self.next
    }
}

fn node(value: usize) -> NonNull<Node> {
    NonNull::from(Box::leak(Box::new(Node {
        next: UnsafeCell::new(None),
        value,
    })))
}

/// # Safety
/// `n` came from `node` and is no longer linked.
unsafe fn free(n: NonNull<Node>) -> usize {
    // SAFETY: per the caller's contract.
    unsafe { Box::from_raw(n.as_ptr()) }.value
}

/// The value of a popped task node (freeing it); these models push no
/// callbacks.
fn task_value(popped: Popped<Node, ()>) -> usize {
    match popped {
        // SAFETY: popped, so ours.
        Popped::Task(n) => unsafe { free(n) },
        Popped::Callback(()) => unreachable!("no callbacks pushed"),
    }
}

#[test]
fn loom_inject_push_pop_close() {
    loom::model(|| {
        let inject = Arc::new(Inject::<Node, ()>::new());
        let refused = Arc::new(AtomicUsize::new(0));
        let pushers: Vec<_> = (0..2)
            .map(|t| {
                let (inject, refused) = (inject.clone(), refused.clone());
                thread::spawn(move || {
                    if let Err(n) = inject.push(node(1 << t)) {
                        // SAFETY: refused, so still ours.
                        refused.fetch_add(unsafe { free(n) }, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        let mut got = 0;
        inject.pop_batch(1, |n| got += task_value(n));
        inject.close();
        for p in pushers {
            p.join().unwrap();
        }
        inject.pop_batch(usize::MAX, |n| got += task_value(n));
        assert!(inject.is_empty());
        assert_eq!(got + refused.load(Ordering::SeqCst), 0b11);
    });
}

/// One thread queues a callback and then a task, another a task and then a
/// callback, while the loop drains in small batches: each thread's two
/// submissions come out in the order it made them, and nothing is lost.
#[test]
fn loom_inject_keeps_callbacks_and_tasks_in_submission_order() {
    loom::model(|| {
        let inject = Arc::new(Inject::<Node, usize>::new());
        let a = {
            let inject = inject.clone();
            thread::spawn(move || {
                assert!(inject.push_callback(10).is_ok());
                assert!(inject.push(node(11)).is_ok());
            })
        };
        let b = {
            let inject = inject.clone();
            thread::spawn(move || {
                assert!(inject.push(node(20)).is_ok());
                assert!(inject.push_callback(21).is_ok());
            })
        };
        let mut order = Vec::new();
        let mut drain = |max| {
            inject.pop_batch(max, |p| {
                order.push(match p {
                    // SAFETY: popped, so ours.
                    Popped::Task(n) => unsafe { free(n) },
                    Popped::Callback(v) => v,
                })
            });
        };
        drain(1);
        a.join().unwrap();
        b.join().unwrap();
        while !inject.is_empty() {
            drain(1);
        }
        let at = |v| order.iter().position(|&x| x == v).unwrap();
        assert_eq!(order.len(), 4, "{order:?}");
        assert!(at(10) < at(11), "{order:?}");
        assert!(at(20) < at(21), "{order:?}");
    });
}

/// A wake of the `block_on` future from another thread, after that thread
/// spawned a task: when the loop takes the wake (before draining the inject
/// queue, as `pull_remote_checking_main` does), the drain finds the task,
/// so it is queued ahead of the main future's turn.
#[test]
fn loom_remote_wake_brings_earlier_work() {
    loom::model(|| {
        let inject = Arc::new(Inject::<Node, ()>::new());
        let wake = Arc::new(RemoteWake::default());
        let remote = {
            let (inject, wake) = (inject.clone(), wake.clone());
            thread::spawn(move || {
                assert!(inject.push(node(1)).is_ok());
                wake.set();
            })
        };
        let drain = |inject: &Inject<Node, ()>| {
            let mut got = 0;
            inject.pop_batch(usize::MAX, |n| got += task_value(n));
            got
        };
        let mut drained = 0;
        if wake.take() {
            drained = drain(&inject);
            assert_eq!(drained, 1, "the wake arrived without the work before it");
        }
        remote.join().unwrap();
        drained += drain(&inject);
        assert_eq!(drained, 1);
    });
}

/// A future that is ready once its flag is set; it parks its waker in a
/// slot the setter takes.
struct Flag {
    set: loom::sync::atomic::AtomicBool,
    waker: Mutex<Option<std::task::Waker>>,
}

impl Flag {
    fn new() -> Arc<Flag> {
        Arc::new(Flag {
            set: loom::sync::atomic::AtomicBool::new(false),
            waker: Mutex::new(None),
        })
    }

    fn set(&self) {
        self.set.store(true, Ordering::SeqCst);
        if let Some(w) = self.waker.lock().unwrap().take() {
            w.wake();
        }
    }

    fn wait(flag: &Arc<Flag>) -> impl std::future::Future<Output = ()> {
        let flag = flag.clone();
        std::future::poll_fn(move |cx| {
            if flag.set.load(Ordering::SeqCst) {
                return std::task::Poll::Ready(());
            }
            *flag.waker.lock().unwrap() = Some(cx.waker().clone());
            if flag.set.load(Ordering::SeqCst) {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
    }
}

/// `Slots` (gather_all / wait): wakes of pending slots from another thread,
/// racing the pass that drains the ready list, are never lost — the caller
/// finishes instead of sleeping forever (loom reports a deadlock if a wake
/// is dropped).
#[test]
fn loom_slots_remote_wakes_are_not_lost() {
    use std::ops::ControlFlow;
    loom::model(|| {
        let flags = [Flag::new(), Flag::new()];
        let mut slots = crate::task::slots::Slots::new(flags.iter().map(Flag::wait));
        let setters = flags.clone();
        let setter = thread::spawn(move || {
            for flag in &setters {
                flag.set();
            }
        });
        let mut finished = 0;
        loom::future::block_on(std::future::poll_fn(|cx| {
            slots.poll(cx, |_, _| {
                finished += 1;
                ControlFlow::<()>::Continue(())
            })
        }));
        assert_eq!(finished, 2);
        assert_eq!(slots.remaining(), 0);
        setter.join().unwrap();
    });
}

/// `Slots` stopping early (wait's FirstCompleted) keeps the wakes it did not
/// visit: a second wait still sees the other slot finish.
#[test]
fn loom_slots_early_stop_keeps_unvisited_wakes() {
    use std::ops::ControlFlow;
    loom::model(|| {
        let flags = [Flag::new(), Flag::new()];
        let mut slots = crate::task::slots::Slots::new(flags.iter().map(Flag::wait));
        let setters = flags.clone();
        let setter = thread::spawn(move || {
            setters[1].set();
            setters[0].set();
        });
        // Stop at the first completion, then wait for the rest.
        let first = loom::future::block_on(std::future::poll_fn(|cx| {
            slots.poll(cx, |i, _| ControlFlow::Break(i))
        }));
        assert!(first.is_some());
        let rest = loom::future::block_on(std::future::poll_fn(|cx| {
            slots.poll(cx, |_, _| ControlFlow::<usize>::Continue(()))
        }));
        assert_eq!(rest, None);
        assert_eq!(slots.remaining(), 0);
        setter.join().unwrap();
    });
}

/// A `CancelHandle` (an `AbortRef`: one plain reference taken on the loop
/// thread) cancels from another thread and is dropped there, while the
/// loop polls the task and another thread drops the join handle: the task
/// is cancelled exactly once (by the poll's `transition_to_idle` or from
/// the queue), every queued entry releases its reference, and the
/// allocation is freed exactly once, by whichever party is last — the
/// cancel handle included.
#[test]
fn loom_cancel_handle_vs_poll_vs_join_drop() {
    loom::model(|| {
        let state = Arc::new(State::new());
        state.ref_inc(); // the cancel handle's reference
        let queue = Arc::new(Queue::default());
        let deallocs = Arc::new(AtomicUsize::new(0));
        let canceller = {
            let (s, q, d) = (state.clone(), queue.clone(), deallocs.clone());
            thread::spawn(move || {
                if s.transition_to_cancelled() == Wake::Submit {
                    q.push();
                }
                if s.ref_dec() {
                    d.fetch_add(1, Ordering::SeqCst);
                }
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
        let mut completions = 0;
        let mut complete = |state: &State| {
            completions += 1;
            state.transition_to_complete();
            // The running and live-table references.
            if state.ref_dec_twice() {
                deallocs.fetch_add(1, Ordering::SeqCst);
            }
        };
        // The first poll returns Pending.
        match state.transition_to_running() {
            ToRunning::Poll => match state.transition_to_idle() {
                (ToIdle::Idle, last) => assert!(!last, "the live table holds a reference"),
                (ToIdle::Requeue, _) => queue.push(),
                (ToIdle::Cancel, _) => complete(&state),
            },
            ToRunning::Cancel => complete(&state),
            ToRunning::Done => unreachable!("not complete before its first run"),
        }
        canceller.join().unwrap();
        joiner.join().unwrap();
        // The loop runs what the cancel queued.
        loop {
            let n = queue.take_all();
            if n == 0 {
                break;
            }
            for _ in 0..n {
                match state.transition_to_running() {
                    ToRunning::Cancel => complete(&state),
                    ToRunning::Done => {
                        if state.ref_dec() {
                            deallocs.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    ToRunning::Poll => unreachable!("only the cancel queues it"),
                }
            }
        }
        assert_eq!(completions, 1, "cancelled once");
        assert_eq!(deallocs.load(Ordering::SeqCst), 1, "freed exactly once");
    });
}
