//! asyncio's subprocess and signal topics, ported to eddy: a shell
//! pipeline, communicate with input, reading a child's output line by line
//! while it runs, killing a child on timeout and reaping it, and signals
//! delivered to this process; stderr merged into stdout (`stderr=STDOUT`).

mod common;

use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use common::port::{reaped, slow_guard as guard};
use eddy::process::{Command, Stdio};
use eddy::signal::unix::{signal, SignalKind};

#[test]
fn a_shell_pipeline_and_its_exit_status() {
    eddy::run(async {
        let out = guard(
            "pipeline",
            Command::shell("printf 'pear\\napple\\nfig\\n' | sort | tr a-z A-Z").output(),
        )
        .await
        .unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, b"APPLE\nFIG\nPEAR\n");
        assert!(out.stderr.is_empty());

        let out = guard("exit 3", Command::shell("echo oops >&2; exit 3").output())
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stderr, b"oops\n");

        // stderr into stdout, asyncio's stderr=STDOUT, the shell way.
        let out = guard(
            "2>&1",
            Command::shell("(echo out; echo err >&2) 2>&1").output(),
        )
        .await
        .unwrap();
        assert_eq!(out.stdout, b"out\nerr\n");
    });
}

#[test]
fn a_pipeline_of_two_children_connected_by_a_pipe() {
    eddy::run(async {
        let mut producer = Command::new("seq")
            .args(["1", "1000"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pipe = Stdio::try_from(producer.stdout.take().unwrap()).unwrap();
        let counter = Command::new("wc")
            .arg("-l")
            .stdin(pipe)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = guard("wc", counter.output()).await.unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "1000");
        assert!(guard("seq", producer.wait()).await.unwrap().success());
    });
}

#[test]
fn communicate_feeds_input_larger_than_a_pipe_and_reads_both_outputs() {
    eddy::run(async {
        // The child echoes stdin to stdout and also writes a lot to stderr:
        // both pipes fill while input is still being fed.
        let mut child = Command::shell("cat; head -c 300000 /dev/zero >&2")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let input: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let (out, err) = guard("communicate", child.communicate(Some(input.clone())))
            .await
            .unwrap();
        assert_eq!(out, input);
        assert_eq!(err.len(), 300_000);
        assert!(child.wait().await.unwrap().success());

        // A child that does not read its input is no error.
        let mut child = Command::shell("exit 0")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let (out, err) = guard(
            "ignored input",
            child.communicate(Some(vec![b'x'; 1 << 20])),
        )
        .await
        .unwrap();
        assert!(out.is_empty() && err.is_empty());
    });
}

#[test]
fn talk_to_a_child_line_by_line_while_it_runs() {
    eddy::run(async {
        let mut child = Command::shell("while read x; do echo \"got $x\"; done; echo bye")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut to_child = child.stdin.take().unwrap().into_stream_writer();
        let mut from_child = child.stdout.take().unwrap().into_stream_reader();
        for word in ["alpha", "beta", "gamma"] {
            to_child.write(format!("{word}\n").as_bytes()).unwrap();
            to_child.drain().await.unwrap();
            let reply = guard("reply", from_child.read_line()).await.unwrap();
            assert_eq!(reply, format!("got {word}\n").as_bytes());
        }
        // Closing stdin ends the child's loop.
        to_child.close();
        guard("stdin closed", to_child.wait_closed()).await;
        assert_eq!(
            guard("bye", from_child.read_line()).await.unwrap(),
            b"bye\n"
        );
        assert_eq!(guard("eof", from_child.read_line()).await.unwrap(), b"");
        assert!(guard("exit", child.wait()).await.unwrap().success());
    });
}

#[test]
fn kill_a_child_that_runs_too_long_and_reap_it() {
    eddy::run(async {
        let mut child = Command::new("sleep").arg("3600").spawn().unwrap();
        let pid = child.id();
        assert!(child.try_wait().unwrap().is_none());
        // asyncio: `await asyncio.wait_for(proc.wait(), 0.05)` times out...
        assert!(eddy::wait_for(child.wait(), Duration::from_millis(50))
            .await
            .is_err());
        // ... then kill and reap.
        child.kill().unwrap();
        let status = guard("reap", child.wait()).await.unwrap();
        assert_eq!(status.signal(), Some(9));
        assert_eq!(status.code(), None);
        assert_eq!(child.try_wait().unwrap(), Some(status));
        // Killing a reaped child is harmless.
        child.kill().unwrap();
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());

        let mut child = Command::new("sleep").arg("3600").spawn().unwrap();
        child.terminate().unwrap();
        assert_eq!(
            guard("terminate", child.wait()).await.unwrap().signal(),
            Some(15)
        );
    });
}

