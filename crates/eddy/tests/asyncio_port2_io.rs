//! asyncio's lower I/O topics, ported to eddy: a filter program on async
//! stdin/stdout (this test binary runs itself as the child), add_reader on
//! a pipe (a FIFO, through `AsyncFd`), and aiofiles-style file work through
//! `eddy::fs` on the blocking pool (files, seek, read_dir, metadata).

mod common;

use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use common::port::{guard, slow_guard};
use eddy::io::AsyncFd;
use futures::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, StreamExt};

/// Linux's `O_NONBLOCK` (no `libc` among this crate's dev-dependencies).
const O_NONBLOCK: i32 = 0o4000;

/// Set in the child run of this binary; names the role it plays.
const CHILD: &str = "EDDY_PORT2_STDIO_CHILD";

/// Whether descriptor `fd` of this process has `O_NONBLOCK` on its open
/// file description (read from /proc, which prints the flags in octal).
fn fd_nonblocking(fd: u32) -> bool {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .map(|v| i32::from_str_radix(v.trim(), 8).unwrap())
        .unwrap();
    flags & O_NONBLOCK != 0
}

/// The child's side: an upper-casing filter, asyncio-style
/// (`reader = StreamReader(); ... connect_read_pipe(sys.stdin)`).
#[test]
fn stdio_child_filter() {
    let Ok(role) = std::env::var(CHILD) else {
        return; // only meaningful as the child of the tests below
    };
    eddy::run(async move {
        let stdin = eddy::io::stdin();
        let mut out = eddy::io::stdout();
        let mode = format!(
            "@@ stdin nonblocking={} fd0 O_NONBLOCK={} fd1 O_NONBLOCK={}\n",
            stdin.is_nonblocking(),
            fd_nonblocking(0),
            fd_nonblocking(1)
        );
        out.write_all(mode.as_bytes()).await.unwrap();
        let mut reader = stdin.into_stream_reader();
        let mut n = 0;
        loop {
            let line = reader.read_line().await.unwrap();
            if line.is_empty() {
                break;
            }
            n += 1;
            let upper = String::from_utf8(line).unwrap().to_uppercase();
            let upper = upper.trim_end_matches('\n');
            out.write_all(format!("@@ {role} {upper}\n").as_bytes())
                .await
                .unwrap();
        }
        out.write_all(format!("@@ lines={n}\n").as_bytes())
            .await
            .unwrap();
        out.flush().await.unwrap();
    });
}

/// Runs this binary's `stdio_child_filter` with `input` on a pipe, or with
/// stdin on /dev/null when `input` is `None`; returns its `@@` lines.
async fn run_filter(input: Option<&[u8]>) -> Vec<String> {
    use eddy::process::{Command, Stdio};
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", "stdio_child_filter", "--nocapture", "-q"])
        .env(CHILD, "filter")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (stdout, _) = slow_guard("filter child", child.communicate(input.map(<[u8]>::to_vec)))
        .await
        .unwrap();
    let status = slow_guard("filter exit", child.wait()).await.unwrap();
    assert!(status.success(), "{status:?}");
    String::from_utf8(stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.find("@@ ").map(|i| l[i + 3..].to_owned()))
        .collect()
}

#[test]
fn a_filter_on_async_stdin_and_stdout_over_pipes() {
    eddy::run(async {
        let lines = run_filter(Some(b"hello\nasync world\nno newline at end")).await;
        assert_eq!(
            lines,
            [
                // A pipe: read through the reactor, and neither standard
                // descriptor's shared flags were switched to non-blocking.
                "stdin nonblocking=true fd0 O_NONBLOCK=false fd1 O_NONBLOCK=false",
                "filter HELLO",
                "filter ASYNC WORLD",
                "filter NO NEWLINE AT END",
                "lines=3",
            ]
        );
    });
}

