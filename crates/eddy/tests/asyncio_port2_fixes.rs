//! What the second asyncio porting pass (asyncio_port2_*) found missing,
//! checked now that it is fixed: waiting on tasks of any output type, the
//! asyncio names users search the map for, and the blocking-pool error
//! after the runtime shut down.

use eddy::ReturnWhen;

/// asyncio.wait(tasks) takes tasks of any result type. `eddy::wait` needs
/// `task::Outcome`, which foreign types such as tuples cannot implement
/// (orphan rule); `eddy::wait_by` takes the failure test as a closure.
#[test]
fn wait_by_takes_tasks_of_any_output_type() {
    eddy::run(async {
        let tasks = vec![
            eddy::spawn(async { (1u64, 2u32) }),
            eddy::spawn(async { (3u64, 4u32) }),
        ];
        let (done, pending) = eddy::wait_by(tasks, ReturnWhen::AllCompleted, None, |_| false)
            .await
            .unwrap();
        assert_eq!(pending.len(), 0);
        let outs: Vec<_> = done.into_iter().map(|d| d.result.unwrap()).collect();
        assert_eq!(outs, [(1, 2), (3, 4)]);

        // FirstError asks the closure: a path that does not exist fails.
        let paths = vec![
            eddy::spawn(async { std::path::PathBuf::from("/") }),
            eddy::spawn(async { std::path::PathBuf::from("/no/such/place") }),
            eddy::spawn(std::future::pending::<std::path::PathBuf>()),
        ];
        let (done, pending) = eddy::wait_by(paths, ReturnWhen::FirstError, None, |p| !p.exists())
            .await
            .unwrap();
        assert_eq!(done.iter().map(|d| d.index).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(pending.len(), 1);
        pending[0].handle.cancel();
    });
}

/// docs/asyncio-map.md opens with "Every asyncio name and its eddy
/// counterpart, or why there is none. Search this page for the asyncio
/// name you know." These everyday names were missing, so the search found
/// nothing: the Queue methods (`put_nowait`, `get_nowait`, `qsize`),
/// `Task.set_name`, `Task.cancelled`, `Task.add_done_callback`,
/// `asyncio.Future` / `ensure_future`, `TaskGroup.create_task`, and
/// `Lock.locked` / `Semaphore.locked`.
#[test]
fn the_asyncio_map_lists_the_names_users_search_for() {
    let map = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/asyncio-map.md"
    ));
    let missing: Vec<&str> = [
        "put_nowait",
        "get_nowait",
        "qsize",
        "set_name",
        "Task.cancelled",
        "add_done_callback",
        "asyncio.Future",
        "ensure_future",
        "create_task(coro)",
        "TaskGroup.create_task",
        "locked()",
    ]
    .into_iter()
    .filter(|name| !map.contains(name))
    .collect();
    assert!(missing.is_empty(), "not on the map: {missing:?}");
}

/// A blocking job asked of a runtime that was shut down (through a
/// `Handle` that outlived it) used to fail with "submit jobs before calling
/// Pool::shutdown_timeout": the user never called that (nor saw a `Pool`),
/// the runtime did. The text now names the runtime's shutdown too and
/// says to submit while it runs.
#[test]
fn a_blocking_job_on_a_closed_runtime_talks_about_the_runtime() {
    let rt = eddy::Runtime::new().unwrap();
    let handle = rt.handle();
    rt.shutdown();
    let err = futures::executor::block_on(handle.spawn_blocking(|| 5)).unwrap_err();
    let text = err.to_string();
    assert!(
        !text.contains("before calling Pool::shutdown_timeout"),
        "{text}"
    );
    assert!(text.contains("runtime"), "{text}");
}
