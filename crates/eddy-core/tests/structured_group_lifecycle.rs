//! TaskGroup when it goes away: dropped outside its loop or during runtime
//! shutdown, children woken from another thread as it drops, a child panic
//! that join never re-raises, and children whose destructors see or panic
//! as they leave.

mod structured_support;

use std::cell::{Cell, RefCell};
use std::future::pending;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use eddy_core::task::{self, ClosedReason, TaskGroup};
use eddy_core::{run, spawn, yield_now};

use structured_support::*;

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
fn a_child_whose_destructor_panics_when_cancelled_fails_the_group() {
    struct PanicOnDrop(Drops);
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            let _count = self.0.guard();
            std::panic::panic_any("destructor boom");
        }
    }
    /// A child that waits forever holding a bomb for its cancellation.
    fn spawn_bomb(group: &TaskGroup<&'static str>, drops: &Drops) -> task::ChildHandle<()> {
        let bomb = PanicOnDrop(drops.clone());
        group
            .spawn(async move {
                let _bomb = bomb;
                pending::<Result<(), &str>>().await
            })
            .unwrap()
    }
    let drops = Drops::default();
    let d = drops.clone();
    run_task(async move {
        let group = TaskGroup::<&str>::new();
        let bombs: Vec<_> = (0..3).map(|_| spawn_bomb(&group, &d)).collect();
        // (A bomb held here would go off as the async block returns, inside
        // the child's poll: a child panic, which join would resume.)
        group
            .spawn(async move {
                yields(1).await;
                Err::<(), _>("sibling failed")
            })
            .unwrap();
        // The failure cancels the three; their destructors panic. As asyncio
        // collects an exception raised in `finally:` while a child is
        // cancelled, the group takes the panic: join waits for every child
        // to leave, then resumes the first one.
        let join = std::pin::pin!(futures::FutureExt::catch_unwind(AssertUnwindSafe(
            group.join()
        )));
        let limit = std::pin::pin!(yields(50));
        let joined = match futures::future::select(join, limit).await {
            futures::future::Either::Left((joined, _)) => joined,
            futures::future::Either::Right(_) => panic!("join never saw the children leave"),
        };
        let payload = joined.expect_err("join resumes the destructor's panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"destructor boom"));
        assert_eq!(d.get(), 3);
        // Each bomb's own handle reads as cancelled: the panic went to the group.
        for child in bombs {
            assert!(child.await.unwrap_err().is_cancelled());
        }

        // Cancelled one by one, a panicking destructor fails an open group
        // too (the siblings are cancelled) and join resumes it.
        let group = TaskGroup::<&str>::new();
        let child = spawn_bomb(&group, &d);
        let sibling = group.spawn(pending::<Result<(), &str>>()).unwrap();
        yield_now().await;
        child.cancel();
        let joined = futures::FutureExt::catch_unwind(AssertUnwindSafe(group.join())).await;
        assert_eq!(
            joined.unwrap_err().downcast_ref::<&str>(),
            Some(&"destructor boom")
        );
        assert!(sibling.await.unwrap_err().is_cancelled());
        assert_eq!(d.get(), 4);

        // Dropped with the group, synchronously, panicking destructors too
        // (nobody joins: the panics go where an unjoined task's panic goes).
        let group = TaskGroup::<&str>::new();
        for _ in 0..3 {
            spawn_bomb(&group, &d);
        }
        yield_now().await;
        drop(group);
        assert_eq!(d.get(), 7);
    });
    assert_eq!(drops.get(), 7);
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
