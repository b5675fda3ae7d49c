//! Structured concurrency: TaskGroup, gather, wait, as_completed, shield.
//! No timers in eddy-core: "later" is counted in `yield_now` steps.

use std::cell::{Cell, RefCell};
use std::future::{pending, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use eddy_core::task::{
    self, as_completed, as_completed_with_timeout, gather_all, shield, try_gather_all, wait,
    wait_with, ClosedReason, ReturnWhen, TaskGroup, TimedOut,
};
use eddy_core::{gather, run, spawn, try_gather, yield_now};
use futures::StreamExt;

/// Counts drops (on this thread), so tests can check destructors ran
/// exactly once.
#[derive(Clone, Default)]
struct Drops(Rc<Cell<usize>>);
struct Guard(Drops);
impl Drop for Guard {
    fn drop(&mut self) {
        self.0 .0.set(self.0 .0.get() + 1);
    }
}
impl Drops {
    fn guard(&self) -> Guard {
        Guard(self.clone())
    }
    fn get(&self) -> usize {
        self.0.get()
    }
}

/// Runs `future` as a task and waits for it. Step counts are only
/// meaningful between tasks: the `block_on` future itself is polled once per
/// batch of task steps.
fn run_task<F: Future + 'static>(future: F) -> F::Output
where
    F::Output: 'static,
{
    run(async move { spawn(future).await.unwrap() })
}

async fn yields(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

/// A child that holds a guard and never finishes.
fn forever<E>(drops: &Drops) -> impl Future<Output = Result<(), E>> + 'static {
    let g = drops.guard();
    async move {
        let _g = g;
        pending().await
    }
}

// ---------------------------------------------------------------- TaskGroup

#[test]
fn group_joins_all_children_and_hands_values_back() {
    run(async {
        let group = TaskGroup::<()>::new();
        let handles: Vec<_> = (0..10)
            .map(|i| {
                group
                    .spawn(async move {
                        yields(10 - i).await;
                        Ok(i * 2)
                    })
                    .unwrap()
            })
            .collect();
        assert_eq!(group.len(), 10);
        group.join().await.unwrap();
        for (i, h) in handles.into_iter().enumerate() {
            assert!(h.is_finished());
            assert_eq!(h.await.unwrap(), i * 2);
        }
    });
}

#[test]
fn join_of_an_empty_group_is_ok_and_closes_it() {
    run(async {
        let group = TaskGroup::<()>::new();
        let spawner = group.spawner();
        group.join().await.unwrap();
        let err = spawner.spawn(async { Ok(()) }).unwrap_err();
        assert_eq!(err.reason(), ClosedReason::Finished);
    });
}

#[test]
fn first_error_cancels_siblings_and_join_reports_only_failures() {
    let drops = Drops::default();
    let d = drops.clone();
    run(async move {
        let group = TaskGroup::new();
        let siblings: Vec<_> = (0..5).map(|_| group.spawn(forever(&d)).unwrap()).collect();
        let failing = group
            .spawn(async {
                yields(3).await;
                Err::<(), _>("boom")
            })
            .unwrap();
        let errors = group.join().await.unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors.first(), &"boom");
        assert_eq!(d.get(), 5, "every sibling dropped exactly once");
        for s in siblings {
            assert!(s.await.unwrap_err().is_cancelled());
        }
        let e = failing.await.unwrap_err();
        assert!(e.is_group_failure() && !e.is_cancelled() && !e.is_panic());
        assert!(e.to_string().contains("TaskGroup"));
    });
    assert_eq!(drops.get(), 5);
}

#[test]
fn failures_in_the_same_loop_iteration_are_all_collected() {
    run(async {
        let group = TaskGroup::new();
        group.spawn(async { Err::<(), _>(1) }).unwrap();
        group.spawn(async { Err::<(), _>(2) }).unwrap();
        // Fails one step later: the cancellation reaches it first.
        group
            .spawn(async {
                yield_now().await;
                Err::<(), _>(3)
            })
            .unwrap();
        let errors = group.join().await.unwrap_err();
        assert_eq!(errors.into_vec(), vec![1, 2]);
    });
}

