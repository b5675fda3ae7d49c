//! The trees and the model: what a subtree does if nothing interrupts it.

use std::any::Any;

use eddy_core::task::ReturnWhen;

pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        // xorshift64
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum End {
    Ok(i64),
    Err(i64),
    Panic(i64),
    Forever,
    /// `Ok` once another thread wakes it.
    Remote(i64),
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
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
pub(crate) enum Node {
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
pub(crate) enum Pred {
    Done(Result<i64, i64>),
    Panic(i64),
    Hang,
}

/// How a child ended, as its recorder saw it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Ev {
    Ok(i64),
    Err(i64),
    Panic(i64),
}

/// The payload of every panic a leaf raises.
#[derive(Debug)]
pub(crate) struct PanicVal(pub(crate) i64);

pub(crate) fn payload_value(p: &(dyn Any + Send)) -> Option<i64> {
    p.downcast_ref::<PanicVal>().map(|v| v.0)
}

/// A random tree of at most `depth` levels; the root is never a leaf.
pub(crate) fn gen_root(rng: &mut Rng, depth: u32, next_id: &mut usize) -> Node {
    gen(rng, depth, next_id, true)
}

pub(crate) fn gen(rng: &mut Rng, depth: u32, next_id: &mut usize, root: bool) -> Node {
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
pub(crate) fn show(node: &Node) -> String {
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

pub(crate) fn wait_fold(results: impl Iterator<Item = Ev>) -> i64 {
    results.fold(0i64, |acc, ev| {
        acc.wrapping_add(match ev {
            Ev::Ok(v) => v,
            Ev::Err(e) => 7 * e,
            Ev::Panic(p) => 13 * p,
        })
    })
}

pub(crate) fn gather_hash(results: &[Result<i64, i64>]) -> i64 {
    results.iter().fold(17i64, |h, r| {
        h.wrapping_mul(31).wrapping_add(match r {
            Ok(v) => *v,
            Err(e) => 1_000 + e,
        })
    })
}

pub(crate) fn commutative(results: impl Iterator<Item = Result<i64, i64>>) -> i64 {
    results.fold(0i64, |acc, r| {
        acc.wrapping_add(match r {
            Ok(v) => v,
            Err(e) => 7 * e,
        })
    })
}

/// The model: what `node` does if nothing interrupts it, or `None` when
/// that depends on scheduling (which of two failures comes first).
pub(crate) fn eval(node: &Node) -> Option<Pred> {
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
