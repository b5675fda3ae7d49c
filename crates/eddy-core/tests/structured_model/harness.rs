//! Turning a tree into futures that record what their children did, and
//! the checks of every combinator except the group (in `group.rs`).

use std::cell::{Cell, RefCell};
use std::future::{pending, Future};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use eddy_core::task::{as_completed, gather_all, shield, try_gather_all, wait, ReturnWhen};
use eddy_core::{spawn, yield_now, JoinHandle};
use futures::future::LocalBoxFuture;
use futures::StreamExt;

use super::group::{group_node, GroupState};
use super::model::*;

pub(crate) struct Ctx {
    pub(crate) created: RefCell<Vec<u32>>,
    pub(crate) dropped: RefCell<Vec<u32>>,
    pub(crate) violations: RefCell<Vec<String>>,
    pub(crate) shutting_down: Cell<bool>,
    /// Shield nodes that started: (their child's prediction, its events).
    pub(crate) shields: RefCell<Vec<(Option<Pred>, Log)>>,
    /// Wakes other threads still owe.
    pub(crate) remote: Arc<AtomicUsize>,
}

pub(crate) type Log = Rc<RefCell<Vec<(usize, Ev)>>>;

impl Ctx {
    /// An id for a leaf made while the tree runs.
    pub(crate) fn fresh_id(&self) -> usize {
        self.dropped.borrow_mut().push(0);
        let mut created = self.created.borrow_mut();
        created.push(0);
        created.len() - 1
    }
    pub(crate) fn violation(&self, what: String) {
        self.violations.borrow_mut().push(what);
    }
    pub(crate) fn check(&self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.violation(what());
        }
    }
}

pub(crate) struct LeafGuard {
    pub(crate) ctx: Rc<Ctx>,
    pub(crate) id: usize,
}

impl Drop for LeafGuard {
    fn drop(&mut self) {
        self.ctx.dropped.borrow_mut()[self.id] += 1;
    }
}

/// Wraps a child: logs how it ended, flags its drop, and reports a poll
/// after its group's future was dropped.
pub(crate) struct Recorder {
    pub(crate) inner: LocalBoxFuture<'static, Result<i64, i64>>,
    pub(crate) log: Log,
    pub(crate) index: usize,
    pub(crate) dropped: Rc<Cell<bool>>,
    pub(crate) group_dropped: Option<Rc<Cell<bool>>>,
    pub(crate) ctx: Rc<Ctx>,
}

impl Future for Recorder {
    type Output = Result<i64, i64>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<i64, i64>> {
        if let Some(g) = &self.group_dropped {
            if g.get() {
                let msg = format!("child {} polled after its group was dropped", self.index);
                self.ctx.violation(msg);
            }
        }
        let this = &mut *self;
        match catch_unwind(AssertUnwindSafe(|| this.inner.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(r)) => {
                let ev = match r {
                    Ok(v) => Ev::Ok(v),
                    Err(e) => Ev::Err(e),
                };
                this.log.borrow_mut().push((this.index, ev));
                Poll::Ready(r)
            }
            Err(p) => {
                match payload_value(&*p) {
                    Some(v) => this.log.borrow_mut().push((this.index, Ev::Panic(v))),
                    None => this.ctx.violation("a panic with a foreign payload".into()),
                }
                resume_unwind(p)
            }
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.dropped.set(true);
    }
}

/// Owns a group's `join` future; when dropped, checks that every child
/// future is gone by the time the group's drop returned.
pub(crate) struct ScopeCheck<J> {
    pub(crate) join: Option<Pin<Box<J>>>,
    pub(crate) state: Rc<GroupState>,
}

impl<J: Future> Future for ScopeCheck<J> {
    type Output = J::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<J::Output> {
        self.join
            .as_mut()
            .expect("polled after drop")
            .as_mut()
            .poll(cx)
    }
}

impl<J> Drop for ScopeCheck<J> {
    fn drop(&mut self) {
        self.state.dropping.set(true);
        drop(self.join.take());
        let state = &self.state;
        state.group_dropped.set(true);
        if !state.ctx.shutting_down.get() {
            let alive = (state.children_dropped.borrow().iter())
                .filter(|d| !d.get())
                .count();
            state.ctx.check(alive == 0, || {
                format!("{alive} group children still alive after the group's drop returned")
            });
        }
    }
}

pub(crate) fn event_of(log: &Log, index: usize) -> Option<Ev> {
    log.borrow()
        .iter()
        .find(|(i, _)| *i == index)
        .map(|(_, e)| *e)
}

pub(crate) fn recorder(
    ctx: &Rc<Ctx>,
    child: &Node,
    log: &Log,
    index: usize,
    group_dropped: Option<Rc<Cell<bool>>>,
) -> (Recorder, Rc<Cell<bool>>) {
    let dropped = Rc::new(Cell::new(false));
    let rec = Recorder {
        inner: build(ctx, child),
        log: log.clone(),
        index,
        dropped: dropped.clone(),
        group_dropped,
        ctx: ctx.clone(),
    };
    (rec, dropped)
}

pub(crate) fn leaf(
    ctx: &Rc<Ctx>,
    id: usize,
    steps: u32,
    end: End,
) -> LocalBoxFuture<'static, Result<i64, i64>> {
    ctx.created.borrow_mut()[id] += 1;
    let guard = LeafGuard {
        ctx: ctx.clone(),
        id,
    };
    let remote = ctx.remote.clone();
    Box::pin(async move {
        let _guard = guard;
        for _ in 0..steps {
            yield_now().await;
        }
        match end {
            End::Ok(v) => Ok(v),
            End::Err(e) => Err(e),
            End::Panic(p) => std::panic::panic_any(PanicVal(p)),
            End::Forever => pending().await,
            End::Remote(v) => {
                let (tx, rx) = futures::channel::oneshot::channel::<()>();
                remote.fetch_add(1, Ordering::SeqCst);
                let owed = remote.clone();
                std::thread::spawn(move || {
                    std::thread::yield_now();
                    let _ = tx.send(());
                    owed.fetch_sub(1, Ordering::SeqCst);
                });
                let _ = rx.await;
                Ok(v)
            }
        }
    })
}