#[test]
fn error_group_display_lists_each_failure_and_is_an_error() {
    run(async {
        let group = TaskGroup::new();
        group
            .spawn(async { Err::<(), _>(std::io::Error::other("disk full")) })
            .unwrap();
        group
            .spawn(async { Err::<(), _>(std::io::Error::other("no route")) })
            .unwrap();
        let errors = group.join().await.unwrap_err();
        assert_eq!(
            errors.to_string(),
            "2 tasks of the group failed:\n  [1] disk full\n  [2] no route"
        );
        let as_error: &dyn std::error::Error = &errors;
        assert_eq!(as_error.source().unwrap().to_string(), "disk full");
        assert_eq!((&errors).into_iter().count(), 2);
    });
}

#[test]
fn spawn_after_failure_is_refused_and_does_not_start_the_future() {
    run(async {
        let started = Rc::new(Cell::new(false));
        let group = TaskGroup::new();
        group.spawn(async { Err::<(), _>("x") }).unwrap();
        yield_now().await; // the child fails
        let s = started.clone();
        let err = group
            .spawn(async move {
                s.set(true);
                Ok(())
            })
            .unwrap_err();
        assert_eq!(err.reason(), ClosedReason::Failed);
        assert!(err.to_string().contains("not started"));
        yields(3).await;
        assert!(!started.get());
        drop(err);
        assert_eq!(group.join().await.unwrap_err().len(), 1);
    });
}

#[test]
fn a_failure_while_the_body_is_still_spawning() {
    run(async {
        let group = TaskGroup::new();
        let mut spawned = 0;
        let mut refused = None;
        for i in 0..100 {
            let child = async move {
                if i == 3 {
                    return Err(format!("child {i} failed"));
                }
                yields(1000).await;
                Ok(i)
            };
            match group.spawn(child) {
                Ok(_) => spawned += 1,
                Err(e) => {
                    refused = Some((i, e.reason()));
                    break;
                }
            }
            yield_now().await;
        }
        let (at, reason) = refused.expect("the group refused after the failure");
        assert_eq!(reason, ClosedReason::Failed);
        assert!(at > 3 && at < 10, "refused at {at}");
        assert_eq!(spawned, at);
        let errors = group.join().await.unwrap_err();
        assert_eq!(errors.into_vec(), vec!["child 3 failed".to_string()]);
    });
}

#[test]
fn child_panic_cancels_siblings_then_join_resumes_it() {
    let drops = Drops::default();
    let d = drops.clone();
    let result = catch_unwind(AssertUnwindSafe(|| {
        run(async move {
            let group = TaskGroup::<()>::new();
            for _ in 0..3 {
                group.spawn(forever(&d)).unwrap();
            }
            let bad = group
                .spawn(async {
                    yield_now().await;
                    std::panic::panic_any(42u32);
                    #[allow(unreachable_code)]
                    Ok(())
                })
                .unwrap();
            let joined = AssertUnwindSafe(group.join());
            let caught = futures::FutureExt::catch_unwind(joined).await;
            // Siblings are gone before join resumes the panic.
            assert_eq!(d.get(), 3);
            let e = bad.await.unwrap_err();
            assert!(e.is_group_failure() && !e.is_panic());
            std::panic::resume_unwind(caught.unwrap_err());
        })
    }));
    let payload = result.unwrap_err();
    assert_eq!(*payload.downcast::<u32>().unwrap(), 42);
    assert_eq!(drops.get(), 3);
}

#[test]
fn cancel_cancels_children_and_is_not_a_failure() {
    let drops = Drops::default();
    let d = drops.clone();
    run(async move {
        let group = TaskGroup::<()>::new();
        let handles: Vec<_> = (0..4).map(|_| group.spawn(forever(&d)).unwrap()).collect();
        let done = group.spawn(async { Ok(7) }).unwrap();
        yield_now().await;
        group.cancel();
        assert_eq!(
            group.spawn(async { Ok(0) }).unwrap_err().reason(),
            ClosedReason::Cancelled
        );
        group.join().await.unwrap();
        assert_eq!(d.get(), 4);
        for h in handles {
            assert!(h.await.unwrap_err().is_cancelled());
        }
        assert_eq!(done.await.unwrap(), 7);
    });
}

