//! Async stdio, tested by running this test binary again as a child whose
//! stdin/stdout are pipes (the non-blocking path) or files (the blocking
//! path). The `#[ignore]` tests are the children; they do nothing unless
//! started by their parent (the environment variable says so).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use eddy_io::io::{stdin, stdout};
use futures::io::AsyncWriteExt;
use futures::StreamExt;

const CHILD_ENV: &str = "EDDY_STDIO_CHILD";

/// Child: reads stdin line by line and writes `got:<LINE>` for each
/// (upper-cased) to stdout, then `mode:<nonblocking-in>:<nonblocking-out>`.
#[test]
#[ignore = "run by the stdio tests as a child process"]
fn stdio_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    common::run(async {
        let input = stdin();
        let in_nb = input.is_nonblocking();
        let mut out = stdout();
        let out_nb = out.is_nonblocking();
        let mut reader = input.into_stream_reader();
        let mut lines = reader.lines();
        while let Some(line) = lines.next().await {
            let line = line.unwrap();
            let text = String::from_utf8(line).unwrap().to_uppercase();
            out.write_all(format!("got:{text}\n").as_bytes())
                .await
                .unwrap();
        }
        out.write_all(format!("mode:{in_nb}:{out_nb}\n").as_bytes())
            .await
            .unwrap();
        out.flush().await.unwrap();
    });
    // Every handle dropped: blocking mode is back on fds 0 and 1.
    // SAFETY: fcntl(F_GETFL) on descriptors 0 and 1, no pointers.
    let nb = unsafe {
        (libc::fcntl(0, libc::F_GETFL) | libc::fcntl(1, libc::F_GETFL)) & libc::O_NONBLOCK
    };
    println!("restored:{}", nb == 0);
}

const EMPTY_READ_ENV: &str = "EDDY_STDIO_EMPTY_READ_CHILD";

/// Child: a zero-length read of stdin (a regular file: the blocking path),
/// then prints how far the file offset moved.
#[test]
#[ignore = "run by the stdio tests as a child process"]
fn stdio_empty_read_child() {
    if std::env::var_os(EMPTY_READ_ENV).is_none() {
        return;
    }
    use futures::io::AsyncReadExt;
    let n = common::run(async { stdin().read(&mut []).await.unwrap() });
    // SAFETY: lseek on descriptor 0 with no pointers involved.
    let offset = unsafe { libc::lseek(0, 0, libc::SEEK_CUR) };
    println!("empty-read:{n}:offset:{offset}");
}

#[test]
fn a_zero_length_read_of_a_blocking_stdin_returns_at_once_and_reads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let in_path = dir.path().join("in.txt");
    std::fs::write(&in_path, "data that must stay unread\n").unwrap();
    let out = common::test_in_child("stdio_empty_read_child", EMPTY_READ_ENV, "1")
        .stdin(std::fs::File::open(&in_path).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(out.contains("empty-read:0:offset:0\n"), "{out}");
}

fn child() -> Command {
    common::test_in_child("stdio_child", CHILD_ENV, "1")
}

fn got_lines(out: &str) -> Vec<&str> {
    // The harness prints "test stdio_child ... " without a newline first.
    out.lines()
        .filter_map(|l| {
            ["got:", "mode:", "restored:"]
                .iter()
                .find_map(|p| l.find(p))
                .map(|i| &l[i..])
        })
        .collect()
}

#[test]
fn stdin_lines_through_a_pipe() {
    let mut child = child()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // More than a pipe buffer, so reads really wait for readiness.
        for i in 0..20_000 {
            writeln!(stdin, "line {i}").unwrap();
        }
        writeln!(stdin, "last").unwrap();
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    let out = String::from_utf8(out.stdout).unwrap();
    let lines = got_lines(&out);
    assert_eq!(lines.len(), 20_003, "{}", &out[..out.len().min(2000)]);
    assert_eq!(lines[0], "got:LINE 0");
    assert_eq!(lines[19_999], "got:LINE 19999");
    assert_eq!(lines[20_000], "got:LAST");
    assert_eq!(lines[20_001], "mode:true:true");
    assert_eq!(lines[20_002], "restored:true");
}

#[test]
fn stdin_and_stdout_files_use_the_blocking_path() {
    let dir = tempfile::tempdir().unwrap();
    let in_path = dir.path().join("in.txt");
    let out_path = dir.path().join("out.txt");
    std::fs::write(&in_path, "alpha\nbeta\ngamma").unwrap();
    let status = child()
        .stdin(std::fs::File::open(&in_path).unwrap())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    let out = std::fs::read_to_string(&out_path).unwrap();
    assert!(
        out.contains("got:ALPHA\ngot:BETA\ngot:GAMMA\nmode:false:false\nrestored:true\n"),
        "{out}"
    );
}

#[test]
fn blocking_mode_is_restored() {
    // Stdin is a pipe closed at once (EOF): the child sees no lines, and
    // once its handles drop, its stdin and stdout pipes are blocking again.
    let out = child()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = String::from_utf8(out.stdout).unwrap();
    assert_eq!(got_lines(&out), ["mode:true:true", "restored:true"]);
}