#[test]
fn async_stdin_on_dev_null_ends_at_once() {
    eddy::run(async {
        let lines = run_filter(None).await;
        assert_eq!(
            lines,
            [
                "stdin nonblocking=false fd0 O_NONBLOCK=false fd1 O_NONBLOCK=false",
                "lines=0",
            ]
        );
    });
}

#[test]
fn add_reader_on_a_pipe_reads_each_arrival_then_sees_eof() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(made.success());
    eddy::run(async move {
        // os.open(path, O_RDONLY | O_NONBLOCK) does not wait for a writer.
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(O_NONBLOCK)
            .open(&path)
            .unwrap();
        let mut writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let fd = std::rc::Rc::new(AsyncFd::new(reader).unwrap());
        let got = std::rc::Rc::new(std::cell::RefCell::new(Vec::<String>::new()));
        let reading = {
            let (fd, got) = (fd.clone(), got.clone());
            eddy::spawn(async move {
                use std::io::Read;
                let mut wakeups = 0;
                loop {
                    let mut ready = fd.readable().await.unwrap();
                    wakeups += 1;
                    let mut buf = [0u8; 64];
                    match ready.try_io(|f| f.get_ref().read(&mut buf)) {
                        Ok(Ok(0)) => return wakeups, // the writer closed
                        Ok(Ok(n)) => got
                            .borrow_mut()
                            .push(String::from_utf8_lossy(&buf[..n]).into_owned()),
                        Ok(Err(e)) => panic!("read: {e}"),
                        Err(_would_block) => {} // readiness cleared: wait again
                    }
                }
            })
        };
        common::port::settle().await;
        assert!(got.borrow().is_empty());
        use std::io::Write;
        writer.write_all(b"ping").unwrap();
        common::port::wait_while("first chunk", || got.borrow().is_empty()).await;
        writer.write_all(b"pong").unwrap();
        common::port::wait_while("second chunk", || got.borrow().len() < 2).await;
        drop(writer);
        let wakeups = guard("eof", reading).await.unwrap();
        assert_eq!(*got.borrow(), ["ping", "pong"]);
        // ping, pong, then at least the EOF; each WouldBlock costs a wait.
        assert!(wakeups >= 3, "{wakeups}");
        // remove_reader: take the descriptor back.
        let fd = std::rc::Rc::try_unwrap(fd).unwrap();
        let file = fd.into_inner();
        drop(file);
    });
}

#[test]
fn add_reader_on_a_regular_file_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain");
    std::fs::write(&path, b"x").unwrap();
    eddy::run(async move {
        let file = std::fs::File::open(&path).unwrap();
        // asyncio (epoll): add_reader raises PermissionError here.
        let err = AsyncFd::new(file).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{err}");
    });
}

#[test]
fn aiofiles_style_write_append_seek_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    eddy::run(async move {
        // async with aiofiles.open(path, "w") as f: await f.write(...)
        let mut f = eddy::fs::File::create(&path).await.unwrap();
        f.write_all(b"first line\n").await.unwrap();
        f.write_all(b"second line\n").await.unwrap();
        f.close().await.unwrap();
        // mode "a"
        let mut f = eddy::fs::File::options()
            .append(true)
            .open(&path)
            .await
            .unwrap();
        f.write_all(b"third line\n").await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), 34);
        drop(f);
        // mode "r", f.seek(), f.read()
        let mut f = eddy::fs::File::open(&path).await.unwrap();
        f.seek(std::io::SeekFrom::Start(11)).await.unwrap();
        let mut rest = String::new();
        f.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "second line\nthird line\n");
        // Writing to a read-only file fails on flush at the latest.
        let refused = async {
            f.write_all(b"no").await?;
            f.flush().await
        }
        .await;
        assert!(refused.is_err());
        let whole = eddy::fs::read_to_string(&path).await.unwrap();
        assert_eq!(whole.lines().count(), 3);
    });
}

