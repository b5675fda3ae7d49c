//! Subprocesses: pipes, communicate, exit statuses, signals, many
//! children, background reaping.

mod common;

use std::io;
use std::os::unix::process::ExitStatusExt;

use eddy_io::process::{Command, Stdio};
use futures::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn echo_through_cat() {
    common::run(async {
        let (mut child, mut stdin, mut stdout) = common::cat();
        stdin.write_all(b"hello, cat\n").await.unwrap();
        let mut buf = [0u8; 11];
        stdout.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello, cat\n");
        stdin.close().await.unwrap();
        let mut rest = Vec::new();
        stdout.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn stream_reader_lines_from_child() {
    common::run(async {
        let mut child = Command::shell("printf 'a\\nb\\nc\\n'")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut reader = child.stdout.take().unwrap().into_stream_reader();
        let mut lines = Vec::new();
        loop {
            let line = reader.read_line().await.unwrap();
            if line.is_empty() {
                break;
            }
            lines.push(String::from_utf8(line).unwrap());
        }
        assert_eq!(lines, ["a\n", "b\n", "c\n"]);
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn stream_writer_into_child() {
    common::run(async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut w = child.stdin.take().unwrap().into_stream_writer();
        w.write(b"via writer").unwrap();
        w.close();
        w.wait_closed().await;
        let out = child.output().await.unwrap();
        assert_eq!(out.stdout, b"via writer");
    });
}

const BIG: usize = 8 * 1024 * 1024;

#[test]
fn communicate_8mib_in_and_out() {
    common::run(async {
        let input: Vec<u8> = (0..BIG).map(|i| (i % 251) as u8).collect();
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let (out, err) = child.communicate(Some(input.clone())).await.unwrap();
        assert_eq!(out.len(), BIG);
        assert!(out == input);
        assert!(err.is_empty());
        assert!(child.try_wait().unwrap().unwrap().success());
    });
}

#[test]
fn communicate_8mib_on_both_pipes() {
    common::run(async {
        let input = vec![b'x'; BIG];
        let mut child = Command::shell("cat; head -c 8388608 /dev/zero >&2")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (out, err) = child.communicate(Some(input)).await.unwrap();
        assert_eq!(out.len(), BIG);
        assert!(out.iter().all(|&b| b == b'x'));
        assert_eq!(err.len(), BIG);
        assert!(err.iter().all(|&b| b == 0));
    });
}

#[test]
fn communicate_after_stdin_taken_errors() {
    common::run(async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let err = child.communicate(Some(b"x".to_vec())).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("stdin"), "{err}");
        drop(stdin);
        // Without input it works: stdin was closed above, so cat exits.
        let (out, _) = child.communicate(None).await.unwrap();
        assert!(out.is_empty());
    });
}

#[test]
fn communicate_ignores_child_not_reading() {
    common::run(async {
        let mut child = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
        let (out, err) = child.communicate(Some(vec![0; BIG])).await.unwrap();
        assert!(out.is_empty() && err.is_empty());
    });
}

#[test]
fn exit_codes() {
    common::run(async {
        for code in [0, 1, 7, 255] {
            let status = Command::shell(format!("exit {code}"))
                .status()
                .await
                .unwrap();
            assert_eq!(status.code(), Some(code));
            assert_eq!(status.success(), code == 0);
        }
        let out = Command::shell("echo out; echo err >&2; exit 4")
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(4));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    });
}

/// `status` on a builder whose stdout and stderr are piped — set by hand,
/// or left there by an earlier `output` on the same builder — must not
/// leave the child blocked on a full pipe nobody reads. It hung forever.
#[test]
fn status_drains_piped_outputs_instead_of_hanging() {
    common::stress::guarded(120, || {
        common::run(async {
            let mut cmd =
                Command::shell("head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2; exit 5");
            let out = cmd.output().await.unwrap();
            assert_eq!((out.stdout.len(), out.stderr.len()), (1 << 20, 1 << 20));
            // The builder now pipes both outputs (as `output` documents).
            let status = cmd.status().await.unwrap();
            assert_eq!(status.code(), Some(5));

            let status = Command::shell("head -c 1048576 /dev/zero")
                .stdout(Stdio::piped())
                .status()
                .await
                .unwrap();
            assert!(status.success());
        });
    });
}

#[test]
fn signal_deaths() {
    common::run(async {
        let status = Command::shell("kill -USR1 $$").status().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGUSR1));
        assert_eq!(status.code(), None);
    });
}

