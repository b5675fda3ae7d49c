//! Runs a test future on an eddy-core loop whose driver is eddy-io's
//! reactor (what the facade does, minus the time driver).

#![allow(dead_code)]

pub mod feed;
pub mod stress;

use std::future::Future;

use eddy_io::io::{StreamReader, StreamWriter};

pub fn run<F: Future>(fut: F) -> F::Output {
    let driver = eddy_io::driver::IoDriver::new().expect("reactor");
    let handle = driver.handle();
    let rt = eddy_core::Builder::new()
        .build_with_driver(Box::new(driver))
        .expect("runtime");
    let _io = handle.enter();
    rt.block_on(fut)
}

/// A command that runs the `#[ignore]`d test `name` of this same test
/// binary in a child process of its own (alone, output not captured), with
/// `env_key=env_value` set so that the test knows it is the child. For
/// checks that need a whole process: fd and zombie counts, process-wide
/// signal state, rlimits, stdio.
pub fn test_in_child(name: &str, env_key: &str, env_value: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        name,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(env_key, env_value);
    cmd
}

/// Runs `cmd` to the end and asserts that it succeeded and printed
/// `marker`; the failure message shows `what` and both output streams.
pub fn assert_child_ok(mut cmd: std::process::Command, marker: &str, what: &str) {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(marker),
        "{what}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A `start_server` handler that echoes every line back until end of file.
pub async fn echo_lines(mut r: StreamReader, mut w: StreamWriter) -> std::io::Result<()> {
    loop {
        let line = r.read_line().await?;
        if line.is_empty() {
            return Ok(());
        }
        w.write(&line)?;
        w.drain().await?;
    }
}

/// Lets the loop run other tasks for a while (20 yields): enough for
/// connection handlers to react to what the test just did.
pub async fn settle() {
    for _ in 0..20 {
        eddy_core::yield_now().await;
    }
}

/// `cat` with both its stdin and stdout piped: the child and the two ends.
pub fn cat() -> (
    eddy_io::process::Child,
    eddy_io::process::ChildStdin,
    eddy_io::process::ChildStdout,
) {
    use eddy_io::process::{Command, Stdio};
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    (child, stdin, stdout)
}

/// The write end of a FIFO in `dir` whose reader has gone: a pipe that
/// cannot be reopened through `/proc/self/fd` (opening it for writing
/// would wait for a reader), for tests of the stdio fallback.
pub fn fifo_writer_without_reader(dir: &std::path::Path) -> std::fs::File {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join("fifo");
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c_path` is a NUL-terminated path that outlives the call.
    let rc = unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo: {}", std::io::Error::last_os_error());
    // A reader first (non-blocking, so it does not wait for a writer),
    // then the writer, then the reader goes.
    let reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&path)
        .unwrap();
    let writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    drop(reader);
    writer
}
