//! asyncio.run's entry points and gather, ported to eddy (third pass):
//! #[eddy::main] / #[eddy::test] and their options, PYTHONASYNCIODEBUG's
//! counterpart EDDY_DEBUG (checked in a child process of this test
//! binary), gather!/try_gather! over outputs of different types, a gather
//! of 10,000 futures, and a TaskGroup's spawner used by its children.

#[path = "../../eddy-time/tests/common/capture.rs"]
mod capture;
mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use common::port::{flag, sleep_an_hour, Finally};
use eddy::time::Instant;
use eddy::TaskGroup;

// ---- the attribute macros ----------------------------------------------

#[eddy::test(start_paused = true)]
async fn a_paused_test_sleeps_an_hour_at_once_and_the_clock_says_so() {
    let start = Instant::now();
    eddy::sleep(Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
    // Timeouts are exact on the paused clock.
    let r = eddy::wait_for(std::future::pending::<()>(), Duration::from_secs(5)).await;
    assert!(r.is_err());
    assert_eq!(start.elapsed(), Duration::from_secs(3605));
}

#[eddy::test(start_paused = false)]
async fn start_paused_false_is_the_real_clock() {
    let start = Instant::now();
    eddy::sleep(Duration::from_millis(5)).await;
    assert!(start.elapsed() >= Duration::from_millis(5));
}

#[eddy::test(debug = true, slow_poll_ms = 20)]
async fn a_debug_test_reports_a_blocking_poll() {
    capture::capture();
    eddy::task::Builder::new()
        .name("port3-blocker")
        .spawn(async { std::thread::sleep(Duration::from_millis(80)) })
        .await
        .unwrap();
    let found = capture::lines_with(&["slow poll", "port3-blocker"]);
    assert!(!found.is_empty(), "no report: {}", capture::all_lines());
}

#[eddy::test]
async fn leftover_tasks_are_cancelled_when_the_test_body_returns() {
    // The test returns (no hang) although this task would sleep an hour:
    // the runtime cancels it, as asyncio.run does;
    // main_returns_its_value_and_cancels_leftover_tasks checks the drop.
    eddy::spawn(async { eddy::sleep(Duration::from_secs(3600)).await });
}

thread_local! {
    static DROPPED: Cell<bool> = const { Cell::new(false) };
}

mod app {
    use super::*;

    struct MarkDropped;
    impl Drop for MarkDropped {
        fn drop(&mut self) {
            DROPPED.with(|d| d.set(true));
        }
    }

    /// An application's entry point, called here as a function.
    #[eddy::main(start_paused = true)]
    pub async fn main() -> Result<u64, String> {
        eddy::spawn(async {
            let _m = MarkDropped;
            eddy::sleep(Duration::from_secs(3600)).await;
        });
        let start = Instant::now();
        eddy::sleep(Duration::from_secs(90)).await;
        Ok(start.elapsed().as_secs())
    }
}

#[test]
fn main_returns_its_value_and_cancels_leftover_tasks() {
    assert_eq!(app::main(), Ok(90));
    assert!(DROPPED.with(Cell::get), "the leftover task was not dropped");
}

// ---- EDDY_DEBUG in a child process --------------------------------------

/// The child's side: run a task that blocks 300 ms (over the default
/// 100 ms threshold) on a runtime built the way `EDDY_PORT3_ROLE` says,
/// and print whether debug mode reported it.
#[test]
fn eddy_debug_child() {
    let Ok(role) = std::env::var("EDDY_PORT3_ROLE") else {
        return; // run directly: nothing to do
    };
    capture::capture();
    let body = async {
        eddy::task::Builder::new()
            .name("env-blocker")
            .spawn(async { std::thread::sleep(Duration::from_millis(300)) })
            .await
            .unwrap();
    };
    match role.as_str() {
        "run" => eddy::run(body),
        "builder-off" => eddy::Builder::new()
            .debug(false)
            .build()
            .unwrap()
            .block_on(body),
        other => panic!("unknown role {other}"),
    }
    let found = capture::lines_with(&["slow poll", "env-blocker"]);
    println!("REPORTED={}", !found.is_empty());
}

/// Runs [`eddy_debug_child`] in a child process with `EDDY_DEBUG` set to
/// `value` (removed if `None`); returns whether the slow poll was reported.
fn child_reported(role: &str, value: Option<&str>) -> bool {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "eddy_debug_child",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("EDDY_PORT3_ROLE", role);
    match value {
        Some(v) => cmd.env("EDDY_DEBUG", v),
        None => cmd.env_remove("EDDY_DEBUG"),
    };
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if stdout.contains("REPORTED=true") {
        true
    } else if stdout.contains("REPORTED=false") {
        false
    } else {
        panic!("the child said nothing: {stdout}")
    }
}

#[test]
fn eddy_debug_turns_debug_mode_on_like_pythonasynciodebug() {
    assert!(child_reported("run", Some("1")));
    assert!(!child_reported("run", None));
    assert!(!child_reported("run", Some("0")));
    assert!(!child_reported("run", Some("")));
    // An explicit Builder::debug(false) wins over the environment, as
    // loop.set_debug(False) does.
    assert!(!child_reported("builder-off", Some("1")));
}

// ---- gather --------------------------------------------------------------

#[test]
fn gather_macro_with_outputs_of_different_types() {
    eddy::run(async {
        let task = eddy::spawn(async { 'x' });
        let (n, s, v, r, t, unit) = eddy::gather!(
            async { 7u8 },
            async {
                eddy::yield_now().await;
                String::from("text")
            },
            async { vec![1, 2, 3] },
            async { Err::<(), _>("an error is just a value here") },
            task,
            eddy::sleep(Duration::from_millis(1)),
        )
        .await;
        assert_eq!(n, 7);
        assert_eq!(s, "text");
        assert_eq!(v, [1, 2, 3]);
        assert_eq!(r, Err("an error is just a value here"));
        assert_eq!(t.unwrap(), 'x');
        let () = unit;
        // One future and a trailing comma are accepted too.
        let (one,) = eddy::gather!(async { 1.5f64 },).await;
        assert_eq!(one, 1.5);
    });
}

#[test]
fn try_gather_macro_with_mixed_ok_types_and_a_failure_that_drops_the_rest() {
    eddy::run(async {
        let ok = eddy::try_gather!(
            async { Ok::<_, std::io::Error>(1u32) },
            async { Ok(String::from("two")) },
            async { Ok(Some(3i64)) },
        )
        .await
        .unwrap();
        assert_eq!(ok, (1, "two".to_string(), Some(3)));

        let slept = flag();
        let s = slept.clone();
        let err = eddy::try_gather!(
            async {
                sleep_an_hour(s).await;
                Ok::<u8, String>(0)
            },
            async {
                eddy::yield_now().await;
                Err::<&str, _>("second failed".to_string())
            },
            async { Ok(vec![0u8]) },
        )
        .await;
        assert_eq!(err, Err("second failed".to_string()));
        assert!(
            slept.get(),
            "the sleeping future was dropped with the gather"
        );
    });
}

#[test]
fn gather_all_of_ten_thousand_futures_keeps_input_order() {
    const N: u64 = 10_000;
    let rt = common::port::paused();
    rt.block_on(async {
        let start = Instant::now();
        // Deadlines in reverse order: the last finishes first.
        let futs = (0..N).map(|i| async move {
            eddy::sleep(Duration::from_millis(N - i)).await;
            i * 2
        });
        let out = eddy::gather_all(futs).await;
        assert_eq!(out.len(), N as usize);
        assert!(out.iter().enumerate().all(|(i, &v)| v == i as u64 * 2));
        assert_eq!(start.elapsed(), Duration::from_millis(N));

        // And as many tasks.
        let tasks = (0..N).map(|i| eddy::spawn(async move { i }));
        let out = eddy::gather_all(tasks).await;
        assert!(out
            .into_iter()
            .enumerate()
            .all(|(i, v)| v.unwrap() == i as u64));
    });
}

#[test]
fn a_child_spawns_siblings_through_the_spawner_and_join_waits_for_them() {
    eddy::run(async {
        let group = TaskGroup::<String>::new();
        let spawner = group.spawner();
        let done = Rc::new(Cell::new(0u32));
        let d = done.clone();
        let first = group
            .spawn(async move {
                let mut handles = Vec::new();
                for i in 0..5u32 {
                    let d = d.clone();
                    handles.push(
                        spawner
                            .spawn_named(format!("sibling-{i}"), async move {
                                eddy::sleep(Duration::from_millis(u64::from(i))).await;
                                d.set(d.get() + 1);
                                Ok(i)
                            })
                            .map_err(|_| "group closed".to_string())?,
                    );
                }
                // The child returns before its siblings finish.
                Ok(handles)
            })
            .unwrap();
        common::port::guard("join", group.join()).await.unwrap();
        assert_eq!(done.get(), 5, "join waited for the siblings");
        let mut sum = 0;
        for h in first.await.unwrap() {
            sum += h.await.unwrap();
        }
        assert_eq!(sum, 10);
    });
}

#[test]
fn a_sibling_spawned_by_a_child_fails_and_the_whole_group_is_cancelled() {
    eddy::run(async {
        let group = TaskGroup::<String>::new();
        let spawner = group.spawner();
        let (a, b) = (flag(), flag());
        let (fa, fb) = (a.clone(), b.clone());
        let keep = spawner.clone();
        group
            .spawn(async move {
                let _f = Finally(fa);
                spawner
                    .spawn(async move {
                        let _f = Finally(fb);
                        eddy::sleep(Duration::from_secs(3600)).await;
                        Ok(())
                    })
                    .unwrap();
                spawner
                    .spawn(async {
                        eddy::yield_now().await;
                        Err::<(), _>("grandchild failed".to_string())
                    })
                    .unwrap();
                eddy::sleep(Duration::from_secs(3600)).await;
                Ok(())
            })
            .unwrap();
        let errors = common::port::guard("join", group.join()).await.unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors.first(), "grandchild failed");
        assert!(a.get() && b.get(), "every member was cancelled");
        // The group is over: the spawner someone kept refuses.
        assert!(keep.is_closed());
        assert!(keep.spawn(async { Ok::<(), String>(()) }).is_err());
    });
}
