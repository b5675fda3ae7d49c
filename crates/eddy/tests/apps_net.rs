//! Small but real network applications written the way an asyncio user
//! writes them, each driving many features at once under load: an
//! HTTP/1.1 keep-alive server with a graceful shutdown, a TCP proxy with
//! idle timeouts and half-close, and a chat room that disconnects a slow
//! client. They look for the bugs that only show where features meet.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use common::port::{guard, wait_while};
use eddy::io::{open_connection, start_server, ReadError, StreamReader, StreamWriter};
use eddy::sync::Event;
use eddy::time::{deadline, DeadlineHandle, Instant};
use futures::FutureExt;

// ---------------------------------------------------------------------------
// 1. HTTP/1.1 keep-alive server
// ---------------------------------------------------------------------------

/// End of an HTTP head.
const HEAD_END: &[u8] = b"\r\n\r\n";
/// Longest request head the server accepts (431 beyond).
const HEAD_LIMIT: usize = 2048;
/// The size of `/big`: far more than socket buffers hold for a client
/// that does not read.
const BIG: usize = 16 * 1024 * 1024;

/// What the HTTP server shares between its connections.
#[derive(Default)]
struct Http {
    /// Set when a graceful shutdown starts: idle connections close, busy
    /// ones answer with `Connection: close`.
    shutdown: Event,
    /// `/slow` requests wait on it.
    release: Event,
    /// `/slow` requests waiting on `release`.
    slow_waiting: Cell<usize>,
    /// Requests whose head is parsed and whose body is being read.
    reading_body: Cell<usize>,
    /// Responses written (handed to the writer).
    served: Cell<usize>,
    /// How long a keep-alive connection may wait for its next request
    /// (`None`: as long as it likes).
    keep_alive: Option<Duration>,
    /// Connections closed for waiting longer than that.
    idled_out: Cell<usize>,
}

/// Sleeps `limit`, or forever when there is none.
async fn sleep_or_never(limit: Option<Duration>) {
    match limit {
        Some(limit) => eddy::sleep(limit).await,
        None => std::future::pending().await,
    }
}

struct Request {
    method: String,
    path: String,
    headers: HashMap<String, String>,
}

