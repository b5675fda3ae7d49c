//! wait / wait_with (ReturnWhen) and as_completed (+ timeout).

mod structured_support;

use eddy_core::task::{
    self, as_completed, as_completed_with_timeout, gather_all, wait, wait_with, ReturnWhen,
    TimedOut,
};
use eddy_core::{run, spawn, yield_now};
use futures::StreamExt;

use structured_support::*;

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
fn wait_first_error_counts_err_outputs_and_panics_not_cancellations() {
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

        // A cancellation is not a failure (asyncio's FIRST_EXCEPTION skips
        // cancelled tasks): the wait goes on until the rest are done.
        let victim = spawn(std::future::pending::<u32>());
        victim.cancel();
        let (done, pending) = wait(vec![after(50, 1u32), victim], ReturnWhen::FirstError)
            .await
            .unwrap();
        assert_eq!(pending.len(), 0);
        assert_eq!(*done[0].result.as_ref().unwrap(), 1);
        assert!(done[1].result.as_ref().unwrap_err().is_cancelled());

        // A panic stops it.
        let (done, pending) = wait(
            vec![after(50, 1u32), spawn(async { panic!("boom") })],
            ReturnWhen::FirstError,
        )
        .await
        .unwrap();
        assert_eq!(done.len(), 1);
        assert!(done[0].result.as_ref().unwrap_err().is_panic());
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

#[test]
fn wait_reports_every_finished_task_as_done_even_past_the_coop_budget() {
    // A FirstError wait stops at slot 0; its final sweep must still move
    // every other finished task into `done`. The sweep used to poll the
    // handles, which charges the task's cooperative budget (128 units):
    // past it, finished tasks were reported as pending.
    let n = 3 * eddy_core::coop::BUDGET as usize;
    let (done, pending) = run_task(async move {
        let mut handles = vec![spawn(async { Err::<usize, usize>(0) })];
        handles.extend((1..n).map(|i| spawn(async move { Ok(i) })));
        yield_now().await;
        assert!(handles.iter().all(|h| h.is_finished()));
        wait(handles, ReturnWhen::FirstError).await.unwrap()
    });
    assert_eq!((done.len(), pending.len()), (n, 0));
    for (i, d) in done.iter().enumerate() {
        assert_eq!(d.index, i);
        let expected = if i == 0 { Err(0) } else { Ok(i) };
        assert_eq!(*d.result.as_ref().unwrap(), expected);
    }
    // FirstCompleted too: one finished task stops it, all are collected.
    let (done, pending) = run_task(async move {
        let handles: Vec<_> = (0..n).map(|i| spawn(async move { i })).collect();
        yield_now().await;
        wait(handles, ReturnWhen::FirstCompleted).await.unwrap()
    });
    assert_eq!((done.len(), pending.len()), (n, 0));
}

#[test]
#[cfg_attr(miri, ignore)]
fn wait_in_a_loop_while_other_threads_wake_the_tasks() {
    // Tasks finish in whatever order two threads wake them; re-waiting on
    // `pending` (FirstCompleted, then FirstError) must see every task done
    // exactly once, with its own value, and never miss a wake.
    for round in 0..40u64 {
        run(async move {
            let n = 32;
            let (senders, receivers): (Vec<_>, Vec<_>) = (0..n)
                .map(|_| futures::channel::oneshot::channel::<u64>())
                .unzip();
            let mut handles: Vec<_> = receivers
                .into_iter()
                .map(|rx| spawn(async move { rx.await.map_err(drop) }))
                .collect();
            let (evens, odds): (Vec<_>, Vec<_>) = senders
                .into_iter()
                .enumerate()
                .partition(|(i, _)| i % 2 == 0);
            let threads: Vec<_> = [evens, odds]
                .into_iter()
                .map(|half| {
                    std::thread::spawn(move || {
                        for (i, tx) in half.into_iter().rev() {
                            tx.send(i as u64 * 1000 + round).unwrap();
                            if i % 5 == 0 {
                                std::thread::yield_now();
                            }
                        }
                    })
                })
                .collect();
            let mut index_of: Vec<usize> = (0..n).collect();
            let mut seen = vec![false; n];
            let mut rounds = 0;
            while !handles.is_empty() {
                rounds += 1;
                let when = if rounds % 2 == 0 {
                    ReturnWhen::FirstError
                } else {
                    ReturnWhen::FirstCompleted
                };
                let (done, pending) = wait(handles, when).await.unwrap();
                assert!(!done.is_empty());
                assert!(pending.iter().all(|p| !p.handle.is_finished()));
                for d in done {
                    let original = index_of[d.index];
                    assert!(!seen[original], "task {original} reported done twice");
                    seen[original] = true;
                    assert_eq!(d.result.unwrap(), Ok(original as u64 * 1000 + round));
                }
                index_of = pending.iter().map(|p| index_of[p.index]).collect();
                handles = pending.into_iter().map(|p| p.handle).collect();
            }
            assert!(seen.iter().all(|s| *s));
            for t in threads {
                t.join().unwrap();
            }
        });
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn as_completed_over_tasks_woken_from_another_thread() {
    for _ in 0..40 {
        run(async {
            let n = 64u32;
            let (senders, receivers): (Vec<_>, Vec<_>) = (0..n)
                .map(|_| futures::channel::oneshot::channel::<u32>())
                .unzip();
            let handles = receivers
                .into_iter()
                .map(|rx| spawn(async move { rx.await.unwrap() }));
            let stream = as_completed(handles);
            let thread = std::thread::spawn(move || {
                for (i, tx) in senders.into_iter().enumerate().rev() {
                    tx.send(i as u32).unwrap();
                }
            });
            let mut out: Vec<u32> = stream.map(Result::unwrap).collect().await;
            thread.join().unwrap();
            out.sort_unstable();
            assert_eq!(out, (0..n).collect::<Vec<_>>());
        });
    }
}

#[test]
fn the_tasks_wait_hands_back_do_not_wake_its_caller_later() {
    // wait polled the slow task's handle, registering a waker of its own
    // caller. Once wait has returned, that task finishing must not wake the
    // caller (asyncio's wait removes its callbacks the same way): it used
    // to be polled once more for nothing, per handle handed back.
    run(async {
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let waiter = spawn(async move {
            let quick = spawn(yields(1));
            let slow = spawn(yields(3));
            let slower = spawn(yields(5));
            let (done, pending) = wait(vec![quick, slow, slower], ReturnWhen::FirstCompleted)
                .await
                .unwrap();
            assert_eq!((done.len(), pending.len()), (1, 2));
            let polls = task::current().unwrap().polls();
            rx.await.unwrap(); // woken by the main future only
            assert_eq!(task::current().unwrap().polls(), polls + 1);
            // The handles still work: awaiting registers a waker again.
            for p in pending {
                p.handle.await.unwrap();
            }
        });
        yields(12).await;
        tx.send(()).unwrap();
        waiter.await.unwrap();
    });
}
