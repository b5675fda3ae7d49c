//! Review of the facade and its macros: `#[eddy::main]`/`#[eddy::test]`
//! expansions that must compile and behave like the `async fn` the user
//! wrote, and `Builder` settings that must reach the runtime.

use std::error::Error;
use std::fmt;

#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("refused")
    }
}

impl Error for Refused {}

async fn refuse(yes: bool) -> Result<u32, Refused> {
    eddy::yield_now().await;
    if yes {
        Err(Refused)
    } else {
        Ok(7)
    }
}

/// An early `return` is checked against the declared return type, as in
/// any `async fn`: `Box<Refused>` coerces to `Box<dyn Error>`.
#[eddy::test]
async fn an_early_return_coerces_to_the_declared_error_type() -> Result<(), Box<dyn Error>> {
    if refuse(false).await? != 7 {
        return Err(Box::new(Refused));
    }
    Ok(())
}

/// `?` converts into the declared error type.
#[eddy::test]
async fn question_mark_converts_into_the_declared_error_type() -> Result<(), Box<dyn Error>> {
    let n: u32 = "12".parse()?;
    let err: Box<dyn Error> = refuse(n > 10).await.unwrap_err().into();
    assert_eq!(err.to_string(), "refused");
    assert_eq!(refuse(false).await?, 7);
    Ok(())
}

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::port::{guard, panic_text};

/// Sets its flag when dropped, from any thread.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A blocking job that is still running when its runtime is dropped, and
/// whether it had finished once the drop returned.
fn finished_before_drop_returned(rt: eddy::Runtime) -> bool {
    let done = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = mpsc::channel();
    let flag = done.clone();
    rt.block_on(async move {
        eddy::spawn_blocking(move || {
            started_tx.send(()).unwrap();
            // Long enough to be still running when the runtime drops.
            std::thread::sleep(Duration::from_millis(100));
            flag.store(true, Ordering::SeqCst);
        })
        .detach();
    });
    started_rx.recv().unwrap();
    drop(rt);
    done.load(Ordering::SeqCst)
}

#[test]
fn builder_new_waits_for_running_blocking_jobs_at_drop() {
    assert!(finished_before_drop_returned(
        eddy::Builder::new().build().unwrap()
    ));
}

/// `Builder::default()` is `Builder::new()`: dropping its runtime waits
/// for running blocking jobs (300 s, asyncio's), not for zero seconds.
#[test]
fn builder_default_waits_for_running_blocking_jobs_at_drop() {
    assert!(
        finished_before_drop_returned(eddy::Builder::default().build().unwrap()),
        "Builder::default() must wait for running blocking jobs like Builder::new()"
    );
}

/// `eddy::run` inside a task panics with the fix, and the loop it ran in
/// keeps its timers, blocking pool and reactor.
#[test]
fn nested_run_panics_clearly_and_leaves_the_outer_drivers_current() {
    eddy::run(async {
        let nested = eddy::spawn(async { eddy::run(async { 1 }) }).await;
        let err = nested.expect_err("eddy::run inside a loop must panic");
        assert!(err.is_panic());
        let text = panic_text(&*err.into_panic());
        assert!(text.contains("inside a running eddy loop"), "{text}");
        guard("outer loop after nested run", async {
            eddy::sleep(Duration::from_millis(1)).await;
            assert_eq!(eddy::to_thread(|| 3).await.unwrap(), 3);
            let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            drop(listener);
            assert!(eddy::Handle::try_current().is_some());
        })
        .await;
    });
}

/// A runtime built, refused and dropped inside another runtime's task
/// leaves the outer runtime's drivers current.
#[test]
fn a_runtime_dropped_inside_another_loop_leaves_it_working() {
    eddy::run(async {
        let inner = eddy::Runtime::new().unwrap();
        let refused =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.block_on(async {})));
        assert!(refused.is_err());
        drop(inner);
        guard("outer loop after inner runtime dropped", async {
            eddy::sleep(Duration::from_millis(1)).await;
            assert_eq!(eddy::to_thread(|| 4).await.unwrap(), 4);
        })
        .await;
    });
}

