//! asyncio's signal handlers and subprocesses, ported to eddy (third
//! pass): one signal reaching listeners on two loops, ctrl_c with a SIGINT
//! sent to ourselves, remove_signal_handler then add it again; a child's
//! environment cleared, stdin from a file and stdout into one, a child
//! left running or killed when dropped, try_wait, exit by its own signal,
//! and output() with a large stderr.

mod common;

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use common::port::{alive, raise, reaped, settle, slow_guard as guard};
use eddy::process::{Command, Stdio};
use eddy::signal::unix::{signal, SignalKind};
use futures::StreamExt;

#[test]
fn one_signal_reaches_listeners_on_two_loops_and_in_two_tasks() {
    // A listener on another thread's loop, ready before we raise.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let other = std::thread::spawn(move || {
        eddy::run(async move {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            ready_tx.send(()).unwrap();
            guard("other loop's listener", usr1.recv()).await
        })
    });
    ready_rx.recv().unwrap();
    eddy::run(async {
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
                eddy::spawn(async move { guard("task listener", usr1.recv()).await })
            })
            .collect();
        settle().await;
        raise("-USR1").await;
        for t in tasks {
            assert_eq!(t.await.unwrap(), Some(()));
        }
    });
    assert_eq!(other.join().unwrap(), Some(()));
}

#[test]
fn ctrl_c_returns_on_a_sigint_sent_to_ourselves() {
    eddy::run(async {
        let waiter = eddy::spawn(eddy::signal::ctrl_c());
        // Its first poll installs the handler: after that a SIGINT no
        // longer kills the process.
        settle().await;
        assert!(!waiter.is_finished());
        raise("-INT").await;
        guard("ctrl_c", waiter).await.unwrap().unwrap();
        // Later ctrl_c calls wait for the next SIGINT, and two waiting at
        // once both see it.
        let again = eddy::spawn(eddy::signal::ctrl_c());
        let too = eddy::spawn(eddy::signal::ctrl_c());
        settle().await;
        assert!(!again.is_finished() && !too.is_finished());
        raise("-INT").await;
        guard("second ctrl_c", again).await.unwrap().unwrap();
        guard("third ctrl_c", too).await.unwrap().unwrap();
        // The Stream form: a SIGINT listener polled with StreamExt::next.
        let mut int = signal(SignalKind::interrupt()).unwrap();
        raise("-INT").await;
        assert_eq!(guard("as a Stream", int.next()).await, Some(()));
    });
}

#[test]
fn a_dropped_signal_listener_can_be_created_again() {
    eddy::run(async {
        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
        raise("-USR2").await;
        guard("first", usr2.recv()).await.unwrap();
        // remove_signal_handler: drop it. The process-wide handler stays,
        // so a SIGUSR2 nobody listens to does not kill us.
        drop(usr2);
        raise("-USR2").await;
        // add_signal_handler again: the new listener gets the next one.
        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
        assert_eq!(usr2.kind(), SignalKind::user_defined2());
        raise("-USR2").await;
        guard("after re-creating", usr2.recv()).await.unwrap();
        // And again, in a loop, as a handler task would.
        for _ in 0..3 {
            drop(usr2);
            usr2 = signal(SignalKind::user_defined2()).unwrap();
            raise("-USR2").await;
            guard("loop", usr2.recv()).await.unwrap();
        }
    });
}

#[test]
fn env_clear_env_remove_and_envs_shape_the_childs_environment() {
    eddy::run(async {
        let out = Command::new("/usr/bin/env")
            .env_clear()
            .env("ONLY", "this")
            .envs([("AND", "that"), ("DROPPED", "x")])
            .env_remove("DROPPED")
            .output()
            .await
            .unwrap();
        assert!(out.status.success());
        let mut vars: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        vars.sort();
        assert_eq!(vars, ["AND=that", "ONLY=this"]);

        // Without env_clear the parent's environment is inherited, with a
        // single variable removed.
        let out = Command::shell("echo \"[$HOME]\"")
            .env_remove("HOME")
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"[]\n");
    });
}

