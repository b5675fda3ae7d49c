//! `JoinHandle::cancel_on_drop`: dropping the wrapped handle before its
//! task finished cancels the task (asyncio's "cancelling the awaiter
//! cancels the awaited task"); a plain handle detaches. Checked through
//! destructor flags, never timing.

use std::cell::Cell;
use std::future::{pending, Future};
use std::rc::Rc;

use futures::channel::oneshot;
use futures::future::{select, Either};

/// Sets its flag when dropped: the task's future was dropped.
struct Finally(Rc<Cell<bool>>);

impl Drop for Finally {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

fn flag() -> Rc<Cell<bool>> {
    Rc::new(Cell::new(false))
}

/// Waits forever holding a [`Finally`] on `dropped`: ends only by being
/// dropped.
async fn wait_forever<T>(dropped: Rc<Cell<bool>>) -> T {
    let _finally = Finally(dropped);
    pending().await
}

/// A task body that runs to its end, setting `done`, once the sender
/// returned with it sends.
fn ends_when_told(done: Rc<Cell<bool>>) -> (oneshot::Sender<()>, impl Future<Output = ()>) {
    let (tx, rx) = oneshot::channel::<()>();
    let body = async move {
        let _ = rx.await;
        done.set(true);
    };
    (tx, body)
}

async fn turns(n: usize) {
    for _ in 0..n {
        eddy_core::yield_now().await;
    }
}

#[test]
fn dropping_it_unfinished_cancels_the_task() {
    eddy_core::run(async {
        let dropped = flag();
        let f = dropped.clone();
        let task = eddy_core::spawn(wait_forever::<()>(f)).cancel_on_drop();
        turns(3).await;
        assert!(!dropped.get());
        drop(task);
        turns(3).await;
        assert!(
            dropped.get(),
            "the task runs on after its CancelOnDrop was dropped"
        );
    });
}

#[test]
fn a_plain_handle_dropped_unfinished_detaches() {
    eddy_core::run(async {
        let done = flag();
        let (tx, body) = ends_when_told(done.clone());
        drop(eddy_core::spawn(body));
        turns(3).await;
        tx.send(()).unwrap();
        turns(3).await;
        assert!(done.get(), "a detached task did not run to its end");
    });
}

#[test]
fn losing_a_select_cancels_the_task() {
    eddy_core::run(async {
        let dropped = flag();
        let f = dropped.clone();
        let slow = eddy_core::spawn(wait_forever::<u8>(f)).cancel_on_drop();
        let fast = eddy_core::spawn(async { 2u8 });
        match select(slow, fast).await {
            Either::Right((Ok(2), slow)) => drop(slow),
            _ => panic!("the ready task should win"),
        }
        turns(3).await;
        assert!(dropped.get());
    });
}

#[test]
fn cancelling_the_awaiting_task_cancels_the_awaited_one() {
    eddy_core::run(async {
        let dropped = flag();
        let f = dropped.clone();
        let outer = eddy_core::spawn(async move {
            eddy_core::spawn(wait_forever::<()>(f))
                .cancel_on_drop()
                .await
        });
        turns(3).await;
        outer.cancel();
        assert!(outer.await.unwrap_err().is_cancelled());
        turns(3).await;
        assert!(dropped.get());
    });
}

#[test]
fn awaiting_gives_the_output_and_a_finished_task_keeps_it() {
    eddy_core::run(async {
        let task = eddy_core::spawn(async { 5 }).cancel_on_drop();
        turns(2).await;
        assert!(task.is_finished());
        // Dropping a finished one cancels nothing; awaiting one gives the output.
        assert_eq!(task.await.unwrap(), 5);
        let panicked = eddy_core::spawn(async { panic!("boom") }).cancel_on_drop();
        assert!(panicked.await.unwrap_err().is_panic());
    });
}

#[test]
fn detach_gives_back_a_handle_that_does_not_cancel() {
    eddy_core::run(async {
        let done = flag();
        let (tx, body) = ends_when_told(done.clone());
        let task = eddy_core::spawn(body).cancel_on_drop();
        drop(task.detach());
        tx.send(()).unwrap();
        turns(3).await;
        assert!(done.get(), "the detached task was cancelled");
    });
}

#[test]
fn cancel_and_id_act_on_the_task() {
    eddy_core::run(async {
        let handle = eddy_core::spawn(pending::<()>());
        let id = handle.id();
        let task = handle.cancel_on_drop();
        assert_eq!(task.id(), id);
        task.cancel();
        assert!(task.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn tasks_cancelled_at_shutdown_may_hold_cancel_on_drop_handles() {
    // `run` cancels every task left at the end. A task dropped then drops
    // a CancelOnDrop of another live or already-dropped task, which asks
    // the stopping loop to cancel it: that must neither panic nor leak.
    let dropped = [flag(), flag()];
    let flags = dropped.clone();
    eddy_core::run(async move {
        let [a, b] = flags;
        let inner = eddy_core::spawn(wait_forever::<()>(a));
        drop(eddy_core::spawn(async move {
            let _finally = Finally(b);
            inner.cancel_on_drop().await
        }));
        turns(3).await;
    });
    assert!(
        dropped.iter().all(|f| f.get()),
        "a task outlived its runtime"
    );
}