#[test]
fn kill_and_terminate() {
    common::run(async {
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        assert!(child.try_wait().unwrap().is_none());
        child.kill().unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGKILL));
        // After the exit these are no-ops.
        child.kill().unwrap();
        child.terminate().unwrap();

        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        child.terminate().unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGTERM));

        // Not SIGINT: a test run started in the background (`cmd &`) ignores
        // SIGINT and SIGQUIT, and the child inherits that, so it would
        // never exit. SIGUSR1's default action is to terminate.
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        child.send_signal(libc::SIGUSR1).unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGUSR1));
    });
}

#[test]
fn wait_is_cancel_safe() {
    common::run(async {
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        {
            let fut = std::pin::pin!(child.wait());
            assert!(futures::poll!(fut).is_pending());
        }
        child.kill().unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGKILL));
        // Cached.
        assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGKILL));
    });
}

#[test]
fn two_hundred_concurrent_children() {
    common::run(async {
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                eddy_core::spawn(async move {
                    let out = Command::shell(format!("echo {i}; exit $(({i} % 3))"))
                        .output()
                        .await
                        .unwrap();
                    assert_eq!(out.stdout, format!("{i}\n").as_bytes());
                    assert_eq!(out.status.code(), Some(i % 3));
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

#[test]
fn missing_program_error_names_it() {
    common::run(async {
        let err = Command::new("eddy-no-such-program-xyz")
            .spawn()
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string().contains("eddy-no-such-program-xyz"),
            "{err}"
        );
        let err = Command::new("eddy-no-such-program-xyz")
            .output()
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("eddy-no-such-program-xyz"),
            "{err}"
        );
    });
}

/// A working directory that does not exist fails the spawn with the same
/// `NotFound` as a missing program: the message must name the directory,
/// not blame the program. It said `failed to spawn "true": No such file
/// or directory`.
#[test]
fn missing_current_dir_error_names_the_directory() {
    common::run(async {
        let err = Command::new("true")
            .current_dir("/eddy-no-such-dir-xyz")
            .spawn()
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let msg = err.to_string();
        assert!(msg.contains("/eddy-no-such-dir-xyz"), "{msg}");
        assert!(msg.contains("working directory"), "{msg}");
        // A file is no directory either.
        let err = Command::new("true")
            .current_dir("/proc/self/status")
            .status()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not a directory"), "{err}");
        // With a good directory, a missing program is still the one named.
        let err = Command::new("eddy-no-such-program-xyz")
            .current_dir("/")
            .spawn()
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("eddy-no-such-program-xyz"), "{msg}");
        assert!(!msg.contains("working directory"), "{msg}");
    });
}

#[test]
fn env_and_current_dir() {
    common::run(async {
        let out = Command::shell("echo $EDDY_TEST_VAR; pwd")
            .env("EDDY_TEST_VAR", "value42")
            .current_dir("/")
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"value42\n/\n");
        let out = Command::new("/usr/bin/env")
            .env_clear()
            .env("ONLY", "1")
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"ONLY=1\n");
    });
}

/// Whether `pid` is a zombie child of this process.
fn is_our_zombie(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false; // gone: reaped
    };
    // "pid (comm) state ppid ..." — comm may contain spaces; split after ')'.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next().unwrap();
    let ppid: u32 = fields.next().unwrap().parse().unwrap();
    state == "Z" && ppid == std::process::id()
}

#[test]
fn dropped_children_leave_no_zombies() {
    common::run(async {
        let mut pids = Vec::new();
        // Exit quickly, dropped unwaited.
        for _ in 0..20 {
            let child = Command::new("true").spawn().unwrap();
            pids.push(child.id());
        }
        // Still running when dropped: killed on drop.
        for _ in 0..5 {
            let child = Command::new("sleep")
                .arg("1000")
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            pids.push(child.id());
        }
        // Bounded retry: each round turns the loop (the reapers are tasks)
        // and spawns, which also sweeps the orphan list.
        let mut left = pids.clone();
        for _ in 0..2000 {
            left.retain(|&p| is_our_zombie(p));
            if left.is_empty() {
                break;
            }
            Command::new("true").status().await.unwrap();
        }
        assert!(left.is_empty(), "zombies left: {left:?}");
    });
}

