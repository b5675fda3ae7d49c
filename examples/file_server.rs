//! A static file server: HTTP/1.1 GET and HEAD with keep-alive and byte
//! ranges, the file bodies sent with `sendfile` (zero copy, on the loop).
//!
//! ```python
//! async def handle(reader, writer):
//!     while request := await read_request(reader):
//!         with open(path, "rb") as f:
//!             writer.write(headers)
//!             await loop.sendfile(writer.transport, f, offset, count)
//!
//! server = await asyncio.start_server(handle, "127.0.0.1", port)
//! ```
//!
//! Run with `cargo run --release --example file_server -- 8000 [DIR]`
//! (defaults: port 8000, the current directory), then
//! `curl -v http://127.0.0.1:8000/README.md` or
//! `curl -r 0-99 http://127.0.0.1:8000/README.md`. With `--self-test` it
//! serves a temporary directory, fetches a file whole and in part through
//! one kept-alive connection, checks the bytes and exits.
//!
//! Paths are resolved inside the served directory (no `..`, no symlinks
//! leading out of it); opening and `stat` run on the blocking pool
//! (`eddy::fs`), the transfer itself on the loop.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use eddy::io::{start_server, StreamReader, StreamWriter};

/// Longest request line or header line accepted.
const LINE_LIMIT: usize = 8 * 1024;

/// One parsed request: method, path and an optional `Range: bytes=a-b`.
struct Request {
    method: String,
    path: String,
    range: Option<(u64, Option<u64>)>,
    keep_alive: bool,
}

/// Reads one request head; `None` when the client closed between requests.
async fn read_request(reader: &mut StreamReader) -> std::io::Result<Option<Request>> {
    let line = reader.read_line().await?;
    if line.is_empty() {
        return Ok(None);
    }
    let line = String::from_utf8_lossy(&line);
    let mut parts = line.split_whitespace();
    let (method, path, version) = match (parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(p), Some(v)) => (m.to_string(), p.to_string(), v.to_string()),
        _ => return Err(bad("malformed request line")),
    };
    let mut request = Request {
        method,
        path,
        range: None,
        keep_alive: version == "HTTP/1.1",
    };
    loop {
        let header = reader.read_line().await?;
        if header.is_empty() {
            return Err(bad("connection closed inside the request head"));
        }
        let header = String::from_utf8_lossy(&header);
        let header = header.trim_end();
        if header.is_empty() {
            return Ok(Some(request));
        }
        let Some((name, value)) = header.split_once(':') else {
            return Err(bad("malformed header line"));
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "connection" if value.eq_ignore_ascii_case("close") => request.keep_alive = false,
            "connection" if value.eq_ignore_ascii_case("keep-alive") => request.keep_alive = true,
            "range" => request.range = parse_range(value),
            _ => {}
        }
    }
}

/// `bytes=a-b` or `bytes=a-`; other forms are ignored (the whole file is
/// sent, which HTTP allows).
fn parse_range(value: &str) -> Option<(u64, Option<u64>)> {
    let (from, to) = value.strip_prefix("bytes=")?.split_once('-')?;
    let from = from.parse().ok()?;
    let to = if to.is_empty() {
        None
    } else {
        Some(to.parse().ok()?)
    };
    Some((from, to))
}

fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}

/// The file under `root` that `url_path` names, if it stays inside `root`.
async fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let relative = url_path.split('?').next()?.trim_start_matches('/');
    let wanted = eddy::fs::canonicalize(root.join(relative)).await.ok()?;
    wanted.starts_with(root).then_some(wanted)
}

/// Writes a response head with no body.
fn status(writer: &mut StreamWriter, code: &str, keep_alive: bool) -> std::io::Result<()> {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    writer.write(
        format!("HTTP/1.1 {code}\r\nContent-Length: 0\r\nConnection: {connection}\r\n\r\n")
            .as_bytes(),
    )?;
    Ok(())
}

