//! TLS over eddy: what asyncio does with `open_connection(..., ssl=ctx)`,
//! `start_server(..., ssl=ctx)` and `start_tls`. eddy has no TLS of its
//! own; its sockets implement futures' `AsyncRead`/`AsyncWrite`, so
//! futures-rustls wraps an eddy `TcpStream` as it is. These tests run a TLS
//! server and its clients on one eddy loop over 127.0.0.1 with a
//! self-signed certificate made by rcgen: concurrent clients exchanging
//! messages up to 1 MiB while another client's handshake is stalled,
//! clients that check the wrong name or do not trust the certificate, a
//! client sending garbage, close_notify against a truncated stream,
//! handshakes cut short by `eddy::time::timeout`/`wait_for`, and TLS under
//! the asyncio-style `StreamReader`/`StreamWriter`.
//!
//! The last test pins a defect this file found: a `StreamWriter` did not
//! flush the stream it wraps, so over TLS the end of a large write could
//! stay inside rustls. It now flushes the stream whenever its own buffer
//! empties.

mod common;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io::{self, ErrorKind};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::port::{echo, guard, settle, wait_while};
use common::Rng;
use eddy::io::{BoxedReader, StreamReader, StreamWriter};
use eddy::net::{TcpListener, TcpStream};
use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use futures_rustls::client::TlsStream;
use futures_rustls::pki_types::{PrivatePkcs8KeyDer, ServerName};
use futures_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use futures_rustls::{TlsAcceptor, TlsConnector};

type ServerTls = futures_rustls::server::TlsStream<TcpStream>;
type ClientTls = TlsStream<TcpStream>;

/// The name the test certificate is issued for.
const NAME: &str = "localhost";

/// A handshake limit no test reaches (beyond the hang guard's 20 s).
const NO_LIMIT: Duration = Duration::from_secs(60);

const MIB: usize = 1024 * 1024;

/// A server and a client configuration for one fresh self-signed
/// certificate, on rustls' ring provider.
struct Tls {
    acceptor: TlsAcceptor,
    connector: TlsConnector,
    /// The client side's configuration itself (what `open_tls` takes).
    client: Arc<ClientConfig>,
}

fn self_signed() -> Tls {
    let made = rcgen::generate_simple_self_signed(vec![NAME.to_string()]).unwrap();
    let cert = made.cert.der().clone();
    let key = PrivatePkcs8KeyDer::from(made.signing_key.serialize_der());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key.into())
        .unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let client = Arc::new(client);
    Tls {
        acceptor: TlsAcceptor::from(Arc::new(server)),
        connector: TlsConnector::from(client.clone()),
        client,
    }
}

/// What the test server saw.
#[derive(Default)]
struct Seen {
    /// Handshakes under way.
    handshaking: Cell<usize>,
    /// Handshakes that completed.
    served: Cell<usize>,
    /// Handshakes that failed, with their errors.
    failed: RefCell<Vec<io::Error>>,
    /// Handshakes cut short by the time limit.
    timed_out: Cell<usize>,
    /// How each completed connection's handler ended.
    ended: RefCell<Vec<io::Result<()>>>,
}

struct TlsServer {
    addr: SocketAddr,
    seen: Rc<Seen>,
    /// The handshake time limit for connections accepted from now on.
    limit: Rc<Cell<Duration>>,
    accepting: eddy::JoinHandle<()>,
}

impl TlsServer {
    /// Stops accepting (connections in progress end with the loop).
    fn stop(&self) {
        self.accepting.cancel();
    }
}

