//! Structured-concurrency defects found in review: each test failed before
//! its fix.

use std::cell::RefCell;
use std::future::pending;
use std::rc::Rc;

use eddy_core::task::{self, ContextToken, ContextVar, TaskGroup, TaskId};
use eddy_core::{run, spawn, yield_now};

/// What a child's destructor saw: the variable's value, the current task,
/// and whether resetting its own token worked.
type Seen = (Option<u32>, Option<TaskId>, bool);

/// Held by a child: on drop, records what it sees, resets the child's own
/// `set`, then sets the variable again (which must land in the child's
/// context, never in the task that dropped the child).
struct ResetOnDrop {
    var: &'static ContextVar<u32>,
    token: Option<ContextToken<u32>>,
    seen: Rc<RefCell<Vec<Seen>>>,
}

impl Drop for ResetOnDrop {
    fn drop(&mut self) {
        let value = self.var.get();
        let current = task::current().map(|t| t.id());
        let reset = self.var.reset(self.token.take().unwrap()).is_ok();
        self.seen.borrow_mut().push((value, current, reset));
        self.var.set(99);
    }
}

/// A child cancelled by its group's drop has its destructors run inside
/// the drop (synchronously); they must run as that child, as when the loop
/// cancels it: its own context variables and `task::current`, as asyncio
/// runs a cancelled task's `finally:` in the task's context. From a task
/// and from the `block_on` future.
#[test]
fn a_child_dropped_with_its_group_runs_its_destructors_in_its_own_context() {
    static VAR: ContextVar<u32> = ContextVar::new("review_var");

    async fn drop_group_with_a_waiting_child() -> (Vec<Seen>, TaskId, Option<u32>) {
        VAR.set(1);
        let seen = Rc::new(RefCell::new(Vec::new()));
        let group = TaskGroup::<()>::new();
        let log = seen.clone();
        let child = group
            .spawn(async move {
                let token = VAR.set(2);
                let _guard = ResetOnDrop {
                    var: &VAR,
                    token: Some(token),
                    seen: log,
                };
                pending::<Result<(), ()>>().await
            })
            .unwrap();
        let id = child.id();
        yield_now().await; // the child runs and waits
        drop(group); // drops the idle child right here
        let seen = seen.take();
        (seen, id, VAR.get())
    }

    run(async {
        let (seen, child, after) = spawn(drop_group_with_a_waiting_child()).await.unwrap();
        assert_eq!(seen, [(Some(2), Some(child), true)]);
        assert_eq!(after, Some(1), "the dropping task's context is untouched");

        let (seen, child, after) = drop_group_with_a_waiting_child().await;
        assert_eq!(seen, [(Some(2), Some(child), true)]);
        assert_eq!(after, Some(1), "the block_on future's context is untouched");
        assert!(task::current().is_none());
    });
}
