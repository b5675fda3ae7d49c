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

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::{pending, Future};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use eddy_core::task::{
    as_completed, gather_all, shield, try_gather_all, wait, ChildHandle, ClosedReason, ReturnWhen,
    Spawner, TaskGroup,
};
use eddy_core::{run, spawn, yield_now, JoinHandle};
use futures::future::LocalBoxFuture;
use futures::{FutureExt, StreamExt};

// ------------------------------------------------------------------ model

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, Debug)]
enum End {
    Ok(i64),
    Err(i64),
    Panic(i64),
    Forever,
    /// `Ok` once another thread wakes it.
    Remote(i64),
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Group,
    /// A group whose children spawn each other: child `i` spawns child
    /// `i + 1` through a `Spawner` at its first poll, and every child
    /// dropped unfinished tries to spawn once more from its destructor.
    Chain,
    Gather,
    TryGather,
    AsCompleted,
    Wait(ReturnWhen),
    Shield,
    Spawned,
}

#[derive(Clone, Debug)]
enum Node {
    Leaf {
        id: usize,
        steps: u32,
        end: End,
    },
    Inner {
        kind: Kind,
        children: Vec<Node>,
        /// Groups only: cancel child `.0` through its `ChildHandle` after
        /// `.1` yields (from a helper task).
        cancel: Option<(usize, u32)>,
    },
}

/// What a subtree does when nothing interrupts it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pred {
    Done(Result<i64, i64>),
    Panic(i64),
    Hang,
}

/// How a child ended, as its recorder saw it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ev {
    Ok(i64),
    Err(i64),
    Panic(i64),
}

/// The payload of every panic a leaf raises.
#[derive(Debug)]
struct PanicVal(i64);

fn payload_value(p: &(dyn Any + Send)) -> Option<i64> {
    p.downcast_ref::<PanicVal>().map(|v| v.0)
}

/// A random tree of at most `depth` levels; the root is never a leaf.
fn gen_root(rng: &mut Rng, depth: u32, next_id: &mut usize) -> Node {
    gen(rng, depth, next_id, true)
}

fn gen(rng: &mut Rng, depth: u32, next_id: &mut usize, root: bool) -> Node {
    let id = *next_id;
    *next_id += 1;
    if depth == 0 || (!root && rng.below(3) == 0) {
        let v = 1 + rng.below(50) as i64;
        let end = match rng.below(20) {
            0..=8 => End::Ok(v),
            9..=12 => End::Err(v),
            13..=14 => End::Panic(v),
            15..=17 => End::Forever,
            _ => End::Remote(v),
        };
        return Node::Leaf {
            id,
            steps: rng.below(4) as u32,
            end,
        };
    }
    let kind = match rng.below(10) {
        0 | 1 => Kind::Group,
        2 => Kind::Chain,
        3 => Kind::Gather,
        4 => Kind::TryGather,
        5 => Kind::AsCompleted,
        6 => Kind::Wait(ReturnWhen::FirstCompleted),
        7 => Kind::Wait(ReturnWhen::FirstError),
        8 => Kind::Wait(ReturnWhen::AllCompleted),
        _ => {
            if rng.below(2) == 0 {
                Kind::Shield
            } else {
                Kind::Spawned
            }
        }
    };
    let n = match kind {
        Kind::Shield | Kind::Spawned => 1,
        _ => 1 + rng.below(4) as usize,
    };
    let children = (0..n)
        .map(|_| gen(rng, depth - 1, next_id, false))
        .collect();
    let cancel = match kind {
        Kind::Group | Kind::Chain if rng.below(4) == 0 => {
            Some((rng.below(n as u64) as usize, rng.below(6) as u32))
        }
        _ => None,
    };
    Node::Inner {
        kind,
        children,
        cancel,
    }
}

