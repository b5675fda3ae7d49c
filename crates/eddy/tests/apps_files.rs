//! Small applications around files, processes and channels, written the
//! way an asyncio or tokio user would: a static-file HTTP server that
//! answers with `sendfile` (ranges, keep-alive, atomic replacement,
//! symlinks), a log collector for merged child output through a bounded
//! channel, a framed "secure channel" over `stream_pair`, a paused-clock
//! test of work on a thread, and the pieces one reaches for next (socket
//! options on a server's connections, owned permits in spawned tasks, a
//! task group whose cleanup fails).

mod common;

use std::cell::Cell;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use common::port::{guard, paused, settle, slow_guard, wait_while};
use eddy::fs::OpenOptions;
use eddy::io::{open_connection, start_server, ReadError, StreamReader, StreamWriter, WriteError};
use eddy::process::{Command, Stdio};
use futures::AsyncWriteExt;

/// `O_NOFOLLOW` (the facade's tests have no `libc`): its value differs
/// between Linux architectures.
#[cfg(any(
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "powerpc",
    target_arch = "powerpc64"
))]
const O_NOFOLLOW: i32 = 0o100000;
#[cfg(not(any(
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "powerpc",
    target_arch = "powerpc64"
)))]
const O_NOFOLLOW: i32 = 0o400000;
/// What `open(2)` says for a symbolic link under `O_NOFOLLOW` on Linux.
const ELOOP: i32 = 40;

// ---------------------------------------------------------------------------
// 1. A static-file HTTP/1.1 server answering with sendfile
// ---------------------------------------------------------------------------

const HEAD_END: &[u8] = b"\r\n\r\n";
/// Far more than loopback socket buffers hold, so a client that stops
/// reading leaves the server's sendfile waiting.
const BIG: usize = 16 * 1024 * 1024;

/// A static-file server's configuration and counters.
struct Files {
    root: PathBuf,
    /// Refuse symbolic links (`O_NOFOLLOW`).
    strict: bool,
    /// Responses whose body went out in full.
    served: Cell<usize>,
    /// Responses cut short by the client going away.
    failed: Cell<usize>,
}

impl Files {
    fn new(root: &Path, strict: bool) -> Rc<Files> {
        Rc::new(Files {
            root: root.to_owned(),
            strict,
            served: Cell::new(0),
            failed: Cell::new(0),
        })
    }
}

/// A request line and the two headers the server looks at.
struct Get {
    method: String,
    target: String,
    range: Option<String>,
    close: bool,
}

fn parse_get(head: &[u8]) -> Option<Get> {
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.trim_end().split("\r\n");
    let mut start = lines.next()?.split(' ');
    let (method, target) = (start.next()?.to_string(), start.next()?.to_string());
    let (mut range, mut close) = (None, false);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "range" => range = Some(value.trim().to_string()),
            "connection" => close = value.trim().eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    Some(Get {
        method,
        target,
        range,
        close,
    })
}

/// `bytes=a-b` (both ends given; the only form this server knows).
fn parse_range(value: &str) -> Option<(u64, u64)> {
    let (a, b) = value.strip_prefix("bytes=")?.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn reply(w: &mut StreamWriter, status: &str, body: &[u8]) -> Result<(), WriteError> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    w.write_all_parts(&[head.as_bytes(), body])
}

/// Answers one GET; `Ok(false)` when the connection must close.
async fn serve_file(app: &Files, req: &Get, w: &mut StreamWriter) -> io::Result<bool> {
    let name = req.target.trim_start_matches('/');
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        reply(w, "404 Not Found", b"no such file\n")?;
        return Ok(true);
    }
    let mut opts = OpenOptions::new();
    opts.read(true);
    if app.strict {
        opts.custom_flags(O_NOFOLLOW);
    }
    let mut file = match opts.open(app.root.join(name)).await {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            reply(w, "404 Not Found", b"no such file\n")?;
            return Ok(true);
        }
        Err(e) if e.raw_os_error() == Some(ELOOP) => {
            reply(w, "403 Forbidden", b"symbolic link\n")?;
            return Ok(true);
        }
        Err(e) => return Err(e),
    };
    // The open file's size: a rename over the name later changes nothing
    // for this response.
    let len = file.metadata().await?.len();
    let (status, offset, count, extra) = match req.range.as_deref().map(parse_range) {
        None => ("200 OK", 0, len, String::new()),
        Some(Some((a, b))) if a <= b && b < len => (
            "206 Partial Content",
            a,
            b - a + 1,
            format!("Content-Range: bytes {a}-{b}/{len}\r\n"),
        ),
        Some(_) => {
            let head = format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\n\
                 Content-Length: 0\r\n\r\n"
            );
            w.write(head.as_bytes())?;
            return Ok(true);
        }
    };
    w.write(format!("HTTP/1.1 {status}\r\nContent-Length: {count}\r\n{extra}\r\n").as_bytes())?;
    match w.sendfile(&file, offset, Some(count)).await {
        Ok(sent) if sent == count => {
            app.served.set(app.served.get() + 1);
            Ok(true)
        }
        // Truncated in place under us: the length we announced is wrong.
        Ok(_) => Ok(false),
        Err(e) => {
            app.failed.set(app.failed.get() + 1);
            Err(e.into())
        }
    }
}

