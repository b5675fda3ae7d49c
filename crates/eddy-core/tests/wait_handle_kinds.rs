//! wait / wait_with / wait_by over every task handle kind (`JoinHandle`,
//! `ChildHandle`, `Shielded`, `CancelOnDrop`): each mode, the timer form,
//! outputs never lost, and the pending handles given back as the kind that
//! went in (a `CancelOnDrop` still cancels on drop, a child is still its
//! group's).

mod structured_support;

use std::future::{pending, Future, Pending};
use std::pin::Pin;

use eddy_core::task::{
    self, shield, wait, wait_by, wait_with, CancelOnDrop, ChildHandle, NotDone, ReturnWhen,
    TaskGroup, TaskHandle,
};
use eddy_core::{run, spawn, yield_now, JoinError};

use structured_support::*;

/// The work behind one handle: yields some steps, then gives a value.
type Job = Pin<Box<dyn Future<Output = u32>>>;

fn job(steps: usize, value: u32) -> Job {
    Box::pin(async move {
        yields(steps).await;
        value
    })
}

/// Runs `$check(kind, make)` once per handle kind, each as a task on a
/// fresh runtime; `make` turns a [`Job`] into a handle of that kind. The
/// children's group is joined afterwards: no child may have failed it.
macro_rules! each_kind {
    ($check:path) => {
        run_task(async { $check("JoinHandle", spawn).await });
        run_task(async { $check("Shielded", shield).await });
        run_task(async { $check("CancelOnDrop", |j: Job| spawn(j).cancel_on_drop()).await });
        run_task(async {
            let group = TaskGroup::<()>::new();
            let make = |j: Job| group.spawn(async move { Ok(j.await) }).unwrap();
            $check("ChildHandle", make).await;
            group.join().await.unwrap();
        });
    };
}

fn indexes<T, H>(pending: &[NotDone<T, H>]) -> Vec<usize> {
    pending.iter().map(|p| p.index).collect()
}

fn values(done: &[task::Done<u32>]) -> Vec<(usize, u32)> {
    done.iter()
        .map(|d| (d.index, *d.result.as_ref().unwrap()))
        .collect()
}

fn no_timer() -> Option<Pending<()>> {
    None
}

async fn every_mode<H: TaskHandle<u32>>(kind: &str, make: impl Fn(Job) -> H) {
    // FirstCompleted: the pending handles are still running and still
    // awaitable afterwards, in any order.
    let handles = vec![make(job(6, 1)), make(job(1, 2)), make(job(9, 3))];
    let (done, pending) = wait(handles, ReturnWhen::FirstCompleted).await.unwrap();
    assert_eq!(values(&done), [(1, 2)], "{kind}");
    assert_eq!(indexes(&pending), [0, 2], "{kind}");
    assert!(pending.iter().all(|p| !p.handle.is_finished()), "{kind}");
    let mut rest = pending.into_iter().map(|p| p.handle);
    let (first, last) = (rest.next().unwrap(), rest.next().unwrap());
    assert_eq!(last.await.unwrap(), 3, "{kind}");
    assert_eq!(first.await.unwrap(), 1, "{kind}");

    // AllCompleted: every output, in input order.
    let handles = vec![make(job(3, 1)), make(job(1, 2)), make(job(0, 3))];
    let (done, pending) = wait(handles, ReturnWhen::AllCompleted).await.unwrap();
    assert_eq!(values(&done), [(0, 1), (1, 2), (2, 3)], "{kind}");
    assert!(pending.is_empty(), "{kind}");

    // FirstError, by closure: stops at the 99; the slow one is pending and
    // can be cancelled through its handle.
    let handles = vec![make(job(1, 7)), make(job(3, 99)), make(job(40, 8))];
    let (done, pending) = wait_by(handles, ReturnWhen::FirstError, no_timer(), |v| *v == 99)
        .await
        .unwrap();
    assert_eq!(values(&done), [(0, 7), (1, 99)], "{kind}");
    assert_eq!(indexes(&pending), [2], "{kind}");
    let slow = pending.into_iter().next().unwrap().handle;
    slow.cancel();
    assert!(slow.await.unwrap_err().is_cancelled(), "{kind}");

    // FirstError goes on past a cancelled task, which ends in `done`.
    let victim = make(job(1000, 0));
    victim.cancel();
    let (done, pending) = wait(vec![make(job(3, 5)), victim], ReturnWhen::FirstError)
        .await
        .unwrap();
    assert!(
        pending.is_empty(),
        "{kind}: a cancellation stopped FirstError"
    );
    assert_eq!(*done[0].result.as_ref().unwrap(), 5, "{kind}");
    assert!(
        done[1].result.as_ref().unwrap_err().is_cancelled(),
        "{kind}"
    );

    // The timer form: on expiry, neither an error nor a cancellation.
    let handles = vec![make(job(1, 1)), make(job(30, 2))];
    let (done, pending) = wait_with(handles, ReturnWhen::AllCompleted, Some(yields(5)))
        .await
        .unwrap();
    assert_eq!(values(&done), [(0, 1)], "{kind}");
    assert_eq!(indexes(&pending), [1], "{kind}");
    let slow = pending.into_iter().next().unwrap().handle;
    assert!(!slow.is_finished(), "{kind}");
    assert_eq!(
        slow.await.unwrap(),
        2,
        "{kind}: still running after the timer"
    );
}