#[test]
fn one_child_cancelled_by_its_handle_leaves_the_group_running() {
    run(async {
        let group = TaskGroup::<()>::new();
        let slow = group.spawn(pending::<Result<(), ()>>()).unwrap();
        let other = group
            .spawn(async {
                yields(5).await;
                Ok("fine")
            })
            .unwrap();
        slow.cancel();
        group.join().await.unwrap();
        assert!(slow.await.unwrap_err().is_cancelled());
        assert_eq!(other.await.unwrap(), "fine");
    });
}

#[test]
fn dropping_the_group_drops_idle_children_before_drop_returns() {
    let drops = Drops::default();
    let d = drops.clone();
    run(async move {
        let group = TaskGroup::<()>::new();
        let handles: Vec<_> = (0..50).map(|_| group.spawn(forever(&d)).unwrap()).collect();
        yield_now().await; // every child has been polled once and is idle
        assert_eq!(d.get(), 0);
        drop(group);
        assert_eq!(d.get(), 50, "children dropped inside the group's drop");
        for h in &handles {
            assert!(h.is_finished());
        }
        yields(3).await;
        assert_eq!(d.get(), 50, "and only once");
        for h in handles {
            assert!(h.await.unwrap_err().is_cancelled());
        }
    });
    assert_eq!(drops.get(), 50);
}

#[test]
fn dropping_the_group_before_children_ever_ran() {
    let drops = Drops::default();
    let d = drops.clone();
    run(async move {
        let group = TaskGroup::<()>::new();
        let h = group.spawn(forever(&d)).unwrap();
        drop(group); // the child is still in the run queue, never polled
        assert_eq!(d.get(), 1);
        yields(2).await; // its queue entry is skipped safely
        assert!(h.await.unwrap_err().is_cancelled());
    });
    assert_eq!(drops.get(), 1);
}

#[test]
fn dropping_the_join_future_mid_flight_cancels_every_child_once() {
    let drops = Drops::default();
    let d = drops.clone();
    run_task(async move {
        let group = TaskGroup::<()>::new();
        for i in 0..20 {
            let g = d.guard();
            group
                .spawn(async move {
                    let _g = g;
                    yields(i * 2).await; // some finish, most do not
                    if i < 3 {
                        Ok(())
                    } else {
                        pending().await
                    }
                })
                .unwrap();
        }
        // Poll join a few times through a select with a short "timer".
        let join = Box::pin(group.join());
        let timer = Box::pin(yields(8));
        match futures::future::select(join, timer).await {
            futures::future::Either::Left(_) => panic!("the group cannot finish"),
            futures::future::Either::Right(((), join)) => {
                assert_eq!(d.get(), 3, "three children finished");
                drop(join);
                assert_eq!(d.get(), 20);
            }
        }
        yields(45).await;
        assert_eq!(d.get(), 20);
    });
    assert_eq!(drops.get(), 20);
}

#[test]
fn cancelling_the_owner_task_reaches_grandchildren_in_nested_groups() {
    let drops = Drops::default();
    let d = drops.clone();
    run(async move {
        let d2 = d.clone();
        let owner = spawn(async move {
            let d = d2;
            let outer = TaskGroup::<()>::new();
            for _ in 0..3 {
                let d = d.clone();
                outer
                    .spawn(async move {
                        let inner = TaskGroup::<()>::new();
                        for _ in 0..3 {
                            inner.spawn(forever(&d)).unwrap();
                        }
                        let _g = d.guard();
                        inner.join().await.map_err(|_| ())
                    })
                    .unwrap();
            }
            outer.join().await
        });
        yields(3).await;
        assert_eq!(
            task::all().len(),
            1 + 3 + 9,
            "owner, 3 children, 9 grandchildren"
        );
        owner.cancel();
        assert!(owner.await.unwrap_err().is_cancelled());
        assert_eq!(d.get(), 3 + 9, "every child and grandchild dropped once");
        assert!(task::all().is_empty());
    });
    assert_eq!(drops.get(), 12);
}

