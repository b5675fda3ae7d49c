//! Loop behaviour: fairness (event interval, budget), misuse messages,
//! block_on reuse, task introspection.
// Some tests hand a JoinHandle out of a block_on on purpose.
#![allow(clippy::async_yields_async)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use eddy_core::park::{Park, ThreadPark, Unpark};
use eddy_core::{coop, run, spawn, task, yield_now, Builder, Runtime};

/// A driver that counts how it is parked.
struct CountingPark {
    inner: ThreadPark,
    polls: Arc<AtomicUsize>,
    blocks: Arc<AtomicUsize>,
    shutdowns: Arc<AtomicUsize>,
}

impl Park for CountingPark {
    fn park(&mut self, timeout: Option<Duration>) {
        if timeout == Some(Duration::ZERO) {
            self.polls.fetch_add(1, Ordering::SeqCst);
        } else {
            self.blocks.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.park(timeout)
    }
    fn unparker(&self) -> Arc<dyn Unpark> {
        self.inner.unparker()
    }
    fn shutdown(&mut self) {
        self.shutdowns.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn busy_tasks_still_let_the_driver_poll() {
    let polls = Arc::new(AtomicUsize::new(0));
    let shutdowns = Arc::new(AtomicUsize::new(0));
    let driver = CountingPark {
        inner: ThreadPark::new(),
        polls: polls.clone(),
        blocks: Arc::new(AtomicUsize::new(0)),
        shutdowns: shutdowns.clone(),
    };
    let rt = Builder::new()
        .event_interval(10)
        .build_with_driver(Box::new(driver))
        .unwrap();
    rt.block_on(async {
        // Two tasks that are always ready for 1,000 steps each.
        let a = spawn(async {
            for _ in 0..1000 {
                yield_now().await
            }
        });
        let b = spawn(async {
            for _ in 0..1000 {
                yield_now().await
            }
        });
        a.await.unwrap();
        b.await.unwrap();
    });
    // 2,000 task polls at an interval of 10 means ~200 driver polls.
    assert!(
        polls.load(Ordering::SeqCst) >= 150,
        "{}",
        polls.load(Ordering::SeqCst)
    );
    drop(rt);
    assert_eq!(shutdowns.load(Ordering::SeqCst), 1);
}

#[test]
fn budget_runs_out_and_the_task_is_requeued() {
    run(async {
        let task = spawn(async {
            // A resource that is always ready still yields once the budget
            // of one poll is spent.
            let mut granted = 0u32;
            std::future::poll_fn(|cx| loop {
                match coop::poll_proceed(cx) {
                    Poll::Ready(c) => {
                        c.made_progress();
                        granted += 1;
                    }
                    Poll::Pending => return Poll::Ready(granted),
                }
            })
            .await
        });
        assert_eq!(task.await.unwrap(), u32::from(coop::BUDGET));
    });
}

#[test]
fn budget_is_restored_when_no_progress() {
    run(async {
        let task = spawn(async {
            std::future::poll_fn(|cx| {
                for _ in 0..1000 {
                    let c = match coop::poll_proceed(cx) {
                        Poll::Ready(c) => c,
                        Poll::Pending => return Poll::Ready(false),
                    };
                    drop(c); // no progress: unit given back
                }
                Poll::Ready(coop::has_budget_remaining())
            })
            .await
        });
        assert!(task.await.unwrap());
    });
}

#[test]
fn spawn_without_runtime_panics_with_fix() {
    let err = std::panic::catch_unwind(|| drop(spawn(async {}))).unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("no eddy runtime on this thread"), "{msg}");
    assert!(msg.contains("eddy::run"), "{msg}");
}

#[test]
fn nested_block_on_panics_with_fix() {
    let rt = Runtime::new().unwrap();
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { run(async {}) })
    }))
    .unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap();
    assert!(msg.contains("inside a running eddy loop"), "{msg}");
}

#[test]
fn block_on_is_reusable_and_tasks_survive_between_calls() {
    let rt = Runtime::new().unwrap();
    let counter = std::rc::Rc::new(std::cell::Cell::new(0));
    let c = counter.clone();
    let task = rt.block_on(async move {
        spawn(async move {
            loop {
                c.set(c.get() + 1);
                yield_now().await;
            }
        })
    });
    let before = counter.get();
    rt.block_on(async {
        for _ in 0..10 {
            yield_now().await
        }
    });
    assert!(counter.get() > before);
    task.cancel();
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
}