#[test]
fn every_handle_kind_in_every_mode() {
    each_kind!(every_mode);
}

async fn sweep_past_the_budget<H: TaskHandle<u32>>(kind: &str, make: impl Fn(Job) -> H) {
    // FirstCompleted stops at slot 0; the final sweep must take every other
    // finished task's output without a budgeted poll, or past the task's
    // cooperative budget finished tasks would be reported as pending.
    let n = 3 * eddy_core::coop::BUDGET as usize;
    let handles: Vec<H> = (0..n as u32).map(|i| make(job(0, i))).collect();
    yield_now().await;
    assert!(handles.iter().all(|h| h.is_finished()), "{kind}");
    let (done, pending) = wait(handles, ReturnWhen::FirstCompleted).await.unwrap();
    assert_eq!((done.len(), pending.len()), (n, 0), "{kind}");
    let expected: Vec<(usize, u32)> = (0..n).map(|i| (i, i as u32)).collect();
    assert_eq!(values(&done), expected, "{kind}");
}

#[test]
fn every_handle_kind_is_reported_done_past_the_coop_budget() {
    each_kind!(sweep_past_the_budget);
}

async fn no_wake_after_return<H: TaskHandle<u32>>(kind: &str, make: impl Fn(Job) -> H) {
    // wait polled the slow handles with wakers of its own; once it has
    // returned, those tasks finishing must not wake this task.
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    spawn(async move {
        yields(12).await;
        tx.send(()).unwrap();
    });
    let handles = vec![make(job(1, 1)), make(job(3, 2)), make(job(5, 3))];
    let (done, pending) = wait(handles, ReturnWhen::FirstCompleted).await.unwrap();
    assert_eq!((done.len(), pending.len()), (1, 2), "{kind}");
    let polls = task::current().unwrap().polls();
    rx.await.unwrap(); // woken by the sender only
    assert_eq!(
        task::current().unwrap().polls(),
        polls + 1,
        "{kind}: a handle given back woke the task that waited"
    );
    // The handles still work: awaiting registers a waker again.
    let mut outputs = Vec::new();
    for p in pending {
        outputs.push(p.handle.await.unwrap());
    }
    assert_eq!(outputs, [2, 3], "{kind}");
}

#[test]
fn no_handle_kind_wakes_the_waiter_after_wait_returned() {
    each_kind!(no_wake_after_return);
}

#[test]
fn a_pending_cancel_on_drop_still_cancels_its_task_when_dropped() {
    let drops = Drops::default();
    let d = drops.clone();
    run_task(async move {
        let endless = |d: &Drops| {
            let g = d.guard();
            spawn(async move {
                let _g = g;
                pending::<u32>().await
            })
            .cancel_on_drop()
        };

        // FirstCompleted.
        let tasks = vec![spawn(async { 1 }).cancel_on_drop(), endless(&d)];
        let (done, pending_tasks) = wait(tasks, ReturnWhen::FirstCompleted).await.unwrap();
        assert_eq!(values(&done), [(0, 1)]);
        let p: &NotDone<u32, CancelOnDrop<u32>> = &pending_tasks[0];
        assert!(!p.handle.is_finished());
        yields(3).await;
        assert_eq!(d.get(), 0, "wait itself cancelled nothing");
        drop(pending_tasks);
        yield_now().await;
        assert_eq!(
            d.get(),
            1,
            "dropping the pending CancelOnDrop cancelled its task"
        );

        // After the timer expired.
        let tasks = vec![endless(&d), endless(&d)];
        let (done, pending_tasks) = wait_with(tasks, ReturnWhen::AllCompleted, Some(yields(2)))
            .await
            .unwrap();
        assert!(done.is_empty());
        assert_eq!(indexes(&pending_tasks), [0, 1]);
        yields(3).await;
        assert_eq!(d.get(), 1);
        drop(pending_tasks);
        yield_now().await;
        assert_eq!(d.get(), 3);

        // Dropping the wait itself drops the handles, which cancels them.
        let mut waiting = Box::pin(wait(vec![endless(&d)], ReturnWhen::AllCompleted));
        assert!(futures::poll!(waiting.as_mut()).is_pending());
        drop(waiting);
        yield_now().await;
        assert_eq!(d.get(), 4);
    });
    assert_eq!(drops.get(), 4);
}