pub(crate) fn build(ctx: &Rc<Ctx>, node: &Node) -> LocalBoxFuture<'static, Result<i64, i64>> {
    let (kind, children, cancel) = match node {
        Node::Leaf { id, steps, end } => return leaf(ctx, *id, *steps, *end),
        Node::Inner {
            kind,
            children,
            cancel,
        } => (*kind, children.clone(), *cancel),
    };
    let ctx = ctx.clone();
    match kind {
        Kind::Group => Box::pin(group_node(ctx, children, false, cancel)),
        Kind::Chain => Box::pin(group_node(ctx, children, true, cancel)),
        Kind::Gather => Box::pin(async move {
            let log: Log = Rc::default();
            let futures: Vec<_> = (children.iter().enumerate())
                .map(|(i, c)| recorder(&ctx, c, &log, i, None).0)
                .collect();
            let out = gather_all(futures).await;
            for (i, r) in out.iter().enumerate() {
                let expected = event_of(&log, i).map(|e| match e {
                    Ev::Ok(v) => Ok(v),
                    Ev::Err(e) => Err(e),
                    Ev::Panic(_) => Err(-1),
                });
                ctx.check(expected == Some(*r), || {
                    format!("gather_all slot {i}: {r:?}, recorded {expected:?}")
                });
            }
            Ok(gather_hash(&out))
        }),
        Kind::TryGather => Box::pin(async move {
            let log: Log = Rc::default();
            let (futures, dropped): (Vec<_>, Vec<_>) = (children.iter().enumerate())
                .map(|(i, c)| recorder(&ctx, c, &log, i, None))
                .unzip();
            // Kept alive past the check: it must drop the rest itself.
            let mut gather = std::pin::pin!(try_gather_all(futures));
            let out = gather.as_mut().await;
            let first_err = log.borrow().iter().find_map(|(_, e)| match e {
                Ev::Err(e) => Some(*e),
                _ => None,
            });
            match &out {
                Err(e) => {
                    ctx.check(first_err == Some(*e), || {
                        format!("try_gather_all returned Err({e}), first recorded {first_err:?}")
                    });
                    let alive = dropped.iter().filter(|d| !d.get()).count();
                    ctx.check(alive == 0, || {
                        format!("try_gather_all returned Err with {alive} futures not dropped")
                    });
                }
                Ok(values) => {
                    ctx.check(first_err.is_none(), || {
                        "try_gather_all missed an Err".into()
                    });
                    for (i, v) in values.iter().enumerate() {
                        let ev = event_of(&log, i);
                        ctx.check(ev == Some(Ev::Ok(*v)), || {
                            format!("try_gather_all slot {i}: {v}, recorded {ev:?}")
                        });
                    }
                }
            }
            out.map(|v| v.into_iter().fold(0, i64::wrapping_add))
        }),
        Kind::AsCompleted => Box::pin(async move {
            let log: Log = Rc::default();
            let futures: Vec<_> = (children.iter().enumerate())
                .map(|(i, c)| {
                    let rec = recorder(&ctx, c, &log, i, None).0;
                    async move { (i, rec.await) }
                })
                .collect();
            let out: Vec<(usize, Result<i64, i64>)> = as_completed(futures).collect().await;
            let recorded: Vec<(usize, Result<i64, i64>)> = (log.borrow().iter())
                .map(|(i, e)| match e {
                    Ev::Ok(v) => (*i, Ok(*v)),
                    Ev::Err(e) => (*i, Err(*e)),
                    Ev::Panic(_) => (*i, Err(-1)),
                })
                .collect();
            ctx.check(out == recorded, || {
                format!("as_completed yielded {out:?}, completions were {recorded:?}")
            });
            Ok(commutative(out.into_iter().map(|(_, r)| r)))
        }),
        Kind::Wait(when) => Box::pin(wait_node(ctx, children, when)),
        Kind::Shield => Box::pin(async move {
            let log: Log = Rc::default();
            let rec = recorder(&ctx, &children[0], &log, 0, None).0;
            ctx.shields.borrow_mut().push((eval(&children[0]), log));
            match shield(rec).await {
                Ok(r) => r,
                Err(e) if e.is_panic() => resume_unwind(e.into_panic()),
                Err(e) => {
                    ctx.violation(format!("a shielded task ended with {e:?}"));
                    Ok(0)
                }
            }
        }),
        Kind::Spawned => Box::pin(async move {
            let log: Log = Rc::default();
            let rec = recorder(&ctx, &children[0], &log, 0, None).0;
            match spawn(rec).await {
                Ok(r) => r,
                Err(e) if e.is_panic() => resume_unwind(e.into_panic()),
                Err(e) => {
                    ctx.violation(format!("a spawned child ended with {e:?}"));
                    Ok(0)
                }
            }
        }),
    }
}