#[test]
fn current_and_all_report_names_states_and_polls() {
    run(async {
        let sleeper = task::Builder::new()
            .name("sleeper")
            .spawn(std::future::pending::<()>());
        let me = task::Builder::new().name("inspector").spawn(async {
            let cur = task::current().unwrap();
            (cur.name().map(str::to_owned), task::all())
        });
        yield_now().await;
        let (name, all) = me.await.unwrap();
        assert_eq!(name.as_deref(), Some("inspector"));
        let s = all.iter().find(|t| t.id() == sleeper.id()).unwrap();
        assert_eq!(s.name(), Some("sleeper"));
        assert_eq!(s.state(), task::TaskState::Idle);
        assert_eq!(s.polls(), 1);
        assert!(all
            .iter()
            .any(|t| t.name() == Some("inspector") && t.state() == task::TaskState::Running));
        sleeper.cancel();
        let _ = sleeper.await;
        assert!(task::all().iter().all(|t| t.name() != Some("sleeper")));
    });
}

#[test]
fn remote_call_soon_runs_on_the_loop_in_order() {
    let rt = Runtime::new().unwrap();
    let h = rt.handle();
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let loop_thread = std::thread::current().id();
    let l = log.clone();
    std::thread::spawn(move || {
        for i in 0..5 {
            let l = l.clone();
            h.call_soon(move || {
                assert_eq!(std::thread::current().id(), loop_thread);
                l.lock().unwrap().push(i)
            });
        }
    })
    .join()
    .unwrap();
    rt.block_on(yield_now());
    assert_eq!(*log.lock().unwrap(), [0, 1, 2, 3, 4]);
}

/// asyncio's order: `call_soon_threadsafe(f)` then
/// `run_coroutine_threadsafe(c)` runs `f` before `c` starts. A remote
/// spawn's first poll and remote callbacks keep the order in which the
/// other thread submitted them.
#[test]
fn remote_callbacks_and_remote_spawns_run_in_submission_order() {
    let rt = Runtime::new().unwrap();
    let h = rt.handle();
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let l = log.clone();
    std::thread::spawn(move || {
        let push = |what: &'static str| {
            let l = l.clone();
            move || l.lock().unwrap().push(what)
        };
        h.call_soon(push("callback 1"));
        let task = push("task 1");
        drop(h.spawn(async move { task() }).unwrap());
        h.call_soon(push("callback 2"));
        let task = push("task 2");
        drop(h.spawn(async move { task() }).unwrap());
    })
    .join()
    .unwrap();
    rt.block_on(async {
        for _ in 0..4 {
            yield_now().await;
        }
    });
    assert_eq!(
        *log.lock().unwrap(),
        ["callback 1", "task 1", "callback 2", "task 2"]
    );
}

#[test]
fn panicking_callback_does_not_stop_the_loop() {
    run(async {
        eddy_core::call_soon(|| panic!("callback failure"));
        yield_now().await;
        assert_eq!(spawn(async { 3 }).await.unwrap(), 3);
    });
}

#[test]
fn idle_loop_parks_and_remote_spawn_wakes_it() {
    let blocks = Arc::new(AtomicUsize::new(0));
    let driver = CountingPark {
        inner: ThreadPark::new(),
        polls: Arc::new(AtomicUsize::new(0)),
        blocks: blocks.clone(),
        shutdowns: Arc::new(AtomicUsize::new(0)),
    };
    let rt = Builder::new().build_with_driver(Box::new(driver)).unwrap();
    let h = rt.handle();
    let (tx, rx) = std::sync::mpsc::channel();
    let spawner = std::thread::spawn(move || {
        rx.recv().unwrap();
        h.spawn(async { 9 }).unwrap()
    });
    let out = rt.block_on(async move {
        tx.send(()).unwrap();
        // Waits (parked) until the other thread's task is handed over.
        let task = eddy_core::spawn(async move { spawner.join().unwrap() });
        task.await.unwrap().await.unwrap()
    });
    assert_eq!(out, 9);
}
