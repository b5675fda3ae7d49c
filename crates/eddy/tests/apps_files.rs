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

use common::port::{guard, wait_while};
use eddy::fs::OpenOptions;
use eddy::io::{open_connection, start_server, ReadError, StreamReader, StreamWriter, WriteError};
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
    let mut opts = OpenOptions::new().read(true);
    if app.strict {
        opts = opts.custom_flags(O_NOFOLLOW);
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