#[test]
fn a_failure_in_a_nested_group_cancels_the_outer_siblings() {
    let drops = Drops::default();
    let d = drops.clone();
    run(async move {
        let outer = TaskGroup::<String>::new();
        outer.spawn(forever(&d)).unwrap();
        let d2 = d.clone();
        outer
            .spawn(async move {
                let inner = TaskGroup::<&str>::new();
                inner.spawn(forever(&d2)).unwrap();
                inner
                    .spawn(async {
                        yields(2).await;
                        Err::<(), _>("deep")
                    })
                    .unwrap();
                inner.join().await.map_err(|e| format!("inner: {e}"))
            })
            .unwrap();
        let errors = outer.join().await.unwrap_err();
        assert_eq!(
            errors.into_vec(),
            vec!["inner: 1 task of the group failed:\n  [1] deep".to_string()]
        );
        assert_eq!(d.get(), 2);
    });
}

#[test]
fn spawner_works_from_inside_children_while_the_group_is_live() {
    run(async {
        let group = TaskGroup::<()>::new();
        let spawner = group.spawner();
        let seen = Rc::new(RefCell::new(Vec::new()));
        let s = seen.clone();
        group
            .spawn(async move {
                yield_now().await;
                for i in 0..3 {
                    let s = s.clone();
                    spawner
                        .spawn(async move {
                            yields(i).await;
                            s.borrow_mut().push(i);
                            Ok(())
                        })
                        .unwrap();
                }
                Ok(())
            })
            .unwrap();
        // join waits for the grandchildren spawned after it started.
        group.join().await.unwrap();
        assert_eq!(*seen.borrow(), vec![0, 1, 2]);
    });
}

#[test]
fn children_show_their_group_owner_as_parent_in_task_all() {
    run(async {
        let owner = spawn(async {
            let me = task::current().unwrap().id();
            let group = TaskGroup::<()>::new();
            let a = group
                .spawn_named("fetch-a", pending::<Result<(), ()>>())
                .unwrap();
            let b = group.spawn(pending::<Result<(), ()>>()).unwrap();
            let all = task::all();
            let info = |id| all.iter().find(|t| t.id() == id).unwrap().clone();
            assert_eq!(info(a.id()).name(), Some("fetch-a"));
            assert_eq!(info(a.id()).parent(), Some(me));
            assert_eq!(info(b.id()).parent(), Some(me));
            group.cancel();
            group.join().await.unwrap();
        });
        owner.await.unwrap();
    });
}

#[test]
fn group_dropped_outside_the_loop_cancels_children_at_shutdown() {
    let drops = Drops::default();
    let rt = eddy_core::Runtime::new().unwrap();
    let group = rt.block_on(async {
        let group = TaskGroup::<()>::new();
        group.spawn(forever(&drops)).unwrap();
        yield_now().await;
        group
    });
    drop(group); // off the running loop: cancelled lazily
    assert_eq!(drops.get(), 0);
    rt.block_on(yield_now());
    assert_eq!(drops.get(), 1);
    drop(rt);
    assert_eq!(drops.get(), 1);
}

#[test]
fn group_dropped_during_runtime_shutdown() {
    let drops = Drops::default();
    let d = drops.clone();
    let rt = eddy_core::Runtime::new().unwrap();
    rt.block_on(async move {
        // The owner task still holds the group when the runtime shuts down.
        drop(spawn(async move {
            let group = TaskGroup::<()>::new();
            for _ in 0..10 {
                group.spawn(forever(&d)).unwrap();
            }
            group.join().await
        }));
        yields(2).await;
    });
    drop(rt);
    assert_eq!(drops.get(), 10);
}

// ---------------------------------------------------------------- gather

#[test]
fn gather_macro_keeps_argument_order_with_out_of_order_completion() {
    run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let step = |n: usize, name: &'static str| {
            let log = log.clone();
            async move {
                yields(n).await;
                log.borrow_mut().push(name);
                name.len() * 100 + n
            }
        };
        let (a, b, c) = gather!(step(5, "a"), step(1, "bb"), step(3, "ccc")).await;
        assert_eq!((a, b, c), (105, 201, 303));
        assert_eq!(*log.borrow(), vec!["bb", "ccc", "a"]);
        // Mixed output types and a trailing comma.
        let (x, y) = gather!(async { 1u8 }, async { "two" },).await;
        assert_eq!((x, y), (1, "two"));
    });
}