/// A TLS server on 127.0.0.1: every accepted connection is a task that
/// runs the handshake under `eddy::time::timeout(limit, ..)` (`limit` as
/// [`TlsServer::limit`] holds it at the accept) and then
/// `handler` (asyncio's `start_server(..., ssl=ctx,
/// ssl_handshake_timeout=limit)`).
async fn tls_server<H, F>(acceptor: TlsAcceptor, limit: Duration, handler: H) -> TlsServer
where
    H: Fn(ServerTls) -> F + 'static,
    F: Future<Output = io::Result<()>> + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Rc::new(Seen::default());
    let handler = Rc::new(handler);
    let limit = Rc::new(Cell::new(limit));
    let accepting = eddy::spawn({
        let (seen, limits) = (seen.clone(), limit.clone());
        async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let limit = limits.get();
                let (acceptor, seen, handler) = (acceptor.clone(), seen.clone(), handler.clone());
                eddy::spawn(async move {
                    seen.handshaking.set(seen.handshaking.get() + 1);
                    let handshake = eddy::time::timeout(limit, acceptor.accept(tcp)).await;
                    seen.handshaking.set(seen.handshaking.get() - 1);
                    match handshake {
                        Ok(Ok(tls)) => {
                            seen.served.set(seen.served.get() + 1);
                            let end = handler(tls).await;
                            seen.ended.borrow_mut().push(end);
                        }
                        Ok(Err(e)) => seen.failed.borrow_mut().push(e),
                        Err(_elapsed) => seen.timed_out.set(seen.timed_out.get() + 1),
                    }
                });
            }
        }
    });
    TlsServer {
        addr,
        seen,
        limit,
        accepting,
    }
}

/// Echoes bytes until the client's close_notify, then sends its own.
async fn echo_bytes(tls: ServerTls) -> io::Result<()> {
    let (mut r, mut w) = tls.split();
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        w.write_all(&buf[..n]).await?;
        // rustls may keep encrypted bytes the socket did not take yet:
        // flush before waiting to read, or the peer may never get them.
        w.flush().await?;
    }
    w.close().await
}

/// A TCP connection to `addr` with a TLS handshake for `name`.
async fn connect(addr: SocketAddr, connector: &TlsConnector, name: &str) -> io::Result<ClientTls> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(name.to_string()).unwrap();
    connector.connect(name, tcp).await
}

/// Sends `msg` and reads back as many bytes, both at once (writing 1 MiB
/// before reading would fill both sides' socket buffers and stall).
async fn exchange(
    r: &mut ReadHalf<ClientTls>,
    w: &mut WriteHalf<ClientTls>,
    msg: &[u8],
) -> Vec<u8> {
    let mut back = vec![0; msg.len()];
    let send = async {
        w.write_all(msg).await?;
        w.flush().await
    };
    let (sent, got) = futures::join!(send, r.read_exact(&mut back));
    sent.unwrap();
    got.unwrap();
    back
}

/// `len` bytes of seeded noise.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// A client that exchanges a greeting, 1 MiB and a goodbye with the byte
/// echo server, then closes with close_notify and reads the server's.
async fn echo_client(addr: SocketAddr, connector: TlsConnector, id: u64) {
    let tls = guard("handshake", connect(addr, &connector, NAME))
        .await
        .unwrap();
    let (mut r, mut w) = tls.split();
    let hello = format!("hello from client {id}\n");
    let back = guard("hello", exchange(&mut r, &mut w, hello.as_bytes())).await;
    assert_eq!(back, hello.as_bytes());
    let big = noise(id, MIB);
    let back = guard("1 MiB", exchange(&mut r, &mut w, &big)).await;
    assert!(
        back == big,
        "client {id}: the 1 MiB message came back changed"
    );
    let back = guard("bye", exchange(&mut r, &mut w, b"bye\n")).await;
    assert_eq!(back, b"bye\n");
    w.close().await.unwrap();
    let mut rest = Vec::new();
    guard("server's close_notify", r.read_to_end(&mut rest))
        .await
        .unwrap();
    assert!(rest.is_empty());
}

/// A connection that starts a handshake and stops: a TLS record header
/// announcing a 512-byte handshake message that never comes.
async fn stalled_client(addr: SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .unwrap();
    tcp
}