#[test]
fn a_file_dropped_without_flush_still_gets_its_last_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unflushed");
    eddy::run(async move {
        let mut f = eddy::fs::File::create(&path).await.unwrap();
        f.write_all(b"payload").await.unwrap();
        drop(f); // no flush, no close
        let p = path.clone();
        guard("write lands", async move {
            while eddy::fs::read(&p).await.unwrap() != b"payload" {
                eddy::sleep(Duration::from_millis(1)).await;
            }
        })
        .await;
    });
}

#[test]
fn read_dir_and_metadata_like_os_scandir_in_a_thread() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    eddy::run(async move {
        eddy::fs::create_dir_all(root.join("sub/deeper"))
            .await
            .unwrap();
        for (name, size) in [("a.txt", 1usize), ("b.txt", 20), ("c.bin", 300)] {
            eddy::fs::write(root.join(name), vec![b'x'; size])
                .await
                .unwrap();
        }
        eddy::fs::copy(root.join("b.txt"), root.join("sub/b-copy.txt"))
            .await
            .unwrap();
        eddy::fs::rename(root.join("c.bin"), root.join("sub/deeper/c.bin"))
            .await
            .unwrap();
        eddy::fs::remove_file(root.join("a.txt")).await.unwrap();

        let mut listing = Vec::new();
        let mut entries = eddy::fs::read_dir(&root).await.unwrap();
        while let Some(entry) = entries.next().await {
            let entry = entry.unwrap();
            let meta = entry.metadata().await.unwrap();
            let kind = if entry.file_type().unwrap().is_dir() {
                "dir"
            } else {
                "file"
            };
            listing.push((
                entry.file_name().into_string().unwrap(),
                kind,
                if meta.is_dir() { 0 } else { meta.len() },
            ));
        }
        listing.sort();
        assert_eq!(
            listing,
            [("b.txt".into(), "file", 20), ("sub".into(), "dir", 0)]
        );
        let moved = eddy::fs::metadata(root.join("sub/deeper/c.bin"))
            .await
            .unwrap();
        assert_eq!(moved.len(), 300);
        let err = eddy::fs::metadata(root.join("a.txt")).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        let err = eddy::fs::read_dir(root.join("missing")).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    });
}

#[test]
fn fs_calls_under_a_paused_clock_do_not_let_timeouts_fire_early() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slowish");
    common::port::paused().block_on(async move {
        // The paused clock may not jump while a pool job is in flight, so
        // a generous timeout around file work never fires.
        let start = eddy::time::Instant::now();
        let out = eddy::wait_for(
            async {
                eddy::fs::write(&path, b"data").await.unwrap();
                eddy::fs::read(&path).await.unwrap()
            },
            Duration::from_secs(60),
        )
        .await;
        assert_eq!(out.unwrap(), b"data");
        assert!(start.elapsed() < Duration::from_secs(60));
    });
}

#[test]
fn the_filter_with_stdin_on_a_socket_and_stdout_in_a_file() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out");
    let out_file = std::fs::File::create(&out_path).unwrap();
    let (mut mine, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    eddy::run(async move {
        use eddy::process::{Command, Stdio};
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "stdio_child_filter", "--nocapture", "-q"])
            .env(CHILD, "socket")
            .stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
            .stdout(out_file)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The socket's buffer takes these few bytes without waiting.
        mine.write_all(b"over a socket\ninto a file\n").unwrap();
        mine.shutdown(std::net::Shutdown::Write).unwrap();
        let status = slow_guard("filter exit", child.wait()).await.unwrap();
        assert!(status.success(), "{status:?}");
        let text = eddy::fs::read_to_string(&out_path).await.unwrap();
        let lines: Vec<&str> = text
            .lines()
            .filter_map(|l| l.find("@@ ").map(|i| &l[i + 3..]))
            .collect();
        assert_eq!(
            lines,
            [
                "stdin nonblocking=true fd0 O_NONBLOCK=false fd1 O_NONBLOCK=false",
                "socket OVER A SOCKET",
                "socket INTO A FILE",
                "lines=2",
            ]
        );
    });
}
