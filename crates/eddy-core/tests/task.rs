//! Behaviour of tasks: ordering, cancellation, panics, !Send futures,
//! cross-thread spawns and wakes. Also run under Miri (smaller counts).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use eddy_core::{call_soon, run, spawn, yield_now, Runtime};

/// Counts drops, so tests can check destructors ran exactly once.
struct DropCounter(Arc<AtomicUsize>);
impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        (n / 500).max(4)
    } else {
        n
    }
}

#[test]
fn spawn_yield_and_call_soon_share_one_fifo() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    run(async move {
        let a = {
            let l = l.clone();
            spawn(async move {
                l.borrow_mut().push("a1");
                yield_now().await;
                l.borrow_mut().push("a2");
            })
        };
        {
            let l = l.clone();
            call_soon(move || l.borrow_mut().push("cb"));
        }
        let b = {
            let l = l.clone();
            spawn(async move { l.borrow_mut().push("b1") })
        };
        a.await.unwrap();
        b.await.unwrap();
    });
    assert_eq!(*log.borrow(), ["a1", "cb", "b1", "a2"]);
}

#[test]
fn join_returns_output_and_not_send_futures_work() {
    let out = run(async {
        let rc = Rc::new(21);
        let r = rc.clone();
        spawn(async move {
            yield_now().await;
            *r * 2
        })
        .await
        .unwrap()
    });
    assert_eq!(out, 42);
}

#[test]
fn cancel_before_first_poll_drops_future_unpolled() {
    let drops = Arc::new(AtomicUsize::new(0));
    let polled = Rc::new(RefCell::new(false));
    let (d, p) = (drops.clone(), polled.clone());
    run(async move {
        let guard = DropCounter(d);
        let task = spawn(async move {
            let _g = guard;
            *p.borrow_mut() = true;
        });
        task.cancel();
        let err = task.await.unwrap_err();
        assert!(err.is_cancelled());
    });
    assert!(!*polled.borrow());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn cancel_while_pending_runs_destructors_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    run(async move {
        let guard = DropCounter(d);
        let task = spawn(async move {
            let _g = guard;
            std::future::pending::<()>().await;
        });
        yield_now().await; // let it start and park
        assert!(!task.is_finished());
        task.cancel();
        task.cancel(); // idempotent
        assert!(task.await.unwrap_err().is_cancelled());
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn cancel_after_completion_keeps_output() {
    run(async {
        let task = spawn(async { 7 });
        yield_now().await;
        assert!(task.is_finished());
        task.cancel();
        assert_eq!(task.await.unwrap(), 7);
    });
}

#[test]
fn cancel_a_task_that_cancels_itself_while_running() {
    run(async {
        let slot: Rc<RefCell<Option<eddy_core::JoinHandle<()>>>> = Rc::new(RefCell::new(None));
        let s = slot.clone();
        let task = spawn(async move {
            yield_now().await;
            // Cancel ourselves through our own handle while running.
            s.borrow().as_ref().unwrap().cancel();
            yield_now().await;
            unreachable!("the future must be dropped at the next scheduling point");
        });
        let id = task.id();
        *slot.borrow_mut() = Some(task);
        for _ in 0..4 {
            yield_now().await;
        }
        let task = slot.borrow_mut().take().unwrap();
        let err = task.await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(err.id(), id);
    });
}

#[test]
fn run_drops_leftover_tasks_before_returning() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    run(async move {
        for _ in 0..10 {
            let g = DropCounter(d.clone());
            // Detached tasks that never finish.
            drop(spawn(async move {
                let _g = g;
                std::future::pending::<()>().await;
            }));
        }
        yield_now().await;
    });
    assert_eq!(drops.load(Ordering::SeqCst), 10);
}

#[test]
fn destructors_spawning_during_shutdown_are_cancelled_too() {
    let drops = Arc::new(AtomicUsize::new(0));
    struct SpawnOnDrop(Arc<AtomicUsize>);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let g = DropCounter(self.0.clone());
            drop(spawn(async move {
                let _g = g;
                std::future::pending::<()>().await;
            }));
        }
    }
    let d = drops.clone();
    run(async move {
        let s = SpawnOnDrop(d);
        drop(spawn(async move {
            let _s = s;
            std::future::pending::<()>().await;
        }));
        yield_now().await;
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn panics_are_caught_and_returned() {
    run(async {
        let task = spawn(async {
            yield_now().await;
            panic!("kaboom");
        });
        let err = task.await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.panic_message(), Some("kaboom"));
        assert!(err.to_string().contains("kaboom"));
        // The loop goes on.
        assert_eq!(spawn(async { 1 }).await.unwrap(), 1);
    });
}

#[test]
fn unjoined_panic_is_logged_and_loop_keeps_running() {
    run(async {
        drop(spawn(async { panic!("nobody listens") }));
        let joined_later = spawn(async { panic!("handle dropped before reading") });
        yield_now().await;
        drop(joined_later);
        assert_eq!(spawn(async { 2 }).await.unwrap(), 2);
    });
}

#[test]
fn shutdown_runtime_policy_stops_block_on() {
    let rt = eddy_core::Builder::new()
        .unhandled_panic(eddy_core::UnhandledPanic::ShutdownRuntime)
        .build()
        .unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            drop(spawn(async { panic!("fatal") }));
            std::future::pending::<()>().await;
        })
    }));
    let err = result.unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap();
    assert!(msg.contains("UnhandledPanic::ShutdownRuntime"), "{msg}");
}

