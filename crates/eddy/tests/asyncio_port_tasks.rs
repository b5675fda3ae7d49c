//! asyncio's task topics, ported to eddy: gather in both error styles,
//! wait with FIRST_COMPLETED / FIRST_EXCEPTION and timeouts, as_completed,
//! shield, cancellation and task introspection. TaskGroup is in
//! asyncio_port_taskgroup.rs.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use common::port::{close_server, connect, flag, guard, paused, settle, sleep_an_hour, wait_while};
use eddy::ReturnWhen;
use futures::StreamExt;

#[test]
fn gather_returns_results_in_argument_order() {
    eddy::run(async {
        async fn after(ms: u64, v: &'static str) -> &'static str {
            eddy::sleep(Duration::from_millis(ms)).await;
            v
        }
        let (a, b, c) = eddy::gather!(after(20, "a"), after(1, "b"), after(10, "c")).await;
        assert_eq!((a, b, c), ("a", "b", "c"));
        // Tasks too: their JoinHandles are futures.
        let tasks: Vec<_> = (0..5u64)
            .map(|i| eddy::spawn(after(5 - i, ["v", "w", "x", "y", "z"][i as usize])))
            .collect();
        let out: Vec<_> = eddy::gather_all(tasks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(out, ["v", "w", "x", "y", "z"]);
    });
}

#[test]
fn gather_with_errors_as_values_runs_everything_to_the_end() {
    eddy::run(async {
        let finished = Rc::new(Cell::new(0));
        let jobs = (0..4).map(|i| {
            let finished = finished.clone();
            async move {
                eddy::sleep(Duration::from_millis(i * 3)).await;
                finished.set(finished.get() + 1);
                if i % 2 == 1 {
                    Err(format!("job {i} failed"))
                } else {
                    Ok(i)
                }
            }
        });
        let results = eddy::gather_all(jobs).await;
        assert_eq!(finished.get(), 4);
        assert_eq!(
            results,
            [
                Ok(0),
                Err("job 1 failed".to_string()),
                Ok(2),
                Err("job 3 failed".to_string())
            ]
        );
    });
}

#[test]
fn try_gather_stops_at_the_first_error() {
    eddy::run(async {
        let slow_dropped = flag();
        let f = slow_dropped.clone();
        let slow = async move {
            sleep_an_hour(f).await;
            Ok::<u32, String>(1)
        };
        let failing = async {
            eddy::sleep(Duration::from_millis(1)).await;
            Err::<u32, String>("bad input".into())
        };
        let out = guard("try_gather", eddy::try_gather!(slow, failing)).await;
        assert_eq!(out, Err("bad input".to_string()));
        assert!(slow_dropped.get());

        let all_ok = eddy::try_gather_all((1..=3).map(|i| async move { Ok::<_, String>(i * 2) }))
            .await
            .unwrap();
        assert_eq!(all_ok, [2, 4, 6]);
    });
}

/// asyncio: "If gather() is cancelled, all submitted awaitables (that have
/// not completed yet) are also cancelled." An asyncio program that gathers
/// tasks under a timeout relies on it; in eddy the handles say so with
/// `cancel_on_drop()` (a plain handle detaches when dropped).
#[test]
fn cancelling_a_gather_of_tasks_cancels_the_tasks() {
    eddy::run(async {
        let dropped = [flag(), flag()];
        let tasks: Vec<_> = dropped
            .iter()
            .map(|f| {
                let f = f.clone();
                eddy::spawn(async move {
                    sleep_an_hour(f).await;
                })
                .cancel_on_drop()
            })
            .collect();
        let timed_out = eddy::wait_for(eddy::gather_all(tasks), Duration::from_millis(5)).await;
        assert!(timed_out.is_err());
        settle().await;
        assert!(
            dropped.iter().all(|f| f.get()),
            "the gathered tasks still run after the gather was cancelled"
        );
    });
}

#[test]
fn wait_first_completed_leaves_the_rest_running() {
    eddy::run(async {
        let tasks = vec![
            eddy::spawn(async {
                eddy::sleep(Duration::from_millis(50)).await;
                "slow"
            }),
            eddy::spawn(async { "fast" }),
            eddy::spawn(async {
                eddy::sleep(Duration::from_millis(30)).await;
                "medium"
            }),
        ];
        let (done, pending) = guard("wait", eddy::wait(tasks, ReturnWhen::FirstCompleted, None))
            .await
            .unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].index, 1);
        assert_eq!(*done[0].result.as_ref().unwrap(), "fast");
        assert_eq!(pending.iter().map(|p| p.index).collect::<Vec<_>>(), [0, 2]);
        // Not cancelled: they finish and their results are still there.
        let rest: Vec<_> = eddy::gather_all(pending.into_iter().map(|p| p.handle)).await;
        assert_eq!(
            rest.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
            ["slow", "medium"]
        );
    });
}