/// A compact form of a tree for failure messages: `G[..]` group, `Ga`
/// gather_all, `Tg` try_gather_all, `Ac` as_completed, `Wc`/`We`/`Wa`
/// wait(FirstCompleted/FirstError/AllCompleted), `Sh` shield, `Sp` spawn;
/// leaves `ok3`, `err3`, `panic3`, `forever`, `remote3`, with `+n` yields.
fn show(node: &Node) -> String {
    match node {
        Node::Leaf { steps, end, .. } => {
            let end = match end {
                End::Ok(v) => format!("ok{v}"),
                End::Err(v) => format!("err{v}"),
                End::Panic(v) => format!("panic{v}"),
                End::Forever => "forever".to_string(),
                End::Remote(v) => format!("remote{v}"),
            };
            format!("{end}+{steps}")
        }
        Node::Inner {
            kind,
            children,
            cancel,
        } => {
            let cancel = match cancel {
                Some((i, steps)) => format!("cancel {i} after {steps}; "),
                None => String::new(),
            };
            let name = match kind {
                Kind::Group => "G",
                Kind::Chain => "Ch",
                Kind::Gather => "Ga",
                Kind::TryGather => "Tg",
                Kind::AsCompleted => "Ac",
                Kind::Wait(ReturnWhen::FirstCompleted) => "Wc",
                Kind::Wait(ReturnWhen::FirstError) => "We",
                Kind::Wait(ReturnWhen::AllCompleted) => "Wa",
                Kind::Shield => "Sh",
                Kind::Spawned => "Sp",
            };
            let children: Vec<String> = children.iter().map(show).collect();
            format!("{name}[{cancel}{}]", children.join(", "))
        }
    }
}

fn wait_fold(results: impl Iterator<Item = Ev>) -> i64 {
    results.fold(0i64, |acc, ev| {
        acc.wrapping_add(match ev {
            Ev::Ok(v) => v,
            Ev::Err(e) => 7 * e,
            Ev::Panic(p) => 13 * p,
        })
    })
}

fn gather_hash(results: &[Result<i64, i64>]) -> i64 {
    results.iter().fold(17i64, |h, r| {
        h.wrapping_mul(31).wrapping_add(match r {
            Ok(v) => *v,
            Err(e) => 1_000 + e,
        })
    })
}

fn commutative(results: impl Iterator<Item = Result<i64, i64>>) -> i64 {
    results.fold(0i64, |acc, r| {
        acc.wrapping_add(match r {
            Ok(v) => v,
            Err(e) => 7 * e,
        })
    })
}

/// The model: what `node` does if nothing interrupts it, or `None` when
/// that depends on scheduling (which of two failures comes first).
fn eval(node: &Node) -> Option<Pred> {
    let children = match node {
        Node::Leaf { end, .. } => {
            return Some(match *end {
                End::Ok(v) | End::Remote(v) => Pred::Done(Ok(v)),
                End::Err(e) => Pred::Done(Err(e)),
                End::Panic(p) => Pred::Panic(p),
                End::Forever => Pred::Hang,
            })
        }
        Node::Inner { children, .. } => children,
    };
    if let Node::Inner {
        cancel: Some(_), ..
    } = node
    {
        return None; // which child the cancel catches depends on timing
    }
    let preds: Vec<Pred> = children.iter().map(eval).collect::<Option<_>>()?;
    let kind = match node {
        Node::Inner { kind, .. } => *kind,
        Node::Leaf { .. } => unreachable!(),
    };
    let any_hang = preds.contains(&Pred::Hang);
    let panics: Vec<i64> = preds
        .iter()
        .filter_map(|p| match p {
            Pred::Panic(v) => Some(*v),
            _ => None,
        })
        .collect();
    let failures: Vec<Pred> = preds
        .iter()
        .copied()
        .filter(|p| matches!(p, Pred::Panic(_) | Pred::Done(Err(_))))
        .collect();
    let oks = || {
        preds.iter().map(|p| match p {
            Pred::Done(r) => *r,
            _ => unreachable!(),
        })
    };
    Some(match kind {
        Kind::Shield | Kind::Spawned => preds[0],
        // Inline: a panic unwinds through the combinator when it happens.
        Kind::Gather | Kind::AsCompleted => match panics.len() {
            1 => Pred::Panic(panics[0]),
            0 if any_hang => Pred::Hang,
            0 if matches!(kind, Kind::Gather) => {
                Pred::Done(Ok(gather_hash(&oks().collect::<Vec<_>>())))
            }
            0 => Pred::Done(Ok(commutative(oks()))),
            _ => return None,
        },
        // The first failure ends it (and cancels / drops the rest).
        Kind::Group | Kind::Chain | Kind::TryGather => match failures.len() {
            0 if any_hang => Pred::Hang,
            0 => Pred::Done(Ok(oks().map(|r| r.unwrap()).fold(0, i64::wrapping_add))),
            1 => failures[0],
            _ => return None,
        },
        Kind::Wait(when) => {
            let all_hang = preds.iter().all(|p| *p == Pred::Hang);
            match when {
                ReturnWhen::AllCompleted if any_hang => Pred::Hang,
                ReturnWhen::AllCompleted => {
                    Pred::Done(Ok(wait_fold(preds.iter().map(|p| match p {
                        Pred::Done(Ok(v)) => Ev::Ok(*v),
                        Pred::Done(Err(e)) => Ev::Err(*e),
                        Pred::Panic(v) => Ev::Panic(*v),
                        Pred::Hang => unreachable!(),
                    }))))
                }
                ReturnWhen::FirstCompleted if all_hang => Pred::Hang,
                ReturnWhen::FirstError if failures.is_empty() && any_hang => Pred::Hang,
                _ => Pred::Done(Ok(0)),
            }
        }
    })
}

