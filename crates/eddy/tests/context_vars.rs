//! Context variables through the facade: `to_thread` takes the caller's
//! context to the pool thread (asyncio's `to_thread` does), while
//! `spawn_blocking` and `run_in_executor` do not; loop-thread timer
//! callbacks, and the thread-safe `Handle::call_later` ones, run in the
//! context they were scheduled in.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use common::port::guard;
use eddy::task::ContextVar;

static REQUEST: ContextVar<String> = ContextVar::new("request");

#[test]
fn to_thread_runs_in_a_copy_of_the_callers_context() {
    eddy::run(guard("to_thread context", async {
        REQUEST.set("main".to_string());
        let task = eddy::spawn(async {
            REQUEST.set("task".to_string());
            let seen = eddy::to_thread(|| {
                let seen = REQUEST.get();
                // Stays in the job's copy.
                REQUEST.set("pool".to_string());
                (seen, REQUEST.get())
            })
            .await
            .unwrap();
            // A fresh copy each time: the last job's set is gone.
            let again = eddy::to_thread(|| REQUEST.get()).await.unwrap();
            (seen, again, REQUEST.get())
        });
        let (seen, again, after) = task.await.unwrap();
        assert_eq!(seen, (Some("task".to_string()), Some("pool".to_string())));
        assert_eq!(again.as_deref(), Some("task"));
        assert_eq!(after.as_deref(), Some("task"));
        assert_eq!(REQUEST.get().as_deref(), Some("main"));
    }));
}

#[test]
fn spawn_blocking_and_run_in_executor_take_no_context() {
    eddy::run(guard("spawn_blocking context", async {
        REQUEST.set("main".to_string());
        let blocking = eddy::spawn_blocking(|| REQUEST.get()).await.unwrap();
        assert_eq!(blocking, None);
        let pool = eddy::blocking::Pool::builder()
            .max_threads(1)
            .build()
            .unwrap();
        let executor = eddy::Handle::current()
            .run_in_executor(&pool, || REQUEST.get())
            .await
            .unwrap();
        assert_eq!(executor, None);
    }));
}

#[test]
fn call_later_callbacks_run_in_the_context_they_were_scheduled_in() {
    eddy::run(guard("call_later context", async {
        let seen = Rc::new(RefCell::new(Vec::new()));
        REQUEST.set("scheduled".to_string());
        let s = seen.clone();
        eddy::call_later(Duration::from_millis(1), move || {
            s.borrow_mut().push(REQUEST.get());
            REQUEST.set("callback".to_string());
        });
        REQUEST.set("later".to_string());
        while seen.borrow().is_empty() {
            eddy::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(*seen.borrow(), [Some("scheduled".to_string())]);
        assert_eq!(REQUEST.get().as_deref(), Some("later"));
    }));
}

#[test]
fn thread_safe_call_later_runs_in_the_scheduling_threads_context() {
    eddy::run(guard("Handle::call_later context", async {
        let handle = eddy::Handle::current();
        let (tx, rx) = eddy::sync::oneshot::channel();
        std::thread::spawn(move || {
            REQUEST.set("other thread".to_string());
            handle.call_later(Duration::from_millis(1), move || {
                let _ = tx.send(REQUEST.get());
            });
        })
        .join()
        .unwrap();
        assert_eq!(rx.await.unwrap().as_deref(), Some("other thread"));
        assert_eq!(REQUEST.get(), None);
    }));
}