async fn files_conn(app: Rc<Files>, mut r: StreamReader, mut w: StreamWriter) -> io::Result<()> {
    loop {
        let head = match r.read_until(HEAD_END).await {
            Ok(head) => head,
            // The client went away between requests.
            Err(ReadError::IncompleteRead { .. }) => break,
            Err(e) => return Err(e.into()),
        };
        let Some(req) = parse_get(&head) else {
            reply(&mut w, "400 Bad Request", b"")?;
            break;
        };
        if req.method != "GET" {
            reply(&mut w, "405 Method Not Allowed", b"")?;
            break;
        }
        if !serve_file(&app, &req, &mut w).await? || req.close {
            break;
        }
    }
    w.close();
    w.wait_closed().await;
    Ok(())
}

async fn files_server(app: &Rc<Files>) -> eddy::io::Server {
    let app = app.clone();
    start_server("127.0.0.1:0", move |r, w| files_conn(app.clone(), r, w))
        .await
        .unwrap()
}

struct Response {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// Reads a response head; the body is left in the reader.
async fn response_head(r: &mut StreamReader) -> (u16, HashMap<String, String>) {
    let head = r.read_until(HEAD_END).await.unwrap();
    let head = String::from_utf8(head).unwrap();
    let mut lines = head.trim_end().split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap();
    let headers = lines
        .map(|l| l.split_once(':').unwrap())
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status.parse().unwrap(), headers)
}

async fn response(r: &mut StreamReader) -> Response {
    let (status, headers) = response_head(r).await;
    let len: usize = headers["content-length"].parse().unwrap();
    let body = r.read_exactly(len).await.unwrap();
    Response {
        status,
        headers,
        body,
    }
}

fn get_request(path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: files\r\n{extra}\r\n").into_bytes()
}

async fn get(r: &mut StreamReader, w: &mut StreamWriter, path: &str, extra: &str) -> Response {
    w.write(&get_request(path, extra)).unwrap();
    w.drain().await.unwrap();
    response(r).await
}

/// Byte `i` of the big file: a pattern with a long period, so a shifted or
/// repeated chunk does not compare equal.
fn big_byte(i: usize) -> u8 {
    (i % 251) as u8 ^ (i / 65536) as u8
}

/// Version `v` of `doc.txt`: its length and every byte depend on `v`.
fn doc_body(v: usize) -> Vec<u8> {
    let mut body = format!("version {v:06}\n").into_bytes();
    body.extend((0..150_000 + v * 7919).map(|i| b'a' + ((i + v) % 26) as u8));
    body
}

/// Writes version `v` of `doc.txt` beside it and renames it over: readers
/// see the old file or the new one, never a mix.
async fn replace_doc(root: &Path, v: usize) {
    let tmp = root.join(".doc.txt.tmp");
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&tmp)
        .await
        .unwrap();
    f.write_all(&doc_body(v)).await.unwrap();
    f.close().await.unwrap(); // the bytes are in the file before the rename
    eddy::fs::rename(&tmp, root.join("doc.txt")).await.unwrap();
}

async fn keep_alive_client(addr: SocketAddr, index: &[u8]) {
    let (mut r, mut w) = open_connection(addr).await.unwrap();
    let page = get(&mut r, &mut w, "/index.html", "").await;
    assert_eq!((page.status, page.body.as_slice()), (200, index));

    let part = get(&mut r, &mut w, "/big.bin", "Range: bytes=1000-1999\r\n").await;
    assert_eq!(part.status, 206);
    assert_eq!(
        part.headers["content-range"],
        format!("bytes 1000-1999/{BIG}")
    );
    let want: Vec<u8> = (1000..2000).map(big_byte).collect();
    assert_eq!(part.body, want);

    let last = format!("Range: bytes={0}-{0}\r\n", BIG - 1);
    let last = get(&mut r, &mut w, "/big.bin", &last).await;
    assert_eq!((last.status, last.body), (206, vec![big_byte(BIG - 1)]));

    let bad = get(&mut r, &mut w, "/big.bin", "Range: bytes=9-3\r\n").await;
    assert_eq!(bad.status, 416);
    let missing = get(&mut r, &mut w, "/nothing.html", "").await;
    assert_eq!(missing.status, 404);

    // Two requests pipelined: two responses in order.
    let mut both = get_request("/link.html", "");
    both.extend(get_request("/hard.html", ""));
    w.write(&both).unwrap();
    let (a, b) = (response(&mut r).await, response(&mut r).await);
    assert_eq!((a.status, a.body.as_slice()), (200, index));
    assert_eq!((b.status, b.body.as_slice()), (200, index));

    let big = get(&mut r, &mut w, "/big.bin", "Connection: close\r\n").await;
    assert_eq!(big.status, 200);
    assert!(big.body.iter().enumerate().all(|(i, &b)| b == big_byte(i)));
    assert!(
        r.read(1).await.unwrap().is_empty(),
        "closed after Connection: close"
    );
}

