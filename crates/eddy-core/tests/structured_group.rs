//! TaskGroup: joining, failure and cancellation, panics, nesting, spawner.
//! (Dropping the group, shutdown and destructors: structured_group_lifecycle.rs.)

mod structured_support;

use std::cell::{Cell, RefCell};
use std::future::pending;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use eddy_core::task::{self, ClosedReason, TaskGroup};
use eddy_core::{run, spawn, yield_now};

use structured_support::*;

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
