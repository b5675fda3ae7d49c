//! asyncio's task topics the first port left out: TaskGroups nested two
//! deep and cancelled from outside, a child spawned while the group is
//! closing, failures of several children at once (ExceptionGroup), the
//! timed as_completed over tasks, wait() whose timeout falls exactly when
//! tasks finish (paused clock), shield over work that is itself cancelled,
//! and task introspection (current_task, all_tasks, names, done /
//! cancelled / result).

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use common::port::{flag, guard, paused, settle, sleep_an_hour, Finally};
use eddy::task::{ClosedReason, TaskGroup, TaskState};
use eddy::ReturnWhen;
use futures::{Future, StreamExt};

#[test]
fn cancelling_the_owner_of_nested_groups_reaches_the_grandchildren() {
    eddy::run(async {
        let grandchildren: Vec<_> = (0..3).map(|_| flag()).collect();
        let child_cleanup = flag();
        let owner = {
            let grandchildren = grandchildren.clone();
            let child_cleanup = child_cleanup.clone();
            eddy::spawn(async move {
                let outer = TaskGroup::<()>::new();
                outer
                    .spawn(async move {
                        let _finally = Finally(child_cleanup);
                        let inner = TaskGroup::<()>::new();
                        for f in grandchildren {
                            inner
                                .spawn(async move {
                                    sleep_an_hour(f).await;
                                    Ok(())
                                })
                                .unwrap();
                        }
                        inner.join().await.map_err(drop)
                    })
                    .unwrap();
                outer.join().await
            })
        };
        settle().await;
        assert_eq!(
            eddy::task::all().len(),
            1 + 1 + 3,
            "owner, child, grandchildren"
        );
        owner.cancel();
        assert!(guard("owner", owner).await.unwrap_err().is_cancelled());
        assert!(child_cleanup.get());
        assert!(grandchildren.iter().all(|f| f.get()));
        settle().await;
        assert!(eddy::task::all().is_empty(), "{:?}", eddy::task::all());
    });
}

#[test]
fn a_cancelled_group_refuses_new_children_and_joins_cleanly() {
    eddy::run(async {
        let group = TaskGroup::<&'static str>::new();
        let spawner = group.spawner();
        let slept = flag();
        let sleeper = {
            let slept = slept.clone();
            group
                .spawn(async move {
                    sleep_an_hour(slept).await;
                    Ok(())
                })
                .unwrap()
        };
        let finished = group.spawn(async { Ok(7) }).unwrap();
        settle().await;
        group.cancel();
        assert!(spawner.is_closed());
        let started = Rc::new(Cell::new(false));
        let s = started.clone();
        let refused = spawner
            .spawn(async move {
                s.set(true);
                Ok(())
            })
            .unwrap_err();
        assert_eq!(refused.reason(), ClosedReason::Cancelled);
        let text = refused.to_string();
        assert!(
            text.contains("cancelled") && text.contains("not started"),
            "{text}"
        );
        // Cancellation is not failure.
        guard("join", group.join()).await.unwrap();
        assert!(slept.get());
        assert!(!started.get());
        assert!(sleeper.await.unwrap_err().is_cancelled());
        assert_eq!(finished.await.unwrap(), 7);
    });
}

#[test]
fn a_child_that_spawns_as_the_group_finishes_is_still_waited_for() {
    // asyncio: a task created in the group while `async with` is exiting
    // (and before it is done) belongs to the group and is awaited.
    eddy::run(async {
        let group = TaskGroup::<()>::new();
        let spawner = group.spawner();
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        group
            .spawn(async move {
                eddy::yield_now().await;
                let l2 = l.clone();
                spawner
                    .spawn(async move {
                        eddy::sleep(Duration::from_millis(2)).await;
                        l2.borrow_mut().push("late child");
                        Ok(())
                    })
                    .unwrap();
                l.borrow_mut().push("first child");
                Ok(())
            })
            .unwrap();
        guard("join", group.join()).await.unwrap();
        assert_eq!(*log.borrow(), ["first child", "late child"]);
    });
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Failure(u32);
impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "page {} failed", self.0)
    }
}
impl std::error::Error for Failure {}

