//! tokio's task-system behaviours, ported to eddy: what a tokio user
//! expects of spawn and JoinHandle (abort of a finished task, join after
//! abort, is_finished, task ids, caught panics), of Handle from other
//! threads and runtimes, of a runtime dropped with tasks alive, and of
//! futures' select!/join! over eddy's futures (JoinHandle, sleep).
//!
//! Names: tokio's `abort()` is eddy's `cancel()`, `task::id()` is
//! `task::current().map(|t| t.id())`, `spawn_local` is plain `spawn`.

mod common;

use std::cell::Cell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex as StdMutex};
use std::thread::ThreadId;
use std::time::Duration;

use common::port::{flag, guard, paused, settle, sleep_an_hour, Finally};
use eddy::sync::oneshot;
use eddy::time::Instant;
use futures::FutureExt;

/// Records, when dropped, the thread it was dropped on.
struct DropsOn(Arc<StdMutex<Vec<ThreadId>>>);
impl Drop for DropsOn {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(std::thread::current().id());
    }
}

#[test]
fn abort_of_a_finished_task_keeps_its_output() {
    // tokio: "if the task was already finished, abort has no effect and
    // the JoinHandle returns Ok(value)".
    eddy::run(async {
        let handle = eddy::spawn(async { 7 });
        guard("finish", async {
            while !handle.is_finished() {
                eddy::yield_now().await;
            }
        })
        .await;
        handle.cancel();
        handle.cancel(); // twice is fine, as in tokio
        assert!(handle.is_finished());
        assert_eq!(handle.await.unwrap(), 7);
    });
}

#[test]
fn abort_before_the_first_poll_never_runs_the_body_but_drops_it() {
    // tokio: a task aborted before it ran never runs; its future (and what
    // it captured) is dropped, and the join reports cancelled.
    eddy::run(async {
        let ran = Rc::new(Cell::new(false));
        let dropped = flag();
        let (r, fin) = (ran.clone(), Finally(dropped.clone()));
        let handle = eddy::spawn(async move {
            let _fin = fin;
            r.set(true);
        });
        handle.cancel();
        assert!(
            !handle.is_finished(),
            "cancellation happens at the next scheduling point"
        );
        let id = handle.id();
        let err = guard("join", handle).await.unwrap_err();
        assert!(err.is_cancelled() && !err.is_panic());
        assert_eq!(err.id(), id);
        assert!(
            !ran.get(),
            "the body ran after an abort before its first poll"
        );
        assert!(dropped.get(), "the captured value was not dropped");
    });
}

#[test]
fn abort_from_another_thread_then_join_on_the_loop() {
    // tokio: JoinHandle::abort works from any thread (here through `&handle`,
    // which is Sync) and wakes the loop to drop the task.
    eddy::run(async {
        let dropped = flag();
        let handle = eddy::spawn(sleep_an_hour(dropped.clone()));
        settle().await;
        std::thread::scope(|s| {
            s.spawn(|| handle.cancel());
        });
        assert!(guard("join", handle).await.unwrap_err().is_cancelled());
        assert!(dropped.get());
    });
}

#[test]
fn is_finished_turns_true_for_output_cancel_and_panic() {
    eddy::run(async {
        let ok = eddy::spawn(async { 1 });
        let cancelled = eddy::spawn(std::future::pending::<()>());
        let panicked = eddy::spawn(async { panic!("boom") });
        let running = eddy::spawn(std::future::pending::<()>());
        cancelled.cancel();
        settle().await;
        assert!(ok.is_finished());
        assert!(cancelled.is_finished());
        assert!(panicked.is_finished());
        assert!(!running.is_finished());
        assert_eq!(ok.await.unwrap(), 1);
        assert!(cancelled.await.unwrap_err().is_cancelled());
        assert!(panicked.await.unwrap_err().is_panic());
        running.cancel();
    });
}