#[test]
fn wait_first_exception_returns_on_an_error_or_a_panic() {
    eddy::run(async {
        let tasks = vec![
            eddy::spawn(async { Ok::<_, String>(1) }),
            eddy::spawn(async {
                eddy::sleep(Duration::from_millis(2)).await;
                Err("failed".to_string())
            }),
            eddy::spawn(async {
                eddy::sleep(Duration::from_secs(3600)).await;
                Ok(3)
            }),
        ];
        let (done, pending) = guard("wait", eddy::wait(tasks, ReturnWhen::FirstError, None))
            .await
            .unwrap();
        assert_eq!(done.iter().map(|d| d.index).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(done[1].result.as_ref().unwrap(), &Err("failed".to_string()));
        assert_eq!(pending.len(), 1);
        pending[0].handle.cancel();

        let tasks = vec![
            eddy::spawn(async {
                eddy::yield_now().await;
                if true {
                    panic!("worker crashed");
                }
                Ok::<(), String>(())
            }),
            eddy::spawn(async {
                eddy::sleep(Duration::from_secs(3600)).await;
                Ok(())
            }),
        ];
        let (done, pending) = guard("wait", eddy::wait(tasks, ReturnWhen::FirstError, None))
            .await
            .unwrap();
        let err = done[0].result.as_ref().unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.panic_message(), Some("worker crashed"));
        pending[0].handle.cancel();

        // Without any failure, FirstError waits for all.
        let tasks: Vec<_> = (0..3)
            .map(|i| eddy::spawn(async move { Ok::<_, ()>(i) }))
            .collect();
        let (done, pending) = eddy::wait(tasks, ReturnWhen::FirstError, None)
            .await
            .unwrap();
        assert_eq!((done.len(), pending.len()), (3, 0));
    });
}

#[test]
fn wait_with_a_timeout_neither_errors_nor_cancels() {
    eddy::run(async {
        let release = Rc::new(eddy::sync::Event::new());
        let r = release.clone();
        let tasks = vec![
            eddy::spawn(async { 1 }),
            eddy::spawn(async move {
                r.wait().await;
                2
            }),
        ];
        let (done, pending) = eddy::wait(
            tasks,
            ReturnWhen::AllCompleted,
            Some(Duration::from_millis(10)),
        )
        .await
        .unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(pending.len(), 1);
        release.set();
        let late = guard("late", pending.into_iter().next().unwrap().handle).await;
        assert_eq!(late.unwrap(), 2);

        let none: Vec<eddy::JoinHandle<()>> = Vec::new();
        let err = eddy::wait(none, ReturnWhen::AllCompleted, None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no tasks"), "{err}");
    });
}

#[test]
fn as_completed_yields_in_completion_order() {
    let rt = paused();
    rt.block_on(async {
        let delays = [30u64, 10, 20];
        let futs = delays.map(|ms| async move {
            eddy::sleep(Duration::from_millis(ms)).await;
            ms
        });
        let order: Vec<_> = eddy::as_completed(futs).collect().await;
        assert_eq!(order, [10, 20, 30]);

        let futs = [5u64, 3_600_000].map(|ms| async move {
            eddy::sleep(Duration::from_millis(ms)).await;
            ms
        });
        let got: Vec<_> = eddy::as_completed_with_timeout(futs, Duration::from_secs(1))
            .collect()
            .await;
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], Ok(5));
        assert_eq!(got[1].as_ref().unwrap_err().remaining(), 1);
    });
}

#[test]
fn shield_keeps_the_work_going_when_the_waiter_gives_up() {
    eddy::run(async {
        let committed = flag();
        let c = committed.clone();
        let release = Rc::new(eddy::sync::Event::new());
        let r = release.clone();
        let shielded = eddy::shield(async move {
            r.wait().await;
            c.set(true);
            "saved"
        });
        let inner = shielded.into_handle();
        // A second shield over the same handle, awaited under a timeout,
        // as `await asyncio.wait_for(asyncio.shield(task), t)` does.
        let timed_out = eddy::wait_for(eddy::shield(inner), Duration::from_millis(5)).await;
        assert!(timed_out.is_err());
        assert!(!committed.get());
        release.set();
        guard("commit", async {
            while !committed.get() {
                eddy::yield_now().await;
            }
        })
        .await;

        // Cancelling the task that awaits the shield: the work goes on too.
        let done = flag();
        let d = done.clone();
        let outer = eddy::spawn(async move {
            eddy::shield(async move {
                eddy::sleep(Duration::from_millis(5)).await;
                d.set(true);
            })
            .await
        });
        eddy::yield_now().await;
        outer.cancel();
        assert!(outer.await.unwrap_err().is_cancelled());
        wait_while("shielded work", || !done.get()).await;
    });
}

