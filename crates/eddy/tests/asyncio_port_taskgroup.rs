//! asyncio's TaskGroup, ported to eddy: one failing child cancels the
//! siblings and is reported, failures at the same moment are all
//! collected, a failing group takes no new children, a child's panic
//! comes back from join, cancelling the joining task cancels the children,
//! and groups nest.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use common::port::{flag, guard, sleep_an_hour, Finally};
use eddy::task::ClosedReason;
use eddy::TaskGroup;
use futures::FutureExt;

#[test]
fn task_group_one_failure_cancels_the_siblings_and_is_reported() {
    eddy::run(async {
        let cleaned = [flag(), flag()];
        let group = TaskGroup::<String>::new();
        let quick = group.spawn(async { Ok(1) }).unwrap();
        let mut slow = Vec::new();
        for f in &cleaned {
            let f = f.clone();
            slow.push(
                group
                    .spawn(async move {
                        sleep_an_hour(f).await;
                        Ok(2)
                    })
                    .unwrap(),
            );
        }
        group
            .spawn(async {
                eddy::sleep(Duration::from_millis(1)).await;
                Err::<(), _>("download failed".to_string())
            })
            .unwrap();
        let errors = guard("join", group.join()).await.unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors.first(), "download failed");
        let shown = errors.to_string();
        assert!(shown.contains("1 task of the group failed"), "{shown}");
        assert!(shown.contains("download failed"), "{shown}");
        // join returns only after the siblings' destructors ran.
        assert!(cleaned.iter().all(|f| f.get()));
        assert_eq!(quick.await.unwrap(), 1);
        for s in slow {
            assert!(s.await.unwrap_err().is_cancelled());
        }
    });
}

#[test]
fn task_group_collects_failures_that_happen_together() {
    eddy::run(async {
        let group = TaskGroup::<&'static str>::new();
        let gate = Rc::new(eddy::sync::Event::new());
        for msg in ["first", "second"] {
            let gate = gate.clone();
            group
                .spawn(async move {
                    gate.wait().await;
                    Err::<(), _>(msg)
                })
                .unwrap();
        }
        group
            .spawn(std::future::pending::<Result<(), &str>>())
            .unwrap();
        eddy::yield_now().await;
        gate.set(); // both wake in the same loop iteration
        let errors = guard("join", group.join()).await.unwrap_err();
        let mut all: Vec<_> = errors.into_iter().collect();
        all.sort();
        assert_eq!(all, ["first", "second"]);
    });
}

/// In a cancelled sibling's destructor (its `finally:`), the group is
/// already failing and refuses new children, as asyncio's create_task
/// raises on a TaskGroup that is shutting down.
#[test]
fn task_group_refuses_new_children_after_a_failure() {
    struct TryToSpawn(
        eddy::task::Spawner<&'static str>,
        Rc<Cell<Option<ClosedReason>>>,
    );
    impl Drop for TryToSpawn {
        fn drop(&mut self) {
            let err = self.0.spawn(async { Ok(()) }).unwrap_err();
            self.1.set(Some(err.reason()));
        }
    }
    eddy::run(async {
        let group = TaskGroup::<&'static str>::new();
        let seen = Rc::new(Cell::new(None));
        let in_drop = TryToSpawn(group.spawner(), seen.clone());
        group
            .spawn(async move {
                let _in_drop = in_drop;
                std::future::pending::<()>().await;
                Ok(())
            })
            .unwrap();
        group
            .spawn(async move {
                eddy::sleep(Duration::from_millis(1)).await;
                Err::<(), _>("boom")
            })
            .unwrap();
        let spawner = group.spawner();
        let errors = guard("join", group.join()).await.unwrap_err();
        assert_eq!(errors.into_vec(), ["boom"]);
        assert_eq!(seen.get(), Some(ClosedReason::Failed));
        // After join the group is finished.
        let err = spawner.spawn(async { Ok(()) }).unwrap_err();
        assert_eq!(err.reason(), ClosedReason::Finished);
    });
}

#[test]
fn task_group_child_panic_resumes_from_join_after_siblings_are_dropped() {
    eddy::run(async {
        let sibling_dropped = flag();
        let f = sibling_dropped.clone();
        let group = TaskGroup::<()>::new();
        group
            .spawn(async move {
                let _finally = Finally(f);
                std::future::pending::<()>().await;
                Ok(())
            })
            .unwrap();
        group
            .spawn(async {
                eddy::yield_now().await;
                if true {
                    panic!("child exploded");
                }
                Ok(())
            })
            .unwrap();
        let caught = std::panic::AssertUnwindSafe(group.join())
            .catch_unwind()
            .await;
        let payload = caught.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"child exploded"));
        assert!(sibling_dropped.get());
    });
}

#[test]
fn cancelling_the_task_that_joins_a_group_cancels_its_children() {
    eddy::run(async {
        let child_dropped = flag();
        let f = child_dropped.clone();
        let parent = eddy::spawn(async move {
            let group = TaskGroup::<()>::new();
            group
                .spawn(async move {
                    sleep_an_hour(f).await;
                    Ok(())
                })
                .unwrap();
            group.join().await
        });
        eddy::sleep(Duration::from_millis(1)).await;
        parent.cancel();
        assert!(guard("parent", parent).await.unwrap_err().is_cancelled());
        assert!(child_dropped.get());
    });
}

#[test]
fn nested_task_groups_report_the_inner_failure_through_the_outer() {
    eddy::run(async {
        let outer = TaskGroup::<String>::new();
        outer
            .spawn(async {
                let inner = TaskGroup::<String>::new();
                inner
                    .spawn(async { Err::<(), _>("inner child failed".to_string()) })
                    .unwrap();
                inner
                    .join()
                    .await
                    .map_err(|errors| format!("inner group: {}", errors.first()))
            })
            .unwrap();
        let errors = guard("outer", outer.join()).await.unwrap_err();
        assert_eq!(errors.first(), "inner group: inner child failed");
    });
}