/// A timer scheduled from another thread while the loop is parked with
/// nothing else to do wakes the loop.
#[test]
fn handle_call_later_from_another_thread_wakes_an_idle_loop() {
    let rt = eddy::Runtime::new().unwrap();
    let handle = rt.handle();
    let (tx, rx) = eddy::sync::oneshot::channel();
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        ready_rx.recv().unwrap();
        handle.call_later(Duration::from_millis(1), move || {
            let _ = tx.send(7);
        });
    });
    let got = rt.block_on(async move {
        ready_tx.send(()).unwrap();
        rx.await.unwrap()
    });
    assert_eq!(got, 7);
    thread.join().unwrap();
}

#[test]
fn handle_is_send_and_sync() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<eddy::Handle>();
}

/// What a handle of a runtime that is gone does with work: nothing runs,
/// and what was handed over is dropped rather than kept forever.
#[test]
fn a_handle_of_a_shut_down_runtime_drops_what_it_is_given() {
    let rt = eddy::Runtime::new().unwrap();
    let handle = rt.handle();
    rt.shutdown();
    assert!(handle.is_shutdown());

    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let _cb = handle.call_soon(move || {
        drop(flag);
        r.store(true, Ordering::SeqCst);
    });
    assert!(!ran.load(Ordering::SeqCst));
    assert!(
        dropped.load(Ordering::SeqCst),
        "call_soon after shutdown kept its closure"
    );

    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    let _timer = handle.call_later(Duration::from_millis(1), move || drop(flag));
    assert!(
        dropped.load(Ordering::SeqCst),
        "call_later after shutdown kept its closure"
    );

    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    let spawned = handle.spawn(async move { drop(flag) });
    assert!(spawned.is_err());
    assert!(
        dropped.load(Ordering::SeqCst),
        "spawn after shutdown kept its future"
    );

    let job = handle.spawn_blocking(|| 1);
    let out = futures::executor::block_on(job);
    assert!(out.is_err(), "spawn_blocking after shutdown ran the job");
}

/// `max_blocking_threads` reaches the pool: with 1, jobs run one at a time.
#[test]
fn max_blocking_threads_reaches_the_pool() {
    let rt = eddy::Builder::new()
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let jobs: Vec<_> = (0..4)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                eddy::spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap();
        }
    });
    assert_eq!(most.load(Ordering::SeqCst), 1);
}

/// `#[eddy::test(start_paused = true)]` reaches the clock.
#[eddy::test(start_paused = true)]
async fn start_paused_option_pauses_the_clock() {
    let (real, paused) = (std::time::Instant::now(), eddy::time::Instant::now());
    eddy::sleep(Duration::from_secs(3600)).await;
    assert!(paused.elapsed() >= Duration::from_secs(3600));
    assert!(real.elapsed() < Duration::from_secs(3600));
}

thread_local! {
    static LEFTOVER_DROPPED: Rc<Cell<bool>> = Rc::new(Cell::new(false));
}

/// Leaves a task sleeping for an hour behind (also run as a test alone).
#[eddy::test]
async fn leftover_task_body() {
    let flag = LEFTOVER_DROPPED.with(Rc::clone);
    drop(eddy::spawn(common::port::sleep_an_hour(flag)));
    eddy::yield_now().await;
}

/// Tasks left running when a `#[eddy::test]` body returns are cancelled
/// (their destructors run) before the test function returns.
#[test]
fn leftover_tasks_of_a_test_body_are_dropped_when_it_returns() {
    leftover_task_body();
    assert!(LEFTOVER_DROPPED.with(|d| d.get()));
}

/// A module whose names shadow what a careless expansion would use.
mod shadowing {
    #![allow(dead_code, non_camel_case_types)]

    type Result<T> = ::core::result::Result<T, ()>;
    type Option = ();
    mod std {}
    mod core {}
    mod eddy {}
    struct Builder;
    struct Duration;
    struct Runtime;
    fn test() {}
    fn main() {}

    #[::eddy::test(debug = false, slow_poll_ms = 5, start_paused = true)]
    async fn the_expansion_uses_absolute_paths() -> Result<()> {
        ::eddy::sleep(::std::time::Duration::from_secs(60)).await;
        let one = ::eddy::spawn(async { 1 }).await.map_err(drop)?;
        ::core::assert_eq!(one, 1);
        // The re-exported gather macros, in the same shadowed module.
        let future = async { 2 };
        let (a, b) = ::eddy::gather!(future, async { 3 }).await;
        ::core::assert_eq!((a, b), (2, 3));
        let both = ::eddy::try_gather!(async { Ok::<_, ()>(4) }, async { Ok(5) }).await;
        ::core::assert_eq!(both, Ok((4, 5)));
        Ok(())
    }
}