#[test]
fn stdin_from_a_file_and_stdout_into_a_file() {
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.txt");
        let output = dir.path().join("out.txt");
        std::fs::write(&input, "banana\napple\ncherry\n").unwrap();
        let status = Command::new("sort")
            .current_dir(dir.path())
            .stdin(std::fs::File::open(&input).unwrap())
            .stdout(std::fs::File::create(&output).unwrap())
            .status()
            .await
            .unwrap();
        assert!(status.success());
        assert_eq!(
            std::fs::read_to_string(&output).unwrap(),
            "apple\nbanana\ncherry\n"
        );
        // Appending: a file opened for append as stderr.
        let log = dir.path().join("log.txt");
        std::fs::write(&log, "before\n").unwrap();
        let append = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        Command::shell("echo to-stderr >&2")
            .stderr(Stdio::from(append))
            .status()
            .await
            .unwrap();
        let mut text = String::new();
        std::fs::File::open(&log)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "before\nto-stderr\n");
    });
}

#[test]
fn a_dropped_child_keeps_running_unless_kill_on_drop() {
    eddy::run(async {
        // Default (asyncio's behaviour): the process outlives its handle.
        let child = Command::new("sleep").arg("3600").spawn().unwrap();
        let pid = child.id();
        drop(child);
        settle().await;
        assert!(alive(pid));
        let status = Command::new("kill")
            .arg(pid.to_string())
            .status()
            .await
            .unwrap();
        assert!(status.success());
        reaped("dropped child reaped after kill", pid).await;

        // kill_on_drop set on the Child after spawning.
        let mut child = Command::new("sleep").arg("3600").spawn().unwrap();
        child.kill_on_drop(true);
        let pid = child.id();
        drop(child);
        reaped("kill_on_drop child", pid).await;
    });
}

#[test]
fn try_wait_sees_the_exit_without_wait_and_wait_then_repeats_it() {
    eddy::run(async {
        let mut child = Command::shell("exit 3").spawn().unwrap();
        let status = guard("try_wait", async {
            loop {
                if let Some(s) = child.try_wait().unwrap() {
                    break s;
                }
                eddy::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert_eq!(status.code(), Some(3));
        assert_eq!(guard("wait", child.wait()).await.unwrap(), status);
        assert_eq!(guard("wait again", child.wait()).await.unwrap(), status);
        // kill after the exit is harmless.
        child.kill().unwrap();
    });
}

#[test]
fn a_child_killed_by_its_own_signal_reports_it() {
    eddy::run(async {
        let mut child = Command::shell("kill -TERM $$; sleep 5").spawn().unwrap();
        let status = guard("self-terminated", child.wait()).await.unwrap();
        assert_eq!(status.signal(), Some(15));
        assert_eq!(status.code(), None);
        assert!(!status.success());

        // SIGKILL from us, then wait: the same shape.
        let mut child = Command::new("sleep").arg("3600").spawn().unwrap();
        child.kill().unwrap();
        let status = guard("killed", child.wait()).await.unwrap();
        assert_eq!(status.signal(), Some(9));
        // output() of a child that kills itself still returns what it wrote.
        let out = Command::shell("echo last words; kill -KILL $$")
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"last words\n");
        assert_eq!(out.status.signal(), Some(9));
    });
}

#[test]
fn output_with_megabytes_on_stderr_and_stdout_does_not_deadlock() {
    eddy::run(async {
        // Each stream well beyond a pipe's 64 KiB, written alternately so
        // that a reader draining only one of them would stall the child.
        let out = guard(
            "output",
            Command::shell(
                "i=0; while [ $i -lt 64 ]; do \
                   head -c 16384 /dev/zero | tr '\\0' e >&2; \
                   head -c 8192 /dev/zero | tr '\\0' o; \
                   i=$((i+1)); done",
            )
            .output(),
        )
        .await
        .unwrap();
        assert!(out.status.success());
        assert_eq!(out.stderr.len(), 64 * 16384);
        assert!(out.stderr.iter().all(|&b| b == b'e'));
        assert_eq!(out.stdout.len(), 64 * 8192);
        assert!(out.stdout.iter().all(|&b| b == b'o'));
        let _ = std::io::stderr().flush();
    });
}