#[test]
fn task_ids_are_unique_and_match_inside_the_task() {
    // tokio::task::id() inside a task equals JoinHandle::id(); try_id() is
    // None outside a task (eddy: the block_on future is not a task).
    eddy::run(async {
        assert!(eddy::task::current().is_none());
        let handles: Vec<_> = (0..50)
            .map(|_| eddy::spawn(async { eddy::task::current().map(|t| t.id()) }))
            .collect();
        let mut ids: Vec<_> = handles.iter().map(|h| h.id()).collect();
        for h in handles {
            let id = h.id();
            assert_eq!(h.await.unwrap(), Some(id));
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 50, "two tasks shared an id");
        // Ids are never reused, even after the tasks are gone.
        let later = eddy::spawn(async {});
        assert!(!ids.contains(&later.id()));
        assert!(later.id().as_u64() > 0);
    });
}

#[test]
fn a_panic_is_caught_and_can_be_resumed_by_the_joiner() {
    // tokio's pattern: `if let Err(e) = h.await { if e.is_panic() {
    // resume_unwind(e.into_panic()) } }`, with a non-string payload.
    #[derive(Debug, PartialEq)]
    struct Payload(u32);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        eddy::run(async {
            let h = eddy::spawn(async { std::panic::panic_any(Payload(9)) });
            let id = h.id();
            let err = h.await.unwrap_err();
            assert!(err.is_panic() && !err.is_cancelled());
            assert_eq!(err.panic_message(), None);
            let text = err.to_string();
            assert!(
                text.contains(&id.to_string()) && text.contains("into_panic"),
                "{text}"
            );
            // The loop survived the panic: siblings still run.
            assert_eq!(eddy::spawn(async { 3 }).await.unwrap(), 3);
            resume_unwind(err.into_panic());
        })
    }));
    let payload = caught.unwrap_err();
    assert_eq!(payload.downcast_ref::<Payload>(), Some(&Payload(9)));
}

#[test]
#[allow(clippy::async_yields_async)] // a task hands back a JoinHandle
fn a_task_spawned_by_a_task_outlives_its_parent() {
    // tokio: tasks are not scoped; a child keeps running after the task
    // that spawned it ended, and its JoinHandle can be returned out.
    eddy::run(async {
        let parent = eddy::spawn(async {
            eddy::spawn(async {
                eddy::sleep(Duration::from_millis(2)).await;
                "child"
            })
        });
        let child = parent.await.unwrap();
        assert!(!child.is_finished());
        assert_eq!(guard("child", child).await.unwrap(), "child");
    });
}

#[test]
#[allow(clippy::async_yields_async)] // a task hands back a JoinHandle
fn a_join_handle_can_be_awaited_on_another_runtime() {
    // tokio: a JoinHandle is a plain Send future: another runtime (or any
    // executor) can await it while the task's own runtime drives it.
    let rt = eddy::Runtime::new().unwrap();
    let handle = rt.handle();
    let (go_tx, go) = oneshot::channel::<()>();
    let task = rt.block_on(async move {
        eddy::spawn(async move {
            let _ = go.await;
            std::thread::current().id()
        })
    });
    let (done_tx, done_rx) = oneshot::channel();
    let other = std::thread::spawn(move || {
        eddy::run(async move {
            // Wake the task from this thread, then wait for it here.
            go_tx.send(()).unwrap();
            let ran_on = guard("cross-runtime join", task).await.unwrap();
            done_tx.send(ran_on).unwrap();
        })
    });
    let ran_on = rt.block_on(async { guard("other runtime", done_rx).await.unwrap() });
    assert_eq!(
        ran_on,
        std::thread::current().id(),
        "the task left its loop thread"
    );
    other.join().unwrap();
    drop(handle);
}

#[test]
fn handle_spawn_on_the_loop_thread_runs_like_spawn() {
    // tokio: Handle::spawn from inside the runtime is the same as spawn.
    eddy::run(async {
        let handle = eddy::Handle::current();
        let t = handle.spawn(async { std::thread::current().id() }).unwrap();
        assert_eq!(t.await.unwrap(), std::thread::current().id());
    });
}

#[test]
fn a_new_runtime_inside_spawn_blocking_is_allowed() {
    // tokio: a blocking thread is not a runtime thread, so it may build
    // and block on a runtime of its own.
    eddy::run(async {
        let got = eddy::spawn_blocking(|| {
            assert!(eddy::Handle::try_current().is_none());
            let rt = eddy::Runtime::new().unwrap();
            rt.block_on(async {
                eddy::sleep(Duration::from_millis(1)).await;
                eddy::spawn(async { 5 }).await.unwrap()
            })
        });
        assert_eq!(guard("blocking runtime", got).await.unwrap(), 5);
    });
}