#[test]
fn concurrent_clients_exchange_messages_and_a_mebibyte_intact_while_a_handshake_stalls() {
    eddy::run(async {
        let tls = self_signed();
        let server = tls_server(tls.acceptor, NO_LIMIT, echo_bytes).await;
        let _stalled = stalled_client(server.addr).await;
        let clients: Vec<_> = (0..4)
            .map(|id| eddy::spawn(echo_client(server.addr, tls.connector.clone(), id)))
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        wait_while("handlers", || server.seen.ended.borrow().len() < 4).await;
        assert_eq!(server.seen.served.get(), 4);
        assert!(server.seen.ended.borrow().iter().all(|end| end.is_ok()));
        assert!(server.seen.failed.borrow().is_empty());
        // The stalled handshake is still waiting: it held up no one.
        assert_eq!(server.seen.handshaking.get(), 1);
        assert_eq!(server.seen.timed_out.get(), 0);
        server.stop();
    });
}

/// The rustls error inside a failed handshake's `io::Error`.
fn rustls_error(e: &io::Error) -> &rustls::Error {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("not a rustls error: {e:?}"))
}

#[test]
fn a_client_checking_the_wrong_name_or_another_root_fails_the_handshake_with_an_error() {
    eddy::run(async {
        let tls = self_signed();
        let server = tls_server(tls.acceptor, NO_LIMIT, echo_bytes).await;

        let err = guard(
            "wrong name",
            connect(server.addr, &tls.connector, "example.com"),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert!(
            matches!(
                rustls_error(&err),
                rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForName
                        | rustls::CertificateError::NotValidForNameContext { .. }
                )
            ),
            "{err}"
        );

        // A client trusting another certificate only.
        let stranger = self_signed().connector;
        let err = guard("unknown issuer", connect(server.addr, &stranger, NAME))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        // (UnknownIssuer, or BadSignature: rcgen gives every certificate
        // the same subject, so the stranger's own one is tried as issuer.)
        assert!(
            matches!(rustls_error(&err), rustls::Error::InvalidCertificate(_)),
            "{err}"
        );

        // The server hears both clients' alerts as failed handshakes, and
        // serves on.
        wait_while("alerts", || server.seen.failed.borrow().len() < 2).await;
        for e in server.seen.failed.borrow().iter() {
            assert!(
                matches!(rustls_error(e), rustls::Error::AlertReceived(_)),
                "{e}"
            );
        }
        echo_client(server.addr, tls.connector, 1).await;
        assert_eq!(server.seen.served.get(), 1);
        server.stop();
    });
}

#[test]
fn garbage_or_a_hang_up_during_the_handshake_fails_only_that_connection() {
    eddy::run(async {
        let tls = self_signed();
        let server = tls_server(tls.acceptor, NO_LIMIT, echo_bytes).await;

        // Plain HTTP at a TLS port: the server answers (an alert, or
        // nothing) and hangs up; the client is not left waiting.
        let mut plain = TcpStream::connect(server.addr).await.unwrap();
        plain
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        match guard("plain client", plain.read_to_end(&mut answer)).await {
            Ok(_) => {}
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
        }
        // A record header with a wrong version and random bytes.
        let mut noisy = TcpStream::connect(server.addr).await.unwrap();
        noisy.write_all(&noise(7, 4096)).await.unwrap();
        let _ = guard("noisy client", noisy.read_to_end(&mut answer)).await;
        // Connected and hung up at once.
        drop(TcpStream::connect(server.addr).await.unwrap());

        wait_while("failures", || server.seen.failed.borrow().len() < 3).await;
        let kinds: Vec<ErrorKind> = server
            .seen
            .failed
            .borrow()
            .iter()
            .map(|e| e.kind())
            .collect();
        assert!(kinds.contains(&ErrorKind::InvalidData), "{kinds:?}");
        assert!(kinds.contains(&ErrorKind::UnexpectedEof), "{kinds:?}");

        // The server still serves.
        echo_client(server.addr, tls.connector, 2).await;
        assert_eq!(server.seen.served.get(), 1);
        server.stop();
    });
}