#[test]
fn dropped_outside_a_loop_is_swept_later() {
    let pid = common::run(async { Command::new("true").spawn().unwrap() }).id();
    // The child (owned outside the runtime now) is dropped with no loop.
    let child = common::run(async { Command::new("true").spawn().unwrap() });
    let pid2 = child.id();
    drop(child);
    common::run(async {
        let mut left = vec![pid, pid2];
        for _ in 0..2000 {
            left.retain(|&p| is_our_zombie(p));
            if left.is_empty() {
                break;
            }
            Command::new("true").status().await.unwrap();
        }
        assert!(left.is_empty(), "zombies left: {left:?}");
    });
}

const SIGCHLD_CHILD_ENV: &str = "EDDY_PROCESS_SIGCHLD_CHILD";

/// Child: the main scenarios again with the SIGCHLD exit watch (as on
/// kernels without pidfd_open), in a process of its own.
#[test]
#[ignore = "run by sigchld_exit_watch as a child process"]
fn sigchld_child() {
    if std::env::var_os(SIGCHLD_CHILD_ENV).is_none() {
        return;
    }
    eddy_io::process::__use_sigchld_exit_watch();
    echo_through_cat();
    exit_codes();
    kill_and_terminate();
    wait_is_cancel_safe();
    two_hundred_concurrent_children();
    dropped_children_leave_no_zombies();
    // Several loops on several threads share the SIGCHLD listeners.
    let threads: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(two_hundred_concurrent_children))
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    println!("sigchld-child-ok");
}

#[test]
fn sigchld_exit_watch() {
    let child = common::test_in_child("sigchld_child", SIGCHLD_CHILD_ENV, "1");
    common::assert_child_ok(child, "sigchld-child-ok", "SIGCHLD exit watch");
}

#[test]
fn child_dropped_at_runtime_shutdown() {
    // The child is owned by a task that never finishes: it is dropped when
    // the runtime shuts down (killed, then reaped by a later spawn).
    let pid = common::run(async {
        let child = Command::new("sleep")
            .arg("1000")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id();
        drop(eddy_core::spawn(async move {
            let _child = child;
            std::future::pending::<()>().await
        }));
        eddy_core::yield_now().await;
        pid
    });
    common::run(async {
        let mut left = vec![pid];
        for _ in 0..2000 {
            left.retain(|&p| is_our_zombie(p) || is_running(p));
            if left.is_empty() {
                break;
            }
            Command::new("true").status().await.unwrap();
        }
        assert!(left.is_empty(), "child {pid} still there");
    });
}

/// Whether `pid` is a live (non-zombie) child of this process.
fn is_running(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next().unwrap();
    let ppid: u32 = fields.next().unwrap().parse().unwrap();
    state != "Z" && ppid == std::process::id()
}

/// A pipe handed to another child (`a | b`) is blocking again for it:
/// `cat` reading a pipe whose writer is slow must not fail with EAGAIN.
#[test]
fn pipeline_between_children() {
    common::run(async {
        let mut a = Command::shell("sleep 0.1; echo one; sleep 0.1; echo two")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pipe = Stdio::try_from(a.stdout.take().unwrap()).unwrap();
        let out = Command::new("cat").stdin(pipe).output().await.unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "",
            "cat saw a non-blocking pipe"
        );
        assert_eq!(out.stdout, b"one\ntwo\n");
        assert!(out.status.success());
        assert!(a.wait().await.unwrap().success());

        // stderr into a child, and a child writing into another's stdin.
        let mut b = Command::new("wc")
            .arg("-c")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let into_b = Stdio::try_from(b.stdin.take().unwrap()).unwrap();
        let mut c = Command::shell("sleep 0.1; echo four >&2")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let from_c = Stdio::try_from(c.stderr.take().unwrap()).unwrap();
        let status = Command::new("cat")
            .stdin(from_c)
            .stdout(into_b)
            .status()
            .await
            .unwrap();
        assert!(status.success());
        let out = b.output().await.unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "5");
        assert!(c.wait().await.unwrap().success());
    });
}

#[test]
fn send_signal_takes_a_signal_kind() {
    common::run(async {
        let mut child = Command::new("sleep").arg("100").spawn().unwrap();
        // SIGTERM, not SIGINT: a background shell (CI under nohup) starts
        // its children with SIGINT ignored, and `sleep` inherits that.
        child
            .send_signal(eddy_io::signal::unix::SignalKind::terminate())
            .unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGTERM));
    });
}