#[test]
fn gather_macro_takes_variables_by_value_once() {
    run(async {
        let t1 = spawn(async { 1 });
        let t2 = spawn(async { 2 });
        let data = String::from("abc");
        let sum = async { data.len() as i32 * 2 };
        let (r1, r2, s) = gather!(t1, t2, sum).await;
        assert_eq!((r1.unwrap(), r2.unwrap(), s), (1, 2, 6));
        assert_eq!(data.len(), 3); // borrowed, not moved
    });
}

#[test]
fn try_gather_stops_at_first_error_and_drops_the_rest() {
    let drops = Drops::default();
    let d = drops.clone();
    run(async move {
        let g = d.guard();
        let slow = async move {
            let _g = g;
            yields(100).await;
            Ok::<u32, String>(1)
        };
        let failing = async {
            yields(2).await;
            Err::<u32, String>("second".into())
        };
        let out = try_gather!(slow, failing, async { Ok(3) }).await;
        assert_eq!(out, Err("second".to_string()));
        assert_eq!(d.get(), 1);
        let ok = try_gather!(async { Ok::<_, ()>(1) }, async { Ok(2) }).await;
        assert_eq!(ok, Ok((1, 2)));
    });
}

#[test]
fn gather_all_keeps_input_order_with_out_of_order_completion() {
    run(async {
        let order = Rc::new(RefCell::new(Vec::new()));
        let futures = (0..50).map(|i| {
            let order = order.clone();
            async move {
                let steps = (i * 7) % 13;
                yields(steps).await;
                order.borrow_mut().push(i);
                i
            }
        });
        let out = gather_all(futures).await;
        assert_eq!(out, (0..50).collect::<Vec<_>>());
        let completion = order.borrow().clone();
        assert_ne!(completion, out, "they really completed out of order");
    });
}

#[test]
fn gather_all_of_tasks_and_of_nothing() {
    run(async {
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                spawn(async move {
                    yields(100 - i).await;
                    i
                })
            })
            .collect();
        let out: Vec<usize> = gather_all(tasks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(out, (0..100).collect::<Vec<_>>());
        let none: Vec<u8> = gather_all(Vec::<std::future::Ready<u8>>::new()).await;
        assert!(none.is_empty());
    });
}

#[test]
fn gather_all_is_linear_polls_only_woken_futures() {
    // Counts polls: n futures that each complete after one wake must cost
    // about 2n polls, not n^2 / 2.
    let polls = Rc::new(Cell::new(0usize));
    run({
        let polls = polls.clone();
        async move {
            let n = 2000;
            let futures = (0..n).map(|i| {
                let polls = polls.clone();
                let mut step = 0;
                std::future::poll_fn(move |cx| {
                    polls.set(polls.get() + 1);
                    step += 1;
                    if step == 1 {
                        cx.waker().wake_by_ref();
                        std::task::Poll::Pending
                    } else {
                        std::task::Poll::Ready(i)
                    }
                })
            });
            // Woken one by one: each future needs its own wake.
            let out = gather_all(futures).await;
            assert_eq!(out.len(), n);
            assert!(
                polls.get() <= 2 * n + 10,
                "{} polls for {n} futures",
                polls.get()
            );
        }
    });
}

#[test]
fn gather_all_of_100k_ready_futures() {
    run(async {
        let out = gather_all((0..100_000u32).map(std::future::ready)).await;
        assert_eq!(out.len(), 100_000);
        assert!(out.iter().enumerate().all(|(i, v)| *v == i as u32));
    });
}

#[test]
fn try_gather_all_returns_first_error_in_completion_order_and_drops_the_rest() {
    let drops = Drops::default();
    let d = drops.clone();
    run(async move {
        let futures = (0..10).map(|i| {
            let g = d.guard();
            async move {
                let _g = g;
                yields(10 - i).await; // the last completes first
                if i >= 7 {
                    Err(i)
                } else {
                    Ok(i)
                }
            }
        });
        assert_eq!(try_gather_all(futures).await, Err(9));
        assert_eq!(d.get(), 10);
        let ok = try_gather_all((0..5).map(|i| async move { Ok::<_, ()>(i) })).await;
        assert_eq!(ok, Ok(vec![0, 1, 2, 3, 4]));
    });
}