#[test]
fn a_cancelled_task_takes_its_kill_on_drop_child_with_it() {
    eddy::run(async {
        let (tx, rx) = eddy::sync::oneshot::channel();
        let task = eddy::spawn(async move {
            let mut child = Command::new("sleep")
                .arg("3600")
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let _ = tx.send(child.id());
            child.wait().await
        });
        let pid = guard("pid", rx).await.unwrap();
        task.cancel();
        assert!(task.await.unwrap_err().is_cancelled());
        // Killed and reaped in the background: no zombie is left.
        reaped("reaped", pid).await;
    });
}

#[test]
fn send_a_signal_the_child_traps() {
    eddy::run(async {
        let usr1 = SignalKind::user_defined1().as_raw_value();
        let mut child = Command::shell(
            "trap 'echo caught; exit 7' USR1; echo ready; while :; do sleep 0.01; done",
        )
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
        let mut out = child.stdout.take().unwrap().into_stream_reader();
        assert_eq!(guard("ready", out.read_line()).await.unwrap(), b"ready\n");
        child.send_signal(usr1).unwrap();
        assert_eq!(guard("caught", out.read_line()).await.unwrap(), b"caught\n");
        assert_eq!(guard("exit", child.wait()).await.unwrap().code(), Some(7));
    });
}

#[test]
fn spawning_a_missing_program_fails_with_not_found() {
    eddy::run(async {
        let err = Command::new("/definitely/not/a/program")
            .spawn()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let err = Command::new("no-such-program-eddy-test")
            .output()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    });
}

#[test]
fn receive_sigusr1_sent_to_ourselves() {
    eddy::run(async {
        // asyncio: loop.add_signal_handler(signal.SIGUSR1, handler)
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        let mut second_listener = signal(SignalKind::user_defined1()).unwrap();
        let me = std::process::id();
        let kill = format!("kill -USR1 {me}");
        assert!(Command::shell(&kill).status().await.unwrap().success());
        guard("first delivery", usr1.recv()).await.unwrap();
        // Every listener sees the delivery.
        guard("second listener", second_listener.recv())
            .await
            .unwrap();

        // A handler task, as asyncio's callback would be; it reports each
        // delivery so that the next signal is sent only after it (two
        // pending deliveries of one signal merge into one, as POSIX says).
        let (seen_tx, mut seen_rx) = eddy::sync::mpsc::unbounded_channel();
        let handler = eddy::spawn(async move {
            for n in 1..=3u32 {
                usr1.recv().await;
                seen_tx.send(n).unwrap();
            }
        });
        for n in 1..=3u32 {
            assert!(Command::shell(&kill).status().await.unwrap().success());
            assert_eq!(guard("handler saw it", seen_rx.recv()).await, Some(n));
        }
        guard("handler", handler).await.unwrap();
    });
}