// ------------------------------------------------------------------ harness

struct Ctx {
    created: RefCell<Vec<u32>>,
    dropped: RefCell<Vec<u32>>,
    violations: RefCell<Vec<String>>,
    shutting_down: Cell<bool>,
    /// Shield nodes that started: (their child's prediction, its events).
    shields: RefCell<Vec<(Option<Pred>, Log)>>,
    /// Wakes other threads still owe.
    remote: Arc<AtomicUsize>,
}

type Log = Rc<RefCell<Vec<(usize, Ev)>>>;

impl Ctx {
    /// An id for a leaf made while the tree runs.
    fn fresh_id(&self) -> usize {
        self.dropped.borrow_mut().push(0);
        let mut created = self.created.borrow_mut();
        created.push(0);
        created.len() - 1
    }
    fn violation(&self, what: String) {
        self.violations.borrow_mut().push(what);
    }
    fn check(&self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.violation(what());
        }
    }
}

struct LeafGuard {
    ctx: Rc<Ctx>,
    id: usize,
}

impl Drop for LeafGuard {
    fn drop(&mut self) {
        self.ctx.dropped.borrow_mut()[self.id] += 1;
    }
}

/// Wraps a child: logs how it ended, flags its drop, and reports a poll
/// after its group's future was dropped.
struct Recorder {
    inner: LocalBoxFuture<'static, Result<i64, i64>>,
    log: Log,
    index: usize,
    dropped: Rc<Cell<bool>>,
    group_dropped: Option<Rc<Cell<bool>>>,
    ctx: Rc<Ctx>,
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
struct ScopeCheck<J> {
    join: Option<Pin<Box<J>>>,
    state: Rc<GroupState>,
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

fn event_of(log: &Log, index: usize) -> Option<Ev> {
    log.borrow()
        .iter()
        .find(|(i, _)| *i == index)
        .map(|(_, e)| *e)
}

fn recorder(
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

fn leaf(
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

fn build(ctx: &Rc<Ctx>, node: &Node) -> LocalBoxFuture<'static, Result<i64, i64>> {
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

/// What a group node and its children share.
struct GroupState {
    ctx: Rc<Ctx>,
    children: Vec<Node>,
    chain: bool,
    spawner: Spawner<i64>,
    log: Log,
    group_dropped: Rc<Cell<bool>>,
    /// Set just before the group's `join` future is dropped.
    dropping: Cell<bool>,
    /// Children cancelled through their `ChildHandle`.
    cancelled: Vec<Cell<bool>>,
    handles: RefCell<Vec<Option<ChildHandle<i64>>>>,
    children_dropped: RefCell<Vec<Rc<Cell<bool>>>>,
}

impl GroupState {
    fn failed(&self) -> bool {
        self.log
            .borrow()
            .iter()
            .any(|(_, e)| !matches!(e, Ev::Ok(_)))
    }
}

/// Spawns child `i`: the group must accept it exactly when no child has
/// failed yet (it cannot have been dropped or joined to the end while the
/// node or a child is running).
fn spawn_child(state: &Rc<GroupState>, i: usize) {
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
struct Link {
    rec: Recorder,
    state: Rc<GroupState>,
    index: usize,
    started: bool,
    finished: bool,
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

async fn group_node(
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

async fn wait_node(ctx: Rc<Ctx>, children: Vec<Node>, when: ReturnWhen) -> Result<i64, i64> {
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
struct DropAfter {
    inner: Option<LocalBoxFuture<'static, Result<i64, i64>>>,
    polls: u32,
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

const LIMIT: u32 = 300;

/// Yields until `done()` or LIMIT steps passed while no other thread owed
/// a wake. True if `done()`.
async fn settle(ctx: &Ctx, mut done: impl FnMut() -> bool) -> bool {
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
