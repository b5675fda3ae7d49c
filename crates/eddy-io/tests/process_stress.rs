//! Subprocess stress: hundreds of children at once with wait futures
//! abandoned at random points, kill racing the child's own exit, children
//! moved to another runtime, megabytes through pipes with reads cancelled
//! mid-way, and — in a child process of its own, where no other test can
//! disturb the counts — no zombie and no descriptor left behind, with the
//! pidfd exit watch and with the SIGCHLD one.

mod common;

use common::stress::{guarded, yields, Rng};

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::pin::pin;

use eddy_io::process::{Child, Command, Stdio};
use futures::future::{select, Either};
use futures::io::{AsyncReadExt, AsyncWriteExt};

/// Waits for `child`, but abandons the wait future up to `rounds` times
/// after a random number of loop turns, re-creating it each time (the
/// documented cancel safety of `wait`).
async fn wait_abandoning(
    child: &mut Child,
    rng: &mut Rng,
    rounds: u32,
) -> io::Result<std::process::ExitStatus> {
    for _ in 0..rounds {
        let wait = pin!(child.wait());
        match select(wait, pin!(yields(rng.below(4)))).await {
            Either::Left((status, _)) => return status,
            Either::Right(((), _abandoned)) => {}
        }
    }
    child.wait().await
}

/// Polls a wait future once (registering the exit watch), expecting the
/// child to be still running, and drops it.
async fn start_wait(child: &mut Child) {
    let w = pin!(child.wait());
    assert!(futures::poll!(w).is_pending());
}

