//! Async stdio must not switch the standard descriptors' shared open file
//! descriptions to non-blocking mode: `println!` (std's blocking stdout),
//! a parent shell and sibling processes share them, and a blocking writer
//! that meets `O_NONBLOCK` on a full pipe fails with `WouldBlock` (and
//! `println!` panics) instead of waiting.
//!
//! Each scenario runs in a child process (this test binary again, one
//! `#[ignore]`d test, told by an environment variable that it is the
//! child), because it needs its own descriptors 0 and 1. The parents keep
//! a hang guard that kills the child: a hang is a failure, not a wait.

mod common;

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::pin::pin;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use eddy_io::io::{stdin, stdout};
use futures::io::{AsyncReadExt, AsyncWriteExt};

const CHILD_ENV: &str = "EDDY_STDIO_SHARED_CHILD";

/// How long a child may take before the hang guard kills it.
const GUARD_SECS: u64 = 120;

/// Whether descriptor `fd`'s open file description is in blocking mode.
fn is_blocking(fd: RawFd) -> bool {
    // SAFETY: fcntl(F_GETFL) takes no pointer.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    assert!(
        flags >= 0,
        "fcntl({fd}): {}",
        std::io::Error::last_os_error()
    );
    flags & libc::O_NONBLOCK == 0
}

fn gettid() -> libc::pid_t {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as libc::pid_t }
}

/// Whether thread `tid` of this process is inside a `write`/`writev` on
/// descriptor 1 right now (asleep there: a running thread shows
/// "running" instead of its arguments).
fn in_write_on_fd1(tid: libc::pid_t) -> bool {
    let path = format!("/proc/self/task/{tid}/syscall");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut fields = text.split_whitespace();
    let nr = fields.next().and_then(|n| n.parse::<libc::c_long>().ok());
    let fd = fields.next();
    matches!(nr, Some(n) if n == libc::SYS_write || n == libc::SYS_writev) && fd == Some("0x1")
}

/// A connected pair of Unix stream sockets.
fn socketpair() -> (OwnedFd, OwnedFd) {
    socketpair_of(libc::SOCK_STREAM)
}

/// A connected pair of Unix sockets of type `ty`.
fn socketpair_of(ty: libc::c_int) -> (OwnedFd, OwnedFd) {
    let mut sv = [0; 2];
    // SAFETY: `sv` has room for the two descriptors socketpair writes.
    let rc =
        unsafe { libc::socketpair(libc::AF_UNIX, ty | libc::SOCK_CLOEXEC, 0, sv.as_mut_ptr()) };
    assert_eq!(rc, 0, "socketpair: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are fresh and owned by nothing else.
    unsafe { (OwnedFd::from_raw_fd(sv[0]), OwnedFd::from_raw_fd(sv[1])) }
}

/// Makes descriptor `target` refer to what `fd` refers to.
fn dup2(fd: RawFd, target: RawFd) {
    // SAFETY: dup2 takes no pointers; `target` is a standard descriptor
    // that this child process redirects on purpose.
    let rc = unsafe { libc::dup2(fd, target) };
    assert!(rc >= 0, "dup2: {}", std::io::Error::last_os_error());
}

/// A private copy of descriptor `fd`, to put it back with [`dup2`] later.
fn save(fd: RawFd) -> OwnedFd {
    // SAFETY: F_DUPFD_CLOEXEC takes an integer argument.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    assert!(new >= 0, "dup: {}", std::io::Error::last_os_error());
    // SAFETY: `new` is fresh and owned by nothing else.
    unsafe { OwnedFd::from_raw_fd(new) }
}

/// `len` bytes of a pattern that a lost, repeated or reordered chunk
/// cannot reproduce.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 4099) as u8).collect()
}

/// Kills process `pid` unless the returned sender is dropped within
/// [`GUARD_SECS`]: a hang guard, not a timing assertion.
fn hang_guard(pid: u32) -> mpsc::Sender<()> {
    let (tx, rx) = mpsc::channel::<()>();
    thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) =
            rx.recv_timeout(Duration::from_secs(GUARD_SECS))
        {
            // SAFETY: kill takes no pointers; `pid` is our unreaped child.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    });
    tx
}