/// Reads `/big.bin` in small pieces with pauses: the server's sendfile
/// waits for room many times.
async fn slow_client(addr: SocketAddr) {
    let (mut r, mut w) = open_connection(addr).await.unwrap();
    w.write(&get_request("/big.bin", "")).unwrap();
    let (status, headers) = response_head(&mut r).await;
    assert_eq!(
        (status, headers["content-length"].as_str()),
        (200, &*BIG.to_string())
    );
    let mut at = 0;
    while at < BIG {
        let piece = r.read(16 * 1024).await.unwrap();
        assert!(!piece.is_empty(), "end of stream after {at} bytes");
        for (i, &b) in piece.iter().enumerate() {
            assert_eq!(b, big_byte(at + i), "byte {}", at + i);
        }
        at += piece.len();
        if at % (1024 * 1024) < piece.len() {
            eddy::sleep(Duration::from_millis(1)).await;
        }
    }
    w.close();
    w.wait_closed().await;
}

/// Asks for `/big.bin`, reads a little of it, and hangs up.
async fn quitter(addr: SocketAddr) {
    let (mut r, mut w) = open_connection(addr).await.unwrap();
    w.write(&get_request("/big.bin", "")).unwrap();
    let (status, _) = response_head(&mut r).await;
    assert_eq!(status, 200);
    let start = r.read_exactly(100_000).await.unwrap();
    assert!(start.iter().enumerate().all(|(i, &b)| b == big_byte(i)));
    w.abort();
}

/// Fetches `doc.txt` `rounds` times on one connection: each body must be
/// one whole version.
async fn doc_reader(addr: SocketAddr, rounds: usize) -> Vec<usize> {
    let (mut r, mut w) = open_connection(addr).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..rounds {
        let doc = get(&mut r, &mut w, "/doc.txt", "").await;
        assert_eq!(doc.status, 200);
        let v: usize = std::str::from_utf8(&doc.body[8..14])
            .unwrap()
            .parse()
            .unwrap();
        assert!(doc.body == doc_body(v), "version {v} arrived torn");
        seen.push(v);
    }
    w.close();
    w.wait_closed().await;
    seen
}