#[test]
fn close_notify_gives_the_peer_a_clean_end_and_a_truncated_stream_is_an_error() {
    eddy::run(async {
        let tls = self_signed();
        let server = tls_server(tls.acceptor, NO_LIMIT, echo_bytes).await;

        // Clean: close() sends close_notify, then shuts the socket's write
        // side; the server reads end of stream and closes the same way.
        let mut clean = connect(server.addr, &tls.connector, NAME).await.unwrap();
        clean.write_all(b"ping").await.unwrap();
        clean.flush().await.unwrap();
        let mut pong = [0; 4];
        guard("pong", clean.read_exact(&mut pong)).await.unwrap();
        assert_eq!(&pong, b"ping");
        clean.close().await.unwrap();
        let mut rest = Vec::new();
        let n = guard("clean end", clean.read_to_end(&mut rest))
            .await
            .unwrap();
        assert_eq!(n, 0);
        wait_while("clean handler", || server.seen.ended.borrow().is_empty()).await;
        assert!(server.seen.ended.borrow()[0].is_ok());

        // Truncated: the TCP connection ends without close_notify (what an
        // attacker cutting the connection looks like). Both sides see an
        // UnexpectedEof error, not an end of stream.
        let mut cut = connect(server.addr, &tls.connector, NAME).await.unwrap();
        cut.write_all(b"ping").await.unwrap();
        cut.flush().await.unwrap();
        guard("pong", cut.read_exact(&mut pong)).await.unwrap();
        cut.get_ref().0.shutdown(Shutdown::Write).unwrap();
        wait_while("cut handler", || server.seen.ended.borrow().len() < 2).await;
        let server_end = server.seen.ended.borrow_mut().pop().unwrap();
        assert_eq!(server_end.unwrap_err().kind(), ErrorKind::UnexpectedEof);
        // The server's handler failed and dropped the connection without
        // close_notify: the client sees the truncation too.
        let err = guard("cut end", cut.read_to_end(&mut rest))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
        server.stop();
    });
}

#[test]
fn a_handshake_cut_short_by_timeout_leaves_the_server_serving() {
    eddy::run(async {
        let tls = self_signed();
        let server = tls_server(tls.acceptor, Duration::from_millis(100), echo_bytes).await;
        let mut stalled = stalled_client(server.addr).await;
        wait_while("accept", || server.seen.handshaking.get() == 0).await;
        // Later connections get all the time they need (a loaded machine
        // must not fail a good client's handshake), and are served while
        // the stalled one waits out its limit and after it was cut.
        server.limit.set(NO_LIMIT);
        let during = eddy::spawn(echo_client(server.addr, tls.connector.clone(), 1));

        // The server gives up on the stalled handshake and drops the
        // connection: the client reads end of stream (or a reset).
        let mut buf = [0; 64];
        match guard("stalled client", stalled.read(&mut buf)).await {
            Ok(n) => assert_eq!(n, 0),
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
        }
        assert_eq!(server.seen.timed_out.get(), 1);
        assert!(server.seen.failed.borrow().is_empty());

        echo_client(server.addr, tls.connector, 2).await;
        during.await.unwrap();
        assert_eq!(server.seen.served.get(), 2);
        assert_eq!(server.seen.handshaking.get(), 0);
        assert_eq!(server.seen.timed_out.get(), 1);
        server.stop();
    });
}

#[test]
fn wait_for_cuts_short_a_client_handshake_with_a_silent_peer() {
    eddy::run(async {
        let tls = self_signed();
        // Accepts the connection and never answers the ClientHello.
        let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap();
        let held = eddy::spawn(async move {
            let (tcp, _) = silent.accept().await.unwrap();
            std::future::pending::<()>().await;
            drop(tcp);
        });
        let handshake = connect(addr, &tls.connector, NAME);
        let cut = eddy::wait_for(handshake, Duration::from_millis(50)).await;
        assert!(cut.is_err(), "the handshake with a silent peer finished");
        held.cancel();

        // The same connector goes on working.
        let server = tls_server(tls.acceptor, NO_LIMIT, echo_bytes).await;
        echo_client(server.addr, tls.connector, 3).await;
        server.stop();
    });
}

/// asyncio's streams over a TLS connection: `eddy::io::stream_pair` makes
/// the same `StreamReader`/`StreamWriter` types that `open_connection` and
/// `start_server` hand out, linked the same way (closing the writer ends
/// the reader).
fn tls_streams<S>(tls: S) -> (StreamReader, StreamWriter)
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    eddy::io::stream_pair(tls)
}

