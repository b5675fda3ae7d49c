//! More of asyncio's subprocess patterns: many children at once, output
//! left in the pipe after the exit, a timed-out `output()` that takes its
//! child down, and stdin fed by a task while another reads.

mod common;

use std::time::Duration;

use common::port::{reaped, slow_guard as guard};
use eddy::process::{Command, Stdio};

#[test]
fn many_children_at_once_are_all_waited_for() {
    eddy::run(async {
        let children = (0..40).map(|i| async move {
            let out = Command::shell(format!("exit {}", i % 7))
                .status()
                .await
                .unwrap();
            out.code().unwrap()
        });
        let codes = guard("children", eddy::gather_all(children)).await;
        assert_eq!(codes, (0..40).map(|i| i % 7).collect::<Vec<_>>());
    });
}

#[test]
fn waits_in_many_tasks_for_children_exiting_in_reverse_order() {
    eddy::run(async {
        let mut tasks = Vec::new();
        for i in 0..10u32 {
            // The first started exits last.
            let mut child = Command::shell(format!("sleep 0.{}; exit {i}", 9 - i))
                .spawn()
                .unwrap();
            tasks.push(eddy::spawn(
                async move { child.wait().await.unwrap().code() },
            ));
        }
        let codes = guard("waits", eddy::gather_all(tasks)).await;
        let codes: Vec<_> = codes.into_iter().map(|c| c.unwrap().unwrap()).collect();
        assert_eq!(codes, (0..10).collect::<Vec<i32>>());
    });
}

#[test]
fn output_left_in_the_pipe_can_be_read_after_the_exit() {
    eddy::run(async {
        let mut child = Command::shell("echo one; echo two")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        assert!(guard("exit", child.wait()).await.unwrap().success());
        let mut out = child.stdout.take().unwrap().into_stream_reader();
        assert_eq!(
            guard("read", out.read_to_end()).await.unwrap(),
            b"one\ntwo\n"
        );
    });
}

#[test]
fn a_timed_out_output_with_kill_on_drop_takes_the_child_down() {
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let script = format!(
            "echo $$ > {}.tmp; mv {0}.tmp {0}; exec sleep 3600",
            pid_file.display()
        );
        let read_pid = || {
            std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok())
        };
        // The timeout is set off once the child is known to run, so the
        // test does not depend on how fast the shell starts.
        let out = eddy::time::deadline_at(None, |scope| async move {
            let mut cmd = Command::shell(script);
            let output = cmd.kill_on_drop(true).output();
            let arm = async {
                while read_pid().is_none() {
                    eddy::sleep(Duration::from_millis(5)).await;
                }
                scope.reschedule(Some(eddy::time::Instant::now()));
                std::future::pending::<()>().await
            };
            futures::future::select(Box::pin(output), Box::pin(arm)).await;
        });
        assert!(guard("timeout", out).await.is_err());
        let pid = read_pid().unwrap();
        reaped("killed and reaped", pid).await;
    });
}

#[test]
fn a_dropped_child_without_kill_on_drop_keeps_running_and_is_reaped_later() {
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let done = dir.path().join("done");
        let child = Command::shell(format!("sleep 0.05; touch {}", done.display()))
            .spawn()
            .unwrap();
        let pid = child.id();
        drop(child); // asyncio keeps running a process whose object is gone
        guard("ran to the end", async {
            while !done.exists() {
                eddy::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        reaped("reaped, not a zombie", pid).await;
    });
}

#[test]
fn feed_stdin_from_one_task_and_read_stdout_in_another() {
    eddy::run(async {
        let mut child = Command::new("tr")
            .args(["a-z", "A-Z"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap().into_stream_writer();
        let mut stdout = child.stdout.take().unwrap().into_stream_reader();
        let feeder = eddy::spawn(async move {
            // Far more than a pipe holds: only works if the reader runs too.
            for _ in 0..2000 {
                stdin
                    .write(b"the quick brown fox jumps over the lazy dog\n")
                    .unwrap();
                stdin.drain().await.unwrap();
            }
            stdin.close();
            stdin.wait_closed().await;
        });
        let reader = eddy::spawn(async move {
            let mut lines = 0;
            loop {
                let line = stdout.read_line().await.unwrap();
                if line.is_empty() {
                    break lines;
                }
                assert_eq!(line, b"THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG\n");
                lines += 1;
            }
        });
        guard("feeder", feeder).await.unwrap();
        assert_eq!(guard("reader", reader).await.unwrap(), 2000);
        assert!(guard("exit", child.wait()).await.unwrap().success());
    });
}

#[test]
fn writing_to_a_child_that_exited_fails_with_broken_pipe() {
    eddy::run(async {
        // asyncio: BrokenPipeError from drain(), not a dead parent.
        let mut child = Command::shell("exit 0")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap().into_stream_writer();
        assert!(guard("exit", child.wait()).await.unwrap().success());
        let err = guard("write error", async {
            loop {
                if let Err(e) = stdin.write(&[b'x'; 64 * 1024]) {
                    break e;
                }
                if let Err(e) = stdin.drain().await {
                    break e;
                }
            }
        })
        .await;
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::BrokenPipe, "{io}");
    });
}