/// Waits for `child` under the hang guard `guard`.
fn wait(mut child: Child, guard: mpsc::Sender<()>) -> ExitStatus {
    let status = child.wait().unwrap();
    drop(guard);
    status
}

/// `status`, saying so when the hang guard killed the child.
fn describe(status: ExitStatus) -> String {
    if status.signal() == Some(libc::SIGKILL) {
        format!("{status}: killed by the hang guard after {GUARD_SECS} s, something blocked")
    } else {
        status.to_string()
    }
}

/// Runs `child` (its stdout and stderr piped) under a hang guard and
/// asserts that it succeeded and printed `marker`.
fn assert_child_ok(mut child: Command, marker: &str) {
    let child = child
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard = hang_guard(child.id());
    let out = child.wait_with_output().unwrap();
    drop(guard);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(marker),
        "{}: {stdout}\n{}",
        describe(out.status),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn child(name: &str) -> Command {
    common::test_in_child(name, CHILD_ENV, name)
}

/// Runs `body` if this process is the child started for test `name`. A
/// failure ends the process at once (the panic message is on stderr
/// already): the test harness would report it on stdout, which may be
/// the full pipe or socket under test, and wait there for good.
fn as_child(name: &str, body: impl FnOnce()) {
    if std::env::var_os(CHILD_ENV).is_none_or(|v| v != name) {
        return;
    }
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).is_err() {
        eprintln!("child failed");
        // SAFETY: _exit takes no pointers and does not return; skipping
        // the exit handlers is the point (no flush of a full stdout).
        unsafe { libc::_exit(1) };
    }
}

// ---------------------------------------------------------------------
// stdout is a pipe that fills up

/// One line of the fill phase: 16 bytes, so a non-blocking write of it is
/// atomic (at most `PIPE_BUF`): all of it or `EAGAIN`.
fn fill_line(i: u64) -> String {
    format!("fill {i:010}\n")
}

/// The blocking writer's block: 8 KiB, more than the room a full pipe can
/// have left, so it has to wait for the reader.
fn sync_block() -> String {
    (0..512).map(|k| format!("sync {k:010}\n")).collect()
}

const INTERLEAVED: usize = 1000;

fn interleaved() -> String {
    (0..INTERLEAVED)
        .map(|k| format!("async {k}\nprintln {k}\n"))
        .collect()
}

/// Child: stdout is a pipe its parent does not read yet. Fills it with
/// async writes until the handle reports that it would block, checks that
/// descriptor 1 is still blocking, and that a blocking `write_all` on
/// `std::io::stdout()` from another thread waits inside `write(2)` (the
/// parent drains only then) and succeeds. Then async writes and
/// `println!` alternate, and the parent checks every byte and the order.
#[test]
#[ignore = "run by the stdio tests as a child process"]
fn full_pipe_child() {
    as_child("full_pipe_child", || {
        common::run(async {
            let mut out = stdout();
            assert!(out.is_nonblocking(), "{out:?}");
            let mut lines = 0;
            loop {
                let line = fill_line(lines);
                let mut write = pin!(out.write(line.as_bytes()));
                match futures::poll!(write.as_mut()) {
                    Poll::Ready(n) => assert_eq!(n.unwrap(), 16),
                    // Out of budget, or before the first write (readiness not
                    // known yet): not the pipe's doing, so wait for it.
                    Poll::Pending if lines == 0 || !eddy_core::coop::has_budget_remaining() => {
                        assert_eq!(write.await.unwrap(), 16)
                    }
                    // The write returned EAGAIN: full. It moved no byte.
                    Poll::Pending => break,
                }
                lines += 1;
            }
            eprintln!("filled:{lines}");
            assert!(
                is_blocking(1),
                "the async stdout switched descriptor 1 to non-blocking mode ({out:?})"
            );

            let (tid_tx, tid_rx) = mpsc::channel();
            let writer = thread::spawn(move || {
                tid_tx.send(gettid()).unwrap();
                let mut std_out = std::io::stdout().lock();
                std_out.write_all(sync_block().as_bytes())?;
                std_out.flush()
            });
            let tid = tid_rx.recv().unwrap();
            // Until the writer is asleep in write(2) on the full pipe, or done
            // (it can only be done with an error: the pipe has no room).
            while !writer.is_finished() && !in_write_on_fd1(tid) {
                thread::sleep(Duration::from_millis(1));
            }
            if writer.is_finished() {
                let res = writer.join().unwrap();
                panic!("a blocking write to a full stdout did not wait: {res:?}");
            }
            assert!(is_blocking(1));
            eprintln!("full");
            writer
                .join()
                .unwrap()
                .expect("the blocking write to stdout, once the parent drained");

            for k in 0..INTERLEAVED {
                out.write_all(format!("async {k}\n").as_bytes())
                    .await
                    .unwrap();
                println!("println {k}");
            }
            out.write_all(b"done\n").await.unwrap();
            out.flush().await.unwrap();
            assert!(is_blocking(1));
        });
        assert!(is_blocking(1));
        eprintln!("child ok");
    });
}

