//! tokio::process and tokio::signal habits, ported to eddy: killing and
//! waiting, a child's pipes through futures' combinators, a reused
//! `Command`, a child and a signal stream that outlive their runtime, and
//! two listeners of one signal. asyncio_port*_process/signals cover
//! output/communicate deadlocks, pipelines, env and cwd, kill_on_drop and
//! signalled exits; this file covers what a tokio user does differently.

mod common;

use std::os::unix::process::ExitStatusExt;

use common::port::{guard, raise, slow_guard};
use eddy::process::{Command, Stdio};
use eddy::signal::unix::{signal, SignalKind};
use futures::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, TryStreamExt};

/// tokio's `child.kill().await` is eddy's `kill()` then `wait()`: the
/// status says SIGKILL, waiting again repeats it, and killing a reaped
/// child is a no-op that cannot reach a process that reused its pid.
/// `id()` keeps the pid after the exit (tokio's `id()` turns `None`).
#[test]
fn kill_then_wait_reports_sigkill_and_a_second_kill_is_harmless() {
    eddy::run(async {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        child.kill().unwrap();
        let status = slow_guard("wait after kill", child.wait()).await.unwrap();
        assert_eq!((status.code(), status.signal()), (None, Some(9)));
        assert_eq!(child.wait().await.unwrap(), status);
        assert_eq!(child.try_wait().unwrap(), Some(status));
        assert_eq!(child.id(), pid);
        child.kill().unwrap();
        child.terminate().unwrap();
        assert!(!common::port::alive(pid));
    });
}

/// Dropping the taken stdin is how a tokio user ends `cat`'s input; the
/// output is then read with `read_to_end` and the exit is clean. `wait`
/// closes a stdin still held, so a `cat` nobody feeds exits too.
#[test]
fn dropping_stdin_ends_cat_and_wait_closes_a_stdin_still_held() {
    eddy::run(async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let body = b"line\n".repeat(30_000); // more than a pipe holds
        let feed = async move {
            stdin.write_all(&body).await.unwrap();
            drop(stdin);
            body.len()
        };
        let mut out = Vec::new();
        let (fed, read) = futures::join!(feed, stdout.read_to_end(&mut out));
        assert_eq!(slow_guard("read", async { read }).await.unwrap(), fed);
        assert!(child.wait().await.unwrap().success());

        let mut idle = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        assert!(slow_guard("wait with stdin held", idle.wait())
            .await
            .unwrap()
            .success());
        // `output()` with stdin piped closes it too (tokio does the same).
        let out = slow_guard(
            "output of cat with stdin piped",
            Command::new("cat").stdin(Stdio::piped()).output(),
        )
        .await
        .unwrap();
        assert!(out.status.success() && out.stdout.is_empty());
    });
}

/// A child's stdout through `futures::io::BufReader::lines()` (tokio's
/// `BufReader::new(stdout).lines()`), read while it runs.
#[test]
fn child_stdout_lines_through_a_bufreader() {
    eddy::run(async {
        let mut child = Command::shell("printf 'one\\ntwo\\n'; sleep 0.05; printf 'three'")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines: Vec<String> = slow_guard(
            "lines",
            futures::io::BufReader::new(stdout).lines().try_collect(),
        )
        .await
        .unwrap();
        assert_eq!(lines, ["one", "two", "three"]);
        assert!(child.wait().await.unwrap().success());
    });
}

/// One `Command` spawned several times, as tokio (and std) allow; what
/// `output()` set on it (piped stdout) stays for the next call.
#[test]
fn a_command_builder_can_be_run_again() {
    eddy::run(async {
        let mut cmd = Command::new("echo");
        cmd.arg("again");
        for _ in 0..3 {
            let out = slow_guard("output", cmd.output()).await.unwrap();
            assert_eq!(out.stdout, b"again\n");
        }
        let status = slow_guard("status", cmd.status()).await.unwrap();
        assert!(status.success());
    });
}