/// A stand-in facade for `crate = "..."`: records that the expansion went
/// through it, then hands over to the real one.
mod my_eddy {
    use std::cell::Cell;

    thread_local! {
        pub static USED: Cell<bool> = const { Cell::new(false) };
    }

    pub struct Builder;

    impl Builder {
        #[allow(clippy::new_ret_no_self)]
        pub fn new() -> ::eddy::Builder {
            USED.with(|u| u.set(true));
            ::eddy::Builder::new()
        }
    }
}

#[eddy::test(crate = "my_eddy")]
async fn crate_option_body() {
    eddy::yield_now().await;
}

/// `crate = "path"` routes the expansion through that path (how a renamed
/// dependency, `eddy2 = { package = "eddy" }`, is used).
#[test]
fn the_crate_option_is_the_path_the_expansion_uses() {
    crate_option_body();
    assert!(my_eddy::USED.with(|u| u.get()));
}

/// Set in the child process that runs [`threads_scenario_in_child`].
const THREADS_CHILD_ENV: &str = "EDDY_REVIEW_FACADE_THREADS_CHILD";
/// Printed by the child when the scenario passed.
const THREADS_CHILD_DONE: &str = "review_facade threads scenario done";

/// The names of this process's threads.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim_end().to_string())
        .collect()
}

/// The descriptors this process has open (`/proc/self/fd`, less the one
/// reading it).
fn open_fds() -> Vec<String> {
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let target = std::fs::read_link(e.path()).ok()?;
            Some(format!(
                "{} -> {}",
                e.file_name().to_string_lossy(),
                target.display()
            ))
        })
        .collect();
    fds.sort();
    fds
}