#[test]
fn a_full_stdout_pipe_stays_blocking_for_println_and_keeps_the_order() {
    let mut child = child("full_pipe_child")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard = hang_guard(child.id());
    let mut child_out = child.stdout.take().unwrap();
    let mut child_err = BufReader::new(child.stderr.take().unwrap());
    // Do not read stdout until the child says the pipe is full and its
    // blocking writer is waiting.
    let mut err = String::new();
    let mut filled = None;
    loop {
        let mut line = String::new();
        if child_err.read_line(&mut line).unwrap() == 0 {
            let mut out = String::new();
            child_out.read_to_string(&mut out).unwrap();
            let status = wait(child, guard);
            let tail = &out[out.len().saturating_sub(2000)..];
            let status = describe(status);
            panic!("the child stopped before the pipe was full ({status}):\n{err}\n...{tail}");
        }
        err.push_str(&line);
        if let Some(n) = line.trim().strip_prefix("filled:") {
            filled = Some(n.parse::<u64>().unwrap());
        }
        if line.trim() == "full" {
            break;
        }
    }
    let rest_of_err = thread::spawn(move || {
        let mut rest = String::new();
        child_err.read_to_string(&mut rest).unwrap();
        rest
    });
    let mut out = Vec::new();
    child_out.read_to_end(&mut out).unwrap();
    let status = wait(child, guard);
    err.push_str(&rest_of_err.join().unwrap());
    let out = String::from_utf8(out).unwrap();
    assert!(
        status.success() && err.contains("child ok"),
        "{}:\n{err}",
        describe(status)
    );

    let filled = filled.expect("the child reports how many lines filled the pipe");
    assert!(filled > 0);
    let mut expected: String = (0..filled).map(fill_line).collect();
    expected.push_str(&sync_block());
    expected.push_str(&interleaved());
    expected.push_str("done\n");
    // The test harness prints "test NAME ... " before the child's output.
    let start = out.find("fill 0000000000\n").expect("fill lines");
    let got = &out[start..];
    assert!(
        got.starts_with(&expected),
        "stdout differs at byte {} of {}",
        got.bytes()
            .zip(expected.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(expected.len())),
        expected.len()
    );
}

// ---------------------------------------------------------------------
// stdout is a socket

const SOCKET_BYTES: usize = 4 << 20;