#[test]
fn several_failures_at_once_come_back_as_one_error_group() {
    eddy::run(async {
        let group = TaskGroup::<Failure>::new();
        let gate = Rc::new(eddy::sync::Event::new());
        let mut handles = Vec::new();
        for page in 1..=3 {
            let gate = gate.clone();
            handles.push(
                group
                    .spawn(async move {
                        gate.wait().await;
                        Err::<u32, _>(Failure(page))
                    })
                    .unwrap(),
            );
        }
        let ok = group.spawn(async { Ok(100) }).unwrap();
        let cancelled = flag();
        let c = cancelled.clone();
        group
            .spawn(async move {
                sleep_an_hour(c).await;
                Ok(0)
            })
            .unwrap();
        settle().await;
        gate.set();
        let errors = guard("join", group.join()).await.unwrap_err();
        assert_eq!(errors.len(), 3);
        let mut all: Vec<_> = errors.iter().map(|e| e.0).collect();
        all.sort();
        assert_eq!(all, [1, 2, 3]);
        let text = errors.to_string();
        assert!(text.starts_with("3 tasks of the group failed"), "{text}");
        for page in 1..=3 {
            assert!(text.contains(&format!("page {page} failed")), "{text}");
        }
        // As an Error, its source is the first failure.
        let source = std::error::Error::source(&errors).unwrap().to_string();
        assert!(source.starts_with("page "), "{source}");
        // The sibling that never failed was cancelled, not counted.
        assert!(cancelled.get());
        assert_eq!(ok.await.unwrap(), 100);
        for h in handles {
            let err = h.await.unwrap_err();
            assert!(err.is_group_failure(), "{err}");
            assert!(err.to_string().contains("ErrorGroup"), "{err}");
        }
    });
}

#[test]
fn timed_as_completed_over_tasks_leaves_the_slow_ones_running() {
    paused().block_on(async {
        let slow_done = flag();
        let s = slow_done.clone();
        let tasks = vec![
            eddy::spawn(async {
                eddy::sleep(Duration::from_secs(1)).await;
                1
            }),
            eddy::spawn(async move {
                eddy::sleep(Duration::from_secs(5)).await;
                s.set(true);
                5
            }),
            eddy::spawn(async {
                eddy::sleep(Duration::from_secs(2)).await;
                2
            }),
        ];
        let got: Vec<_> = eddy::as_completed_with_timeout(tasks, Duration::from_secs(3))
            .map(|r| r.map(|joined| joined.unwrap()))
            .collect()
            .await;
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], Ok(1));
        assert_eq!(got[1], Ok(2));
        let timed_out = got[2].as_ref().unwrap_err();
        assert_eq!(timed_out.remaining(), 1);
        assert!(timed_out.to_string().contains("1 future(s) still pending"));
        // asyncio's as_completed does not cancel on timeout; a dropped
        // JoinHandle detaches, so the task finishes on its own.
        eddy::sleep(Duration::from_secs(3)).await;
        assert!(slow_done.get());
    });
}

#[test]
fn wait_timeout_one_tick_either_side_of_the_finish() {
    paused().block_on(async {
        let at = |secs: u64, nanos: u32| {
            eddy::spawn(async move {
                eddy::sleep(Duration::new(secs, nanos)).await;
                // A Duration: eddy::wait wants an `Outcome` (no tuples).
                Duration::new(secs, nanos)
            })
        };
        // Finishing a tick (deadlines are rounded up to the millisecond)
        // before the deadline: done; a tick after it: pending.
        let tasks = vec![at(9, 999_000_000), at(10, 1_000_000)];
        let (done, pending) = eddy::wait(
            tasks,
            ReturnWhen::AllCompleted,
            Some(Duration::from_secs(10)),
        )
        .await
        .unwrap();
        assert_eq!(done.iter().map(|d| d.index).collect::<Vec<_>>(), [0]);
        assert_eq!(pending.iter().map(|p| p.index).collect::<Vec<_>>(), [1]);
        let late = pending.into_iter().next().unwrap().handle;
        assert_eq!(
            guard("late", late).await.unwrap(),
            Duration::new(10, 1_000_000)
        );
    });
}

#[test]
fn wait_timeout_exactly_at_the_finish_accounts_for_every_task() {
    paused().block_on(async {
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                eddy::spawn(async move {
                    eddy::sleep(Duration::from_secs(10)).await;
                    i
                })
            })
            .collect();
        let (done, pending) = eddy::wait(
            tasks,
            ReturnWhen::AllCompleted,
            Some(Duration::from_secs(10)),
        )
        .await
        .unwrap();
        // Whichever side of the tie each task lands on, every task is in
        // exactly one list and its result is not lost.
        let mut seen: Vec<usize> = done.iter().map(|d| d.index).collect();
        seen.extend(pending.iter().map(|p| p.index));
        seen.sort();
        assert_eq!(seen, [0, 1, 2, 3]);
        for d in done {
            assert_eq!(d.result.unwrap(), d.index);
        }
        for p in pending {
            assert_eq!(guard("pending", p.handle).await.unwrap(), p.index);
        }
    });
}

