//! TaskGroup: joining, failure and cancellation, panics, nesting,
//! dropping the group (inside and outside its loop).

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

/// A runtime whose `block_on` panics once a panic nobody joins is reported.
fn strict_runtime() -> eddy_core::Runtime {
    eddy_core::Builder::new()
        .unhandled_panic(eddy_core::UnhandledPanic::ShutdownRuntime)
        .build()
        .unwrap()
}

fn assert_shut_down_by_unjoined_panic(outcome: std::thread::Result<()>) {
    let payload = outcome.expect_err("block_on should have panicked");
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or(payload.downcast_ref::<String>().map(String::as_str))
        .unwrap();
    assert!(message.contains("nobody joined"), "{message}");
}

async fn panicking_child() -> Result<(), ()> {
    yields(1).await;
    std::panic::panic_any("child boom")
}

#[test]
fn a_child_panic_the_join_never_resumes_goes_to_the_unhandled_panic_policy() {
    // Before the fix the payload was dropped with the group: no log, and
    // UnhandledPanic::ShutdownRuntime never fired.
    // 1. The group is dropped without ever being joined.
    let rt = strict_runtime();
    let drops = Drops::default();
    let d = drops.clone();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async move {
            let group = TaskGroup::<()>::new();
            let child = group.spawn(panicking_child()).unwrap();
            group.spawn(forever(&d)).unwrap();
            yields(3).await;
            assert!(child.is_finished());
            let err = child.await.unwrap_err();
            assert!(err.is_group_failure());
            drop(group);
            yields(3).await;
        })
    }));
    assert_shut_down_by_unjoined_panic(outcome);
    assert_eq!(drops.get(), 1);
    drop(rt);

    // 2. The join future is dropped: its owner task is cancelled by the
    //    panicking child just before it panics, so the owner is dropped
    //    (with its join future) before the group's deferred cancel of the
    //    siblings runs.
    let rt = strict_runtime();
    let drops = Drops::default();
    let d = drops.clone();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async move {
            let owner_slot = Rc::new(RefCell::new(
                None::<eddy_core::JoinHandle<Result<(), task::ErrorGroup<()>>>>,
            ));
            let slot = owner_slot.clone();
            let owner = spawn(async move {
                let group = TaskGroup::<()>::new();
                group
                    .spawn(async move {
                        yields(1).await;
                        if false {
                            return Ok(());
                        }
                        slot.borrow().as_ref().unwrap().cancel();
                        std::panic::panic_any("child boom");
                    })
                    .unwrap();
                group.spawn(forever(&d)).unwrap();
                group.join().await
            });
            *owner_slot.borrow_mut() = Some(owner);
            yields(4).await;
            let owner = owner_slot.borrow_mut().take().unwrap();
            assert!(owner.await.unwrap_err().is_cancelled());
            yields(3).await;
        })
    }));
    assert_shut_down_by_unjoined_panic(outcome);
    assert_eq!(drops.get(), 1);
    drop(rt);

    // 3. Control: a panic that join resumes, and the owner's handle then
    //    reports, is handled: nothing reaches the policy.
    let rt = strict_runtime();
    rt.block_on(async {
        let owner = spawn(async {
            let group = TaskGroup::<()>::new();
            group.spawn(panicking_child()).unwrap();
            group.join().await
        });
        let err = owner.await.unwrap_err();
        assert_eq!(err.panic_message(), Some("child boom"));
        yields(3).await;
    });
}

/// Records, from its destructor, what spawning into the group gives.
struct SpawnOnDrop {
    spawner: task::Spawner<&'static str>,
    seen: Rc<Cell<Option<Result<(), ClosedReason>>>>,
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let r = self.spawner.spawn(async { Ok(()) });
        self.seen.set(Some(r.map(drop).map_err(|e| e.reason())));
    }
}

