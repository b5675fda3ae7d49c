//! loom models of `Slots`, the ready list under `gather_all` and `wait`.

use super::*;

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