// ---------------------------------------------------------------- wait

fn after<T: 'static>(steps: usize, value: T) -> eddy_core::JoinHandle<T> {
    spawn(async move {
        yields(steps).await;
        value
    })
}

#[test]
fn wait_first_completed() {
    run_task(async {
        let tasks = vec![after(10, 'a'), after(2, 'b'), after(6, 'c')];
        let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted).await.unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].index, 1);
        assert_eq!(*done[0].result.as_ref().unwrap(), 'b');
        assert_eq!(pending.iter().map(|p| p.index).collect::<Vec<_>>(), [0, 2]);
        // Nothing was cancelled.
        let rest: Vec<char> = gather_all(pending.into_iter().map(|p| p.handle))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rest, ['a', 'c']);
    });
}

#[test]
fn wait_all_completed_keeps_every_output() {
    run_task(async {
        let tasks: Vec<_> = (0..30).map(|i| after(30 - i, i)).collect();
        let (done, pending) = wait(tasks, ReturnWhen::AllCompleted).await.unwrap();
        assert!(pending.is_empty());
        let values: Vec<usize> = done.into_iter().map(|d| d.result.unwrap()).collect();
        assert_eq!(values, (0..30).collect::<Vec<_>>());
    });
}

#[test]
fn wait_first_error_counts_err_outputs_panics_and_cancellations() {
    run_task(async {
        // An Err output.
        let tasks = vec![
            after(8, Ok(1)),
            after(1, Ok(2)),
            after(3, Err("bad")),
            after(20, Ok(4)),
        ];
        let (done, pending) = wait(tasks, ReturnWhen::FirstError).await.unwrap();
        assert_eq!(done.iter().map(|d| d.index).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(done[1].result.as_ref().unwrap(), &Err("bad"));
        assert_eq!(pending.len(), 2);

        // A cancellation (a JoinError) counts too.
        let victim = spawn(std::future::pending::<u32>());
        victim.cancel();
        let (done, pending) = wait(vec![after(50, 1u32), victim], ReturnWhen::FirstError)
            .await
            .unwrap();
        assert!(done[0].result.as_ref().unwrap_err().is_cancelled());
        assert_eq!(done[0].index, 1);
        assert_eq!(pending.len(), 1);

        // No failure at all: returns when all are done.
        let (done, pending) = wait(vec![after(2, 1u8), after(1, 2)], ReturnWhen::FirstError)
            .await
            .unwrap();
        assert_eq!((done.len(), pending.len()), (2, 0));
    });
}

#[test]
fn wait_with_timeout_neither_errors_nor_cancels() {
    run_task(async {
        let tasks = vec![after(2, 1), after(1000, 2)];
        let (done, pending) = wait_with(tasks, ReturnWhen::AllCompleted, Some(yields(10)))
            .await
            .unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].result.as_ref().unwrap(), &1);
        assert_eq!(pending.len(), 1);
        let handle = &pending[0].handle;
        assert!(!handle.is_finished());
        let p = pending.into_iter().next().unwrap();
        assert_eq!(
            p.handle.await.unwrap(),
            2,
            "still running after the timeout"
        );
    });
}

#[test]
fn wait_on_nothing_is_an_error() {
    run(async {
        let err = wait(
            Vec::<eddy_core::JoinHandle<()>>::new(),
            ReturnWhen::FirstCompleted,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("at least one"));
    });
}

// ---------------------------------------------------------------- as_completed

#[test]
fn as_completed_yields_in_completion_order() {
    run_task(async {
        let steps = [7usize, 0, 3, 9, 1];
        let futures = steps.map(|n| async move {
            yields(n).await;
            n
        });
        let order: Vec<usize> = as_completed(futures).collect().await;
        assert_eq!(order, [0, 1, 3, 7, 9]);
    });
}