#[test]
fn a_signal_stream_can_be_used_with_select_style_shutdown() {
    use futures::FutureExt;
    eddy::run(async {
        // A server loop that stops on SIGUSR2, asyncio's graceful shutdown.
        let mut stop = signal(SignalKind::user_defined2()).unwrap();
        let mut ticks = 0u32;
        let me = std::process::id();
        let sender = eddy::spawn(async move {
            eddy::sleep(Duration::from_millis(20)).await;
            Command::shell(format!("kill -USR2 {me}"))
                .status()
                .await
                .unwrap()
        });
        let mut every = eddy::time::interval(Duration::from_millis(1));
        guard("SIGUSR2", async {
            loop {
                futures::select! {
                    _ = stop.recv().fuse() => break,
                    _ = every.tick().fuse() => ticks += 1,
                }
            }
        })
        .await;
        assert!(guard("sender", sender).await.unwrap().success());
        assert!(ticks > 0);
    });
}

#[test]
fn communicate_under_a_timeout_then_kill_and_reap() {
    eddy::run(async {
        // The asyncio recipe: wait_for(proc.communicate(), t); on timeout
        // proc.kill() and collect the exit.
        let mut child = Command::shell("echo started; exec sleep 3600")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let timed_out = eddy::wait_for(child.communicate(None), Duration::from_millis(50)).await;
        assert!(timed_out.is_err());
        child.kill().unwrap();
        let status = guard("reap", child.wait()).await.unwrap();
        assert_eq!(status.signal(), Some(9));
        // A second communicate has nothing left to read and returns at once.
        let (out, err) = guard("again", child.communicate(None)).await.unwrap();
        assert!(out.is_empty() && err.is_empty());
    });
}

#[test]
fn working_directory_and_environment() {
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::shell("pwd; echo \"$GREETING\"")
            .current_dir(dir.path())
            .env("GREETING", "hello from the parent")
            .output()
            .await
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines();
        let pwd = std::fs::canonicalize(lines.next().unwrap()).unwrap();
        assert_eq!(pwd, std::fs::canonicalize(dir.path()).unwrap());
        assert_eq!(lines.next(), Some("hello from the parent"));
    });
}

#[test]
fn read_output_and_wait_for_the_exit_together() {
    eddy::run(async {
        let mut child =
            Command::shell("for i in 1 2 3 4 5; do echo tick $i; sleep 0.01; done; exit 4")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
        let mut reader = child.stdout.take().unwrap().into_stream_reader();
        let read_all = async {
            let mut lines = Vec::new();
            loop {
                let line = reader.read_line().await.unwrap();
                if line.is_empty() {
                    break lines;
                }
                lines.push(String::from_utf8(line).unwrap());
            }
        };
        let (lines, status) = guard("both", eddy::gather!(read_all, child.wait())).await;
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[4], "tick 5\n");
        assert_eq!(status.unwrap().code(), Some(4));
    });
}

/// `create_subprocess_shell(cmd, stdout=PIPE, stderr=STDOUT)`, the usual
/// way to capture a tool's whole log: warnings on stderr land between the
/// stdout lines they were written between, and the reader ends at end of
/// file once the child exits.
#[test]
fn stderr_merged_into_stdout_reads_the_log_in_order() {
    eddy::run(async {
        let mut child = Command::shell(
            "echo compiling; echo 'warning: unused' >&2; echo linking; echo 'error: boom' >&2; exit 2",
        )
        .stdout(Stdio::piped())
        .stderr_to_stdout()
        .spawn()
        .unwrap();
        assert!(child.stderr.is_none());
        let mut log = child.stdout.take().unwrap().into_stream_reader();
        let mut lines = Vec::new();
        loop {
            let line = guard("log line", log.read_line()).await.unwrap();
            if line.is_empty() {
                break;
            }
            lines.push(String::from_utf8(line).unwrap());
        }
        assert_eq!(
            lines,
            [
                "compiling\n",
                "warning: unused\n",
                "linking\n",
                "error: boom\n"
            ]
        );
        assert_eq!(guard("exit", child.wait()).await.unwrap().code(), Some(2));
    });
}
