//! The `block_on` future takes FIFO turns with tasks and callbacks, like
//! asyncio's main task: when it is woken, what was queued (or submitted
//! from another thread) before that wake runs first. Every test asserts an
//! order, never a duration.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use eddy_core::park::{Park, ThreadPark, Unpark};
use eddy_core::{spawn, yield_now, Builder, Runtime};

type Hook = Box<dyn FnOnce() + Send>;

/// A driver that runs the hooks queued for its next park on the loop
/// thread (standing in for a driver that fires several timers, or waits
/// for I/O, in one turn), then polls without blocking.
struct HookPark {
    inner: ThreadPark,
    hooks: Arc<Mutex<Vec<Hook>>>,
}

impl Park for HookPark {
    fn park(&mut self, timeout: Option<Duration>) {
        let hooks = std::mem::take(&mut *self.hooks.lock().unwrap());
        if hooks.is_empty() {
            return self.inner.park(timeout);
        }
        for hook in hooks {
            hook();
        }
        self.inner.park(Some(Duration::ZERO));
    }
    fn unparker(&self) -> Arc<dyn Unpark> {
        self.inner.unparker()
    }
    fn shutdown(&mut self) {}
}

fn hook_runtime() -> (Runtime, Arc<Mutex<Vec<Hook>>>) {
    let hooks = Arc::new(Mutex::new(Vec::new()));
    let driver = HookPark {
        inner: ThreadPark::new(),
        hooks: hooks.clone(),
    };
    let rt = Builder::new().build_with_driver(Box::new(driver)).unwrap();
    (rt, hooks)
}

/// Pending until the driver's next park wakes every registered waiter, in
/// registration order, in one go; `due` holds the waiters registered so
/// far, and the one registered last arms the driver.
fn wait_for_turn(
    due: Rc<RefCell<Vec<Waker>>>,
    hooks: Arc<Mutex<Vec<Hook>>>,
    last: bool,
) -> impl std::future::Future<Output = ()> {
    let mut registered = false;
    poll_fn(move |cx| {
        if registered {
            return Poll::Ready(());
        }
        registered = true;
        due.borrow_mut().push(cx.waker().clone());
        if last {
            let wakers = std::mem::take(&mut *due.borrow_mut());
            hooks.lock().unwrap().push(Box::new(move || {
                for w in wakers {
                    w.wake();
                }
            }));
        }
        Poll::Pending
    })
}

#[test]
fn main_resumes_after_a_task_woken_earlier_in_the_same_driver_turn() {
    // A task's timer and a later one of the main future fire in one turn:
    // the task, woken first, runs first.
    let (rt, hooks) = hook_runtime();
    let log = Rc::new(RefCell::new(Vec::new()));
    let due = Rc::new(RefCell::new(Vec::new()));
    rt.block_on({
        let log = log.clone();
        async move {
            let task = spawn({
                let (log, wait) = (
                    log.clone(),
                    wait_for_turn(due.clone(), hooks.clone(), false),
                );
                async move {
                    wait.await;
                    log.borrow_mut().push("task");
                }
            });
            yield_now().await; // the task registers first
            wait_for_turn(due, hooks, true).await;
            log.borrow_mut().push("main");
            task.await.unwrap();
        }
    });
    assert_eq!(*log.borrow(), ["task", "main"]);
}

#[test]
fn main_woken_first_in_a_driver_turn_runs_before_tasks_woken_after_it() {
    // The mirror case: the main future's timer fires first, so it resumes
    // before the task woken later in the same turn.
    let (rt, hooks) = hook_runtime();
    let log = Rc::new(RefCell::new(Vec::new()));
    let due = Rc::new(RefCell::new(Vec::new()));
    rt.block_on({
        let log = log.clone();
        async move {
            let main_turn = wait_for_turn(due.clone(), hooks.clone(), false);
            let task = spawn({
                let (log, wait) = (log.clone(), wait_for_turn(due, hooks, true));
                async move {
                    wait.await;
                    log.borrow_mut().push("task");
                }
            });
            main_turn.await; // registers before the task runs
            log.borrow_mut().push("main");
            task.await.unwrap();
        }
    });
    assert_eq!(*log.borrow(), ["main", "task"]);
}

#[test]
fn main_woken_by_a_task_waits_behind_tasks_queued_earlier() {
    // More fillers than the default event interval: the old loop polled
    // the main future at the start of the next turn, ahead of the rest.
    const FILLERS: usize = 500;
    let ran = Rc::new(Cell::new(0));
    let seen = eddy_core::run({
        let ran = ran.clone();
        async move {
            let first = spawn(async {});
            for _ in 0..FILLERS {
                let ran = ran.clone();
                drop(spawn(async move { ran.set(ran.get() + 1) }));
            }
            // `first` completes before any filler runs and wakes us; the
            // fillers were queued before that wake.
            first.await.unwrap();
            ran.get()
        }
    });
    assert_eq!(seen, FILLERS);
}