#[test]
fn static_file_server_with_sendfile_ranges_atomic_replace_and_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    eddy::run(guard("static files", async {
        let index = b"<html><body>eddy serves files</body></html>\n".to_vec();
        eddy::fs::write(root.join("index.html"), &index)
            .await
            .unwrap();
        let big: Vec<u8> = (0..BIG).map(big_byte).collect();
        eddy::fs::write(root.join("big.bin"), &big).await.unwrap();
        drop(big);
        replace_doc(root, 0).await;
        eddy::fs::symlink("index.html", root.join("link.html"))
            .await
            .unwrap();
        assert_eq!(
            eddy::fs::read_link(root.join("link.html")).await.unwrap(),
            Path::new("index.html")
        );
        eddy::fs::hard_link(root.join("index.html"), root.join("hard.html"))
            .await
            .unwrap();

        let app = Files::new(root, false);
        let server = files_server(&app).await;
        let addr = server.local_addr().unwrap();

        // Everyone at once: a keep-alive client, a slow one, one that
        // quits half way, and readers of a file replaced under them.
        let replacer = eddy::spawn({
            let root = root.to_owned();
            async move {
                for v in 1..=12 {
                    replace_doc(&root, v).await;
                    eddy::sleep(Duration::from_millis(1)).await;
                }
            }
        });
        let readers: Vec<_> = (0..4).map(|_| eddy::spawn(doc_reader(addr, 10))).collect();
        let index2 = index.clone();
        let clients = eddy::gather!(
            keep_alive_client(addr, &index2),
            slow_client(addr),
            quitter(addr)
        );
        clients.await;
        replacer.await.unwrap();
        for seen in eddy::gather_all(readers).await {
            assert_eq!(seen.unwrap().len(), 10);
        }
        // The quitter's response failed, and the server went on serving.
        wait_while("the quitter's transfer to fail", || app.failed.get() == 0).await;
        assert_eq!(app.failed.get(), 1);
        let (mut r, mut w) = open_connection(addr).await.unwrap();
        let after = get(&mut r, &mut w, "/doc.txt", "").await;
        assert_eq!(after.body, doc_body(12));
        let mode = eddy::fs::metadata(root.join("doc.txt"))
            .await
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777 & !0o644, 0, "mode {mode:o}: at most 0644");
        assert_eq!(
            mode & 0o600,
            0o600,
            "mode {mode:o}: the owner reads and writes"
        );

        // Strict mode: a symbolic link is refused, a hard link is a file.
        let strict = Files::new(root, true);
        let strict_server = files_server(&strict).await;
        let (mut sr, mut sw) = open_connection(strict_server.local_addr().unwrap())
            .await
            .unwrap();
        let link = get(&mut sr, &mut sw, "/link.html", "").await;
        assert_eq!(
            (link.status, link.body.as_slice()),
            (403, &b"symbolic link\n"[..])
        );
        let hard = get(&mut sr, &mut sw, "/hard.html", "").await;
        assert_eq!((hard.status, hard.body.as_slice()), (200, index.as_slice()));

        for (server, w) in [(&server, &mut w), (&strict_server, &mut sw)] {
            w.close();
            w.wait_closed().await;
            server.close();
            server.wait_closed().await;
        }
    }));
}

// ---------------------------------------------------------------------------
// 2. A log collector for merged child output
// ---------------------------------------------------------------------------

/// Lines each well-behaved child writes to each of stdout and stderr.
const LOG_LINES: usize = 40;
/// The channel's capacity, and the largest batch.
const LOG_CAPACITY: usize = 8;

/// One collected line: which child, which of its batches, the line.
struct LogLine {
    child: usize,
    batch: usize,
    line: String,
}

/// Reads a child's merged output and sends it on in batches: one line,
/// then what else is already buffered (up to the channel's capacity),
/// reserved at once so no other child's lines land inside the batch.
/// Returns the number of lines.
async fn collect(
    child: usize,
    mut out: StreamReader<eddy::process::ChildStdout>,
    tx: eddy::sync::mpsc::Sender<LogLine>,
    lines: Rc<Cell<usize>>,
) -> usize {
    let mut batch_no = 0;
    loop {
        let first = out.read_line().await.unwrap();
        if first.is_empty() {
            return lines.get();
        }
        let mut batch = vec![first];
        while batch.len() < LOG_CAPACITY && out.buffer().contains(&b'\n') {
            batch.push(out.read_line().await.unwrap());
        }
        let permits = tx
            .reserve_many(batch.len())
            .await
            .expect("the consumer outlives the producers");
        for (permit, line) in permits.zip(batch) {
            permit.send(LogLine {
                child,
                batch: batch_no,
                line: String::from_utf8(line).unwrap(),
            });
            lines.set(lines.get() + 1);
        }
        batch_no += 1;
    }
}

/// The shell command of well-behaved child `id`.
fn chatty(id: usize) -> String {
    format!(
        "i=1; while [ $i -le {LOG_LINES} ]; do echo \"out {id} $i\"; echo \"err {id} $i\" >&2; \
         i=$((i+1)); done"
    )
}