/// Waits (up to 10 s) for this process to be back to `before` threads:
/// a thread that has said it exits may take a moment to be gone.
fn back_to(before: usize, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while thread_names().len() > before {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: threads left after the runtime was dropped: {:?}",
            thread_names()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether a thread named `name` shows up within 10 s (a new thread
/// names itself as it starts, so it may still carry its parent's name).
fn thread_appears(name: &str) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if thread_names().iter().any(|n| n == name) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

#[eddy::test(debug = true)]
async fn debug_option_body() {
    // Debug mode's watchdog runs while the body does.
    assert!(
        thread_appears("eddy-watchdog"),
        "#[eddy::test(debug = true)] started no watchdog: {:?}",
        thread_names()
    );
}

/// The child half of [`dropping_a_runtime_leaves_no_thread_behind`]: alone
/// in its process, so thread counts are its own.
#[test]
#[ignore = "run in a child process by dropping_a_runtime_leaves_no_thread_behind"]
fn threads_scenario_in_child() {
    if std::env::var_os(THREADS_CHILD_ENV).is_none() {
        return;
    }
    let before = thread_names().len();
    let fds_before = open_fds();
    let rt = eddy::Builder::new()
        .debug(true)
        .thread_name("leakcheck")
        // Idle pool threads must go at shutdown, not when this runs out.
        .blocking_keep_alive(Duration::from_secs(60))
        .build()
        .unwrap();
    rt.block_on(async {
        // The thread's name is cut to 15 bytes by the kernel.
        assert!(
            thread_appears("leakcheck-watch"),
            "debug mode started no watchdog: {:?}",
            thread_names()
        );
        // Several pool threads at once, a socket and a name lookup (run
        // on the pool by the reactor).
        let barrier = Arc::new(std::sync::Barrier::new(3));
        let jobs: Vec<_> = (0..3)
            .map(|_| {
                let barrier = barrier.clone();
                eddy::spawn_blocking(move || {
                    barrier.wait();
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap();
        }
        let listener = eddy::net::TcpListener::bind("localhost:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = eddy::net::TcpStream::connect(addr).await.unwrap();
        drop((listener, client));
    });
    drop(rt);
    back_to(before, "Builder::new().debug(true)");
    // The reactor's epoll and wake descriptors and the sockets are closed.
    assert_eq!(
        open_fds(),
        fds_before,
        "descriptors left open by a dropped runtime"
    );

    let before = thread_names().len();
    debug_option_body();
    back_to(before, "#[eddy::test(debug = true)]");
    println!("{THREADS_CHILD_DONE}");
}

#[test]
fn dropping_a_runtime_leaves_no_thread_behind() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "threads_scenario_in_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(THREADS_CHILD_ENV, "1")
        .env("RUST_BACKTRACE", "0")
        .env_remove("EDDY_DEBUG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(THREADS_CHILD_DONE),
        "the child failed: {stdout}\n{stderr}"
    );
}

/// `blocking_keep_alive` reaches the pool: an idle thread leaves after it
/// (well before the 10 s default).
#[test]
fn blocking_keep_alive_reaches_the_pool() {
    let rt = eddy::Builder::new()
        .blocking_keep_alive(Duration::from_millis(1))
        .build()
        .unwrap();
    rt.block_on(async {
        eddy::to_thread(|| ()).await.unwrap();
        let pool = eddy::blocking::Pool::try_current().expect("the runtime's pool is current");
        let left = eddy::wait_for(
            async {
                while pool.thread_count() > 0 {
                    eddy::sleep(Duration::from_millis(1)).await;
                }
            },
            Duration::from_secs(5),
        )
        .await;
        assert!(
            left.is_ok(),
            "the idle pool thread outlived a 1 ms keep-alive by 5 s"
        );
    });
}

/// A `block_on` whose future panicked leaves the runtime usable.
#[test]
fn block_on_after_a_panicking_block_on() {
    let rt = eddy::Runtime::new().unwrap();
    let kept = rt.handle().spawn(async { 5 }).unwrap();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            eddy::sleep(Duration::from_millis(1)).await;
            panic!("body panicked")
        })
    }));
    assert!(panicked.is_err());
    assert_eq!(
        rt.block_on(async {
            eddy::sleep(Duration::from_millis(1)).await;
            kept.await.unwrap()
        }),
        5
    );
}

/// Attributes after `#[eddy::test]` stay on the test: `#[should_panic]`
/// sees the body's panic (after the runtime has shut down).
#[eddy::test]
#[should_panic(expected = "body panicked on purpose")]
async fn should_panic_sees_the_body_panic() {
    eddy::yield_now().await;
    panic!("body panicked on purpose");
}

/// A test may return `impl Termination`, as a plain test may.
#[eddy::test]
async fn a_test_may_return_impl_termination() -> impl std::process::Termination {
    if eddy::spawn(async { true }).await.unwrap() {
        return std::process::ExitCode::SUCCESS;
    }
    std::process::ExitCode::FAILURE
}

/// Under `UnhandledPanic::ShutdownRuntime` an unjoined task panic makes
/// the running `block_on` panic, and every later one (as `Runtime::block_on`
/// documents); dropping the runtime then still works.
#[test]
fn shutdown_runtime_policy_stops_this_and_every_later_block_on() {
    let rt = eddy::Builder::new()
        .unhandled_panic(eddy::UnhandledPanic::ShutdownRuntime)
        .build()
        .unwrap();
    let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            drop(eddy::spawn(async { panic!("unjoined") }));
            eddy::sleep(Duration::from_secs(3600)).await;
        })
    }));
    let text = panic_text(&*first.expect_err("the unjoined panic must stop block_on"));
    assert!(text.contains("ShutdownRuntime"), "{text}");
    let later = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(async {})));
    assert!(later.is_err(), "a later block_on must panic too");
    drop(rt);
}

/// A loop name no thread can take is refused by the facade's own check,
/// whichever drivers are compiled in (without the blocking pool, debug
/// mode's watchdog used to panic on it inside `build`).
#[test]
fn a_nul_in_the_loop_name_is_refused_by_the_facade_with_the_fix() {
    let err = eddy::Builder::new()
        .debug(true)
        .thread_name("bad\0name")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let text = err.to_string();
    assert!(
        text.contains("Builder::thread_name") && text.contains("remove"),
        "{text}"
    );
}

/// Ignored through `#[ignore]` after `#[eddy::test]` (listed by
/// `attributes_after_the_macro_stay_on_the_test`); harmless when run.
#[eddy::test]
#[ignore = "only listed, by attributes_after_the_macro_stay_on_the_test"]
async fn ignored_after_the_macro() {
    eddy::yield_now().await;
}

/// `#[ignore]` written after `#[eddy::test]` reaches the test harness:
/// the test is listed among the ignored ones.
#[test]
fn attributes_after_the_macro_stay_on_the_test() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--list", "--ignored"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.lines().any(|l| l == "ignored_after_the_macro: test"),
        "not among the ignored tests:\n{listed}"
    );
}
