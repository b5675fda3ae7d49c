//! A randomized model test of the structured-concurrency layer.
//!
//! Each seed builds a random tree of TaskGroup / gather_all /
//! try_gather_all / as_completed / wait / shield / spawn nodes over leaves
//! that yield a few times and then return `Ok`, return `Err`, panic, never
//! finish, or finish once another thread wakes them. The root may be
//! cancelled from outside (its task cancelled, or its future dropped inside
//! a poll) at a random point, and a group child may be cancelled through its
//! handle. `EDDY_MODEL_SEEDS` / `EDDY_MODEL_FIRST_SEED` pick the seeds
//! (default 1..=800); `EDDY_MODEL_STATS=1` prints each tree. Checked:
//!
//! - every leaf future is dropped exactly once (by the end of the run);
//! - what each combinator reports agrees with what its children did, as
//!   recorded by a wrapper around each child: a group's `ErrorGroup` is
//!   exactly its children's `Err`s in order, its resumed panic is the first
//!   child panic (payload intact), each `ChildHandle` says value /
//!   group failure / cancelled accordingly; `try_gather_all` returns the
//!   first `Err` in completion order and has dropped every other future when
//!   it returns; `gather_all` keeps input order; `as_completed` yields in
//!   completion order; `wait` partitions the tasks correctly, `done` is every
//!   finished task and `pending` only unfinished ones, per `ReturnWhen`;
//! - no group child is polled after its group's future was dropped, and
//!   every child future is gone when that drop returns;
//! - spawning into a group (children spawning their next sibling through a
//!   `Spawner`, and cancelled children spawning from their destructors) is
//!   accepted exactly while the group is open: refused with
//!   `ClosedReason::Failed` once a child failed, `Finished` while the group
//!   is being dropped, accepted when the child alone was cancelled through
//!   its `ChildHandle`;
//! - a shielded task whose work can finish does finish, even when whoever
//!   awaited it was dropped;
//! - where the outcome of a subtree does not depend on scheduling (a model
//!   evaluates the tree), the root's result is the predicted one — values,
//!   first error, panic payload, or "never finishes" — and the runtime never
//!   hangs on a tree that should finish.

#[path = "structured_model/group.rs"]
mod group;
#[path = "structured_model/harness.rs"]
mod harness;
#[path = "structured_model/model.rs"]
mod model;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use eddy_core::{run, spawn, yield_now};

use harness::*;
use model::*;

fn run_seed(seed: u64) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut next_id = 0;
    let root = gen_root(&mut rng, 3, &mut next_id);
    let pred = eval(&root);
    // 0: left alone; 1: its task cancelled at a random step; 2: its future
    // dropped inside a random poll.
    let mode = rng.below(3);
    let cancel_at = rng.below(30) as u32;
    let drop_after = 1 + rng.below(12) as u32;
    let remote = Arc::new(AtomicUsize::new(0));
    let ctx = Rc::new(Ctx {
        created: RefCell::new(vec![0; next_id]),
        dropped: RefCell::new(vec![0; next_id]),
        violations: RefCell::default(),
        shutting_down: Cell::new(false),
        shields: RefCell::default(),
        remote: remote.clone(),
    });
    let c = ctx.clone();
    let tree = root.clone();
    run(async move {
        let ctx = c;
        let fut = build(&ctx, &tree);
        let interrupted = Rc::new(Cell::new(false));
        let i = interrupted.clone();
        let root_task = spawn(async move {
            if mode == 2 {
                let out = DropAfter {
                    inner: Some(fut),
                    polls: drop_after,
                }
                .await;
                if out.is_none() {
                    i.set(true);
                }
                out.unwrap_or(Ok(0))
            } else {
                fut.await
            }
        });
        if mode == 1 {
            for _ in 0..cancel_at {
                yield_now().await;
            }
            if !root_task.is_finished() {
                interrupted.set(true);
                root_task.cancel();
            }
        }
        let finished = settle(&ctx, || root_task.is_finished()).await;
        if !finished {
            let expected_hang = pred.is_none_or(|p| p == Pred::Hang) || mode != 0;
            ctx.check(expected_hang, || {
                format!("the tree hangs, predicted {pred:?}")
            });
            interrupted.set(true);
            root_task.cancel();
        }
        let result = root_task.await;
        if !interrupted.get() {
            let got = match result {
                Ok(r) => Some(Pred::Done(r)),
                Err(e) if e.is_panic() => payload_value(&*e.into_panic()).map(Pred::Panic),
                Err(_) => None,
            };
            if let Some(p) = pred {
                ctx.check(got == Some(p), || {
                    format!("root gave {got:?}, predicted {p:?}")
                });
            }
        }
        // Shielded work that can finish does, even if its awaiter is gone.
        let must_finish: Vec<Log> = (ctx.shields.borrow().iter())
            .filter(|(p, _)| matches!(p, Some(Pred::Done(_) | Pred::Panic(_))))
            .map(|(_, log)| log.clone())
            .collect();
        let all = settle(&ctx, || must_finish.iter().all(|l| !l.borrow().is_empty())).await;
        ctx.check(all, || "a shielded task that can finish did not".into());
        ctx.shutting_down.set(true);
    });
    while remote.load(Ordering::SeqCst) > 0 {
        std::thread::yield_now();
    }
    let created = ctx.created.borrow();
    let dropped = ctx.dropped.borrow();
    for id in 0..next_id {
        ctx.check(created[id] == dropped[id] && created[id] <= 1, || {
            format!(
                "leaf {id}: created {} times, dropped {} times",
                created[id], dropped[id]
            )
        });
    }
    if std::env::var("EDDY_MODEL_STATS").is_ok() {
        let leaves = created.iter().filter(|c| **c > 0).count();
        eprintln!(
            "STAT seed={seed} mode={mode} nodes={next_id} leaves_created={leaves} pred={pred:?} tree={}",
            show(&root)
        );
    }
    let violations = ctx.violations.borrow();
    assert!(
        violations.is_empty(),
        "seed {seed} (mode {mode}) tree {}: {violations:#?}",
        show(&root)
    );
}

fn quiet_leaf_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<PanicVal>().is_none() {
                default(info);
            }
        }));
    });
}

#[test]
#[cfg_attr(miri, ignore)]
fn random_trees_against_the_model() {
    quiet_leaf_panics();
    let seeds: u64 = std::env::var("EDDY_MODEL_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(800);
    let first: u64 = std::env::var("EDDY_MODEL_FIRST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    for seed in first..first + seeds {
        run_seed(seed);
    }
}