#[test]
fn as_completed_over_task_handles() {
    run_task(async {
        let tasks = vec![after(5, "slow"), after(1, "fast")];
        let mut stream = as_completed(tasks);
        assert_eq!(stream.next().await.unwrap().unwrap(), "fast");
        assert_eq!(stream.len(), 1);
        assert_eq!(stream.next().await.unwrap().unwrap(), "slow");
        assert!(stream.next().await.is_none());
    });
}

#[test]
fn as_completed_with_timeout_ends_with_timed_out_and_drops_the_rest() {
    let drops = Drops::default();
    let d = drops.clone();
    run_task(async move {
        let futures: Vec<_> = [1usize, 3, 50, 60]
            .into_iter()
            .map(|n| {
                let g = d.guard();
                Box::pin(async move {
                    let _g = g;
                    yields(n).await;
                    n
                })
            })
            .collect();
        let items: Vec<_> = as_completed_with_timeout(futures, yields(10))
            .collect()
            .await;
        assert_eq!(items, [Ok(1), Ok(3), Err(TimedOut::new(2))]);
        assert_eq!(d.get(), 4);
        assert!(items[2].unwrap_err().to_string().contains("2 future(s)"));
    });
}

// ---------------------------------------------------------------- shield

#[test]
fn shield_survives_outer_cancel() {
    run_task(async {
        let finished = Rc::new(Cell::new(false));
        let f = finished.clone();
        let outer = spawn(async move {
            shield(async move {
                yields(5).await;
                f.set(true);
                "committed"
            })
            .await
        });
        yield_now().await;
        outer.cancel();
        assert!(outer.await.unwrap_err().is_cancelled());
        assert!(!finished.get());
        yields(10).await;
        assert!(finished.get(), "the shielded task ran to the end");
    });
}

#[test]
fn shield_gives_the_result_and_reports_inner_cancellation() {
    run(async {
        assert_eq!(shield(async { 5 }).await.unwrap(), 5);
        let shielded = shield(pending::<()>());
        let id = shielded.id();
        shielded.cancel();
        let err = shielded.await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(err.id(), id);
        // Dropping the outer future of a shield detaches the inner task.
        let ran = Rc::new(Cell::new(false));
        let r = ran.clone();
        drop(shield(async move { r.set(true) }));
        yield_now().await;
        assert!(ran.get());
    });
}

// ---------------------------------------------------------------- threads

#[test]
fn gather_all_with_wakes_from_another_thread() {
    run(async {
        let n = 200;
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..n)
            .map(|_| futures::channel::oneshot::channel::<usize>())
            .unzip();
        let sender_thread = std::thread::spawn(move || {
            // Complete them in reverse order, from another thread.
            for (i, tx) in senders.into_iter().enumerate().rev() {
                tx.send(i).unwrap();
                if i % 16 == 0 {
                    std::thread::yield_now();
                }
            }
        });
        let out: Vec<usize> = gather_all(receivers)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(out, (0..n).collect::<Vec<_>>());
        sender_thread.join().unwrap();
    });
}

#[test]
fn dropping_a_group_while_another_thread_wakes_its_children() {
    // Synchronous cancel racing remote wakes: every child dropped exactly
    // once, whatever state the wake left it in.
    for round in 0..50 {
        let drops = Drops::default();
        let d = drops.clone();
        run(async move {
            let group = TaskGroup::<()>::new();
            let mut senders = Vec::new();
            for _ in 0..20 {
                let (tx, rx) = futures::channel::oneshot::channel::<()>();
                senders.push(tx);
                let g = d.guard();
                group
                    .spawn(async move {
                        let _g = g;
                        let _ = rx.await;
                        pending::<Result<(), ()>>().await
                    })
                    .unwrap();
            }
            yield_now().await; // every child is idle on its receiver
            let waker_thread = std::thread::spawn(move || {
                for tx in senders {
                    let _ = tx.send(());
                }
            });
            if round % 2 == 0 {
                std::thread::yield_now();
            }
            drop(group);
            assert_eq!(d.get(), 20);
            waker_thread.join().unwrap();
            yields(3).await; // stale queue entries are skipped safely
            assert_eq!(d.get(), 20);
        });
        assert_eq!(drops.get(), 20);
    }
}