/// Child: descriptor 1 becomes one end of a socketpair (blocking), whose
/// other end a thread reads only once the async writer found the socket
/// full. A `send` that blocked the loop thread would never let that
/// happen (the hang guard would fire).
#[test]
#[ignore = "run by the stdio tests as a child process"]
fn socket_stdout_child() {
    as_child("socket_stdout_child", || {
        let saved = save(1);
        let (ours, peer) = socketpair();
        dup2(ours.as_raw_fd(), 1);
        drop(ours);
        assert!(is_blocking(1));
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let reader = thread::spawn(move || {
            let _ = go_rx.recv();
            let mut all = Vec::new();
            File::from(peer).read_to_end(&mut all).unwrap();
            all
        });
        let data = pattern(SOCKET_BYTES);
        let waited = common::run(async {
            let mut out = stdout();
            assert!(out.is_nonblocking(), "{out:?}");
            assert!(
                is_blocking(1),
                "the async stdout switched descriptor 1 to non-blocking mode"
            );
            assert!(format!("{out:?}").contains("MSG_DONTWAIT"), "{out:?}");
            let mut at = 0;
            let mut waited = 0;
            while at < data.len() {
                let mut write = pin!(out.write(&data[at..]));
                let n = match futures::poll!(write.as_mut()) {
                    Poll::Ready(n) => n.unwrap(),
                    Poll::Pending => {
                        if at > 0 && eddy_core::coop::has_budget_remaining() {
                            // Full: now the reader may start.
                            waited += 1;
                            let _ = go_tx.send(());
                        }
                        assert!(is_blocking(1));
                        write.await.unwrap()
                    }
                };
                assert!(n > 0);
                at += n;
            }
            out.flush().await.unwrap();
            assert!(is_blocking(1));
            waited
        });
        assert!(is_blocking(1));
        // Closes the last reference to our end: the reader sees the end.
        dup2(saved.as_raw_fd(), 1);
        drop(go_tx);
        let got = reader.join().unwrap();
        assert!(waited > 0, "the socket never filled up");
        assert!(
            got == data,
            "{} of {} bytes, or altered",
            got.len(),
            data.len()
        );
        println!("socket-stdout-ok");
    });
}

#[test]
fn a_socket_stdout_uses_msg_dontwait_and_stays_blocking() {
    assert_child_ok(child("socket_stdout_child"), "socket-stdout-ok");
}

// ---------------------------------------------------------------------
// stdin is a pipe, or a socket

const STDIN_BYTES: usize = 1 << 20;

/// Reads all of stdin through the async handle, checking between reads
/// that descriptor 0 stays blocking; returns the bytes.
async fn read_all_of_stdin(path: &str) -> Vec<u8> {
    let mut input = stdin();
    assert!(input.is_nonblocking(), "{input:?}");
    assert!(
        is_blocking(0),
        "the async stdin switched descriptor 0 to non-blocking mode"
    );
    assert!(format!("{input:?}").contains(path), "{input:?}");
    let mut all = Vec::new();
    let mut buf = vec![0; 10_000];
    loop {
        let n = input.read(&mut buf).await.unwrap();
        assert!(
            is_blocking(0),
            "the async stdin switched descriptor 0 to non-blocking mode"
        );
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf[..n]);
    }
    all
}

/// Child: stdin is a pipe its parent writes `STDIN_BYTES` of the pattern
/// to (more than a pipe holds, so reads wait for readiness).
#[test]
#[ignore = "run by the stdio tests as a child process"]
fn pipe_stdin_child() {
    as_child("pipe_stdin_child", || {
        let got = common::run(read_all_of_stdin("private pipe"));
        assert!(is_blocking(0));
        assert!(
            got == pattern(STDIN_BYTES),
            "{} bytes or altered",
            got.len()
        );
        println!("pipe-stdin-ok");
    });
}

#[test]
fn a_pipe_stdin_reads_everything_and_stays_blocking() {
    let mut child = child("pipe_stdin_child")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard = hang_guard(child.id());
    let mut input = child.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        // An error here (the child gave up early) shows in its output.
        for chunk in pattern(STDIN_BYTES).chunks(7_000) {
            if input.write_all(chunk).is_err() {
                break;
            }
        }
    });
    let out = child.wait_with_output().unwrap();
    drop(guard);
    writer.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("pipe-stdin-ok"),
        "{}: {stdout}\n{}",
        describe(out.status),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Child: descriptor 0 becomes one end of a socketpair; a thread writes