#[test]
fn handle_spawn_from_other_threads() {
    let rt = Runtime::new().unwrap();
    let n = scaled(1000);
    let handles: Vec<_> = (0..2)
        .map(|t| {
            let h = rt.handle();
            std::thread::spawn(move || {
                (0..n)
                    .map(|i| h.spawn(async move { t * n + i }).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let tasks: Vec<_> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let sum = rt.block_on(async move {
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..2 * n).sum::<usize>());
}

/// A future that completes after `target` wakes delivered from elsewhere.
struct CountWakes {
    seen: Arc<AtomicUsize>,
    target: usize,
    waker: Arc<Mutex<Option<Waker>>>,
}
impl Future for CountWakes {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.seen.load(Ordering::SeqCst) >= self.target {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[test]
fn cross_thread_wakes_are_never_lost() {
    let total = scaled(100_000);
    let threads = 2;
    let seen = Arc::new(AtomicUsize::new(0));
    let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
    let rt = Runtime::new().unwrap();
    let task = rt.handle().spawn(CountWakes {
        seen: seen.clone(),
        target: total,
        waker: slot.clone(),
    });
    let task = task.unwrap();
    let wakers: Vec<_> = (0..threads)
        .map(|_| {
            let (seen, slot) = (seen.clone(), slot.clone());
            std::thread::spawn(move || {
                for _ in 0..total / threads {
                    seen.fetch_add(1, Ordering::SeqCst);
                    let w = slot.lock().unwrap().clone();
                    if let Some(w) = w {
                        w.wake();
                    }
                }
            })
        })
        .collect();
    // Completes only if the last increments' wakes reached the task.
    rt.block_on(async move {
        // Also wake from a thread that starts after the task parked.
        task.await.unwrap();
    });
    for w in wakers {
        w.join().unwrap();
    }
    assert_eq!(seen.load(Ordering::SeqCst), total);
}

#[test]
fn not_send_future_is_dropped_on_its_thread_even_if_last_waker_is_remote() {
    // The Rc makes the future !Send, which is the point of the test.
    struct RecordThread(
        Arc<Mutex<Option<std::thread::ThreadId>>>,
        #[allow(dead_code)] Rc<()>,
    );
    impl Drop for RecordThread {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = Some(std::thread::current().id());
        }
    }
    let dropped_on = Arc::new(Mutex::new(None));
    let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
    let (d, s) = (dropped_on.clone(), slot.clone());
    run(async move {
        let rec = RecordThread(d, Rc::new(()));
        let s2 = s.clone();
        let task = spawn(async move {
            let _rec = rec;
            std::future::poll_fn(|cx| {
                *s2.lock().unwrap() = Some(cx.waker().clone());
                Poll::<()>::Pending
            })
            .await;
        });
        yield_now().await;
        task.cancel();
        let _ = task.await;
    });
    // The last waker is dropped on another thread after the loop is gone.
    let w = slot.lock().unwrap().take().unwrap();
    std::thread::spawn(move || drop(w)).join().unwrap();
    assert_eq!(
        *dropped_on.lock().unwrap(),
        Some(std::thread::current().id())
    );
}

#[test]
fn remote_wake_after_shutdown_is_harmless() {
    let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
    let s = slot.clone();
    run(async move {
        drop(spawn(std::future::poll_fn(move |cx| {
            *s.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        })));
        yield_now().await;
    });
    let w = slot.lock().unwrap().take().unwrap();
    std::thread::spawn(move || w.wake()).join().unwrap();
}

#[test]
fn spawn_after_shutdown_is_an_error() {
    let rt = Runtime::new().unwrap();
    let h = rt.handle();
    rt.shutdown();
    let err = h.spawn(async {}).unwrap_err();
    assert_eq!(err, eddy_core::SpawnError::Shutdown);
    assert!(h.call_soon(|| {}).is_cancelled());
}

#[test]
fn join_handle_is_awaitable_from_another_task_and_thread() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let t = handle.spawn(async { 5u8 }).unwrap();
        tx.send(t).unwrap();
    });
    worker.join().unwrap();
    let t = rx.recv().unwrap();
    let v = rt.block_on(async move { spawn(t).await.unwrap().unwrap() });
    assert_eq!(v, 5);
}

#[test]
fn many_tasks_complete() {
    let n = scaled(10_000);
    let sum = run(async move {
        let tasks: Vec<_> = (0..n).map(|i| spawn(async move { i })).collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..n).sum::<usize>());
}

#[test]
fn remote_spawns_racing_shutdown_run_or_drop_every_future_exactly_once() {
    for round in 0..scaled(20) {
        let rt = Runtime::new().unwrap();
        let created = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let ran = Arc::new(AtomicUsize::new(0));
        let spawners: Vec<_> = (0..3)
            .map(|_| {
                let h = rt.handle();
                let (created, dropped, ran) = (created.clone(), dropped.clone(), ran.clone());
                std::thread::spawn(move || {
                    let mut joins = Vec::new();
                    for _ in 0..scaled(2_000) {
                        created.fetch_add(1, Ordering::SeqCst);
                        let guard = DropCounter(dropped.clone());
                        let ran = ran.clone();
                        let task = async move {
                            let _guard = guard;
                            yield_now().await;
                            ran.fetch_add(1, Ordering::SeqCst);
                        };
                        // A refused spawn drops its future (and guard) here.
                        match h.spawn(task) {
                            Ok(join) => joins.push(join),
                            Err(_) => break,
                        }
                    }
                    joins
                })
            })
            .collect();
        // Run a little, then shut down while the spawners are still going.
        rt.block_on(async {
            for _ in 0..round {
                yield_now().await;
            }
        });
        drop(rt);
        let joins: Vec<_> = spawners
            .into_iter()
            .flat_map(|s| s.join().unwrap())
            .collect();
        // Every future ever made was dropped exactly once: run to the end,
        // cancelled by the shutdown, or refused at spawn.
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            created.load(Ordering::SeqCst),
            "round {round}"
        );
        // Each accepted task's handle says which of the first two it was.
        let finished = joins
            .into_iter()
            .map(futures::executor::block_on)
            .filter(|r| {
                assert!(r.is_ok() || r.as_ref().unwrap_err().is_cancelled());
                r.is_ok()
            })
            .count();
        assert_eq!(finished, ran.load(Ordering::SeqCst), "round {round}");
    }
}

#[test]
fn cancel_from_another_thread_racing_completion_is_one_or_the_other() {
    let rt = Runtime::new().unwrap();
    for _ in 0..scaled(500) {
        let dropped = Arc::new(AtomicUsize::new(0));
        let guard = DropCounter(dropped.clone());
        let task = rt
            .handle()
            .spawn(async move {
                let _guard = guard;
                yield_now().await;
                7u8
            })
            .unwrap();
        let task = Arc::new(task);
        let t2 = task.clone();
        let canceller = std::thread::spawn(move || t2.cancel());
        rt.block_on(async {
            yield_now().await;
            yield_now().await;
        });
        canceller.join().unwrap();
        let task = Arc::try_unwrap(task).ok().unwrap();
        match rt.block_on(task) {
            Ok(v) => assert_eq!(v, 7),
            Err(e) => assert!(e.is_cancelled()),
        }
        assert_eq!(dropped.load(Ordering::SeqCst), 1, "the future dropped once");
    }
}

fn assert_send_sync<T: Send + Sync + Clone + 'static>(_: &T) {}

#[test]
fn cancel_handle_cancels_from_another_thread_while_the_join_handle_waits() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    run(async move {
        let guard = DropCounter(d);
        let task = spawn(async move {
            let _guard = guard;
            std::future::pending::<Rc<u8>>().await // a !Send output
        });
        let cancel = task.cancel_handle();
        assert_send_sync(&cancel);
        assert_eq!(cancel.id(), task.id());
        yield_now().await; // the task is now waiting
        let other = cancel.clone();
        std::thread::spawn(move || {
            other.cancel();
            other.cancel(); // twice is harmless
        })
        .join()
        .unwrap();
        assert!(task.await.unwrap_err().is_cancelled());
        assert!(cancel.is_finished());
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the future dropped once");
}

#[test]
fn cancel_handle_outlives_the_task_and_the_join_handle_without_keeping_the_output() {
    let outputs = Arc::new(AtomicUsize::new(0));
    let (o1, o2, seen) = (outputs.clone(), outputs.clone(), outputs.clone());
    let rt = Runtime::new().unwrap();
    let handles = rt.block_on(async move {
        let outputs = seen;
        // Joined, then the join handle dropped: the output goes with it.
        let joined = spawn(async move { DropCounter(o1) });
        let first = joined.cancel_handle();
        yield_now().await;
        assert!(first.is_finished());
        first.cancel(); // finished: the output stays
        drop(joined);
        assert_eq!(outputs.load(Ordering::SeqCst), 1);

        // Detached before it finished: the output is dropped when it does.
        let detached = spawn(async move {
            yield_now().await;
            DropCounter(o2)
        });
        let second = detached.cancel_handle();
        drop(detached);
        assert!(!second.is_finished());
        while !second.is_finished() {
            yield_now().await;
        }
        assert_eq!(outputs.load(Ordering::SeqCst), 2);
        (first, second.clone(), second)
    });
    drop(rt);
    // The handles outlive the runtime; the last one frees each task on
    // another thread, and cancelling now does nothing.
    std::thread::spawn(move || {
        let (first, second, third) = handles;
        assert!(first.is_finished() && second.is_finished());
        first.cancel();
        drop((first, second));
        third.cancel();
        drop(third);
    })
    .join()
    .unwrap();
    assert_eq!(outputs.load(Ordering::SeqCst), 2);
}

#[test]
fn cancel_handle_of_a_task_cut_short_by_runtime_shutdown() {
    let rt = Runtime::new().unwrap();
    let cancel = rt.block_on(async {
        let task = spawn(std::future::pending::<()>());
        task.cancel_handle()
    });
    assert!(!cancel.is_finished());
    drop(rt); // shutdown cancels the detached task
    assert!(cancel.is_finished());
    cancel.cancel();
}

#[test]
fn cancel_handles_of_child_shielded_and_cancel_on_drop_handles() {
    use eddy_core::task::{shield, TaskGroup};
    run(async {
        let group = TaskGroup::<()>::new();
        let child = group
            .spawn(std::future::pending::<Result<(), ()>>())
            .unwrap();
        let sibling = group.spawn(async { Ok(5) }).unwrap();
        let shielded = shield(std::future::pending::<()>());
        let guarded = spawn(std::future::pending::<()>()).cancel_on_drop();
        let handles = [
            child.cancel_handle(),
            shielded.cancel_handle(),
            guarded.cancel_handle(),
        ];
        assert_eq!(handles[0].id(), child.id());
        assert_eq!(handles[1].id(), shielded.id());
        assert_eq!(handles[2].id(), guarded.id());
        std::thread::spawn(move || handles.iter().for_each(|h| h.cancel()))
            .join()
            .unwrap();
        // The child's cancellation is not a group failure.
        group.join().await.unwrap();
        assert!(child.await.unwrap_err().is_cancelled());
        assert_eq!(sibling.await.unwrap(), 5);
        assert!(shielded.await.unwrap_err().is_cancelled());
        assert!(guarded.await.unwrap_err().is_cancelled());
    });
}
