//! shield: the inner task outlives the cancellation of its awaiter.

mod structured_support;

use std::cell::Cell;
use std::future::pending;
use std::rc::Rc;

use eddy_core::task::shield;
use eddy_core::{run, spawn, yield_now};

use structured_support::*;

#[test]
fn shield_survives_outer_cancel() {
    run_task(async {
        let finished = Rc::new(Cell::new(false));
        let f = finished.clone();
        let outer = spawn(async move {
            shield(async move {
                yields(5).await;
                f.set(true);
                "committed"
            })
            .await
        });
        yield_now().await;
        outer.cancel();
        assert!(outer.await.unwrap_err().is_cancelled());
        assert!(!finished.get());
        yields(10).await;
        assert!(finished.get(), "the shielded task ran to the end");
    });
}

#[test]
fn shield_gives_the_result_and_reports_inner_cancellation() {
    run(async {
        assert_eq!(shield(async { 5 }).await.unwrap(), 5);
        let shielded = shield(pending::<()>());
        let id = shielded.id();
        shielded.cancel();
        let err = shielded.await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(err.id(), id);
        // Dropping the outer future of a shield detaches the inner task.
        let ran = Rc::new(Cell::new(false));
        let r = ran.clone();
        drop(shield(async move { r.set(true) }));
        yield_now().await;
        assert!(ran.get());
    });
}