#[test]
#[allow(clippy::async_yields_async)] // a task hands back a JoinHandle
fn dropping_the_runtime_drops_every_task_on_the_loop_thread() {
    // tokio: dropping a runtime cancels its tasks and drops their futures;
    // eddy drops them on the loop thread, also those spawned from other
    // threads through a Handle, and their JoinHandles report cancelled.
    let log = Arc::new(StdMutex::new(Vec::new()));
    let rt = eddy::Runtime::new().unwrap();
    let handle = rt.handle();
    let local = {
        let d = DropsOn(log.clone());
        rt.block_on(async move {
            eddy::spawn(async move {
                let _d = d;
                std::future::pending::<()>().await;
            })
        })
    };
    let remote = {
        let (d, h) = (DropsOn(log.clone()), handle.clone());
        std::thread::spawn(move || {
            h.spawn(async move {
                let _d = d;
                eddy::sleep(Duration::from_secs(3600)).await;
            })
            .unwrap()
        })
        .join()
        .unwrap()
    };
    // The remote task never ran: no block_on after it was spawned.
    drop(rt);
    let me = std::thread::current().id();
    assert_eq!(*log.lock().unwrap(), [me, me]);
    assert!(handle.is_shutdown());
    let (local, remote) = futures::executor::block_on(async { (local.await, remote.await) });
    assert!(local.unwrap_err().is_cancelled());
    assert!(remote.unwrap_err().is_cancelled());
    assert!(handle.spawn(async {}).is_err());
}

#[test]
fn a_destructor_that_spawns_while_the_runtime_shuts_down() {
    // tokio lets a task's destructor spawn during shutdown: the new task
    // is cancelled without running. Nothing may panic or hang.
    let ran = Arc::new(AtomicBool::new(false));
    let second_dropped = Arc::new(AtomicBool::new(false));
    struct SpawnOnDrop(Arc<AtomicBool>, Arc<AtomicBool>);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let (ran, dropped) = (self.0.clone(), self.1.clone());
            struct Flag(Arc<AtomicBool>);
            impl Drop for Flag {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::SeqCst);
                }
            }
            let flag = Flag(dropped);
            drop(eddy::spawn(async move {
                let _flag = flag;
                ran.store(true, Ordering::SeqCst);
            }));
        }
    }
    let rt = eddy::Runtime::new().unwrap();
    let guard_value = SpawnOnDrop(ran.clone(), second_dropped.clone());
    rt.block_on(async move {
        eddy::spawn(async move {
            let _g = guard_value;
            std::future::pending::<()>().await;
        });
        eddy::yield_now().await;
    });
    drop(rt);
    assert!(
        second_dropped.load(Ordering::SeqCst),
        "the late task was leaked"
    );
    assert!(!ran.load(Ordering::SeqCst), "a task ran during shutdown");
}

#[test]
fn select_on_a_join_handle_then_abort_it() {
    // tokio's "give the task a while, else abort it" pattern:
    // select! { r = &mut handle => .., _ = sleep(d) => handle.abort() }.
    paused().block_on(async {
        let dropped = flag();
        let mut slow = eddy::spawn(sleep_an_hour(dropped.clone()));
        let out = futures::select_biased! {
            r = (&mut slow).fuse() => Some(r),
            _ = eddy::sleep(Duration::from_secs(5)).fuse() => None,
        };
        assert!(out.is_none());
        // The handle lost nothing by being polled in the select.
        assert!(!slow.is_finished());
        slow.cancel();
        assert!(slow.await.unwrap_err().is_cancelled());
        assert!(dropped.get());

        // And when the task wins, the same handle gives its output.
        let mut fast = eddy::spawn(async {
            eddy::sleep(Duration::from_secs(1)).await;
            "fast"
        });
        let out = futures::select_biased! {
            r = (&mut fast).fuse() => Some(r.unwrap()),
            _ = eddy::sleep(Duration::from_secs(5)).fuse() => None,
        };
        assert_eq!(out, Some("fast"));
    });
}