#[test]
fn log_collector_merges_child_output_in_atomic_batches_and_kills_a_runaway_group() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("collected.log");
    const CHILDREN: usize = 4;
    const RUNAWAY: usize = CHILDREN;
    eddy::run(slow_guard("log collector", async {
        let (tx, mut rx) = eddy::sync::mpsc::channel::<LogLine>(LOG_CAPACITY);
        let consumer = eddy::spawn({
            let log_path = log_path.clone();
            async move {
                let mut log = OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(&log_path)
                    .await
                    .unwrap();
                let mut lines = Vec::new();
                while rx.recv_many(&mut lines, LOG_CAPACITY).await > 0 {
                    let mut chunk = String::new();
                    for l in lines.drain(..) {
                        chunk += &format!("{} {} {}", l.child, l.batch, l.line);
                    }
                    log.write_all(chunk.as_bytes()).await.unwrap();
                }
                log.close().await.unwrap();
            }
        });

        let mut children = Vec::new();
        let mut producers = Vec::new();
        for id in 0..=CHILDREN {
            let mut cmd = if id == RUNAWAY {
                // Loops forever, and so does a subshell it leaves behind:
                // killing the shell alone would leave the pipe open.
                let mut cmd = Command::shell(
                    "(while :; do echo spam; sleep 0.01; done) & \
                     while :; do echo runaway >&2; sleep 0.01; done",
                );
                cmd.process_group(0);
                cmd
            } else {
                Command::shell(chatty(id))
            };
            let mut child = cmd
                .stdout(Stdio::piped())
                .stderr_to_stdout()
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            assert!(child.stderr.is_none(), "stderr goes to the stdout pipe");
            let out = child.stdout.take().unwrap().into_stream_reader();
            let lines = Rc::new(Cell::new(0));
            producers.push((
                lines.clone(),
                eddy::spawn(collect(id, out, tx.clone(), lines)),
            ));
            children.push(child);
        }
        drop(tx);

        // Let the runaway show it runs, then kill its whole group.
        let runaway_lines = producers[RUNAWAY].0.clone();
        wait_while("the runaway to write", || runaway_lines.get() < 10).await;
        let pgid = children[RUNAWAY].id();
        let killed = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .status()
            .await
            .unwrap();
        assert!(killed.success());

        // Every pipe ends: the runaway's too, because its subshell died
        // with it.
        let mut counts = Vec::new();
        for (_, producer) in producers {
            counts.push(producer.await.unwrap());
        }
        for (id, mut child) in children.into_iter().enumerate() {
            let status = child.wait().await.unwrap();
            if id == RUNAWAY {
                use std::os::unix::process::ExitStatusExt;
                assert_eq!(status.signal(), Some(9));
            } else {
                assert!(status.success());
                assert_eq!(counts[id], 2 * LOG_LINES);
            }
        }
        consumer.await.unwrap();

        let log = eddy::fs::read_to_string(&log_path).await.unwrap();
        let mut per_child: Vec<Vec<String>> = vec![Vec::new(); CHILDREN + 1];
        let mut closed_batches = std::collections::HashSet::new();
        let mut current = None;
        for entry in log.lines() {
            let mut parts = entry.splitn(3, ' ');
            let child: usize = parts.next().unwrap().parse().unwrap();
            let batch: usize = parts.next().unwrap().parse().unwrap();
            if current != Some((child, batch)) {
                // A batch is one run of lines: never seen again once left.
                assert!(
                    closed_batches.insert((child, batch)),
                    "batch {child}/{batch} split"
                );
                current = Some((child, batch));
            }
            per_child[child].push(parts.next().unwrap().to_string());
        }
        for (id, lines) in per_child.iter().enumerate().take(CHILDREN) {
            let want: Vec<String> = (1..=LOG_LINES)
                .flat_map(|i| [format!("out {id} {i}"), format!("err {id} {i}")])
                .collect();
            assert_eq!(*lines, want, "child {id}: every line, in order");
        }
        let runaway = &per_child[RUNAWAY];
        assert_eq!(runaway.len(), counts[RUNAWAY]);
        assert!(runaway.iter().all(|l| l == "spam" || l == "runaway"));
    }));
}

// ---------------------------------------------------------------------------
// 3. A framed "secure channel" over stream_pair
// ---------------------------------------------------------------------------

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes().to_vec();
    f.extend_from_slice(payload);
    f
}

