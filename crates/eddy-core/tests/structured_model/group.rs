//! Group nodes: a TaskGroup whose children are spawned at once or spawn
//! each other, checked against what the children recorded.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use eddy_core::task::{ChildHandle, ClosedReason, Spawner, TaskGroup};
use eddy_core::{spawn, yield_now};
use futures::FutureExt;

use super::harness::*;
use super::model::*;

/// What a group node and its children share.
pub(crate) struct GroupState {
    pub(crate) ctx: Rc<Ctx>,
    pub(crate) children: Vec<Node>,
    pub(crate) chain: bool,
    pub(crate) spawner: Spawner<i64>,
    pub(crate) log: Log,
    pub(crate) group_dropped: Rc<Cell<bool>>,
    /// Set just before the group's `join` future is dropped.
    pub(crate) dropping: Cell<bool>,
    /// Children cancelled through their `ChildHandle`.
    pub(crate) cancelled: Vec<Cell<bool>>,
    pub(crate) handles: RefCell<Vec<Option<ChildHandle<i64>>>>,
    pub(crate) children_dropped: RefCell<Vec<Rc<Cell<bool>>>>,
}

impl GroupState {
    pub(crate) fn failed(&self) -> bool {
        self.log
            .borrow()
            .iter()
            .any(|(_, e)| !matches!(e, Ev::Ok(_)))
    }
}

/// Spawns child `i`: the group must accept it exactly when no child has
/// failed yet (it cannot have been dropped or joined to the end while the
/// node or a child is running).
pub(crate) fn spawn_child(state: &Rc<GroupState>, i: usize) {
    let failed_before = state.failed();
    let (rec, dropped) = recorder(
        &state.ctx,
        &state.children[i],
        &state.log,
        i,
        Some(state.group_dropped.clone()),
    );
    let link = Link {
        rec,
        state: state.clone(),
        index: i,
        started: false,
        finished: false,
    };
    match state.spawner.spawn(link) {
        Ok(handle) => {
            state.ctx.check(!failed_before, || {
                format!("child {i} was accepted after a sibling failed")
            });
            state.handles.borrow_mut()[i] = Some(handle);
            state.children_dropped.borrow_mut().push(dropped);
        }
        Err(closed) => {
            let reason = closed.reason();
            state
                .ctx
                .check(failed_before && reason == ClosedReason::Failed, || {
                    format!("child {i} was refused ({reason:?}), failed before: {failed_before}")
                });
        }
    }
}

/// A group child: spawns its next sibling (in a chain) at its first poll;
/// dropped unfinished, tries to spawn a leaf into its group, which must be
/// refused (the group is failing, or being dropped).
pub(crate) struct Link {
    pub(crate) rec: Recorder,
    pub(crate) state: Rc<GroupState>,
    pub(crate) index: usize,
    pub(crate) started: bool,
    pub(crate) finished: bool,
}

impl Future for Link {
    type Output = Result<i64, i64>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<i64, i64>> {
        if !self.started {
            self.started = true;
            let next = self.index + 1;
            if self.state.chain && next < self.state.children.len() {
                spawn_child(&self.state, next);
            }
        }
        // Still `true` if the poll panics: the child finished by panicking.
        self.finished = true;
        let out = Pin::new(&mut self.rec).poll(cx);
        self.finished = out.is_ready();
        out
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if !self.started || self.finished {
            return;
        }
        let state = &self.state;
        let failed = state.failed();
        let late = leaf(&state.ctx, state.ctx.fresh_id(), 0, End::Ok(1));
        let outcome = state.spawner.spawn(late).map(drop).map_err(|c| c.reason());
        if state.ctx.shutting_down.get() {
            return; // the group may still be open; the runtime drops it all
        }
        // Its destructors run while the group still counts it: they see
        // the group being dropped, or else failing, or else (cancelled
        // alone, through its handle) still open.
        let expected = if state.dropping.get() {
            Some(Err(ClosedReason::Finished))
        } else if failed {
            Some(Err(ClosedReason::Failed))
        } else if state.cancelled[self.index].get() {
            Some(Ok(()))
        } else {
            None // nothing else cancels a child
        };
        state.ctx.check(expected == Some(outcome), || {
            format!(
                "child {} dropped unfinished: a spawn from its drop gave {outcome:?}",
                self.index
            )
        });
    }
}