impl Request {
    fn parse(head: &[u8]) -> Option<Request> {
        let head = std::str::from_utf8(head).ok()?;
        let mut lines = head.trim_end_matches("\r\n").split("\r\n");
        let mut start = lines.next()?.split(' ');
        let (method, path, version) = (start.next()?, start.next()?, start.next()?);
        if version != "HTTP/1.1" || start.next().is_some() {
            return None;
        }
        let mut headers = HashMap::new();
        for line in lines {
            let (name, value) = line.split_once(':')?;
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
        Some(Request {
            method: method.into(),
            path: path.into(),
            headers,
        })
    }

    fn content_length(&self) -> Option<usize> {
        self.headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
    }

    fn wants_close(&self) -> bool {
        self.headers
            .get("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

enum Head {
    /// A complete head within the limit.
    Ok(Vec<u8>),
    /// A head over the limit, skipped.
    TooLarge,
    /// The client is gone, or the server shuts down and this connection
    /// is between requests.
    Done,
}

/// Waits for the next request head. While the server runs, an idle
/// keep-alive connection waits here; once it shuts down, a connection with
/// nothing buffered is done, and one with part of a request keeps reading.
async fn next_head(app: &Http, r: &mut StreamReader) -> Result<Head, ReadError> {
    let read = loop {
        if app.shutdown.is_set() {
            if r.buffer().is_empty() {
                return Ok(Head::Done);
            }
            break r.read_until(HEAD_END).await;
        }
        // read_until is cancel safe: a head arriving in pieces stays
        // buffered when the shutdown wins the race.
        futures::select_biased! {
            read = r.read_until(HEAD_END).fuse() => break read,
            _ = app.shutdown.wait().fuse() => continue,
            _ = sleep_or_never(app.keep_alive).fuse() => {
                if r.buffer().is_empty() {
                    app.idled_out.set(app.idled_out.get() + 1);
                    return Ok(Head::Done);
                }
            }
        }
    };
    match read {
        Ok(head) => Ok(Head::Ok(head)),
        Err(ReadError::IncompleteRead { partial, .. }) if partial.is_empty() => Ok(Head::Done),
        Err(ReadError::LimitOverrun { .. }) => {
            skip_head(r).await?;
            Ok(Head::TooLarge)
        }
        Err(e) => Err(e),
    }
}

/// Drops an over-long head, up to and including its blank line, keeping
/// the connection usable for the next request.
async fn skip_head(r: &mut StreamReader) -> Result<(), ReadError> {
    loop {
        match r.read_until(HEAD_END).await {
            Ok(_tail) => return Ok(()),
            Err(ReadError::LimitOverrun { consumed, .. }) => {
                let ends_head = r.buffer()[..consumed].ends_with(HEAD_END);
                r.discard(consumed);
                if ends_head {
                    return Ok(());
                }
            }
            Err(e) => return Err(e),
        }
    }
}

fn respond(w: &mut StreamWriter, status: &str, body: &[u8], close: bool) -> io::Result<()> {
    let connection = if close { "close" } else { "keep-alive" };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
        body.len()
    );
    w.write_all_parts(&[head.as_bytes(), body])?;
    Ok(())
}

/// One keep-alive connection: requests in a loop (pipelined ones are
/// simply found buffered), until the client asks to close, leaves, or the
/// server shuts down.
async fn http_conn(app: Rc<Http>, mut r: StreamReader, mut w: StreamWriter) -> io::Result<()> {
    r.set_limit(HEAD_LIMIT);
    loop {
        let head = match next_head(&app, &mut r).await? {
            Head::Done => break,
            Head::TooLarge => {
                respond(&mut w, "431 Request Header Fields Too Large", b"", false)?;
                app.served.set(app.served.get() + 1);
                w.drain().await?;
                continue;
            }
            Head::Ok(head) => head,
        };
        let Some(req) = Request::parse(&head) else {
            respond(&mut w, "400 Bad Request", b"", true)?;
            break;
        };
        let body = match req.content_length() {
            Some(n) => {
                app.reading_body.set(app.reading_body.get() + 1);
                let body = r.read_exactly(n).await;
                app.reading_body.set(app.reading_body.get() - 1);
                body?
            }
            None => Vec::new(),
        };
        let (status, reply): (&str, Vec<u8>) = match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/hello") => ("200 OK", b"hello".to_vec()),
            ("POST", "/echo") => ("200 OK", body),
            ("GET", "/big") => ("200 OK", vec![b'x'; BIG]),
            ("GET", "/slow") => {
                app.slow_waiting.set(app.slow_waiting.get() + 1);
                app.release.wait().await;
                app.slow_waiting.set(app.slow_waiting.get() - 1);
                ("200 OK", b"slow".to_vec())
            }
            _ => ("404 Not Found", Vec::new()),
        };
        let close = req.wants_close() || app.shutdown.is_set();
        respond(&mut w, status, &reply, close)?;
        app.served.set(app.served.get() + 1);
        w.drain().await?;
        if close {
            break;
        }
    }
    // A lingering close: send our FIN after the last response, then read
    // (and drop) whatever the client still sends until it closes too.
    // Closing with unread bytes would reset the connection and could
    // destroy the last response before the client reads it.
    w.write_eof();
    let _ = eddy::wait_for(
        async {
            while !r.read(64 * 1024).await?.is_empty() {}
            io::Result::Ok(())
        },
        Duration::from_secs(5),
    )
    .await;
    w.close();
    w.wait_closed().await;
    Ok(())
}

/// The client side: one parsed response.
#[derive(Debug)]
struct Response {
    status: u16,
    close: bool,
    body: Vec<u8>,
}

async fn read_response(r: &mut StreamReader) -> Result<Response, ReadError> {
    let head = r.read_until(HEAD_END).await?;
    let head = String::from_utf8(head).expect("response head is text");
    let mut lines = head.trim_end_matches("\r\n").split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut length = 0;
    let mut close = false;
    for line in lines {
        let (name, value) = line.split_once(": ").unwrap();
        match name {
            "Content-Length" => length = value.parse().unwrap(),
            "Connection" => close = value == "close",
            _ => {}
        }
    }
    let body = r.read_exactly(length).await?;
    Ok(Response {
        status,
        close,
        body,
    })
}

fn request(method: &str, path: &str, body: &[u8], extra: &str) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: test\r\n{extra}").into_bytes();
    if !body.is_empty() || method == "POST" {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// A body whose bytes depend on who sent it, so a mix-up shows.
fn body_for(client: usize, round: usize) -> Vec<u8> {
    let len = (client * 7919 + round * 104_729) % 90_000;
    (0..len).map(|i| (i * 31 + client + round) as u8).collect()
}

/// After the server's last response: end of stream, no stray bytes.
async fn expect_eof(r: &mut StreamReader) {
    assert_eq!(
        r.read(1).await.unwrap(),
        b"",
        "bytes after the last response"
    );
}

/// One load client: pipelined batches on one keep-alive connection, an
/// over-long head answered with 431 on the same connection, then a
/// `Connection: close` request.
async fn http_client(addr: SocketAddr, id: usize) -> usize {
    let (mut r, mut w) = open_connection(addr).await.unwrap();
    let mut answered = 0;
    for round in 0..3 {
        let body = body_for(id, round);
        // Three requests in one write: the server finds them buffered.
        let mut batch = request("GET", "/hello", b"", "");
        batch.extend(request("POST", "/echo", &body, ""));
        batch.extend(request("GET", "/missing", b"", ""));
        w.write(&batch).unwrap();
        w.drain().await.unwrap();
        let hello = read_response(&mut r).await.unwrap();
        assert_eq!((hello.status, hello.body.as_slice()), (200, &b"hello"[..]));
        let echo = read_response(&mut r).await.unwrap();
        assert_eq!(echo.status, 200);
        assert!(
            echo.body == body,
            "client {id} round {round}: echo mixed up"
        );
        let missing = read_response(&mut r).await.unwrap();
        assert_eq!((missing.status, missing.close), (404, false));
        answered += 3;
    }
    // A head over the limit, and a good request right behind it.
    let huge = format!("X-Padding: {}\r\n", "p".repeat(3 * HEAD_LIMIT + id));
    let mut batch = request("GET", "/hello", b"", &huge);
    batch.extend(request("GET", "/hello", b"", ""));
    w.write(&batch).unwrap();
    let refused = read_response(&mut r).await.unwrap();
    assert_eq!((refused.status, refused.close), (431, false));
    let after = read_response(&mut r).await.unwrap();
    assert_eq!((after.status, after.body.as_slice()), (200, &b"hello"[..]));
    answered += 2;

    w.write(&request("GET", "/hello", b"", "Connection: close\r\n"))
        .unwrap();
    let last = read_response(&mut r).await.unwrap();
    assert_eq!((last.status, last.close), (200, true));
    answered += 1;
    expect_eof(&mut r).await;
    w.close();
    w.wait_closed().await;
    answered
}

#[test]
fn http_keep_alive_server_under_load_then_graceful_then_forced_shutdown() {
    eddy::run(guard("http app", async {
        let app = Rc::new(Http::default());
        let server = {
            let app = app.clone();
            start_server("127.0.0.1:0", move |r, w| http_conn(app.clone(), r, w))
                .await
                .unwrap()
        };
        let addr = server.local_addr().unwrap();

        // Load: 50 clients at once.
        let clients = (0..50).map(|id| eddy::spawn(http_client(addr, id)));
        let answered: usize = eddy::gather_all(clients)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .sum();
        assert_eq!(answered, 50 * 12);
        wait_while("load connections to end", || server.connection_count() > 0).await;
        assert_eq!(app.served.get(), 50 * 12);

        // Shutdown while clients are in every state: waiting for a slow
        // answer, halfway through sending a body, idle between requests.
        let mut slow = Vec::new();
        for _ in 0..10 {
            let (r, mut w) = open_connection(addr).await.unwrap();
            w.write(&request("GET", "/slow", b"", "")).unwrap();
            slow.push((r, w));
        }
        let upload: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        let mut uploads = Vec::new();
        for _ in 0..5 {
            let (r, mut w) = open_connection(addr).await.unwrap();
            let whole = request("POST", "/echo", &upload, "");
            let half = whole.len() - upload.len() / 2;
            w.write(&whole[..half]).unwrap();
            uploads.push((r, w, whole[half..].to_vec()));
        }
        let mut idle = Vec::new();
        for _ in 0..5 {
            let (mut r, mut w) = open_connection(addr).await.unwrap();
            w.write(&request("GET", "/hello", b"", "")).unwrap();
            let ok = read_response(&mut r).await.unwrap();
            assert_eq!((ok.status, ok.close), (200, false));
            idle.push((r, w));
        }
        // A client that never finishes its upload: the graceful part of the
        // shutdown cannot end it, the forced part must.
        let (mut stuck_r, mut stuck_w) = open_connection(addr).await.unwrap();
        let whole = request("POST", "/echo", &upload, "");
        stuck_w
            .write(&whole[..whole.len() - upload.len() + 10])
            .unwrap();
        // A client that asks for a big answer and never reads it.
        let (mut deaf_r, mut deaf_w) = open_connection(addr).await.unwrap();
        deaf_w.write(&request("GET", "/big", b"", "")).unwrap();
        wait_while("requests to be in flight", || {
            app.slow_waiting.get() < 10
                || app.reading_body.get() < 6
                || app.served.get() < 50 * 12 + 5 + 1
        })
        .await;
        assert_eq!(server.connection_count(), 22);

        server.close();
        app.shutdown.set();
        assert_eq!(
            open_connection(addr).await.unwrap_err().kind(),
            io::ErrorKind::ConnectionRefused
        );
        // Idle connections are closed cleanly: end of stream, no reset.
        for (mut r, mut w) in idle {
            expect_eof(&mut r).await;
            w.close();
        }
        // Requests in flight finish, told that the connection closes.
        app.release.set();
        let slow_done = slow.into_iter().map(|(mut r, mut w)| async move {
            let resp = read_response(&mut r).await.unwrap();
            assert_eq!(
                (resp.status, resp.close, resp.body.as_slice()),
                (200, true, &b"slow"[..])
            );
            expect_eof(&mut r).await;
            w.close();
        });
        let upload = &upload;
        let uploads_done = uploads.into_iter().map(|(mut r, mut w, rest)| async move {
            w.write(&rest).unwrap();
            let resp = read_response(&mut r).await.unwrap();
            assert_eq!((resp.status, resp.close), (200, true));
            assert!(resp.body == *upload, "upload echoed wrong");
            expect_eof(&mut r).await;
            w.close();
        });
        futures::join!(
            futures::future::join_all(slow_done),
            futures::future::join_all(uploads_done)
        );
        // Everyone but the stuck client and the one that does not read its
        // big answer is done; give them a grace period, then close what is
        // left, then abort what still cannot flush.
        let grace = Duration::from_millis(100);
        let graceful = eddy::wait_for(server.wait_closed(), grace).await;
        assert!(graceful.is_err(), "the stuck clients cannot have finished");
        assert_eq!(server.connection_count(), 2);
        server.close_clients();
        let closed = eddy::wait_for(server.wait_closed(), grace).await;
        assert!(
            closed.is_err(),
            "16 MiB cannot have gone to a client that does not read"
        );
        assert_eq!(server.connection_count(), 1);
        expect_eof(&mut stuck_r).await; // its handler is gone, its writer flushed
        stuck_w.close();
        server.abort_clients();
        server.wait_closed().await;
        assert_eq!(server.connection_count(), 0);
        // The client that did not read gets part of the answer, then the end.
        let head = deaf_r.read_until(HEAD_END).await.unwrap();
        assert!(head.starts_with(b"HTTP/1.1 200 OK\r\nContent-Length: 16777216\r\n"));
        match deaf_r.read_exactly(BIG).await {
            Err(ReadError::IncompleteRead { partial, .. }) => assert!(partial.len() < BIG),
            Err(ReadError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
            Ok(_) => panic!("all of /big arrived after the abort"),
            Err(e) => panic!("{e}"),
        }
        deaf_w.close();
        assert_eq!(app.served.get(), 50 * 12 + 5 + 1 + 10 + 5);
    }));
}

/// A client's pool of keep-alive connections, as an HTTP client library
/// keeps one.
struct Pool {
    addr: SocketAddr,
    idle: Vec<(StreamReader, StreamWriter)>,
    opened: usize,
    /// Pooled connections found closed by the server before reuse.
    stale: usize,
}

impl Pool {
    async fn get(&mut self, path: &str) -> Response {
        let (mut r, mut w) = loop {
            let Some((mut r, w)) = self.idle.pop() else {
                self.opened += 1;
                break open_connection(self.addr).await.unwrap();
            };
            // A reader learns of end of file only by reading: poll once.
            // An idle connection has nothing to read (None); one the
            // server closed reads end of file (or anything else is wrong).
            match r.fill().now_or_never() {
                None => break (r, w),
                Some(_) => self.stale += 1,
            }
        };
        w.write(&request("GET", path, b"", "")).unwrap();
        let response = read_response(&mut r).await.unwrap();
        if !response.close {
            self.idle.push((r, w));
        }
        response
    }
}

/// On the paused clock: the keep-alive limit passes in virtual time only
/// when the loop is idle, so a stall of the machine cannot expire it
/// between two requests.
#[test]
fn http_client_pool_skips_connections_the_server_closed_while_idle() {
    common::port::paused().block_on(guard("http pool app", async {
        let app = Rc::new(Http {
            keep_alive: Some(Duration::from_millis(200)),
            ..Http::default()
        });
        let server = {
            let app = app.clone();
            start_server("127.0.0.1:0", move |r, w| http_conn(app.clone(), r, w))
                .await
                .unwrap()
        };
        let mut pool = Pool {
            addr: server.local_addr().unwrap(),
            idle: Vec::new(),
            opened: 0,
            stale: 0,
        };
        for _ in 0..5 {
            assert_eq!(pool.get("/hello").await.body, b"hello");
        }
        assert_eq!((pool.opened, pool.stale), (1, 0), "one connection, reused");
        // The server closes the idle connection; once the loop has run, the
        // pool sees it.
        wait_while("the keep-alive limit", || app.idled_out.get() == 0).await;
        eddy::sleep(Duration::from_millis(1)).await;
        for _ in 0..3 {
            assert_eq!(pool.get("/hello").await.body, b"hello");
        }
        assert_eq!((pool.opened, pool.stale), (2, 1));
        drop(pool); // the server's lingering closes see end of file
        server.close();
        server.wait_closed().await;
        assert_eq!(app.idled_out.get(), 1);
    }));
}

// ---------------------------------------------------------------------------
// 2. TCP proxy: client -> proxy -> backend
// ---------------------------------------------------------------------------

/// How long a proxied connection may stay silent (both ways) before the
/// proxy closes it.
const PROXY_IDLE: Duration = Duration::from_millis(300);
const MIB: usize = 1024 * 1024;

/// What the backend saw, per connection, in the order connections ended.
#[derive(Default)]
struct Backend {
    /// (mode, bytes read from the client) per finished connection.
    finished: RefCell<Vec<(String, usize)>>,
}

/// The backend: the first line picks a mode.
/// - `echo`: echoes until end of file, then sends `bye` and closes (its
///   FIN follows the client's);
/// - `sink`: says `hello`, shuts its write side at once, then counts what
///   the client sends until end of file;
/// - `die`: reads 64 KiB and then drops the connection with data unread.
async fn backend_conn(b: Rc<Backend>, mut r: StreamReader, mut w: StreamWriter) -> io::Result<()> {
    let mode = String::from_utf8(r.read_line().await?).unwrap();
    let mode = mode.trim_end().to_string();
    let mut total = 0;
    match mode.as_str() {
        "echo" => loop {
            let chunk = r.read(64 * 1024).await?;
            if chunk.is_empty() {
                w.write(b"bye")?;
                break;
            }
            total += chunk.len();
            w.write(&chunk)?;
            w.drain().await?;
        },
        "sink" => {
            w.write(b"hello\n")?;
            w.write_eof();
            loop {
                let chunk = r.read(64 * 1024).await?;
                if chunk.is_empty() {
                    break;
                }
                total += chunk.len();
            }
        }
        "die" => {
            total = r.read_exactly(64 * 1024).await?.len();
            b.finished.borrow_mut().push((mode, total));
            w.abort();
            return Ok(());
        }
        other => panic!("unknown backend mode {other:?}"),
    }
    b.finished.borrow_mut().push((mode, total));
    w.close();
    w.wait_closed().await;
    Ok(())
}

/// What the proxy saw.
#[derive(Default)]
struct ProxyStats {
    idle_closed: Cell<usize>,
    failed: Cell<usize>,
    clean: Cell<usize>,
}

/// Copies one direction until end of file, which it passes on as a
/// half-close. Every chunk pushes the connection's idle deadline out.
async fn pump(
    from: &mut StreamReader,
    to: &mut StreamWriter,
    scope: &DeadlineHandle,
) -> io::Result<()> {
    loop {
        let chunk = from.read(64 * 1024).await?;
        if chunk.is_empty() {
            to.write_eof();
            return Ok(());
        }
        scope.reschedule(Some(Instant::now() + PROXY_IDLE));
        to.write(&chunk)?;
        to.drain().await?;
        // Sending can take a while under back-pressure: that is not idleness.
        scope.reschedule(Some(Instant::now() + PROXY_IDLE));
    }
}

async fn proxy_conn(
    backend: SocketAddr,
    stats: Rc<ProxyStats>,
    mut cr: StreamReader,
    mut cw: StreamWriter,
) -> io::Result<()> {
    let (mut br, mut bw) = match open_connection(backend).await {
        Ok(pair) => pair,
        Err(e) => {
            cw.abort();
            return Err(e);
        }
    };
    let copied = deadline(PROXY_IDLE, |scope| async move {
        let both = futures::future::try_join(
            pump(&mut cr, &mut bw, &scope),
            pump(&mut br, &mut cw, &scope),
        )
        .await;
        if let Err(e) = both {
            // Reset both sides: a clean end of stream would pass a
            // truncated transfer off as a complete one.
            cw.abort();
            bw.abort();
            return Err(e);
        }
        cw.close();
        bw.close();
        cw.wait_closed().await;
        bw.wait_closed().await;
        Ok(())
    });
    // On expiry the body is dropped with the streams: each writer sends
    // what it holds and shuts its side, so both peers read end of stream.
    match copied.await {
        Ok(Ok(())) => {
            stats.clean.set(stats.clean.get() + 1);
            Ok(())
        }
        Ok(Err(e)) => {
            stats.failed.set(stats.failed.get() + 1);
            Err(e)
        }
        Err(_idle) => {
            stats.idle_closed.set(stats.idle_closed.get() + 1);
            Ok(())
        }
    }
}

/// 1 MiB whose bytes depend on `seed`.
fn payload(seed: usize) -> Vec<u8> {
    (0..MIB).map(|i| (i / 7 + seed * 13) as u8).collect()
}

/// Sends `data` in 64 KiB writes, respecting back-pressure.
async fn send_all(w: &mut StreamWriter, data: &[u8]) -> Result<(), eddy::io::WriteError> {
    for chunk in data.chunks(64 * 1024) {
        w.write(chunk)?;
        w.drain().await?;
    }
    Ok(())
}

/// 1 MiB up and back through the proxy; the client's half-close reaches
/// the backend, whose `bye` and FIN come back after the echo.
async fn proxy_echo_client(proxy: SocketAddr, seed: usize) {
    let (mut r, mut w) = open_connection(proxy).await.unwrap();
    let data = payload(seed);
    let send = async {
        w.write(b"echo\n").unwrap();
        send_all(&mut w, &data).await.unwrap();
        w.write_eof();
    };
    let receive = async {
        let echoed = r.read_exactly(MIB).await.unwrap();
        assert!(echoed == data, "client {seed}: the echo differs");
        assert_eq!(r.read_to_end().await.unwrap(), b"bye");
    };
    futures::join!(send, receive);
    w.close();
    w.wait_closed().await;
}

/// The backend half-closes first; the client keeps sending 1 MiB, which
/// the backend still receives whole.
async fn proxy_sink_client(proxy: SocketAddr) {
    let (mut r, mut w) = open_connection(proxy).await.unwrap();
    w.write(b"sink\n").unwrap();
    assert_eq!(r.read_line().await.unwrap(), b"hello\n");
    assert_eq!(
        r.read(1).await.unwrap(),
        b"",
        "the backend's FIN did not come through"
    );
    send_all(&mut w, &payload(99)).await.unwrap();
    w.close(); // all of it is sent, then the FIN
    w.wait_closed().await;
}

/// The backend drops the connection after 64 KiB: the client must see an
/// error, not a clean end that looks like a finished transfer.
async fn proxy_dying_backend_client(proxy: SocketAddr) {
    let (mut r, mut w) = open_connection(proxy).await.unwrap();
    let data = payload(7);
    let send = async {
        w.write(b"die\n").unwrap();
        // It may fail (reset) or not (all of it fitted in buffers).
        let _ = send_all(&mut w, &data).await;
    };
    let receive = async {
        match r.read_exactly(MIB).await {
            Err(ReadError::IncompleteRead { partial, .. }) => assert!(partial.is_empty()),
            Err(ReadError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
            other => panic!("a dead backend looked like {other:?}"),
        }
    };
    futures::join!(send, receive);
}

/// A client that goes quiet is closed by the proxy: it reads end of
/// stream.
async fn proxy_idle_client(proxy: SocketAddr) {
    let (mut r, mut w) = open_connection(proxy).await.unwrap();
    w.write(b"echo\nping").unwrap();
    assert_eq!(r.read_exactly(4).await.unwrap(), b"ping");
    assert_eq!(
        r.read(1).await.unwrap(),
        b"",
        "an idle connection was not closed"
    );
    w.close();
}

/// A client that sends one byte at a time, for longer than the idle
/// limit in all, is never idle: each byte moves the deadline.
async fn proxy_trickle_client(proxy: SocketAddr) -> usize {
    let (mut r, mut w) = open_connection(proxy).await.unwrap();
    w.write(b"echo\n").unwrap();
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < PROXY_IDLE * 3 / 2 {
        let byte = [b'a' + (n % 26) as u8];
        w.write(&byte).unwrap();
        assert_eq!(r.read_exactly(1).await.unwrap(), byte);
        eddy::sleep(PROXY_IDLE / 15).await;
        n += 1;
    }
    w.write_eof();
    assert_eq!(r.read_to_end().await.unwrap(), b"bye");
    w.close();
    n
}

/// On the paused clock: every peer is a task of this loop, so idle
/// deadlines pass in virtual time only when nothing is moving, and a
/// stall of the machine cannot pass for an idle connection.
#[test]
fn tcp_proxy_with_idle_timeouts_and_half_close() {
    common::port::paused().block_on(guard("proxy app", async {
        let backend = Rc::new(Backend::default());
        let backend_server = {
            let b = backend.clone();
            start_server("127.0.0.1:0", move |r, w| backend_conn(b.clone(), r, w))
                .await
                .unwrap()
        };
        let backend_addr = backend_server.local_addr().unwrap();
        let stats = Rc::new(ProxyStats::default());
        let proxy_server = {
            let stats = stats.clone();
            start_server("127.0.0.1:0", move |r, w| {
                proxy_conn(backend_addr, stats.clone(), r, w)
            })
            .await
            .unwrap()
        };
        let proxy = proxy_server.local_addr().unwrap();

        let echoes = futures::future::join_all((0..4).map(|seed| proxy_echo_client(proxy, seed)));
        let (_, _, _, _, trickled) = futures::join!(
            echoes,
            proxy_sink_client(proxy),
            proxy_dying_backend_client(proxy),
            proxy_idle_client(proxy),
            proxy_trickle_client(proxy),
        );

        proxy_server.close();
        proxy_server.wait_closed().await;
        backend_server.close();
        backend_server.wait_closed().await;
        assert_eq!(
            (
                stats.clean.get(),
                stats.failed.get(),
                stats.idle_closed.get()
            ),
            (6, 1, 1)
        );
        let mut seen = backend.finished.borrow().clone();
        seen.sort();
        let mut want: Vec<(String, usize)> = vec![("die".into(), 64 * 1024), ("sink".into(), MIB)];
        want.extend((0..4).map(|_| ("echo".to_string(), MIB)));
        want.push(("echo".into(), 4)); // the idle client's ping
        want.push(("echo".into(), trickled));
        want.sort();
        assert_eq!(seen, want);
    }));
}

// ---------------------------------------------------------------------------
// 3. Chat room: broadcast to per-client bounded outboxes, laggards kicked
// ---------------------------------------------------------------------------

/// Lines a member may have queued before it counts as a laggard (the rule
/// of examples/chat_server.rs: a full outbox disconnects the client rather
/// than leaving holes in its transcript).
const OUTBOX: usize = 64;
const FAST: usize = 4;
const MSGS: usize = 300;
/// How far ahead of its slowest fast reader a fast sender may run.
const WINDOW: usize = 16;

type Line = Rc<[u8]>;
/// A member's outbox and its "kicked out" flag.
type Member = (eddy::sync::mpsc::Sender<Line>, Rc<Event>);

#[derive(Default)]
struct Room {
    /// Each member's outbox and its "kicked out" flag, by nick.
    members: RefCell<HashMap<String, Member>>,
    kicked: RefCell<Vec<String>>,
}

impl Room {
    /// Queues `line` for everyone but `from`, never waiting; a member whose
    /// outbox is full is disconnected.
    fn broadcast(&self, from: &str, line: Line) {
        let mut members = self.members.borrow_mut();
        let laggards: Vec<String> = members
            .iter()
            .filter(|(name, (tx, _))| *name != from && tx.try_send(line.clone()).is_err())
            .map(|(name, _)| name.clone())
            .collect();
        for name in laggards {
            let (_, kicked) = members.remove(&name).unwrap();
            kicked.set();
            self.kicked.borrow_mut().push(name);
        }
    }
}

/// Writes a member's outbox to its socket until it leaves or is kicked.
async fn chat_pump(
    mut rx: eddy::sync::mpsc::Receiver<Line>,
    mut w: StreamWriter,
    kicked: Rc<Event>,
) {
    loop {
        let line = futures::select_biased! {
            _ = kicked.wait().fuse() => break,
            line = rx.recv().fuse() => line,
        };
        let Some(line) = line else { break };
        if w.write(&line).is_err() {
            return;
        }
        futures::select_biased! {
            _ = kicked.wait().fuse() => break,
            sent = w.drain().fuse() => if sent.is_err() { return },
        }
    }
    if kicked.is_set() {
        w.abort(); // it does not read: drop what is queued
    } else {
        w.close();
    }
}

async fn chat_member(room: Rc<Room>, mut r: StreamReader, w: StreamWriter) -> io::Result<()> {
    r.set_limit(4096);
    let nick = r.read_line().await?;
    let nick = String::from_utf8(nick).unwrap().trim_end().to_string();
    let (tx, rx) = eddy::sync::mpsc::channel(OUTBOX);
    let kicked = Rc::new(Event::new());
    room.members
        .borrow_mut()
        .insert(nick.clone(), (tx, kicked.clone()));
    let pump = eddy::spawn(chat_pump(rx, w, kicked.clone()));
    let left = loop {
        let line = futures::select_biased! {
            _ = kicked.wait().fuse() => break Ok(()),
            line = r.read_line().fuse() => line,
        };
        match line {
            Ok(line) if line.is_empty() => break Ok(()),
            Ok(line) => room.broadcast(&nick, line.into()),
            Err(e) => break Err(e.into()), // an over-long line, a reset
        }
    };
    // Its outbox goes with it: the pump drains what is queued and closes.
    room.members.borrow_mut().remove(&nick);
    let _ = pump.await;
    left
}

/// `sender:seq:padding\n`, about 1 KiB.
fn chat_line(sender: usize, seq: usize) -> Vec<u8> {
    let mut line = format!("f{sender}:{seq}:").into_bytes();
    line.resize(1023, b'a' + (seq % 26) as u8);
    line.push(b'\n');
    line
}

/// (sender, seq) of a received line, checking its padding.
fn parse_chat_line(line: &[u8]) -> (usize, usize) {
    assert_eq!(line.len(), 1024, "a line arrived cut or merged");
    let text = std::str::from_utf8(line).unwrap();
    let mut parts = text[1..].splitn(3, ':');
    let sender: usize = parts.next().unwrap().parse().unwrap();
    let seq: usize = parts.next().unwrap().parse().unwrap();
    assert_eq!(chat_line(sender, seq), line, "a line arrived damaged");
    (sender, seq)
}

/// `got[receiver][sender]`: lines each fast client has received from each
/// other one.
type Progress = Rc<RefCell<[[usize; FAST]; FAST]>>;

async fn join_chat(path: &std::path::Path, nick: &str) -> (StreamReader, StreamWriter) {
    let (r, mut w) = eddy::io::open_unix_connection(path).await.unwrap();
    w.write(format!("{nick}\n").as_bytes()).unwrap();
    (r, w)
}

/// A fast member: sends its lines (never more than `WINDOW` ahead of any
/// other fast member's reading) while reading everyone else's, each
/// sender's in order and without holes.
async fn fast_member(me: usize, mut r: StreamReader, mut w: StreamWriter, progress: Progress) {
    let send = async {
        for seq in 0..MSGS {
            while (0..FAST).any(|other| other != me && progress.borrow()[other][me] + WINDOW < seq)
            {
                eddy::sleep(Duration::from_millis(1)).await;
            }
            w.write(&chat_line(me, seq)).unwrap();
            w.drain().await.unwrap();
        }
    };
    let receive = async {
        while (0..FAST).any(|s| s != me && progress.borrow()[me][s] < MSGS) {
            let line = r.read_line().await.unwrap();
            let (sender, seq) = parse_chat_line(&line);
            let mut p = progress.borrow_mut();
            assert_eq!(p[me][sender], seq, "f{me} missed a line of f{sender}");
            p[me][sender] += 1;
        }
    };
    futures::join!(send, receive);
    w.close();
    w.wait_closed().await;
}

#[test]
fn chat_room_disconnects_a_slow_client_without_stalling_the_fast_ones() {
    eddy::run(guard("chat app", async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chat.sock");
        let room = Rc::new(Room::default());
        let server = {
            let room = room.clone();
            eddy::io::start_unix_server(&path, move |r, w| chat_member(room.clone(), r, w))
                .await
                .unwrap()
        };
        // The slow member joins and then never reads until the end.
        let (mut slow_r, _slow_w) = join_chat(&path, "slow").await;
        let mut fast = Vec::new();
        for me in 0..FAST {
            fast.push(join_chat(&path, &format!("f{me}")).await);
        }
        wait_while("everyone to join", || {
            room.members.borrow().len() < FAST + 1
        })
        .await;

        let progress = Progress::default();
        let members = fast
            .into_iter()
            .enumerate()
            .map(|(me, (r, w))| fast_member(me, r, w, progress.clone()));
        futures::future::join_all(members).await;
        assert_eq!(*room.kicked.borrow(), ["slow"]);

        // What the laggard got before it was cut off: a prefix of each
        // sender's lines, then end of stream.
        let mut next = [0; FAST];
        loop {
            let line = slow_r.read_line().await.unwrap();
            if line.is_empty() {
                break;
            }
            let (sender, seq) = parse_chat_line(&line);
            assert_eq!(next[sender], seq, "the slow client's transcript has a hole");
            next[sender] += 1;
        }
        assert!(next.iter().sum::<usize>() < FAST * MSGS);

        server.close();
        server.wait_closed().await;
        assert!(room.members.borrow().is_empty());
    }));
}