/// The next frame; `None` at end of stream between frames.
async fn read_frame(r: &mut StreamReader) -> Result<Option<Vec<u8>>, ReadError> {
    match r.read_exactly(4).await {
        Ok(len) => {
            let len = u32::from_be_bytes(len.try_into().unwrap()) as usize;
            r.read_exactly(len).await.map(Some)
        }
        Err(ReadError::IncompleteRead { partial, .. }) if partial.is_empty() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Answers each frame with its bytes reversed until end of stream; then
/// says goodbye (if `farewell`) and returns what it got, keeping its
/// writer open: a server that lingers.
async fn channel_server(
    mut r: StreamReader,
    mut w: StreamWriter,
    farewell: bool,
) -> (Result<Vec<Vec<u8>>, ReadError>, StreamWriter) {
    let mut got = Vec::new();
    loop {
        match read_frame(&mut r).await {
            Ok(Some(payload)) => {
                w.write(&frame(&payload.iter().rev().copied().collect::<Vec<_>>()))
                    .unwrap();
                w.drain().await.unwrap();
                got.push(payload);
            }
            Ok(None) => break,
            Err(e) => return (Err(e), w),
        }
    }
    if farewell {
        w.write(&frame(format!("bye after {}", got.len()).as_bytes()))
            .unwrap();
        w.drain().await.unwrap();
    }
    (Ok(got), w)
}

#[test]
fn framed_channel_over_stream_pair_sees_the_end_while_the_peer_lingers() {
    eddy::run(guard("framed channel", async {
        // A half-close: the client is done sending and reads the goodbye.
        let (a, b) = eddy::net::UnixStream::pair().unwrap();
        let (sr, sw) = eddy::io::stream_pair(a);
        let server = eddy::spawn(channel_server(sr, sw, true));
        let (mut r, mut w) = eddy::io::stream_pair(b);
        for msg in [&b"alpha"[..], b"", b"gamma ray"] {
            w.write(&frame(msg)).unwrap();
            let back = read_frame(&mut r).await.unwrap().unwrap();
            assert_eq!(back, msg.iter().rev().copied().collect::<Vec<_>>());
        }
        w.write_eof();
        assert_eq!(read_frame(&mut r).await.unwrap().unwrap(), b"bye after 3");
        let (got, mut server_w) = server.await.unwrap();
        assert_eq!(got.unwrap().len(), 3);
        server_w.close();
        server_w.wait_closed().await;
        assert_eq!(read_frame(&mut r).await.unwrap(), None);

        // A full close: the client's reader ends at once although the
        // server never closes, and the server sees the end while the
        // client still holds its reader.
        let (a, b) = eddy::net::UnixStream::pair().unwrap();
        let (sr, sw) = eddy::io::stream_pair(a);
        let server = eddy::spawn(channel_server(sr, sw, false));
        let (mut r, mut w) = eddy::io::stream_pair(b);
        w.write(&frame(b"one")).unwrap();
        assert_eq!(read_frame(&mut r).await.unwrap().unwrap(), b"eno");
        w.close();
        w.wait_closed().await;
        assert_eq!(read_frame(&mut r).await.unwrap(), None);
        let (got, server_w) = server.await.unwrap();
        assert_eq!(got.unwrap(), [b"one".to_vec()]);
        assert!(!server_w.is_closing(), "the server lingers");
        drop((r, server_w));

        // A frame cut short: the server reads what arrived, and how much
        // was promised.
        let (a, b) = eddy::net::UnixStream::pair().unwrap();
        let (sr, sw) = eddy::io::stream_pair(a);
        let server = eddy::spawn(channel_server(sr, sw, false));
        let (_r, mut w) = eddy::io::stream_pair(b);
        let mut cut = frame(&[7; 100]);
        cut.truncate(4 + 10);
        w.write(&cut).unwrap();
        w.close();
        w.wait_closed().await;
        match server.await.unwrap().0 {
            Err(ReadError::IncompleteRead { partial, expected }) => {
                assert_eq!((partial, expected), (vec![7; 10], Some(100)));
            }
            other => panic!("expected IncompleteRead, got {:?}", other.map(|v| v.len())),
        }

        // A file as a frame over a stream that is not a socket (TLS, say):
        // sendfile reads it through the writer, after the header.
        let mut file = tempfile::tempfile().unwrap();
        let payload: Vec<u8> = (0..200_000).map(big_byte).collect();
        std::io::Write::write_all(&mut file, &payload).unwrap();
        let (a, b) = eddy::net::UnixStream::pair().unwrap();
        let (_sr, mut sw) = eddy::io::stream_pair(a);
        let (mut r, _w) = eddy::io::stream_pair(b);
        assert!(sw.socket().is_none(), "stream_pair knows no socket");
        assert_eq!(sw.sendfile(&file, 0, Some(0)).await.unwrap(), 0);
        let len = payload.len() as u64 - 1000;
        sw.write(&(len as u32).to_be_bytes()).unwrap();
        let mut sent = 0;
        let n = sw
            .sendfile_with_progress(&file, 1000, None, &mut sent)
            .await
            .unwrap();
        assert_eq!((n, sent), (len, len));
        assert_eq!(
            sw.sendfile(&file, payload.len() as u64, None)
                .await
                .unwrap(),
            0
        );
        assert_eq!(read_frame(&mut r).await.unwrap().unwrap(), &payload[1000..]);

        // An abort drops the client's stream: the server's next write
        // fails although the client still holds its reader.
        let (a, b) = eddy::net::UnixStream::pair().unwrap();
        let (mut sr, mut sw) = eddy::io::stream_pair(a);
        let (_r, mut w) = eddy::io::stream_pair(b);
        w.abort();
        assert_eq!(read_frame(&mut sr).await.unwrap(), None);
        sw.write(&frame(b"anyone?")).unwrap();
        let err = sw.drain().await.unwrap_err();
        assert!(
            matches!(&err, WriteError::Io(e) if e.kind() == io::ErrorKind::BrokenPipe),
            "{err:?}"
        );
    }));
}

// ---------------------------------------------------------------------------
// 4. A paused-clock test of a client whose work runs on a thread
// ---------------------------------------------------------------------------

/// A "client" whose answer is computed on a thread of its own.
async fn ask_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
    limit: Duration,
) -> Result<T, eddy::time::Elapsed> {
    let (tx, rx) = eddy::sync::oneshot::channel();
    // The loop cannot see the thread: without this the idle paused clock
    // would jump to the timeout while the thread works.
    let held = eddy::time::inhibit_auto_advance();
    std::thread::spawn(move || {
        let _ = tx.send(work());
        drop(held); // after the answer is on its way
    });
    eddy::wait_for(rx, limit)
        .await
        .map(|r| r.expect("the thread answers"))
}

#[test]
fn paused_clock_waits_for_a_thread_held_by_inhibit_auto_advance() {
    paused().block_on(guard("paused clock and a thread", async {
        let start = eddy::time::Instant::now();
        // Real time passes on the thread; the paused clock does not jump.
        let answer = ask_thread(
            || {
                std::thread::sleep(Duration::from_millis(20));
                42
            },
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(answer, Ok(42));
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no jump to the deadline"
        );

        // Real time does not move the held clock either: a timeout shorter
        // than the work does not fire while the guard lives.
        let late = ask_thread(
            || {
                std::thread::sleep(Duration::from_millis(30));
                "late but in"
            },
            Duration::from_millis(5),
        )
        .await;
        assert_eq!(late, Ok("late but in"));

        // To test the timeout itself, move the clock by hand while the
        // thread is held.
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let client = eddy::spawn(ask_thread(
            move || gate.recv().is_ok(),
            Duration::from_secs(5),
        ));
        settle().await;
        eddy::time::advance(Duration::from_secs(5)).await;
        settle().await;
        assert!(client.is_finished(), "the timeout fired on advance");
        assert!(client.await.unwrap().is_err());
        drop(release);
        // With the thread gone, the idle clock jumps again.
        let before = eddy::time::Instant::now();
        eddy::sleep(Duration::from_secs(10)).await; // less than the hang guard
        assert!(before.elapsed() >= Duration::from_secs(10));
    }));
}

// ---------------------------------------------------------------------------
// 5. What one reaches for next
// ---------------------------------------------------------------------------

/// What a server's handler learned about its connection's socket.
#[derive(Debug, Default, Clone, PartialEq)]
struct SocketFacts {
    nodelay: bool,
    local: Option<SocketAddr>,
    peer: Option<SocketAddr>,
    gone_after_close: bool,
}

#[test]
fn server_handlers_tune_their_sockets_and_resume_a_cut_sendfile() {
    let mut file = tempfile::tempfile().unwrap();
    let body: Vec<u8> = (0..BIG).map(big_byte).collect();
    std::io::Write::write_all(&mut file, &body).unwrap();
    let file = Rc::new(file);
    eddy::run(guard("socket options and resumed sendfile", async {
        let facts = Rc::new(std::cell::RefCell::new(SocketFacts::default()));
        let (f2, file2) = (facts.clone(), file.clone());
        let server = start_server(
            "127.0.0.1:0",
            move |r: StreamReader, mut w: StreamWriter| {
                let (facts, file) = (f2.clone(), file2.clone());
                async move {
                    // get_extra_info('socket'): no socket2 here, so a duplicate
                    // of the descriptor as a std socket does for TCP_NODELAY.
                    let socket = w.socket().expect("a server connection has a socket");
                    assert!(socket.is_tcp());
                    let std = std::net::TcpStream::from(
                        std::os::fd::AsFd::as_fd(&socket)
                            .try_clone_to_owned()
                            .unwrap(),
                    );
                    facts.borrow_mut().nodelay = std.nodelay().unwrap();
                    drop((std, socket));
                    facts.borrow_mut().local = w.local_addr();
                    facts.borrow_mut().peer = w.peer_addr();

                    // A transfer with a budget: what does not go out in time is
                    // sent in a second go from where the first one stopped.
                    let mut sent = 0;
                    let first = eddy::wait_for(
                        w.sendfile_with_progress(&*file, 0, None, &mut sent),
                        Duration::from_millis(5),
                    )
                    .await;
                    if first.is_err() {
                        w.sendfile_with_progress(&*file, sent, None, &mut sent)
                            .await
                            .unwrap();
                    }
                    assert_eq!(sent, BIG as u64);
                    w.close();
                    w.wait_closed().await;
                    drop(r);
                    facts.borrow_mut().gone_after_close = w.socket().is_none();
                    // Sending on a closed writer says so.
                    let late = w.sendfile(&*file, 0, Some(1)).await.unwrap_err();
                    assert!(matches!(late, WriteError::Closing), "{late:?}");
                }
            },
        )
        .await
        .unwrap();
        let (mut r, mut w) = open_connection(server.local_addr().unwrap()).await.unwrap();
        // A client that reads late: the first sendfile times out part way.
        eddy::sleep(Duration::from_millis(20)).await;
        let got = r.read_to_end().await.unwrap();
        assert!(
            got == body,
            "resumed transfer: {} of {} bytes",
            got.len(),
            body.len()
        );
        w.close();
        w.wait_closed().await;
        server.close();
        server.wait_closed().await;
        let facts = facts.borrow().clone();
        assert_eq!(
            facts,
            SocketFacts {
                nodelay: true,
                local: server.local_addr(),
                peer: w.local_addr(),
                gone_after_close: true,
            }
        );
    }));
}

#[test]
fn sendfile_of_a_file_not_open_for_reading_fails_and_the_writer_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    eddy::run(guard("sendfile of a write-only file", async {
        let path = dir.path().join("out.log");
        let write_only = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .await
            .unwrap();
        let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mut r, mut w) = open_connection(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (peer, _) = listener.accept().await.unwrap();
        let (mut peer_r, mut peer_w) = eddy::io::stream_pair(peer);
        w.write(b"before ").unwrap();
        let err = w.sendfile(&write_only, 0, None).await.unwrap_err();
        assert!(
            matches!(&err, WriteError::File(e) if e.raw_os_error() == Some(9)),
            "EBADF expected: {err:?}"
        );
        // The socket is fine: the connection goes on.
        w.write(b"after").unwrap();
        w.write_eof();
        assert_eq!(peer_r.read_to_end().await.unwrap(), b"before after");
        peer_w.write(b"ok").unwrap();
        peer_w.close();
        assert_eq!(r.read_to_end().await.unwrap(), b"ok");
    }));
}