/// A `Child` outlives the runtime that spawned it (tokio: the child
/// belongs to the runtime's driver): its exit is awaited under the next
/// runtime, while its pipes, which stay with their first loop, fail with
/// an error that says so instead of hanging.
#[test]
fn a_child_is_waited_under_a_second_runtime_and_its_old_pipe_says_why_it_fails() {
    let rt = eddy::Runtime::new().unwrap();
    let mut child = rt.block_on(async {
        Command::shell("read line; echo done")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    });
    drop(rt);
    let rt2 = eddy::Runtime::new().unwrap();
    rt2.block_on(async {
        let mut stdout = child.stdout.take().unwrap();
        let mut buf = Vec::new();
        let err = guard(
            "read from the old loop's pipe",
            stdout.read_to_end(&mut buf),
        )
        .await
        .unwrap_err();
        // It names the pipe's case, not only sockets.
        let text = err.to_string();
        assert!(
            text.contains("shut down") && text.contains("spawn children"),
            "{text}"
        );
        // Dropping stdin gives the child EOF; it exits and is reaped here.
        drop(child.stdin.take());
        let status = slow_guard("wait on the second runtime", child.wait())
            .await
            .unwrap();
        assert!(status.success(), "{status}");
    });
}

/// Two `Signal` streams for one signal (tokio: each `signal()` call is its
/// own stream) both see one delivery, in one task or two; dropping one
/// leaves the other subscribed.
#[test]
fn two_listeners_of_one_signal_both_see_it_and_outlive_each_other() {
    eddy::run(async {
        let mut a = signal(SignalKind::user_defined2()).unwrap();
        let mut b = signal(SignalKind::user_defined2()).unwrap();
        let other = eddy::spawn(async move { b.recv().await.map(|()| b) });
        common::port::settle().await;
        raise("-USR2").await;
        guard("first listener", a.recv()).await.unwrap();
        let mut b = guard("second listener", other).await.unwrap().unwrap();
        drop(a);
        raise("-USR2").await;
        guard("the one left", b.recv()).await.unwrap();
    });
}

/// A `Signal` outlives its runtime: a delivery that arrives while no
/// runtime exists is seen when the stream is next polled, under another
/// runtime (tokio's stream would be tied to its dead driver).
#[test]
fn a_signal_stream_outlives_its_runtime_and_keeps_what_arrived_meanwhile() {
    let rt = eddy::Runtime::new().unwrap();
    let mut sig = rt.block_on(async { signal(SignalKind::window_change()).unwrap() });
    drop(rt);
    // A delivery while the stream's runtime is gone (raised from a
    // runtime of its own, which the stream is not registered with).
    eddy::run(raise("-WINCH"));
    eddy::run(async move {
        guard("delivery from between runtimes", sig.recv())
            .await
            .unwrap();
        raise("-WINCH").await;
        guard("a later delivery", sig.recv()).await.unwrap();
    });
}

/// tokio's `Command::process_group(0)` is reached through `as_std_mut()`
/// (std's `CommandExt`): the child leads a group of its own, and one
/// signal to the group ends it and the grandchild it started.
#[test]
fn a_process_group_set_through_as_std_mut_is_signalled_whole() {
    use std::os::unix::process::CommandExt;
    eddy::run(async {
        let mut cmd = Command::shell("sleep 30 & echo $!; wait");
        cmd.stdout(Stdio::piped()).as_std_mut().process_group(0);
        let mut child = cmd.spawn().unwrap();
        let mut lines = futures::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let grandchild: u32 = slow_guard("grandchild pid", lines.try_next())
            .await
            .unwrap()
            .unwrap()
            .parse()
            .unwrap();
        let group = format!("-{}", child.id());
        let status = slow_guard(
            "kill the group",
            Command::new("kill").args(["-TERM", "--", &group]).status(),
        )
        .await
        .unwrap();
        assert!(status.success());
        let status = slow_guard("wait", child.wait()).await.unwrap();
        assert_eq!(status.signal(), Some(15), "{status}");
        // The grandchild's parent is gone: whoever adopts it reaps it, so
        // wait until it no longer runs (gone, or a zombie).
        let stat = format!("/proc/{grandchild}/stat");
        let running = || std::fs::read_to_string(&stat).is_ok_and(|s| !s.contains(") Z "));
        common::port::wait_while("grandchild ended", running).await;
    });
}

/// `Command::from(std::process::Command)` (tokio has it too) keeps the
/// program, arguments, environment and directory; `output()` gives its
/// own stream defaults, as its docs say, so streams are set on eddy's
/// builder.
#[test]
fn a_command_from_a_std_builder_keeps_its_settings() {
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let mut std_cmd = std::process::Command::new("sh");
        std_cmd
            .args(["-c", "echo \"$GREETING from $(pwd)\""])
            .env("GREETING", "hello")
            .current_dir(dir.path())
            .stdout(Stdio::null());
        let out = slow_guard("output", Command::from(std_cmd).output())
            .await
            .unwrap();
        let want = format!(
            "hello from {}\n",
            dir.path().canonicalize().unwrap().display()
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
    });
}