/// the pattern into the other end and closes it.
#[test]
#[ignore = "run by the stdio tests as a child process"]
fn socket_stdin_child() {
    as_child("socket_stdin_child", || {
        let saved = save(0);
        let (ours, peer) = socketpair();
        dup2(ours.as_raw_fd(), 0);
        drop(ours);
        let writer = thread::spawn(move || {
            let mut peer = File::from(peer);
            for chunk in pattern(STDIN_BYTES).chunks(7_000) {
                peer.write_all(chunk).unwrap();
            }
        });
        let got = common::run(read_all_of_stdin("MSG_DONTWAIT"));
        writer.join().unwrap();
        assert!(is_blocking(0));
        dup2(saved.as_raw_fd(), 0);
        assert!(
            got == pattern(STDIN_BYTES),
            "{} bytes or altered",
            got.len()
        );
        println!("socket-stdin-ok");
    });
}

#[test]
fn a_socket_stdin_uses_msg_dontwait_and_stays_blocking() {
    assert_child_ok(child("socket_stdin_child"), "socket-stdin-ok");
}

// ---------------------------------------------------------------------
// the fallback: a pipe that cannot be opened again

/// Child: descriptor 1 becomes the write end of a named FIFO whose reader
/// is gone. Opening a FIFO again for writing, non-blocking, fails with no
/// reader (`ENXIO`; an anonymous pipe would open), so the handle falls
/// back to switching the shared description to non-blocking mode, and
/// switches it back when it drops.
#[test]
#[ignore = "run by the stdio tests as a child process"]
fn fallback_child() {
    as_child("fallback_child", || {
        let saved = save(1);
        let dir = tempfile::tempdir().unwrap();
        let writer = common::fifo_writer_without_reader(dir.path());
        dup2(writer.as_raw_fd(), 1);
        drop(writer);
        let debug = common::run(async {
            let mut out = stdout();
            let debug = format!("{out:?}");
            assert!(out.is_nonblocking(), "{debug}");
            assert!(!is_blocking(1), "{debug}");
            // No reader: EPIPE (SIGPIPE is ignored in Rust programs).
            let err = out.write_all(b"lost\n").await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
            debug
        });
        let restored = is_blocking(1);
        dup2(saved.as_raw_fd(), 1);
        assert!(debug.contains("shared O_NONBLOCK"), "{debug}");
        assert!(
            restored,
            "blocking mode not restored after the handle dropped"
        );
        println!("fallback-ok");
    });
}

#[test]
fn a_pipe_that_cannot_be_reopened_falls_back_to_the_shared_flag_and_restores_it() {
    assert_child_ok(child("fallback_child"), "fallback-ok");
}

/// Child: descriptor 0 becomes a seqpacket socket with two messages
/// queued, whose peer then stays quiet (open, writing nothing). Each read
/// returns one message, shorter than the buffer: that must not be taken
/// for "drained", or the second read waits for an event that never comes.
#[test]
#[ignore = "run by the stdio tests as a child process"]
fn seqpacket_stdin_child() {
    as_child("seqpacket_stdin_child", || {
        let saved = save(0);
        let (ours, peer) = socketpair_of(libc::SOCK_SEQPACKET);
        dup2(ours.as_raw_fd(), 0);
        drop(ours);
        let mut peer = File::from(peer);
        peer.write_all(b"first").unwrap();
        peer.write_all(b"second").unwrap();
        let got = common::run(async {
            let mut input = stdin();
            assert!(format!("{input:?}").contains("MSG_DONTWAIT"), "{input:?}");
            let mut buf = [0; 64];
            let mut got = Vec::new();
            for _ in 0..2 {
                let n = input.read(&mut buf).await.unwrap();
                got.push(String::from_utf8(buf[..n].to_vec()).unwrap());
            }
            got
        });
        assert!(is_blocking(0));
        dup2(saved.as_raw_fd(), 0);
        drop(peer);
        assert_eq!(got, ["first", "second"]);
        println!("seqpacket-stdin-ok");
    });
}

#[test]
fn a_seqpacket_stdin_reads_every_queued_message() {
    assert_child_ok(child("seqpacket_stdin_child"), "seqpacket-stdin-ok");
}