#[test]
fn owned_permits_travel_into_job_tasks_and_a_cancelled_job_gives_its_slot_back() {
    eddy::run(guard("owned permits", async {
        const JOBS: usize = 6;
        let (tx, mut rx) = eddy::sync::mpsc::channel::<(usize, usize)>(2);
        let mut jobs = Vec::new();
        let mut done: Vec<usize> = Vec::new();
        for id in 0..JOBS {
            // Room first (back-pressure), then the work, in a task that
            // owns its slot.
            let permit = tx.clone().reserve_owned().await.unwrap();
            let job = eddy::spawn(async move {
                if id == 2 {
                    std::future::pending::<()>().await; // stuck: cancelled below
                }
                eddy::sleep(Duration::from_millis((JOBS - id) as u64)).await;
                drop(permit.send((id, id * id)));
            });
            if id == 2 {
                // Its slot goes back: without that, the two slots would be
                // held by it and one result nobody receives before the
                // next reservation, and the loop would stop here.
                job.cancel();
                assert!(job.await.unwrap_err().is_cancelled());
            } else {
                jobs.push(job);
            }
            if tx.capacity() == 0 {
                let (id, sq) = rx.recv().await.unwrap();
                assert_eq!(sq, id * id);
                done.push(id);
            }
        }
        drop(tx);
        while let Some((id, sq)) = rx.recv().await {
            assert_eq!(sq, id * id);
            done.push(id);
        }
        for job in jobs {
            job.await.unwrap();
        }
        done.sort_unstable();
        assert_eq!(done, [0, 1, 3, 4, 5]);
    }));
}

/// A resource whose cleanup fails: its destructor panics.
struct TempWorkspace(&'static str);
impl Drop for TempWorkspace {
    fn drop(&mut self) {
        panic!("cleanup of {} failed", self.0);
    }
}

#[test]
fn a_task_group_reports_a_cleanup_that_panics_while_its_child_is_cancelled() {
    eddy::run(guard("group cleanup panic", async {
        let owner = eddy::spawn(async {
            let group = eddy::TaskGroup::new();
            group
                .spawn(async {
                    let _ws = TempWorkspace("scratch dir");
                    eddy::sleep(Duration::from_secs(3600)).await;
                    Ok::<(), String>(())
                })
                .unwrap();
            group
                .spawn(async {
                    eddy::sleep(Duration::from_millis(1)).await;
                    Err::<(), _>("download failed".to_string())
                })
                .unwrap();
            group.join().await
        });
        let err = owner.await.unwrap_err();
        assert!(
            err.is_panic(),
            "the cleanup failure reaches the group's owner"
        );
        let text = common::port::panic_text(&*err.into_panic());
        assert_eq!(text, "cleanup of scratch dir failed");
    }));
}