#[test]
fn shield_cancel_stops_the_shield_task_but_a_wrapped_task_runs_on() {
    eddy::run(async {
        let released = Rc::new(eddy::sync::Event::new());
        let r = released.clone();
        let work = eddy::spawn(async move {
            r.wait().await;
            "finished"
        });
        let work_id = work.id();
        let shielded = eddy::shield(work);
        let shield_id = shielded.id();
        settle().await;
        // Cancelling the inner task of the shield (asyncio has no such
        // call; it is eddy's way to cancel shielded work on purpose).
        shielded.cancel();
        let err = guard("shield", shielded).await.unwrap_err();
        assert!(err.is_cancelled(), "{err}");
        assert_eq!(err.id(), shield_id);
        settle().await;
        // The task it awaited was only detached.
        assert!(eddy::task::all().iter().any(|t| t.id() == work_id));
        released.set();
        settle().await;
        assert!(!eddy::task::all().iter().any(|t| t.id() == work_id));
    });
}

#[test]
fn a_shielded_task_that_cancels_itself_reports_cancelled_to_the_awaiter() {
    // asyncio: inside the shielded coroutine, current_task().cancel();
    // the task awaiting the shield gets CancelledError and may go on.
    eddy::run(async {
        let slot: Rc<RefCell<Option<eddy::JoinHandle<u8>>>> = Rc::new(RefCell::new(None));
        let after_cancel = flag();
        let cleaned_up = flag();
        let work = {
            let (slot, after_cancel, cleaned_up) =
                (slot.clone(), after_cancel.clone(), cleaned_up.clone());
            eddy::spawn(async move {
                let _finally = Finally(cleaned_up);
                eddy::yield_now().await;
                slot.borrow().as_ref().unwrap().cancel();
                eddy::yield_now().await;
                after_cancel.set(true);
                1
            })
        };
        *slot.borrow_mut() = Some(work);
        let s = slot.clone();
        let awaiter = eddy::spawn(async move {
            let joined = eddy::shield(futures::future::poll_fn(move |cx| {
                std::pin::Pin::new(s.borrow_mut().as_mut().unwrap()).poll(cx)
            }))
            .await;
            // The awaiting task itself carries on.
            ("awaiter went on", joined)
        });
        let (said, joined) = guard("awaiter", awaiter).await.unwrap();
        assert_eq!(said, "awaiter went on");
        let err = joined.unwrap().unwrap_err();
        assert!(err.is_cancelled(), "{err}");
        assert!(cleaned_up.get());
        assert!(
            !after_cancel.get(),
            "the task ran on after cancelling itself"
        );
    });
}

#[test]
fn task_introspection_names_states_and_results() {
    eddy::run(async {
        assert!(eddy::task::current().is_none());
        let gate = Rc::new(eddy::sync::Event::new());
        let g = gate.clone();
        let named = eddy::task::Builder::new()
            .name("fetcher")
            .spawn(async move {
                let me = eddy::task::current().unwrap();
                assert_eq!(me.state(), TaskState::Running);
                g.wait().await;
                (me.name().map(str::to_owned), me.id())
            });
        let id = named.id();
        let info = |id| eddy::task::all().into_iter().find(|t| t.id() == id);
        // Spawned, not yet run: scheduled, never polled.
        let first = info(id).unwrap();
        assert_eq!((first.state(), first.polls()), (TaskState::Scheduled, 0));
        assert_eq!(first.name(), Some("fetcher"));
        let shown = first.to_string();
        assert!(
            shown.contains("\"fetcher\"") && shown.contains(file!()),
            "{shown}"
        );
        settle().await;
        let waiting = info(id).unwrap();
        assert_eq!((waiting.state(), waiting.polls()), (TaskState::Idle, 1));
        assert!(!named.is_finished()); // Task.done()
        gate.set();
        settle().await;
        assert!(named.is_finished());
        assert!(info(id).is_none(), "a finished task leaves all_tasks");
        // Task.result()
        assert_eq!(named.await.unwrap(), (Some("fetcher".to_owned()), id));

        // Task.cancelled(): known once the handle is awaited.
        let victim = eddy::spawn(std::future::pending::<()>());
        victim.cancel();
        assert!(
            !victim.is_finished(),
            "dropped at the next scheduling point"
        );
        settle().await;
        assert!(victim.is_finished());
        let err = victim.await.unwrap_err();
        assert!(err.is_cancelled() && !err.is_panic());
        let text = err.to_string();
        assert!(
            text.contains("cancelled") && text.contains("JoinHandle::cancel"),
            "{text}"
        );
    });
}