/// 250 children on one loop, all running at once: exit codes 0..=250,
/// signal deaths and kills, each waited by its own task through wait
/// futures that are dropped and re-created at random.
fn many_children(seed: u64) {
    common::run(async move {
        let tasks: Vec<_> = (0..250u64)
            .map(|i| {
                eddy_core::spawn(async move {
                    let mut rng = Rng::new(seed ^ i);
                    match i % 5 {
                        // A plain exit code.
                        0 | 1 => {
                            let code = i as i32;
                            let mut child = Command::shell(format!("exit {code}")).spawn().unwrap();
                            let status = wait_abandoning(&mut child, &mut rng, 8).await.unwrap();
                            assert_eq!(status.code(), Some(code), "child {i}");
                        }
                        // Death by its own signal.
                        2 => {
                            let mut child = Command::shell("kill -USR2 $$").spawn().unwrap();
                            let status = wait_abandoning(&mut child, &mut rng, 8).await.unwrap();
                            assert_eq!(status.signal(), Some(libc::SIGUSR2), "child {i}");
                        }
                        // Killed by us after a random number of loop turns.
                        3 => {
                            let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
                            start_wait(&mut child).await;
                            yields(rng.below(5)).await;
                            child.kill().unwrap();
                            let status = wait_abandoning(&mut child, &mut rng, 8).await.unwrap();
                            assert_eq!(status.signal(), Some(libc::SIGKILL), "child {i}");
                            // Cached: the same answer, no second reaping.
                            assert_eq!(child.try_wait().unwrap(), Some(status));
                            assert_eq!(child.wait().await.unwrap(), status);
                        }
                        // Output through a pipe, read by output().
                        _ => {
                            let out = Command::shell(format!("echo {i}; exit {}", i % 3))
                                .output()
                                .await
                                .unwrap();
                            assert_eq!(out.stdout, format!("{i}\n").as_bytes());
                            assert_eq!(out.status.code(), Some((i % 3) as i32), "child {i}");
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

#[test]
fn two_hundred_fifty_children_with_abandoned_waits() {
    guarded(120, || many_children(1));
}

#[test]
fn children_from_two_runtimes_at_once() {
    guarded(120, || {
        let threads: Vec<_> = (0..2)
            .map(|t| std::thread::spawn(move || many_children(100 + t)))
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    });
}

/// kill() racing the child's own exit: whichever wins, kill succeeds, the
/// status is one of the two outcomes, and kill after the reap is a no-op.
#[test]
fn kill_races_exit() {
    guarded(120, || {
        common::run(async {
            let mut rng = Rng::new(7);
            let mut exited = 0;
            let mut killed = 0;
            for round in 0..200 {
                let mut child = Command::shell("exit 3").spawn().unwrap();
                yields(rng.below(3)).await;
                if rng.below(2) == 0 {
                    // Maybe reaped already by try_wait: kill must not touch
                    // a pid that could belong to someone else by now.
                    let _ = child.try_wait().unwrap();
                }
                child.kill().unwrap();
                let status = child.wait().await.unwrap();
                match (status.code(), status.signal()) {
                    (Some(3), None) => exited += 1,
                    (None, Some(libc::SIGKILL)) => killed += 1,
                    other => panic!("round {round}: unexpected status {other:?}"),
                }
                child.kill().unwrap();
                child.terminate().unwrap();
                assert_eq!(child.wait().await.unwrap(), status);
            }
            assert_eq!(exited + killed, 200);
        });
    });
}

/// A child whose exit watch was registered on one runtime can be waited
/// on another: after the first runtime shut down, and while the first
/// loop is still alive but blocked.
#[test]
fn wait_on_another_runtime() {
    guarded(60, || {
        // The first runtime is gone when the second waits.
        let mut child = common::run(async {
            let mut child = Command::new("sleep").arg("0.05").spawn().unwrap();
            start_wait(&mut child).await;
            child
        });
        let status = common::run(async move { child.wait().await }).unwrap();
        assert!(status.success());

        // The first loop is alive but blocked (in a std join) while another
        // thread's loop waits: that wait must not depend on the first loop
        // turning.
        common::run(async {
            let mut child = Command::new("sleep").arg("0.05").spawn().unwrap();
            start_wait(&mut child).await;
            let waiter = std::thread::spawn(move || common::run(async move { child.wait().await }));
            let status = waiter.join().unwrap().unwrap();
            assert!(status.success());
        });
    });
}

/// A runtime of the test's own: its loop and its reactor's handle (entered
/// around each `block_on`, as the facade does).
fn runtime() -> (eddy_core::Runtime, eddy_io::driver::Handle) {
    let driver = eddy_io::driver::IoDriver::new().expect("reactor");
    let handle = driver.handle();
    let rt = eddy_core::Builder::new()
        .build_with_driver(Box::new(driver))
        .expect("runtime");
    (rt, handle)
}

/// Two runtimes alive on one thread: a child whose exit watch was
/// registered on runtime A is waited under runtime B's `block_on` on the
/// same thread while A exists but is idle (nothing turns A's reactor).
#[test]
fn wait_on_another_runtime_on_the_same_thread() {
    guarded(60, || {
        let (rt_a, io_a) = runtime();
        let (rt_b, io_b) = runtime();
        for _ in 0..3 {
            let mut child = {
                let _io = io_a.enter();
                rt_a.block_on(async {
                    let mut child = Command::new("sleep").arg("0.05").spawn().unwrap();
                    start_wait(&mut child).await;
                    child
                })
            };
            let status = {
                let _io = io_b.enter();
                rt_b.block_on(async move { child.wait().await })
            };
            assert!(status.unwrap().success());
        }
        drop((rt_a, rt_b));
    });
}

/// 16 MiB through `cat` both ways at once, written in random-sized chunks
/// while reads are dropped at random points: every byte arrives, in order.
#[test]
fn cat_16mib_with_cancelled_reads() {
    const TOTAL: usize = 16 << 20;
    fn byte(i: usize) -> u8 {
        (i.wrapping_mul(31) ^ (i >> 13)) as u8
    }
    guarded(120, || {
        common::run(async {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let mut stdout = child.stdout.take().unwrap();
            let writer = eddy_core::spawn(async move {
                let data: Vec<u8> = (0..TOTAL).map(byte).collect();
                let mut rng = Rng::new(11);
                let mut at = 0;
                while at < TOTAL {
                    let n = (1 + rng.below(200_000) as usize).min(TOTAL - at);
                    stdin.write_all(&data[at..at + n]).await.unwrap();
                    at += n;
                }
                stdin.close().await.unwrap();
            });
            let mut rng = Rng::new(12);
            let mut got = 0usize;
            let mut cancelled = 0u32;
            let mut buf = vec![0u8; 300_000];
            loop {
                let len = 1 + rng.below(buf.len() as u64) as usize;
                let read = pin!(stdout.read(&mut buf[..len]));
                let n = match select(read, pin!(yields(rng.below(3)))).await {
                    Either::Left((n, _)) => n.unwrap(),
                    Either::Right(_) => {
                        cancelled += 1;
                        continue;
                    }
                };
                if n == 0 {
                    break;
                }
                for (k, &b) in buf[..n].iter().enumerate() {
                    assert_eq!(b, byte(got + k), "byte {} differs", got + k);
                }
                got += n;
            }
            assert_eq!(got, TOTAL);
            assert!(
                cancelled > 0,
                "no read was cancelled: the test proves nothing"
            );
            writer.await.unwrap();
            assert!(child.wait().await.unwrap().success());
        });
    });
}

/// output() with megabytes on both stdout and stderr, written alternately
/// so the child blocks on whichever pipe is not being drained.
#[test]
fn output_with_large_stdout_and_stderr() {
    guarded(120, || {
        common::run(async {
            let out = Command::shell(
                "for i in 1 2 3 4; do head -c 1048576 /dev/zero >&2; \
                 head -c 1572864 /dev/zero | tr '\\0' o; done; exit 9",
            )
            .output()
            .await
            .unwrap();
            assert_eq!(out.status.code(), Some(9));
            assert_eq!(out.stderr.len(), 4 << 20);
            assert!(out.stderr.iter().all(|&b| b == 0));
            assert_eq!(out.stdout.len(), 6 << 20);
            assert!(out.stdout.iter().all(|&b| b == b'o'));

            // communicate(): input while the child floods both outputs.
            let mut child = Command::shell("head -c 3000000 /dev/zero >&2; cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let input = vec![b'i'; 5_000_000];
            let (o, e) = child.communicate(Some(input)).await.unwrap();
            assert_eq!((o.len(), e.len()), (5_000_000, 3_000_000));
            assert!(o.iter().all(|&b| b == b'i'));
        });
    });
}

// ---- hygiene: run in a child process of its own ----

const HYGIENE_ENV: &str = "EDDY_PROCESS_STRESS_HYGIENE";

fn open_fds() -> usize {
    // read_dir's own descriptor is counted every time alike.
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Whether this process has any child, running or zombie (without reaping
/// anything: WNOWAIT).
fn has_children() -> bool {
    // SAFETY: a zeroed siginfo_t is a valid out-parameter for waitid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid with WNOWAIT only inspects; `info` is a valid pointer.
    let rc = unsafe {
        libc::waitid(
            libc::P_ALL,
            0,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    if rc == -1 {
        assert_eq!(
            io::Error::last_os_error().raw_os_error(),
            Some(libc::ECHILD)
        );
        return false;
    }
    true
}

/// Every way a child can end: waited, abandoned waits, killed, dropped
/// running (killed on drop), dropped after its exit, dropped with open
/// pipes, dropped mid-output(), from two runtimes at once.
fn hygiene_scenario(seed: u64) {
    common::run(async move {
        let tasks: Vec<_> = (0..200u64)
            .map(|i| {
                eddy_core::spawn(async move {
                    let mut rng = Rng::new(seed ^ i);
                    match i % 6 {
                        0 => {
                            let mut c = Command::shell(format!("exit {}", i % 4)).spawn().unwrap();
                            let s = wait_abandoning(&mut c, &mut rng, 6).await.unwrap();
                            assert_eq!(s.code(), Some((i % 4) as i32));
                        }
                        1 => {
                            let mut c = Command::new("sleep")
                                .arg("1000")
                                .kill_on_drop(true)
                                .spawn()
                                .unwrap();
                            start_wait(&mut c).await;
                            yields(rng.below(3)).await;
                        }
                        2 => {
                            let c = Command::new("true").spawn().unwrap();
                            yields(rng.below(3)).await;
                            drop(c);
                        }
                        3 => {
                            let c = Command::new("cat")
                                .stdin(Stdio::piped())
                                .stdout(Stdio::piped())
                                .stderr(Stdio::piped())
                                .spawn()
                                .unwrap();
                            yields(rng.below(3)).await;
                            // Dropping closes stdin: cat exits by itself.
                            drop(c);
                        }
                        4 => {
                            let mut cmd =
                                Command::shell("head -c 1000000 /dev/zero; exec sleep 1000");
                            cmd.kill_on_drop(true);
                            let out = pin!(cmd.output());
                            let _ = select(out, pin!(yields(1 + rng.below(4)))).await;
                        }
                        _ => {
                            let mut c = Command::new("sleep").arg("1000").spawn().unwrap();
                            yields(rng.below(3)).await;
                            c.kill().unwrap();
                            let s = c.wait().await.unwrap();
                            assert_eq!(s.signal(), Some(libc::SIGKILL));
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // The dropped ones are reaped by background tasks: give them loop
        // turns (bounded), then check that nothing is left.
        for _ in 0..10_000 {
            if !has_children() {
                break;
            }
            yields(1).await;
            Command::new("true").status().await.unwrap();
        }
    });
}

fn hygiene_child() {
    // Warm up: lazily created process-wide state (the signal self-pipe in
    // SIGCHLD mode) exists before the count.
    // The wait must find the child running for the watch to be made.
    common::run(async {
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        start_wait(&mut child).await;
        child.kill().unwrap();
        child.wait().await.unwrap();
        Command::shell("exit 0").output().await.unwrap();
    });
    assert!(!has_children());
    let fds = open_fds();
    hygiene_scenario(1);
    assert!(
        !has_children(),
        "a child (zombie or running) was left behind"
    );
    assert_eq!(open_fds(), fds, "descriptors leaked");
    let threads: Vec<_> = (0..2)
        .map(|t| std::thread::spawn(move || hygiene_scenario(2 + t)))
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(
        !has_children(),
        "a child (zombie or running) was left behind"
    );
    assert_eq!(open_fds(), fds, "descriptors leaked");
}

#[test]
#[ignore = "run by no_zombies_no_fd_leaks as a child process"]
fn hygiene_in_child_process() {
    match std::env::var(HYGIENE_ENV).as_deref() {
        Ok("pidfd") => {}
        Ok("sigchld") => eddy_io::process::__use_sigchld_exit_watch(),
        _ => return,
    }
    hygiene_child();
    // And the cross-runtime and stress scenarios in this mode too.
    two_hundred_fifty_children_with_abandoned_waits();
    wait_on_another_runtime();
    wait_on_another_runtime_on_the_same_thread();
    kill_races_exit();
    println!("hygiene-ok");
}

fn run_hygiene(mode: &str) {
    let child = common::test_in_child("hygiene_in_child_process", HYGIENE_ENV, mode);
    common::assert_child_ok(child, "hygiene-ok", mode);
}

#[test]
fn no_zombies_no_fd_leaks_pidfd() {
    run_hygiene("pidfd");
}

#[test]
fn no_zombies_no_fd_leaks_sigchld() {
    run_hygiene("sigchld");
}