#[test]
fn a_pending_child_stays_in_its_group() {
    run_task(async {
        let group = TaskGroup::<&str>::new();
        let children = vec![
            group.spawn(async { Ok(1) }).unwrap(),
            group.spawn(pending::<Result<u32, &str>>()).unwrap(),
        ];
        let (done, pending_children) = wait(children, ReturnWhen::FirstCompleted).await.unwrap();
        assert_eq!(values(&done), [(0, 1)]);
        let child: ChildHandle<u32> = pending_children.into_iter().next().unwrap().handle;
        assert_eq!(group.len(), 1, "the group still counts the pending child");
        // A later failure in the group cancels it, as it cancels any child.
        group.spawn(async { Err::<(), _>("late") }).unwrap();
        assert!(child.await.unwrap_err().is_cancelled());
        let errors = group.join().await.unwrap_err();
        assert_eq!(errors.into_vec(), ["late"]);
    });
}

#[test]
fn first_error_stops_at_a_child_failure_but_not_at_a_cancelled_child() {
    run_task(async {
        // Two groups, so the failure in `b` cancels nothing that is waited
        // on but its own children, and the wait is seen to stop early.
        let a = TaskGroup::<&str>::new();
        let b = TaskGroup::<&str>::new();
        let victim = b.spawn(pending::<Result<u32, &str>>()).unwrap();
        victim.cancel();
        let children = vec![
            a.spawn(async {
                yields(30).await;
                Ok(1)
            })
            .unwrap(),
            victim,
            b.spawn(async {
                yields(3).await;
                Err("bad")
            })
            .unwrap(),
        ];
        let (done, pending_children) = wait(children, ReturnWhen::FirstError).await.unwrap();
        let failures: Vec<(usize, &JoinError)> = done
            .iter()
            .map(|d| (d.index, d.result.as_ref().unwrap_err()))
            .collect();
        assert_eq!(failures.len(), 2, "{done:?}");
        assert_eq!(failures[0].0, 1);
        assert!(failures[0].1.is_cancelled(), "the cancelled child is done");
        assert_eq!(failures[1].0, 2);
        assert!(
            failures[1].1.is_group_failure(),
            "the child's Err stopped it"
        );
        assert_eq!(indexes(&pending_children), [0]);
        let survivor = pending_children.into_iter().next().unwrap().handle;
        assert_eq!(survivor.await.unwrap(), 1);
        a.join().await.unwrap();
        assert_eq!(b.join().await.unwrap_err().into_vec(), ["bad"]);

        // A child's failure taken by the final sweep (FirstCompleted stops
        // at slot 0 before polling slot 1) reads as it does when polled.
        let c = TaskGroup::<&str>::new();
        let children = vec![
            c.spawn(async { Ok(1) }).unwrap(),
            c.spawn(async { Err("swept") }).unwrap(),
        ];
        yield_now().await;
        let (done, _) = wait(children, ReturnWhen::FirstCompleted).await.unwrap();
        assert_eq!(*done[0].result.as_ref().unwrap(), 1);
        assert!(done[1].result.as_ref().unwrap_err().is_group_failure());
        assert_eq!(c.join().await.unwrap_err().into_vec(), ["swept"]);
    });
}

#[test]
fn an_empty_wait_names_no_particular_handle_kind() {
    run(async {
        let none: Vec<ChildHandle<()>> = Vec::new();
        let err = wait(none, ReturnWhen::AllCompleted).await.unwrap_err();
        assert!(
            err.to_string().contains("at least one task handle"),
            "{err}"
        );
    });
}