#[test]
fn current_task_and_all_tasks_show_names() {
    eddy::run(async {
        assert!(
            eddy::task::current().is_none(),
            "the main future is no task"
        );
        let worker = eddy::task::Builder::new().name("worker-1").spawn(async {
            let me = eddy::task::current().unwrap();
            me.name().map(str::to_string)
        });
        let parked = eddy::task::Builder::new()
            .name("parked")
            .spawn(std::future::pending::<()>());
        assert_eq!(worker.await.unwrap().as_deref(), Some("worker-1"));
        eddy::yield_now().await;
        let names: Vec<_> = eddy::task::all()
            .iter()
            .filter_map(|t| t.name().map(str::to_string))
            .collect();
        assert!(names.contains(&"parked".to_string()), "{names:?}");
        assert!(!names.contains(&"worker-1".to_string()), "{names:?}");
        parked.cancel();
        assert!(parked.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn cancelled_task_runs_its_destructors_and_reports_cancelled() {
    eddy::run(async {
        let dropped = flag();
        let f = dropped.clone();
        let task = eddy::spawn(async move {
            sleep_an_hour(f).await;
            "never"
        });
        eddy::yield_now().await;
        assert!(!task.is_finished());
        task.cancel();
        let err = task.await.unwrap_err();
        assert!(err.is_cancelled());
        assert!(dropped.get());
        // Cancelling a finished task changes nothing.
        let done = eddy::spawn(async { 5 });
        eddy::yield_now().await;
        assert!(done.is_finished());
        done.cancel();
        assert_eq!(done.await.unwrap(), 5);
    });
}

#[test]
fn a_closed_server_leaves_no_tasks_behind() {
    use eddy::io::{start_server, StreamReader, StreamWriter};
    eddy::run(async {
        let server = start_server(
            "127.0.0.1:0",
            |mut r: StreamReader, mut w: StreamWriter| async move {
                let line = r.read_line().await.unwrap();
                w.write(&line).unwrap();
            },
        )
        .await
        .unwrap();
        let (mut r, mut w) = connect(&server).await;
        w.write(b"x\n").unwrap();
        assert_eq!(guard("echo", r.read_line()).await.unwrap(), b"x\n");
        w.close();
        guard("client", w.wait_closed()).await;
        close_server(&server).await;
        // asyncio tests check `all_tasks() == {current_task()}` here.
        wait_while("no tasks left", || !eddy::task::all().is_empty()).await;
    });
}

/// asyncio's all_tasks() lists tasks only; a timer scheduled with
/// call_later is a TimerHandle, not a task. In eddy each pending
/// call_later callback shows up in task::all() as an unnamed task, so the
/// usual "no task leaked" check fails while a timer is pending.
#[test]
fn a_pending_timer_callback_is_not_a_task() {
    eddy::run(async {
        let timer = eddy::call_later(Duration::from_secs(3600), || {});
        eddy::yield_now().await;
        let tasks: Vec<_> = eddy::task::all()
            .iter()
            .map(|t| format!("{:?} at {}", t.name(), t.spawned_at()))
            .collect();
        timer.cancel();
        assert!(tasks.is_empty(), "{tasks:?}");
    });
}

/// asyncio's FIRST_EXCEPTION ignores cancelled tasks ("not f.cancelled()
/// and f.exception() is not None"); so does eddy's FirstError: a wait goes
/// on past a cancellation.
#[test]
fn wait_first_error_is_not_stopped_by_a_cancellation() {
    eddy::run(async {
        let go = Rc::new(eddy::sync::Event::new());
        let g = go.clone();
        let tasks = vec![
            eddy::spawn(std::future::pending::<Result<(), String>>()),
            eddy::spawn(async move {
                g.wait().await;
                Ok(())
            }),
        ];
        tasks[0].cancel();
        let setter = eddy::spawn(async move {
            eddy::sleep(Duration::from_millis(20)).await;
            go.set();
        });
        let (done, pending) = guard("wait", eddy::wait(tasks, ReturnWhen::FirstError, None))
            .await
            .unwrap();
        setter.await.unwrap();
        assert_eq!((done.len(), pending.len()), (2, 0));
    });
}