pub(crate) async fn wait_node(
    ctx: Rc<Ctx>,
    children: Vec<Node>,
    when: ReturnWhen,
) -> Result<i64, i64> {
    let log: Log = Rc::default();
    let handles: Vec<JoinHandle<Result<i64, i64>>> = (children.iter().enumerate())
        .map(|(i, c)| spawn(recorder(&ctx, c, &log, i, None).0))
        .collect();
    let (done, pending) = wait(handles, when).await.expect("not empty");
    // Checked in the poll that returned, before anything else runs.
    let n = children.len();
    let mut seen: Vec<usize> = done.iter().map(|d| d.index).collect();
    seen.extend(pending.iter().map(|p| p.index));
    seen.sort_unstable();
    ctx.check(seen == (0..n).collect::<Vec<_>>(), || {
        format!("wait partitioned {n} tasks as {seen:?}")
    });
    ctx.check(pending.iter().all(|p| !p.handle.is_finished()), || {
        "wait left a finished task in pending".into()
    });
    let mut evs = Vec::new();
    let mut failed = false;
    for d in &done {
        let ev = match &d.result {
            Ok(Ok(v)) => Some(Ev::Ok(*v)),
            Ok(Err(e)) => Some(Ev::Err(*e)),
            Err(e) if e.is_panic() => None, // payload checked below
            Err(e) => {
                ctx.violation(format!("wait: task {} ended with {e:?}", d.index));
                None
            }
        };
        let recorded = event_of(&log, d.index);
        match ev {
            Some(ev) => ctx.check(recorded == Some(ev), || {
                format!("wait: task {} gave {ev:?}, recorded {recorded:?}", d.index)
            }),
            None => ctx.check(matches!(recorded, Some(Ev::Panic(_))), || {
                format!("wait: task {} panicked, recorded {recorded:?}", d.index)
            }),
        }
        failed |= !matches!(recorded, Some(Ev::Ok(_)));
        if let Some(e) = recorded {
            evs.push(e);
        }
    }
    let mode_ok = match when {
        ReturnWhen::FirstCompleted => !done.is_empty(),
        ReturnWhen::FirstError => pending.is_empty() || failed,
        ReturnWhen::AllCompleted => pending.is_empty(),
    };
    ctx.check(mode_ok, || {
        format!(
            "wait({when:?}) returned {} done, {} pending",
            done.len(),
            pending.len()
        )
    });
    for p in &pending {
        p.handle.cancel();
    }
    for p in pending {
        let r = p.handle.await;
        ctx.check(matches!(&r, Err(e) if e.is_cancelled()), || {
            format!("a cancelled pending task gave {r:?}")
        });
    }
    Ok(match when {
        ReturnWhen::AllCompleted => wait_fold(evs.into_iter()),
        _ => 0,
    })
}

/// Drops the inner future inside its `polls`-th poll (if still running).
pub(crate) struct DropAfter {
    pub(crate) inner: Option<LocalBoxFuture<'static, Result<i64, i64>>>,
    pub(crate) polls: u32,
}

impl Future for DropAfter {
    type Output = Option<Result<i64, i64>>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.polls == 0 {
            self.inner = None;
            return Poll::Ready(None);
        }
        self.polls -= 1;
        let inner = self.inner.as_mut().expect("polled after Ready");
        inner.as_mut().poll(cx).map(Some)
    }
}

pub(crate) const LIMIT: u32 = 300;

/// Yields until `done()` or LIMIT steps passed while no other thread owed
/// a wake. True if `done()`.
pub(crate) async fn settle(ctx: &Ctx, mut done: impl FnMut() -> bool) -> bool {
    let mut steps = 0;
    loop {
        if done() {
            return true;
        }
        if ctx.remote.load(Ordering::SeqCst) > 0 {
            std::thread::yield_now();
        } else {
            steps += 1;
            if steps > LIMIT {
                return false;
            }
        }
        yield_now().await;
    }
}