/// Answers one request; the body goes out with `sendfile`.
async fn respond(root: &Path, request: &Request, writer: &mut StreamWriter) -> std::io::Result<()> {
    let keep = request.keep_alive;
    if request.method != "GET" && request.method != "HEAD" {
        return status(writer, "405 Method Not Allowed", keep);
    }
    let Some(path) = resolve(root, &request.path).await else {
        return status(writer, "404 Not Found", keep);
    };
    let Ok(mut file) = eddy::fs::File::open(&path).await else {
        return status(writer, "404 Not Found", keep);
    };
    let meta = file.metadata().await?;
    if !meta.is_file() {
        return status(writer, "404 Not Found", keep);
    }
    let size = meta.len();
    let (code, start, len) = match request.range {
        Some((from, _)) if from >= size => {
            return status(writer, "416 Range Not Satisfiable", keep);
        }
        Some((from, to)) => {
            let last = to.unwrap_or(size - 1).min(size - 1);
            if last < from {
                return status(writer, "416 Range Not Satisfiable", keep);
            }
            ("206 Partial Content", from, last - from + 1)
        }
        None => ("200 OK", 0, size),
    };
    let connection = if keep { "keep-alive" } else { "close" };
    let mut head = format!(
        "HTTP/1.1 {code}\r\nContent-Length: {len}\r\nContent-Type: application/octet-stream\r\n\
         Connection: {connection}\r\n"
    );
    if code.starts_with("206") {
        head.push_str(&format!(
            "Content-Range: bytes {start}-{}/{size}\r\n",
            start + len - 1
        ));
    }
    head.push_str("\r\n");
    writer.write(head.as_bytes())?;
    if request.method == "GET" {
        // The head goes first (sendfile sends what write() buffered), then
        // the kernel copies the file to the socket.
        let sent = writer.sendfile(&file, start, Some(len)).await?;
        if sent < len {
            return Err(bad("the file shrank while it was being sent"));
        }
    }
    Ok(())
}

/// One connection: requests until the client closes or asks to.
async fn serve(root: Arc<PathBuf>, mut reader: StreamReader, mut writer: StreamWriter) {
    reader.set_limit(LINE_LIMIT);
    loop {
        let request = match read_request(&mut reader).await {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(_) => {
                let _ = status(&mut writer, "400 Bad Request", false);
                break;
            }
        };
        if let Err(e) = respond(&root, &request, &mut writer).await {
            eprintln!("{} {}: {e}", request.method, request.path);
            writer.abort();
            return;
        }
        if !request.keep_alive {
            break;
        }
        if writer.drain().await.is_err() {
            return;
        }
    }
    writer.close();
    writer.wait_closed().await;
}

/// The `--self-test` client: two requests on one connection, checked.
async fn self_test(addr: std::net::SocketAddr, expected: Vec<u8>) -> std::io::Result<()> {
    let (mut reader, mut writer) = eddy::io::open_connection(addr).await?;
    writer.write(b"GET /data.bin HTTP/1.1\r\nHost: x\r\n\r\n")?;
    let body = read_response(&mut reader).await?;
    assert_eq!(body, expected, "the whole file");
    writer
        .write(b"GET /data.bin HTTP/1.1\r\nRange: bytes=1000-1999\r\nConnection: close\r\n\r\n")?;
    let part = read_response(&mut reader).await?;
    assert_eq!(part, expected[1000..2000], "bytes 1000-1999");
    println!(
        "self-test: {} bytes whole and 1000 bytes of a range, one connection, both intact",
        body.len()
    );
    Ok(())
}

/// Reads one response and returns its body (by Content-Length).
async fn read_response(reader: &mut StreamReader) -> std::io::Result<Vec<u8>> {
    let mut length = 0;
    loop {
        let line = reader.read_line().await?;
        let line = String::from_utf8_lossy(&line).to_ascii_lowercase();
        if line.trim_end().is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("content-length:") {
            length = v.trim().parse().map_err(|_| bad("bad Content-Length"))?;
        }
    }
    Ok(reader.read_exactly(length).await?)
}

#[eddy::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let self_testing = args.iter().any(|a| a == "--self-test");
    let args: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let port = args.first().map_or("8000", |p| p.as_str()).to_string();
    let scratch = std::env::temp_dir().join(format!("eddy-file-server-{}", std::process::id()));
    let (root, expected) = if self_testing {
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 31 % 251) as u8).collect();
        eddy::fs::create_dir_all(&scratch).await?;
        eddy::fs::write(scratch.join("data.bin"), &data).await?;
        (scratch.clone(), data)
    } else {
        let dir = args.get(1).map_or(".", |d| d.as_str());
        (PathBuf::from(dir), Vec::new())
    };
    let root = Arc::new(eddy::fs::canonicalize(root).await?);
    let served = root.clone();
    let port = if self_testing { "0".to_string() } else { port };
    let server = start_server(&format!("127.0.0.1:{port}"), move |reader, writer| {
        serve(served.clone(), reader, writer)
    })
    .await?;
    let addr = server.local_addr().unwrap();
    println!("serving {} on http://{addr}/", root.display());
    if self_testing {
        let outcome = self_test(addr, expected).await;
        server.close();
        server.wait_closed().await;
        eddy::fs::remove_dir_all(&scratch).await?;
        return outcome;
    }
    server.serve_forever().await;
    Ok(())
}