#[test]
fn join_runs_eddy_futures_side_by_side() {
    // tokio::join! of three sleeps takes as long as the longest, and the
    // branches interleave on one task.
    paused().block_on(async {
        let start = Instant::now();
        let order = Rc::new(Cell::new(0u32));
        let step = |n: u64| {
            let order = order.clone();
            async move {
                eddy::sleep(Duration::from_secs(n)).await;
                order.set(order.get() * 10 + n as u32);
                n
            }
        };
        let (a, b, c) = futures::join!(step(3), step(1), step(2));
        assert_eq!((a, b, c), (3, 1, 2));
        assert_eq!(order.get(), 123, "branches finished out of deadline order");
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    });
}

#[test]
fn cancel_on_drop_is_tokios_abort_on_drop() {
    // tokio users wrap a JoinHandle in AbortOnDrop (or use a JoinSet) to
    // tie a task to a scope; eddy's plain handle detaches when dropped,
    // and cancel_on_drop() gives the scoped form.
    eddy::run(async {
        let detached_done = Arc::new(AtomicUsize::new(0));
        let d = detached_done.clone();
        drop(eddy::spawn(async move {
            eddy::sleep(Duration::from_millis(1)).await;
            d.fetch_add(1, Ordering::SeqCst);
        }));
        let dropped = flag();
        let fin = Finally(dropped.clone());
        drop(
            eddy::spawn(async move {
                let _fin = fin;
                std::future::pending::<()>().await;
            })
            .cancel_on_drop(),
        );
        guard("detached task", async {
            while detached_done.load(Ordering::SeqCst) == 0 {
                eddy::sleep(Duration::from_millis(1)).await;
            }
        })
        .await;
        settle().await;
        assert!(dropped.get(), "cancel_on_drop did not cancel the task");
    });
}

#[test]
fn a_thread_waits_for_loop_work_like_handle_block_on() {
    // tokio: `handle.block_on(fut)` from a plain thread. eddy's Handle has
    // no block_on (the loop is single-threaded): spawn on the loop and
    // wait for the JoinHandle with any executor.
    let rt = eddy::Runtime::new().unwrap();
    let handle = rt.handle();
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let results: Vec<u32> = (0..3)
            .map(|i| {
                let t = handle
                    .spawn(async move {
                        eddy::sleep(Duration::from_millis(1)).await;
                        i * 2
                    })
                    .unwrap();
                futures::executor::block_on(t).unwrap()
            })
            .collect();
        tx.send(results).unwrap();
    });
    let results = rt.block_on(async {
        guard("thread", async {
            loop {
                if let Ok(r) = rx.try_recv() {
                    break r;
                }
                eddy::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
    });
    assert_eq!(results, [0, 2, 4]);
    thread.join().unwrap();
}

#[test]
fn a_destructor_panicking_during_abort_is_reported_as_the_tasks_panic() {
    // tokio: a future that panics while abort drops it makes the join
    // give that panic (is_panic, with its payload), not "cancelled"; the
    // same holds when the runtime's shutdown drops it.
    struct Bomb(&'static str);
    impl Drop for Bomb {
        fn drop(&mut self) {
            std::panic::panic_any(self.0);
        }
    }
    eddy::run(async {
        let h = eddy::spawn(async {
            let _b = Bomb("boom in drop");
            std::future::pending::<()>().await;
        });
        settle().await;
        h.cancel();
        let err = guard("join", h).await.unwrap_err();
        assert!(err.is_panic() && !err.is_cancelled(), "{err:?}");
        assert_eq!(err.panic_message(), Some("boom in drop"));
        // The loop goes on.
        assert_eq!(eddy::spawn(async { 1 }).await.unwrap(), 1);
    });
    let rt = eddy::Runtime::new().unwrap();
    // The handle is carried out of block_on on purpose, to be joined after
    // the runtime is gone.
    #[allow(clippy::async_yields_async)]
    let h = rt.block_on(async {
        let h = eddy::spawn(async {
            let _b = Bomb("boom at shutdown");
            std::future::pending::<()>().await;
        });
        settle().await;
        h
    });
    drop(rt);
    let err = futures::executor::block_on(h).unwrap_err();
    assert_eq!(err.panic_message(), Some("boom at shutdown"));
}
