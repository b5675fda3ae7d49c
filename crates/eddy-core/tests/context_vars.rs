//! Context variables (asyncio's `contextvars`): which context is current
//! in tasks, in the `block_on` future, in callbacks and on other threads;
//! copies at spawn; tokens; snapshots; when values are dropped.
//!
//! Small enough to run under Miri (the trailer slot and the unchecked
//! downcast are `unsafe`): `cargo +nightly miri test -p eddy-core --test
//! context_vars`.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use eddy_core::task::{
    copy_context, Builder, ContextResetError, ContextSnapshot, ContextVar, TaskGroup,
};
use eddy_core::{spawn, yield_now, Runtime};

/// Counts drops of its values (each test uses its own counter).
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_task_starts_with_a_copy_of_its_spawners_context() {
    static V: ContextVar<u32> = ContextVar::new("v");
    eddy_core::run(async {
        V.set(1);
        let (ready_tx, ready_rx) = futures::channel::oneshot::channel::<()>();
        let (go_tx, go_rx) = futures::channel::oneshot::channel::<()>();
        let child = spawn(async move {
            let inherited = V.get();
            V.set(2);
            ready_tx.send(()).unwrap();
            go_rx.await.unwrap();
            // The parent set 3 meanwhile: not seen here.
            (inherited, V.get())
        });
        ready_rx.await.unwrap();
        // The child set 2: not seen here.
        assert_eq!(V.get(), Some(1));
        V.set(3);
        go_tx.send(()).unwrap();
        assert_eq!(child.await.unwrap(), (Some(1), Some(2)));
        assert_eq!(V.get(), Some(3));
    });
}

#[test]
fn task_group_children_inherit_and_stay_isolated() {
    static V: ContextVar<&'static str> = ContextVar::new("v");
    eddy_core::run(async {
        let parent = spawn(async {
            V.set("parent");
            let group = TaskGroup::<()>::new();
            let a = group
                .spawn(async {
                    let seen = V.get();
                    V.set("a");
                    yield_now().await;
                    Ok((seen, V.get()))
                })
                .unwrap();
            let b = group
                .spawn(async {
                    yield_now().await;
                    Ok(V.get())
                })
                .unwrap();
            group.join().await.unwrap();
            (a.await.unwrap(), b.await.unwrap(), V.get())
        });
        let (a, b, parent_after) = parent.await.unwrap();
        assert_eq!(a, (Some("parent"), Some("a")));
        assert_eq!(b, Some("parent"));
        assert_eq!(parent_after, Some("parent"));
    });
}

