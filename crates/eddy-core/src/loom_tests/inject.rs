//! loom models of the inject queue (tasks and callbacks queued from other
//! threads) and of the `block_on` future's remote wake.

use super::*;

/// A test node for the inject queue.
struct Node {
    next: UnsafeCell<Option<NonNull<Node>>>,
    value: usize,
}

// SAFETY: `next` is a field of the node, alive as long as the node.
unsafe impl Linked for Node {
    fn next(&self) -> &UnsafeCell<Option<NonNull<Node>>> {
        &self.next
    }
}

fn node(value: usize) -> NonNull<Node> {
    NonNull::from(Box::leak(Box::new(Node {
        next: UnsafeCell::new(None),
        value,
    })))
}

/// # Safety
/// `n` came from `node` and is no longer linked.
unsafe fn free(n: NonNull<Node>) -> usize {
    // SAFETY: per the caller's contract.
    unsafe { Box::from_raw(n.as_ptr()) }.value
}

/// The value of a popped task node (freeing it); these models push no
/// callbacks.
fn task_value(popped: Popped<Node, ()>) -> usize {
    match popped {
        // SAFETY: popped, so ours.
        Popped::Task(n) => unsafe { free(n) },
        Popped::Callback(()) => unreachable!("no callbacks pushed"),
    }
}

#[test]
fn loom_inject_push_pop_close() {
    loom::model(|| {
        let inject = Arc::new(Inject::<Node, ()>::new());
        let refused = Arc::new(AtomicUsize::new(0));
        let pushers: Vec<_> = (0..2)
            .map(|t| {
                let (inject, refused) = (inject.clone(), refused.clone());
                thread::spawn(move || {
                    if let Err(n) = inject.push(node(1 << t)) {
                        // SAFETY: refused, so still ours.
                        refused.fetch_add(unsafe { free(n) }, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        let mut got = 0;
        inject.pop_batch(1, |n| got += task_value(n));
        inject.close();
        for p in pushers {
            p.join().unwrap();
        }
        inject.pop_batch(usize::MAX, |n| got += task_value(n));
        assert!(inject.is_empty());
        assert_eq!(got + refused.load(Ordering::SeqCst), 0b11);
    });
}

/// One thread queues a callback and then a task, another a task and then a
/// callback, while the loop drains in small batches: each thread's two
/// submissions come out in the order it made them, and nothing is lost.
#[test]
fn loom_inject_keeps_callbacks_and_tasks_in_submission_order() {
    loom::model(|| {
        let inject = Arc::new(Inject::<Node, usize>::new());
        let a = {
            let inject = inject.clone();
            thread::spawn(move || {
                assert!(inject.push_callback(10).is_ok());
                assert!(inject.push(node(11)).is_ok());
            })
        };
        let b = {
            let inject = inject.clone();
            thread::spawn(move || {
                assert!(inject.push(node(20)).is_ok());
                assert!(inject.push_callback(21).is_ok());
            })
        };
        let mut order = Vec::new();
        let mut drain = |max| {
            inject.pop_batch(max, |p| {
                order.push(match p {
                    // SAFETY: popped, so ours.
                    Popped::Task(n) => unsafe { free(n) },
                    Popped::Callback(v) => v,
                })
            });
        };
        drain(1);
        a.join().unwrap();
        b.join().unwrap();
        while !inject.is_empty() {
            drain(1);
        }
        let at = |v| order.iter().position(|&x| x == v).unwrap();
        assert_eq!(order.len(), 4, "{order:?}");
        assert!(at(10) < at(11), "{order:?}");
        assert!(at(20) < at(21), "{order:?}");
    });
}

/// A wake of the `block_on` future from another thread, after that thread
/// spawned a task: when the loop takes the wake (before draining the inject
/// queue, as `pull_remote_checking_main` does), the drain finds the task,
/// so it is queued ahead of the main future's turn.
#[test]
fn loom_remote_wake_brings_earlier_work() {
    loom::model(|| {
        let inject = Arc::new(Inject::<Node, ()>::new());
        let wake = Arc::new(RemoteWake::default());
        let remote = {
            let (inject, wake) = (inject.clone(), wake.clone());
            thread::spawn(move || {
                assert!(inject.push(node(1)).is_ok());
                wake.set();
            })
        };
        let drain = |inject: &Inject<Node, ()>| {
            let mut got = 0;
            inject.pop_batch(usize::MAX, |n| got += task_value(n));
            got
        };
        let mut drained = 0;
        if wake.take() {
            drained = drain(&inject);
            assert_eq!(drained, 1, "the wake arrived without the work before it");
        }
        remote.join().unwrap();
        drained += drain(&inject);
        assert_eq!(drained, 1);
    });
}