#[test]
fn closing_a_tls_stream_pair_ends_its_reader_while_the_server_stays_silent() {
    eddy::run(async {
        let tls = self_signed();
        // The handler completes the handshake, then neither reads nor
        // writes until the server is stopped.
        let server = tls_server(tls.acceptor, NO_LIMIT, |tls| async move {
            let _open = tls;
            std::future::pending::<io::Result<()>>().await
        })
        .await;
        let tls_conn = connect(server.addr, &tls.connector, NAME).await.unwrap();
        let (mut reader, mut writer) = tls_streams(tls_conn);
        let reading = eddy::spawn(async move { reader.read_line().await });
        eddy::time::sleep(Duration::from_millis(1)).await;
        writer.close();
        guard("closed", writer.wait_closed()).await;
        // End of stream from our own close, not from the silent peer.
        let line = guard("reader ended", reading).await.unwrap().unwrap();
        assert!(line.is_empty());
        server.stop();
    });
}

#[test]
fn asyncio_streams_over_tls_read_lines_and_close_with_close_notify() {
    eddy::run(async {
        let tls = self_signed();
        // The asyncio tutorial's echo handler, as used by start_server,
        // unchanged: it reads lines until end of stream, then closes. The
        // lines are small, so no write finds the socket full.
        let server = tls_server(tls.acceptor, NO_LIMIT, |tls| async move {
            let (r, w) = tls_streams(tls);
            echo(r, w).await.map_err(io::Error::from)
        })
        .await;

        let tls_conn = connect(server.addr, &tls.connector, NAME).await.unwrap();
        let (mut reader, mut writer) = tls_streams(tls_conn);
        writer.write(b"hello\n").unwrap();
        writer.drain().await.unwrap();
        assert_eq!(
            guard("hello", reader.read_line()).await.unwrap(),
            b"hello\n"
        );
        // A line longer than a TLS record (16 KiB), and two lines in one write.
        let mut long = noise(9, 40 * 1024)
            .into_iter()
            .map(|b| b'a' + b % 26)
            .collect::<Vec<u8>>();
        long.push(b'\n');
        writer.write(&long).unwrap();
        writer.write(b"one\ntwo\n").unwrap();
        writer.drain().await.unwrap();
        assert_eq!(guard("long", reader.read_line()).await.unwrap(), long);
        assert_eq!(guard("one", reader.read_line()).await.unwrap(), b"one\n");
        assert_eq!(guard("two", reader.read_line()).await.unwrap(), b"two\n");

        // write_eof: close_notify after the buffer; the handler reads the
        // end, closes, and the reader gets its end of stream.
        writer.write(b"last").unwrap();
        writer.write_eof();
        assert_eq!(guard("last", reader.read_line()).await.unwrap(), b"last");
        assert_eq!(guard("end", reader.read_line()).await.unwrap(), b"");
        assert!(reader.at_eof());
        writer.close();
        guard("closed", writer.wait_closed()).await;
        wait_while("handler", || server.seen.ended.borrow().is_empty()).await;
        assert!(server.seen.ended.borrow()[0].is_ok());
        server.stop();
    });
}

/// asyncio's `open_connection(host, port, ssl=ctx)` as docs/guide.md
/// shows it: lines are read through a `StreamReader` over the TLS read
/// half; writes go through the TLS write half, flushed.
async fn open_tls(
    host: &str,
    port: u16,
    ctx: Arc<ClientConfig>,
) -> io::Result<(StreamReader, WriteHalf<TlsStream<TcpStream>>)> {
    let tcp = TcpStream::connect((host, port)).await?;
    let name = ServerName::try_from(host.to_string()).map_err(io::Error::other)?;
    let (r, w) = TlsConnector::from(ctx).connect(name, tcp).await?.split();
    Ok((StreamReader::new(Box::new(r) as BoxedReader), w))
}