#[test]
fn siblings_interleaving_sets_and_yields_keep_their_own_values() {
    static V: ContextVar<usize> = ContextVar::new("v");
    eddy_core::run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<_> = (0..3)
            .map(|i| {
                let log = log.clone();
                spawn(async move {
                    for round in 0..3 {
                        V.set(i * 10 + round);
                        yield_now().await;
                        log.borrow_mut().push((i, V.get()));
                        assert_eq!(V.get(), Some(i * 10 + round));
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // They did interleave: the first entries come from different tasks.
        let first: Vec<usize> = log.borrow().iter().take(3).map(|(i, _)| *i).collect();
        assert_eq!(first, [0, 1, 2]);
        assert_eq!(V.get(), None);
    });
}

#[test]
fn reset_restores_the_previous_value_and_the_unset_state() {
    static V: ContextVar<String> = ContextVar::new("v");
    eddy_core::run(async {
        let t = spawn(async {
            let first = V.set("one".to_string());
            assert_eq!(first.previous(), None);
            let second = V.set("two".to_string());
            assert_eq!(second.previous().map(String::as_str), Some("one"));
            V.reset(second).unwrap();
            assert_eq!(V.get().as_deref(), Some("one"));
            V.reset(first).unwrap();
            assert_eq!(V.get(), None);
            // Out of order: the older token puts back what it found.
            let a = V.set("a".to_string());
            let b = V.set("b".to_string());
            V.reset(a).unwrap();
            assert_eq!(V.get(), None);
            V.reset(b).unwrap();
            assert_eq!(V.get().as_deref(), Some("a"));
        });
        t.await.unwrap();
    });
}

#[test]
fn a_token_from_another_task_or_var_is_refused() {
    static V: ContextVar<u8> = ContextVar::new("request_id");
    static W: ContextVar<u8> = ContextVar::new("user");
    eddy_core::run(async {
        let token = V.set(1);
        let t = spawn(async move {
            V.set(2);
            let err: ContextResetError = V.reset(token).unwrap_err();
            (err.to_string(), V.get())
        });
        let (msg, after) = t.await.unwrap();
        assert_eq!(after, Some(2), "a refused reset changes nothing");
        assert!(msg.contains("\"request_id\""), "{msg}");
        assert!(msg.contains("block_on future"), "{msg}");
        assert!(msg.contains("task"), "{msg}");
        assert_eq!(V.get(), Some(1));

        let w_token = W.set(5);
        let msg = V.reset(w_token).unwrap_err().to_string();
        assert!(msg.contains("\"user\""), "{msg}");
        assert_eq!(W.get(), Some(5));
    });
}

#[test]
fn the_block_on_future_and_tasks_do_not_share_a_context() {
    static V: ContextVar<u32> = ContextVar::new("v");
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        V.set(1);
        let child = spawn(async {
            let seen = V.get();
            V.set(9);
            seen
        });
        V.set(2);
        assert_eq!(child.await.unwrap(), Some(1));
        assert_eq!(V.get(), Some(2));
    });
    // The runtime keeps its context across block_on calls (asyncio's Runner).
    assert_eq!(rt.block_on(async { V.get() }), Some(2));
    // It never was this thread's own.
    assert_eq!(V.get(), None);
}

#[test]
fn a_runtime_starts_from_the_context_current_where_it_is_built() {
    static V: ContextVar<u32> = ContextVar::new("v");
    let mut ctx = ContextSnapshot::default();
    ctx.run(|| {
        V.set(7);
        let rt = Runtime::new().unwrap();
        V.set(8); // after the copy
        assert_eq!(rt.block_on(async { V.get() }), Some(7));
    });
}

#[test]
fn callbacks_run_in_a_copy_of_the_context_they_were_scheduled_in() {
    static V: ContextVar<u32> = ContextVar::new("v");
    static W: ContextVar<u32> = ContextVar::new("w");
    eddy_core::run(async {
        let seen = Rc::new(RefCell::new(Vec::new()));
        V.set(1);
        let s = seen.clone();
        eddy_core::call_soon(move || {
            s.borrow_mut().push(("main", V.get()));
            V.set(100);
            W.set(100);
        });
        V.set(2); // after scheduling: not the callback's
        let s = seen.clone();
        spawn(async move {
            V.set(3);
            eddy_core::call_soon(move || s.borrow_mut().push(("task", V.get())));
        })
        .await
        .unwrap();
        // Scheduled with an empty context in hand (the driver form).
        let s = seen.clone();
        eddy_core::__driver::call_soon_from(std::panic::Location::caller(), move || {
            s.borrow_mut().push(("driver", V.get()))
        });
        yield_now().await;
        assert_eq!(
            *seen.borrow(),
            [("main", Some(1)), ("task", Some(3)), ("driver", None)]
        );
        // The callback's sets went nowhere.
        assert_eq!((V.get(), W.get()), (Some(2), None));
    });
}

#[test]
fn a_callback_cannot_reset_the_block_on_futures_token() {
    static V: ContextVar<u32> = ContextVar::new("v");
    eddy_core::run(async {
        let token = V.set(1);
        let out = Rc::new(RefCell::new(None));
        let o = out.clone();
        eddy_core::call_soon(move || *o.borrow_mut() = Some(V.reset(token)));
        yield_now().await;
        let result = out.borrow_mut().take().unwrap();
        assert!(result.unwrap_err().to_string().contains("callback"));
        assert_eq!(V.get(), Some(1));
    });
}

#[test]
fn a_callbacks_values_are_dropped_when_it_returns() {
    static V: ContextVar<Tracked> = ContextVar::new("v");
    let drops = Arc::new(AtomicUsize::new(0));
    eddy_core::run(async {
        let d = drops.clone();
        eddy_core::call_soon(move || {
            V.set(Tracked(d));
        });
        yield_now().await;
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert!(V.with(|v| v.is_none()));
    });
}

#[test]
fn handle_spawn_and_call_soon_from_another_thread_copy_that_threads_context() {
    static V: ContextVar<u32> = ContextVar::new("v");
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let (task, callback_seen) = std::thread::spawn(move || {
        V.set(5);
        let task = handle
            .spawn(async {
                let seen = V.get();
                V.set(6);
                seen
            })
            .unwrap();
        let seen = Arc::new(AtomicUsize::new(0));
        let s = seen.clone();
        handle.call_soon(move || s.store(V.get().unwrap_or(0) as usize, Ordering::SeqCst));
        assert_eq!(V.get(), Some(5));
        (task, seen)
    })
    .join()
    .unwrap();
    assert_eq!(rt.block_on(task).unwrap(), Some(5));
    rt.block_on(yield_now());
    assert_eq!(callback_seen.load(Ordering::SeqCst), 5);
    assert_eq!(rt.block_on(async { V.get() }), None);
}

#[test]
fn copy_context_run_keeps_what_it_sets_in_the_snapshot() {
    static V: ContextVar<u32> = ContextVar::new("v");
    eddy_core::run(async {
        let t = spawn(async {
            V.set(1);
            let mut ctx = copy_context();
            let token = ctx.run(|| {
                assert_eq!(V.get(), Some(1));
                V.set(2)
            });
            assert_eq!(V.get(), Some(1));
            assert_eq!(ctx.get(&V), Some(2));
            // A token made in the snapshot's run resets only there.
            let token = match V.reset(token) {
                Err(e) => {
                    assert!(e.to_string().contains("ContextSnapshot::run"), "{e}");
                    ctx.run(|| V.set(3))
                }
                Ok(()) => panic!("a snapshot's token was reset in its task"),
            };
            ctx.run(|| V.reset(token)).unwrap();
            assert_eq!(ctx.get(&V), Some(2));
            // Tasks spawned inside run start from the snapshot.
            let child = ctx.run(|| spawn(async { V.get() }));
            (child.await.unwrap(), V.get())
        });
        assert_eq!(t.await.unwrap(), (Some(2), Some(1)));
    });
}

#[test]
fn a_snapshot_keeps_its_changes_when_run_panics_and_clones_are_separate() {
    static V: ContextVar<u32> = ContextVar::new("v");
    let mut ctx = ContextSnapshot::default();
    let r = catch_unwind(AssertUnwindSafe(|| {
        ctx.run(|| {
            V.set(1);
            panic!("boom");
        })
    }));
    assert!(r.is_err());
    assert_eq!(ctx.get(&V), Some(1));
    assert_eq!(V.get(), None);
    let mut copy = ctx.clone();
    copy.run(|| V.set(2));
    assert_eq!((ctx.get(&V), copy.get(&V)), (Some(1), Some(2)));
    // A token of one clone is not the other's.
    let token = ctx.run(|| V.set(3));
    assert!(copy.run(|| V.reset(token)).is_err());
}

#[test]
fn builder_context_starts_the_task_in_the_given_snapshot() {
    static V: ContextVar<&'static str> = ContextVar::new("v");
    eddy_core::run(async {
        V.set("before");
        let snapshot = copy_context();
        V.set("after");
        let t = Builder::new()
            .name("with-context")
            .context(snapshot)
            .spawn(async { V.get() });
        assert_eq!(t.await.unwrap(), Some("before"));
        let empty = Builder::new()
            .context(ContextSnapshot::default())
            .spawn(async { V.get() });
        assert_eq!(empty.await.unwrap(), None);
        assert_eq!(V.get(), Some("after"));
    });
}

#[test]
fn with_lends_a_value_without_cloning_it() {
    // Not Clone: only `with` can read it.
    struct Big(Vec<u64>);
    static V: ContextVar<Big> = ContextVar::new("big");
    eddy_core::run(async {
        assert_eq!(V.with(|b| b.map(|b| b.0.len())), None);
        V.set(Big((0..1000).collect()));
        let t = spawn(async { V.with(|b| b.map(|b| b.0.iter().sum::<u64>())) });
        assert_eq!(t.await.unwrap(), Some(499_500));
    });
}

#[test]
fn setting_inside_with_panics_and_leaves_the_context_usable() {
    static V: ContextVar<u32> = ContextVar::new("v");
    eddy_core::run(async {
        V.set(1);
        let r = catch_unwind(AssertUnwindSafe(|| V.with(|_| V.set(2))));
        let msg = r.unwrap_err();
        let msg = msg.downcast_ref::<String>().unwrap();
        assert!(msg.contains("ContextVar::with"), "{msg}");
        // The read guard was released by the unwind.
        V.set(3);
        assert_eq!(V.get(), Some(3));
    });
}

#[test]
fn a_tasks_values_are_dropped_when_it_ends() {
    static V: ContextVar<Tracked> = ContextVar::new("tracked");
    let drops = Arc::new(AtomicUsize::new(0));
    let saw_own = Arc::new(AtomicUsize::new(0));
    eddy_core::run(async {
        let d = drops.clone();
        let done = spawn(async move {
            V.set(Tracked(d.clone()));
            V.set(Tracked(d)); // the first moves into the ignored token: dropped now
        });
        // The handle is still held: the values are dropped with the task's
        // end anyway.
        while !done.is_finished() {
            yield_now().await;
        }
        assert_eq!(drops.load(Ordering::SeqCst), 2);

        let d = drops.clone();
        let cancelled = spawn(async move {
            V.set(Tracked(d));
            std::future::pending::<()>().await;
        });
        yield_now().await;
        cancelled.cancel();
        assert!(cancelled.await.unwrap_err().is_cancelled());
        assert_eq!(drops.load(Ordering::SeqCst), 3);

        // Still alive at shutdown: dropped then, and its destructors see
        // its own context, not the block_on future's.
        let d = drops.clone();
        let s = saw_own.clone();
        spawn(async move {
            struct Check(Arc<AtomicUsize>);
            impl Drop for Check {
                fn drop(&mut self) {
                    let own = V.with(|v| v.is_some());
                    self.0.store(if own { 1 } else { 2 }, Ordering::SeqCst);
                }
            }
            let _check = Check(s);
            V.set(Tracked(d));
            std::future::pending::<()>().await;
        });
        yield_now().await;
    });
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    assert_eq!(saw_own.load(Ordering::SeqCst), 1);
}

#[test]
fn outside_any_loop_a_thread_has_its_own_context() {
    static V: ContextVar<u32> = ContextVar::new("v");
    let token = V.set(1);
    std::thread::spawn(|| assert_eq!(V.get(), None))
        .join()
        .unwrap();
    // Not the runtime's block_on context.
    eddy_core::run(async move {
        assert!(V.reset(token).unwrap_err().to_string().contains("block_on"));
    });
    assert_eq!(V.get(), Some(1));
    let token = V.set(2);
    V.reset(token).unwrap();
    assert_eq!(V.get(), Some(1));
    assert_eq!(V.name(), "v");
}

/// A value of a plain thread's context whose destructor sets a variable:
/// it runs while the thread's thread-locals are destroyed. That set used
/// to panic inside a thread-local destructor, which aborts the process
/// (this whole test binary); it now goes into a throwaway context.
#[test]
fn a_value_setting_a_variable_as_its_thread_exits_does_not_abort() {
    static MARK: ContextVar<u32> = ContextVar::new("mark");
    static DROPPED: AtomicUsize = AtomicUsize::new(0);
    struct SetsOnDrop;
    impl Drop for SetsOnDrop {
        fn drop(&mut self) {
            MARK.set(7);
            DROPPED.fetch_add(1, Ordering::SeqCst);
        }
    }
    static HOLDER: ContextVar<Arc<SetsOnDrop>> = ContextVar::new("holder");
    std::thread::spawn(|| {
        HOLDER.set(Arc::new(SetsOnDrop));
    })
    .join()
    .unwrap();
    assert_eq!(DROPPED.load(Ordering::SeqCst), 1, "the value was dropped");
}