#[test]
fn a_cancelled_childs_destructor_sees_its_group_failing_or_cancelled() {
    // The group used to let a cancelled child go before dropping the child's
    // future, so the last child's destructors saw a group already "finished"
    // (its join woken) instead of one that failed or was cancelled.
    run_task(async {
        for fail in [true, false] {
            let group = TaskGroup::<&'static str>::new();
            let seen = Rc::new(Cell::new(None));
            let probe = SpawnOnDrop {
                spawner: group.spawner(),
                seen: seen.clone(),
            };
            group
                .spawn(async move {
                    let _probe = probe;
                    pending::<Result<(), _>>().await
                })
                .unwrap();
            if fail {
                group
                    .spawn(async {
                        yields(1).await;
                        Err::<(), _>("boom")
                    })
                    .unwrap();
            } else {
                group.cancel();
            }
            let joined = group.join().await;
            let expected = if fail {
                assert_eq!(joined.unwrap_err().into_vec(), ["boom"]);
                ClosedReason::Failed
            } else {
                joined.unwrap();
                ClosedReason::Cancelled
            };
            assert_eq!(seen.get(), Some(Err(expected)));
        }
    });
}

#[test]
fn a_child_whose_destructor_panics_still_leaves_its_group() {
    struct PanicOnDrop(Drops);
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            let _count = self.0.guard();
            std::panic::panic_any("destructor boom");
        }
    }
    let drops = Drops::default();
    let d = drops.clone();
    run_task(async move {
        let group = TaskGroup::<()>::new();
        for _ in 0..3 {
            let bomb = PanicOnDrop(d.clone());
            group
                .spawn(async move {
                    let _bomb = bomb;
                    pending::<Result<(), ()>>().await
                })
                .unwrap();
        }
        // (A bomb held here would go off as the async block returns, inside
        // the child's poll: a child panic, which join would resume.)
        group
            .spawn(async move {
                yields(1).await;
                Err::<(), _>(())
            })
            .unwrap();
        // The failure cancels the three; their destructors panic (caught
        // and logged by the runtime) and join still sees them leave.
        let join = std::pin::pin!(group.join());
        let limit = std::pin::pin!(yields(50));
        let joined = match futures::future::select(join, limit).await {
            futures::future::Either::Left((joined, _)) => joined,
            futures::future::Either::Right(_) => panic!("join never saw the children leave"),
        };
        assert_eq!(joined.unwrap_err().len(), 1);
        assert_eq!(d.get(), 3);
        // Dropped with the group, synchronously, panicking destructors too.
        let group = TaskGroup::<()>::new();
        for _ in 0..3 {
            let bomb = PanicOnDrop(d.clone());
            group
                .spawn(async move {
                    let _bomb = bomb;
                    pending::<Result<(), ()>>().await
                })
                .unwrap();
        }
        yield_now().await;
        drop(group);
        assert_eq!(d.get(), 6);
    });
    assert_eq!(drops.get(), 6);
}

#[test]
fn join_wakes_its_owner_once_and_a_dropped_join_not_at_all() {
    run(async {
        // Five children finishing at five different steps: the owner is
        // polled once to start, once when the last child is gone.
        let owner = spawn(async {
            let group = TaskGroup::<()>::new();
            for steps in 1..=5 {
                group
                    .spawn(async move {
                        yields(steps).await;
                        Ok(())
                    })
                    .unwrap();
            }
            group.join().await.unwrap();
            task::current().unwrap().polls()
        });
        assert_eq!(owner.await.unwrap(), 2);

        // A join dropped while pending (here by a select that gave up on
        // it) cancels the children; their leaving must not wake the owner,
        // which is no longer waiting for the group. It used to be polled
        // once more for nothing.
        let owner = spawn(async {
            let group = TaskGroup::<()>::new();
            for _ in 0..3 {
                group.spawn(pending::<Result<(), ()>>()).unwrap();
            }
            let join = Box::pin(group.join());
            let give_up = Box::pin(yields(2));
            match futures::future::select(join, give_up).await {
                futures::future::Either::Right(((), join)) => drop(join),
                futures::future::Either::Left(_) => unreachable!("the children never finish"),
            }
            assert_eq!(task::current().unwrap().polls(), 3);
            pending::<()>().await
        });
        let id = owner.id();
        yields(10).await;
        let info = task::all().into_iter().find(|t| t.id() == id).unwrap();
        assert_eq!(info.polls(), 3);
        owner.cancel();
        assert!(owner.await.unwrap_err().is_cancelled());
    });
}
