//! Helpers shared by the `structured_*` test files (TaskGroup, gather,
//! wait, as_completed, shield). No timers in eddy-core: "later" is counted
//! in `yield_now` steps.
#![allow(dead_code)] // each test file uses some of these

use std::cell::Cell;
use std::future::{pending, Future};
use std::rc::Rc;

use eddy_core::{run, spawn, yield_now};

/// Counts drops (on this thread), so tests can check destructors ran
/// exactly once.
#[derive(Clone, Default)]
pub struct Drops(Rc<Cell<usize>>);
pub struct Guard(pub Drops);
impl Drop for Guard {
    fn drop(&mut self) {
        self.0 .0.set(self.0 .0.get() + 1);
    }
}
impl Drops {
    pub fn guard(&self) -> Guard {
        Guard(self.clone())
    }
    pub fn get(&self) -> usize {
        self.0.get()
    }
}

/// Runs `future` as a task and waits for it. Step counts are only
/// meaningful between tasks: the `block_on` future itself is polled once per
/// batch of task steps.
pub fn run_task<F: Future + 'static>(future: F) -> F::Output
where
    F::Output: 'static,
{
    run(async move { spawn(future).await.unwrap() })
}

pub async fn yields(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

/// A child that holds a guard and never finishes.
pub fn forever<E>(drops: &Drops) -> impl Future<Output = Result<(), E>> + 'static {
    let g = drops.guard();
    async move {
        let _g = g;
        pending().await
    }
}

/// A task that finishes with `value` after `steps` yields.
pub fn after<T: 'static>(steps: usize, value: T) -> eddy_core::JoinHandle<T> {
    spawn(async move {
        yields(steps).await;
        value
    })
}