pub(crate) async fn group_node(
    ctx: Rc<Ctx>,
    children: Vec<Node>,
    chain: bool,
    cancel: Option<(usize, u32)>,
) -> Result<i64, i64> {
    let group = TaskGroup::<i64>::new();
    let n = children.len();
    let state = Rc::new(GroupState {
        ctx: ctx.clone(),
        children,
        chain,
        spawner: group.spawner(),
        log: Rc::default(),
        group_dropped: Rc::new(Cell::new(false)),
        dropping: Cell::new(false),
        cancelled: (0..n).map(|_| Cell::new(false)).collect(),
        handles: RefCell::new((0..n).map(|_| None).collect()),
        children_dropped: RefCell::default(),
    });
    if chain {
        spawn_child(&state, 0);
    } else {
        for i in 0..n {
            spawn_child(&state, i);
        }
    }
    if let Some((i, steps)) = cancel {
        let state = state.clone();
        // Detached: it may outlive the group (then it finds nothing to do).
        drop(spawn(async move {
            for _ in 0..steps {
                yield_now().await;
            }
            if let Some(handle) = state.handles.borrow().get(i).and_then(Option::as_ref) {
                state.cancelled[i].set(true);
                handle.cancel();
            }
        }));
    }
    let join = ScopeCheck {
        join: Some(Box::pin(group.join())),
        state: state.clone(),
    };
    let joined = AssertUnwindSafe(join).catch_unwind().await;
    let log = &state.log;
    let events = log.borrow().clone();
    let first_panic = events.iter().find_map(|(_, e)| match e {
        Ev::Panic(v) => Some(*v),
        _ => None,
    });
    let errors: Vec<i64> = (events.iter())
        .filter_map(|(_, e)| match e {
            Ev::Err(v) => Some(*v),
            _ => None,
        })
        .collect();
    match &joined {
        Err(p) => {
            let got = payload_value(&**p);
            ctx.check(got.is_some() && got == first_panic, || {
                format!("join resumed panic {got:?}, first child panic was {first_panic:?}")
            });
        }
        Ok(Ok(())) => ctx.check(first_panic.is_none() && errors.is_empty(), || {
            format!("join gave Ok, children recorded {events:?}")
        }),
        Ok(Err(group_errors)) => {
            let got = group_errors.iter().copied().collect::<Vec<_>>();
            ctx.check(first_panic.is_none() && got == errors, || {
                format!("join gave errors {got:?}, children recorded {events:?}")
            });
        }
    }
    let mut sum = 0i64;
    let handles = std::mem::take(&mut *state.handles.borrow_mut());
    for (i, handle) in handles.into_iter().enumerate() {
        let Some(handle) = handle else {
            let ev = event_of(log, i);
            ctx.check(ev.is_none(), || {
                format!("child {i} never spawned, yet recorded {ev:?}")
            });
            continue;
        };
        let got = handle.await;
        let ok = match (event_of(log, i), &got) {
            (Some(Ev::Ok(v)), Ok(g)) => {
                sum = sum.wrapping_add(*g);
                v == *g
            }
            (Some(Ev::Err(_) | Ev::Panic(_)), Err(e)) => e.is_group_failure(),
            (None, Err(e)) => e.is_cancelled(),
            _ => false,
        };
        ctx.check(ok, || {
            format!(
                "child {i}: handle gave {got:?}, recorded {:?}",
                event_of(log, i)
            )
        });
    }
    match joined {
        Err(p) => resume_unwind(p),
        Ok(Ok(())) => Ok(sum),
        Ok(Err(errors)) => Err(*errors.first()),
    }
}