#[test]
fn remote_work_submitted_before_a_remote_wake_of_main_runs_first() {
    let (rt, hooks) = hook_runtime();
    let handle = rt.handle();
    let log = Arc::new(Mutex::new(Vec::new()));
    let woken = Arc::new(AtomicBool::new(false));
    let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let remote = std::thread::spawn({
        let (log, woken) = (log.clone(), woken.clone());
        move || {
            let waker = waker_rx.recv().unwrap();
            let l = log.clone();
            drop(handle.spawn(async move { l.lock().unwrap().push("spawned") }));
            let l = log.clone();
            handle.call_soon(move || l.lock().unwrap().push("callback"));
            woken.store(true, Ordering::SeqCst);
            waker.wake();
            done_tx.send(()).unwrap();
        }
    });
    let mut done_rx = Some(done_rx);
    rt.block_on({
        let log = log.clone();
        poll_fn(move |cx| {
            if woken.load(Ordering::SeqCst) {
                log.lock().unwrap().push("main");
                return Poll::Ready(());
            }
            // Hand the waker over, and hold the loop in its next park until
            // the other thread has submitted its work and woken us: the
            // loop sees all of it at once.
            if let Some(done_rx) = done_rx.take() {
                waker_tx.send(cx.waker().clone()).unwrap();
                hooks
                    .lock()
                    .unwrap()
                    .push(Box::new(move || done_rx.recv().unwrap()));
            }
            Poll::Pending
        })
    });
    remote.join().unwrap();
    assert_eq!(*log.lock().unwrap(), ["spawned", "callback", "main"]);
}

#[test]
fn remote_work_submitted_before_a_local_wake_of_main_runs_first() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let log = Arc::new(Mutex::new(Vec::new()));
    rt.block_on({
        let log = log.clone();
        async move {
            let l = log.clone();
            std::thread::spawn(move || {
                let l2 = l.clone();
                drop(handle.spawn(async move { l2.lock().unwrap().push("spawned") }));
                handle.call_soon(move || l.lock().unwrap().push("callback"));
            })
            .join()
            .unwrap();
            // A wake on the loop thread: the work handed over before it
            // goes first, though the loop has not looked at it yet.
            yield_now().await;
            log.lock().unwrap().push("main");
        }
    });
    assert_eq!(*log.lock().unwrap(), ["spawned", "callback", "main"]);
}

#[test]
fn first_poll_of_block_on_comes_after_work_queued_before_it() {
    let rt = Runtime::new().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    rt.block_on({
        let log = log.clone();
        async move {
            // Returns before the task runs: it stays queued.
            drop(spawn(
                async move { log.lock().unwrap().push("left queued") },
            ));
        }
    });
    let l = log.clone();
    drop(
        rt.handle()
            .spawn(async move { l.lock().unwrap().push("remote") }),
    );
    let l = log.clone();
    rt.block_on(async move { l.lock().unwrap().push("main") });
    assert_eq!(*log.lock().unwrap(), ["left queued", "remote", "main"]);
}

#[test]
fn wakes_left_over_from_a_finished_block_on_do_not_poll_the_next_future() {
    let rt = Runtime::new().unwrap();
    // Wakes itself behind a queued task, then finishes: its turn is still
    // queued at the end.
    let stale = rt.block_on(poll_fn(|cx| {
        drop(spawn(async {}));
        cx.waker().wake_by_ref();
        Poll::Ready(cx.waker().clone())
    }));
    let polls = Rc::new(Cell::new(0));
    let woken = Rc::new(Cell::new(false));
    rt.block_on({
        let (polls, woken) = (polls.clone(), woken.clone());
        let mut spawned = false;
        poll_fn(move |cx| {
            polls.set(polls.get() + 1);
            if woken.get() {
                return Poll::Ready(());
            }
            if !spawned {
                spawned = true;
                let (waker, stale, woken) = (cx.waker().clone(), stale.clone(), woken.clone());
                drop(spawn(async move {
                    // The finished block_on's waker, from this thread and
                    // from another: neither reaches the running future.
                    stale.wake_by_ref();
                    let remote = stale.clone();
                    std::thread::spawn(move || remote.wake()).join().unwrap();
                    for _ in 0..3 {
                        yield_now().await;
                    }
                    woken.set(true);
                    waker.wake();
                }));
            }
            Poll::Pending
        })
    });
    // The first poll, then the one the task's wake asked for.
    assert_eq!(polls.get(), 2);
}