#[test]
fn a_stream_reader_over_tls_reads_lines_and_large_replies_written_through_the_tls_half() {
    eddy::run(async {
        let tls = self_signed();
        // Answers "N\n" with N bytes and a newline, until end of stream.
        let server = tls_server(tls.acceptor, NO_LIMIT, |tls| async move {
            let (r, mut w) = tls.split();
            let mut r = StreamReader::new(r);
            loop {
                let line = r.read_line().await?;
                if line.is_empty() {
                    return w.close().await;
                }
                let n: usize = std::str::from_utf8(&line).unwrap().trim().parse().unwrap();
                let mut reply = noise(n as u64, n);
                reply.push(b'\n');
                w.write_all(&reply).await?;
                w.flush().await?;
            }
        })
        .await;

        let (mut reader, mut writer) = open_tls(NAME, server.addr.port(), tls.client)
            .await
            .unwrap();
        // Replies far larger than the socket buffers, one after another:
        // the reader must get each one whole while the server waits.
        for n in [10, 4 * MIB, 4 * MIB + 1000, 3 * MIB + 7, 100] {
            writer.write_all(format!("{n}\n").as_bytes()).await.unwrap();
            writer.flush().await.unwrap();
            let reply = guard("reply", reader.read_exactly(n + 1)).await.unwrap();
            assert!(
                reply[..n] == noise(n as u64, n)[..],
                "reply of {n} bytes changed"
            );
            assert_eq!(reply[n], b'\n');
        }
        writer.close().await.unwrap();
        assert_eq!(guard("end", reader.read_line()).await.unwrap(), b"");
        wait_while("handler", || server.seen.ended.borrow().is_empty()).await;
        assert!(server.seen.ended.borrow()[0].is_ok());
        server.stop();
    });
}

/// A socket whose writes can be held back: while shut, `poll_write` is
/// `Pending` as on a full socket; `open` wakes the task that was told so.
struct Gate {
    tcp: TcpStream,
    state: Rc<GateState>,
}

#[derive(Default)]
struct GateState {
    shut: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl GateState {
    fn open(&self) {
        self.shut.set(false);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

impl AsyncRead for Gate {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Gate {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.state.shut.get() {
            self.state.waker.set(Some(cx.waker().clone()));
            return Poll::Pending;
        }
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_close(cx)
    }
}

/// rustls takes a write whole even when the socket takes none of it, and
/// keeps the encrypted bytes until the next write or flush. When the
/// socket was full at a `StreamWriter`'s last write (a large reply to a
/// slower reader), the end of the reply stayed inside rustls while
/// `flush()` reported it sent, until the writer learnt to flush the stream
/// it wraps.
#[test]
fn stream_writer_delivers_what_tls_kept_back_while_the_socket_was_full() {
    eddy::run(async {
        let tls = self_signed();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let gate = Rc::new(GateState::default());
        let acceptor = tls.acceptor.clone();
        let server = eddy::spawn({
            let gate = gate.clone();
            async move {
                let (tcp, _) = listener.accept().await.unwrap();
                let state = gate.clone();
                let tls = acceptor.accept(Gate { tcp, state }).await.unwrap();
                let (mut r, mut w) = tls_streams(tls);
                assert_eq!(r.read_line().await.unwrap(), b"go\n");
                // The socket is "full" when the reply is written; it drains
                // once this task waits, in flush() or in the read below.
                gate.shut.set(true);
                eddy::spawn(async move {
                    settle().await;
                    gate.open();
                });
                w.write(b"reply\n").unwrap();
                w.flush().await.unwrap();
                assert_eq!(r.read_line().await.unwrap(), b"");
            }
        });

        let (r, mut w) = connect(addr, &tls.connector, NAME).await.unwrap().split();
        w.write_all(b"go\n").await.unwrap();
        w.flush().await.unwrap();
        let mut reader = StreamReader::new(r);
        let reply = eddy::wait_for(reader.read_line(), Duration::from_secs(5))
            .await
            .expect("the reply stayed inside rustls: StreamWriter did not flush its stream");
        assert_eq!(reply.unwrap(), b"reply\n");
        w.close().await.unwrap();
        guard("server", server).await.unwrap();
    });
}
