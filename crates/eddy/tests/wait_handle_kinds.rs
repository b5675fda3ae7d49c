//! `eddy::wait` / `eddy::wait_by` over every task handle kind, with the
//! runtime's clock: on timeout the pending handles come back as the kind
//! that went in (a `CancelOnDrop` still cancels on drop, a child is still
//! its group's, plain and shielded tasks run on).

mod common;

use std::time::Duration;

use common::port::{flag, sleep_an_hour};
use eddy::task::{CancelOnDrop, ChildHandle, NotDone, Shielded};
use eddy::{ReturnWhen, TaskGroup};

/// Sleeps `ms` on the (paused) clock, then gives `value`.
async fn after(ms: u64, value: u32) -> u32 {
    eddy::sleep(Duration::from_millis(ms)).await;
    value
}

const TIMEOUT: Option<Duration> = Some(Duration::from_millis(20));

#[eddy::test(start_paused = true)]
async fn the_timeout_form_takes_every_handle_kind() {
    // Plain handles: the slow task runs on after the timeout.
    let tasks = vec![eddy::spawn(after(1, 1)), eddy::spawn(after(60_000, 2))];
    let (done, pending) = eddy::wait(tasks, ReturnWhen::AllCompleted, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(*done[0].result.as_ref().unwrap(), 1);
    let slow = pending.into_iter().next().unwrap().handle;
    assert_eq!(slow.await.unwrap(), 2);

    // Shielded tasks: the same, and the handle is still a Shielded.
    let tasks = vec![eddy::shield(after(1, 1)), eddy::shield(after(60_000, 2))];
    let (done, pending) = eddy::wait(tasks, ReturnWhen::AllCompleted, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(*done[0].result.as_ref().unwrap(), 1);
    let slow: Shielded<u32> = pending.into_iter().next().unwrap().handle;
    assert_eq!(slow.await.unwrap(), 2);

    // CancelOnDrop: the pending one cancels its task once dropped, not
    // before.
    let dropped = flag();
    let d = dropped.clone();
    let tasks = vec![
        eddy::spawn(after(1, 1)).cancel_on_drop(),
        eddy::spawn(async move {
            sleep_an_hour(d).await;
            2
        })
        .cancel_on_drop(),
    ];
    let (done, pending) = eddy::wait(tasks, ReturnWhen::AllCompleted, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(*done[0].result.as_ref().unwrap(), 1);
    let slow: NotDone<u32, CancelOnDrop<u32>> = pending.into_iter().next().unwrap();
    assert_eq!(slow.index, 1);
    eddy::yield_now().await;
    assert!(!dropped.get(), "the timeout cancelled nothing");
    drop(slow);
    eddy::yield_now().await;
    assert!(
        dropped.get(),
        "dropping the pending CancelOnDrop cancelled it"
    );

    // Children: the pending one is still counted by its group, which
    // joins it once it is cancelled.
    let group = TaskGroup::<()>::new();
    let dropped = flag();
    let d = dropped.clone();
    let children = vec![
        group.spawn(async { Ok(after(1, 1).await) }).unwrap(),
        group
            .spawn(async move {
                sleep_an_hour(d).await;
                Ok(2)
            })
            .unwrap(),
    ];
    let (done, pending) = eddy::wait(children, ReturnWhen::AllCompleted, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(*done[0].result.as_ref().unwrap(), 1);
    let slow: ChildHandle<u32> = pending.into_iter().next().unwrap().handle;
    assert_eq!(group.len(), 1);
    slow.cancel();
    group.join().await.unwrap();
    assert!(dropped.get());
    assert!(slow.await.unwrap_err().is_cancelled());
}

#[eddy::test(start_paused = true)]
async fn wait_by_over_children_stops_at_a_group_failure_before_the_timeout() {
    // Two groups: `b`'s failure cancels only its own children, so the
    // child of `a` shows whether the wait stopped at the failure (it is
    // still pending) or ran on until everything finished.
    let a = TaskGroup::<&str>::new();
    let b = TaskGroup::<&str>::new();
    let children = vec![
        a.spawn(async { Ok((after(5_000, 1).await, "a")) }).unwrap(),
        b.spawn(async {
            after(1, 0).await;
            Err("b failed")
        })
        .unwrap(),
    ];
    let limit = Some(Duration::from_secs(3600));
    let (done, pending) = eddy::wait_by(children, ReturnWhen::FirstError, limit, |_| false)
        .await
        .unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].index, 1);
    assert!(done[0].result.as_ref().unwrap_err().is_group_failure());
    assert_eq!(
        pending.len(),
        1,
        "FirstError did not stop at the child's Err"
    );
    let survivor = pending.into_iter().next().unwrap().handle;
    assert_eq!(survivor.await.unwrap(), (1, "a"));
    a.join().await.unwrap();
    assert_eq!(b.join().await.unwrap_err().into_vec(), ["b failed"]);
}
