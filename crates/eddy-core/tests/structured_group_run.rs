//! TaskGroup::run: a group with a body (asyncio's `async with TaskGroup()`):
//! a child's failure cancels the body too.

mod structured_support;

use std::cell::Cell;
use std::future::pending;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use eddy_core::task::{ClosedReason, Spawner, TaskGroup};
use eddy_core::{run, yield_now};

use structured_support::*;

#[test]
fn a_child_failure_cancels_the_body_and_the_siblings() {
    run(async {
        let group = TaskGroup::new();
        let tg = group.spawner();
        let body_drops = Drops::default();
        let sibling_drops = Drops::default();
        let finished = Rc::new(Cell::new(false));
        let (b, s, f) = (body_drops.clone(), sibling_drops.clone(), finished.clone());
        let result: Result<(), _> = group
            .run(async move {
                let _guard = b.guard();
                tg.spawn(forever(&s)).unwrap();
                tg.spawn(async {
                    yields(3).await;
                    Err::<(), _>("child failed")
                })
                .unwrap();
                // Long after the child failed.
                yields(100).await;
                f.set(true);
            })
            .await;
        let errors = result.unwrap_err();
        assert_eq!(errors.iter().collect::<Vec<_>>(), [&"child failed"]);
        assert!(!finished.get(), "the body was cancelled at its await");
        assert_eq!(body_drops.get(), 1, "the body was dropped");
        assert_eq!(sibling_drops.get(), 1, "the sibling was dropped");
    });
}

#[test]
fn the_body_value_comes_back_after_every_child_finished() {
    run(async {
        let group = TaskGroup::<()>::new();
        let tg = group.spawner();
        let done = Rc::new(Cell::new(0));
        let d = done.clone();
        let value = group
            .run(async move {
                for i in 0..3 {
                    let d = d.clone();
                    tg.spawn(async move {
                        yields(5 + i).await;
                        d.set(d.get() + 1);
                        Ok(())
                    })
                    .unwrap();
                }
                yield_now().await;
                "body done"
            })
            .await
            .unwrap();
        assert_eq!(value, "body done");
        assert_eq!(done.get(), 3, "run joins the children after the body");
    });
}

#[test]
fn a_failure_after_the_body_finished_drops_its_value_and_reports_the_error() {
    run(async {
        let group = TaskGroup::new();
        let tg = group.spawner();
        let result = group
            .run(async move {
                tg.spawn(async {
                    yields(5).await;
                    Err::<(), _>("late failure")
                })
                .unwrap();
                42
            })
            .await;
        assert_eq!(
            result.unwrap_err().iter().collect::<Vec<_>>(),
            [&"late failure"]
        );
    });
}

#[test]
fn the_body_sees_the_group_failed_in_its_destructors() {
    struct Probe(Spawner<&'static str>, Rc<Cell<Option<ClosedReason>>>);
    impl Drop for Probe {
        fn drop(&mut self) {
            self.1.set(
                self.0
                    .spawn(async { Ok(()) })
                    .err()
                    .map(|closed| closed.reason()),
            );
        }
    }
    run(async {
        let group = TaskGroup::new();
        let tg = group.spawner();
        let seen = Rc::new(Cell::new(None));
        let probe = Probe(group.spawner(), seen.clone());
        let _ = group
            .run(async move {
                let _probe = probe;
                tg.spawn(async { Err::<(), _>("boom") }).unwrap();
                yields(100).await;
            })
            .await;
        assert_eq!(seen.get(), Some(ClosedReason::Failed));
    });
}

#[test]
fn a_child_panic_cancels_the_body_and_resumes_from_run() {
    let body_drops = Drops::default();
    let finished = Rc::new(Cell::new(false));
    let (b, f) = (body_drops.clone(), finished.clone());
    let caught = catch_unwind(AssertUnwindSafe(|| {
        run(async move {
            let group = TaskGroup::<()>::new();
            let tg = group.spawner();
            let _ = group
                .run(async move {
                    let _guard = b.guard();
                    tg.spawn(async {
                        yields(2).await;
                        panic!("child panicked");
                        #[allow(unreachable_code)]
                        Ok::<(), ()>(())
                    })
                    .unwrap();
                    yields(100).await;
                    f.set(true);
                })
                .await;
        })
    }));
    let payload = caught.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"child panicked"));
    assert!(!finished.get(), "the body was cancelled at its await");
    assert_eq!(body_drops.get(), 1);
}

#[test]
fn dropping_run_drops_the_body_and_cancels_the_children() {
    run(async {
        let group = TaskGroup::<()>::new();
        let tg = group.spawner();
        let body_drops = Drops::default();
        let child_drops = Drops::default();
        let (b, c) = (body_drops.clone(), child_drops.clone());
        let run = group.run(async move {
            let _guard = b.guard();
            tg.spawn(forever(&c)).unwrap();
            pending::<()>().await
        });
        let mut run = Box::pin(run);
        // Poll once: the body runs and spawns.
        assert!(poll_once(run.as_mut()).await.is_none());
        drop(run);
        assert_eq!(body_drops.get(), 1);
        yields(2).await;
        assert_eq!(child_drops.get(), 1);
    });
}

/// Polls `fut` once; its output if it was ready.
async fn poll_once<F: std::future::Future + Unpin>(mut fut: F) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match std::pin::Pin::new(&mut fut).poll(cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        })
    })
    .await
}
