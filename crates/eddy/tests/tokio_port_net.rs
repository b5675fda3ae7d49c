//! tokio::net habits, ported to eddy: what a tokio user reaches for on
//! sockets (try_read_vectored, peeks, readiness, split halves, socket
//! options, half-close, refused connects, addresses) behaves as they
//! expect, or differs where eddy's docs say so.

mod common;

use std::io::{ErrorKind, IoSlice, IoSliceMut};
use std::net::Shutdown;

use common::port::guard;
use eddy::net::{TcpListener, TcpStream, UnixDatagram, UnixStream};
use futures::{AsyncReadExt, AsyncWriteExt};

/// A connected TCP pair on 127.0.0.1: (client, accepted).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (c, a) = futures::join!(
        TcpStream::connect(listener.local_addr().unwrap()),
        listener.accept()
    );
    (c.unwrap(), a.unwrap().0)
}

fn assert_would_block<T: std::fmt::Debug>(res: std::io::Result<T>, what: &str) {
    match res {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("{what}: expected WouldBlock, got {other:?}"),
    }
}

/// tokio's `try_read_vectored` loop: wait for `readable`, then one
/// non-blocking `readv` into a 4-byte header and a body.
macro_rules! try_read_vectored_case {
    ($w:expr, $r:expr) => {{
        let (mut w, r) = ($w, $r);
        w.write_all(b"headbody!").await.unwrap();
        let (mut head, mut body) = ([0u8; 4], [0u8; 16]);
        guard("readable", r.readable()).await.unwrap();
        let n = r
            .try_read_vectored(&mut [IoSliceMut::new(&mut head), IoSliceMut::new(&mut body)])
            .unwrap();
        assert_eq!((n, &head, &body[..5]), (9, b"head", &b"body!"[..]));
        assert_would_block(
            r.try_read_vectored(&mut [IoSliceMut::new(&mut body)]),
            "drained socket",
        );
        // End of stream reads as 0, as try_read's does.
        w.shutdown(Shutdown::Write).unwrap();
        guard("eof", r.readable()).await.unwrap();
        assert_eq!(
            r.try_read_vectored(&mut [IoSliceMut::new(&mut body)])
                .unwrap(),
            0
        );
    }};
}

#[test]
fn try_read_vectored_fills_the_buffers_in_order_without_waiting() {
    eddy::run(async {
        let (w, r) = tcp_pair().await;
        try_read_vectored_case!(w, r);
        let (w, r) = UnixStream::pair().unwrap();
        try_read_vectored_case!(w, r);
        // An owned read half reaches it through as_ref(), as tokio's
        // halves reach the stream's methods.
        let (w, r) = tcp_pair().await;
        let (r, _rw) = r.into_split();
        try_read_vectored_case!(w, r.as_ref());
    });
}

#[test]
fn unix_datagram_peeks_leave_the_datagram_queued_and_name_the_sender() {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::SocketAddr;
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let (rp, sp) = (dir.path().join("r.sock"), dir.path().join("s.sock"));
        let r = UnixDatagram::bind(&rp).unwrap();
        let s = UnixDatagram::bind(&sp).unwrap();
        s.send_to(b"first", &rp).await.unwrap();
        let mut head = [0u8; 2];
        for _ in 0..3 {
            let (n, from) = guard("peek_from", r.peek_from(&mut head)).await.unwrap();
            assert_eq!((&head[..n], from.as_pathname()), (&b"fi"[..], Some(&*sp)));
        }
        assert_eq!(r.peek(&mut head).await.unwrap(), 2);
        let mut buf = [0u8; 16];
        let (n, from) = r.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from.as_pathname()), (&b"first"[..], Some(&*sp)));
        assert_would_block(r.try_recv(&mut buf), "drained socket");

        // An unbound sender and a pair's other end are unnamed, as
        // recv_from reports them.
        let u = UnixDatagram::unbound().unwrap();
        u.send_to(b"anon", &rp).await.unwrap();
        let (n, from) = r.peek_from(&mut buf).await.unwrap();
        assert!(n == 4 && from.is_unnamed(), "{from:?}");
        assert!(r.recv_from(&mut buf).await.unwrap().1.is_unnamed());
        let (a, b) = UnixDatagram::pair().unwrap();
        a.send(b"paired").await.unwrap();
        let (n, from) = b.peek_from(&mut buf).await.unwrap();
        assert!(n == 6 && from.is_unnamed(), "{from:?}");
        assert_eq!(b.peek(&mut buf).await.unwrap(), 6);
        assert_eq!(b.recv(&mut buf).await.unwrap(), 6);

        // A sender bound to an abstract name (Linux).
        let name = format!("eddy-tokio-port-{}", std::process::id());
        let abs = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let std_sender = std::os::unix::net::UnixDatagram::bind_addr(&abs).unwrap();
        let sender = UnixDatagram::from_std(std_sender).unwrap();
        sender.send_to(b"abstract", &rp).await.unwrap();
        let (_, peeked) = r.peek_from(&mut buf).await.unwrap();
        let (_, received) = r.recv_from(&mut buf).await.unwrap();
        assert_eq!(peeked.as_abstract_name(), Some(name.as_bytes()));
        assert_eq!(received.as_abstract_name(), peeked.as_abstract_name());
    });
}

/// tokio's `try_write_vectored` loop: wait for `writable`, then one
/// non-blocking `writev`; once the socket is full it answers WouldBlock,
/// and every byte it took reaches the peer in order.
macro_rules! try_write_vectored_case {
    ($w:expr, $r:expr) => {{
        let (w, mut r) = ($w, $r);
        guard("writable", w.writable()).await.unwrap();
        let bufs = [
            IoSlice::new(b"head"),
            IoSlice::new(b""),
            IoSlice::new(b"tail"),
        ];
        assert_eq!(w.try_write_vectored(&bufs).unwrap(), 8);
        let mut got = [0u8; 8];
        guard("read", r.read_exact(&mut got)).await.unwrap();
        assert_eq!(&got, b"headtail");
        // Fill the socket: numbered chunks, until no room is left.
        let chunk: Vec<u8> = (0..=255u8).cycle().take(64 * 1024).collect();
        let mut sent = 0;
        loop {
            // Start where the last (maybe partial) write stopped.
            let from = &chunk[sent % 256..];
            match w.try_write_vectored(&[IoSlice::new(from), IoSlice::new(&chunk)]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("try_write_vectored: {e}"),
            }
        }
        let mut back = vec![0u8; sent];
        guard("drain", r.read_exact(&mut back)).await.unwrap();
        assert!(back.iter().enumerate().all(|(i, &b)| b == (i % 256) as u8));
    }};
}

#[test]
fn try_write_vectored_sends_the_buffers_in_order_until_the_socket_is_full() {
    eddy::run(async {
        let (w, r) = tcp_pair().await;
        try_write_vectored_case!(w, r);
        let (w, r) = UnixStream::pair().unwrap();
        try_write_vectored_case!(w, r);
        let (w, r) = tcp_pair().await;
        let (_wr, w) = w.into_split();
        try_write_vectored_case!(w.as_ref(), r);
    });
}

// ---- Part B: a tokio user's acceptance pass over eddy::net ----

/// tokio's doc loop for `readable` + `try_read` and `writable` +
/// `try_write`: an echo served with only the non-blocking calls.
#[test]
fn readiness_loops_with_try_read_and_try_write_echo_every_byte() {
    eddy::run(async {
        let (mut client, server) = tcp_pair().await;
        let echo = eddy::spawn(async move {
            let mut buf = [0u8; 1024];
            loop {
                server.readable().await.unwrap();
                let n = match server.try_read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                    Err(e) => panic!("try_read: {e}"),
                };
                let mut rest = &buf[..n];
                while !rest.is_empty() {
                    server.writable().await.unwrap();
                    match server.try_write(rest) {
                        Ok(k) => rest = &rest[k..],
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                        Err(e) => panic!("try_write: {e}"),
                    }
                }
            }
        });
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7) as u8).collect();
        let (mut r, mut w) = TcpStream::split(&mut client);
        let mut back = Vec::new();
        let (sent, got) = futures::join!(
            async {
                w.write_all(&data).await?;
                w.close().await
            },
            r.read_to_end(&mut back)
        );
        sent.unwrap();
        assert_eq!(guard("echo", async { got }).await.unwrap(), data.len());
        assert!(back == data, "the echo lost or reordered bytes");
        guard("echo task", echo).await.unwrap();
    });
}

/// A proxy made of two `futures::io::copy`s over split halves (tokio's
/// `copy_bidirectional` shape): every byte crosses both ways, and a
/// half-close on one side reaches the other.
#[test]
fn a_proxy_of_two_copies_carries_both_directions_and_the_half_close() {
    eddy::run(async {
        let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let up_addr = upstream.local_addr().unwrap();
        // The upstream server: upper-cases what it reads, until EOF.
        let server = eddy::spawn(async move {
            let (mut s, _) = upstream.accept().await.unwrap();
            let mut all = Vec::new();
            s.read_to_end(&mut all).await.unwrap();
            s.write_all(&all.to_ascii_uppercase()).await.unwrap();
            s.close().await.unwrap();
        });
        let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let front_addr = front.local_addr().unwrap();
        let proxy = eddy::spawn(async move {
            let (inbound, _) = front.accept().await.unwrap();
            let outbound = TcpStream::connect(up_addr).await.unwrap();
            let (mut ri, mut wi) = inbound.into_split();
            let (mut ro, mut wo) = outbound.into_split();
            let to_server = async {
                let n = futures::io::copy(&mut ri, &mut wo).await?;
                wo.close().await.map(|()| n)
            };
            let to_client = async {
                let n = futures::io::copy(&mut ro, &mut wi).await?;
                wi.close().await.map(|()| n)
            };
            let (a, b) = futures::join!(to_server, to_client);
            (a.unwrap(), b.unwrap())
        });
        let mut c = TcpStream::connect(front_addr).await.unwrap();
        let body = b"hello through the proxy ".repeat(10_000);
        c.write_all(&body).await.unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut back = Vec::new();
        guard("proxied reply", c.read_to_end(&mut back))
            .await
            .unwrap();
        assert!(back == body.to_ascii_uppercase());
        let counts = guard("proxy", proxy).await.unwrap();
        assert_eq!(counts, (body.len() as u64, body.len() as u64));
        server.await.unwrap();
    });
}

/// `futures::io::BufReader::lines()` over a socket: tokio's
/// `BufReader::new(stream).lines()`; the last line may lack its newline.
#[test]
fn bufreader_lines_over_a_socket_yield_each_line_and_the_unterminated_last() {
    use futures::{AsyncBufReadExt, TryStreamExt};
    eddy::run(async {
        let (mut w, r) = UnixStream::pair().unwrap();
        let writer = eddy::spawn(async move {
            for part in [&b"one\ntw"[..], b"o\r\n", b"\nthree"] {
                w.write_all(part).await.unwrap();
                eddy::yield_now().await;
            }
        });
        let lines: Vec<String> = guard(
            "lines",
            futures::io::BufReader::new(r).lines().try_collect(),
        )
        .await
        .unwrap();
        assert_eq!(lines, ["one", "two", "", "three"]);
        writer.await.unwrap();
    });
}

/// tokio's half-close: `shutdown()` (AsyncWriteExt::close here) ends the
/// peer's `read_to_end`, and the peer can still answer on the other
/// direction; writing after the close fails instead of vanishing.
#[test]
fn half_close_ends_the_peers_read_and_the_reply_still_arrives() {
    eddy::run(async {
        let (mut c, mut s) = tcp_pair().await;
        c.write_all(b"request").await.unwrap();
        c.close().await.unwrap();
        let mut req = Vec::new();
        guard("server reads to EOF", s.read_to_end(&mut req))
            .await
            .unwrap();
        assert_eq!(req, b"request");
        s.write_all(b"response").await.unwrap();
        drop(s);
        let mut resp = Vec::new();
        guard("client reads the reply", c.read_to_end(&mut resp))
            .await
            .unwrap();
        assert_eq!(resp, b"response");
        // Closing twice is fine; writing after it is an error (EPIPE).
        c.close().await.unwrap();
        let err = c.write_all(b"late").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe, "{err}");
        // And shutting the read side down ends a read at once.
        let (a, mut b) = UnixStream::pair().unwrap();
        b.shutdown(Shutdown::Read).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(
            guard("read after SHUT_RD", b.read(&mut buf)).await.unwrap(),
            0
        );
        drop(a);
    });
}

/// `split` (borrowed, for `join!`), `into_split` (owned, moved into
/// tasks), `reunite`, and dropping an owned write half sending EOF.
#[test]
fn split_halves_work_in_tasks_and_reunite_and_a_dropped_writer_sends_eof() {
    eddy::run(async {
        let (mut c, s) = tcp_pair().await;
        let (mut sr, mut sw) = s.into_split();
        let server = eddy::spawn(async move {
            // Echo in place through the two owned halves, then give the
            // stream back.
            let mut buf = [0u8; 5];
            sr.read_exact(&mut buf).await.unwrap();
            sw.write_all(&buf).await.unwrap();
            sr.reunite(sw).unwrap()
        });
        {
            let (mut r, mut w) = TcpStream::split(&mut c);
            let mut back = [0u8; 5];
            let (wrote, read) = futures::join!(w.write_all(b"twice"), r.read_exact(&mut back));
            wrote.unwrap();
            read.unwrap();
            assert_eq!(&back, b"twice");
        }
        let mut s = guard("reunite", server).await.unwrap();
        assert_eq!(s.peer_addr().unwrap(), c.local_addr().unwrap());
        s.write_all(b"whole again").await.unwrap();
        let (cr, cw) = c.into_split();
        drop(cw); // tokio: dropping an OwnedWriteHalf shuts the write side down
        let mut rest = Vec::new();
        guard("server sees EOF", s.read_to_end(&mut rest))
            .await
            .unwrap();
        assert!(rest.is_empty());
        drop(s);
        let mut got = Vec::new();
        let mut cr = cr;
        guard("client reads", cr.read_to_end(&mut got))
            .await
            .unwrap();
        assert_eq!(got, b"whole again");
    });
}

/// The socket options a tokio user sets on a TcpStream: `nodelay`
/// directly; the rest (ttl, linger, keepalive, buffer sizes) through the
/// descriptor (`AsFd`), which eddy's docs point to: here a duplicate as a
/// std stream, whose options are the same socket's.
#[test]
fn socket_options_nodelay_directly_and_the_rest_through_the_fd() {
    use std::os::fd::AsFd;
    eddy::run(async {
        let (c, mut s) = tcp_pair().await;
        c.set_nodelay(true).unwrap();
        assert!(c.nodelay().unwrap());
        c.set_nodelay(false).unwrap();
        assert!(!c.nodelay().unwrap());
        let dup = std::net::TcpStream::from(c.as_fd().try_clone_to_owned().unwrap());
        dup.set_ttl(17).unwrap();
        assert_eq!(dup.ttl().unwrap(), 17);
        drop(dup);
        // The eddy stream still works after the duplicate is closed.
        let mut c = c;
        c.write_all(b"still here").await.unwrap();
        let mut buf = [0u8; 10];
        guard("read", s.read_exact(&mut buf)).await.unwrap();
        assert_eq!(&buf, b"still here");
    });
}

/// Connecting to a port nobody listens on: `ConnectionRefused`, with the
/// OS error kept (tokio hands back the OS error too), and no hang.
#[test]
fn connecting_to_a_closed_port_is_refused_with_the_os_error() {
    eddy::run(async {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let err = guard("connect", TcpStream::connect(port))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        assert_eq!(err.raw_os_error(), Some(111), "ECONNREFUSED: {err:?}");
        // Through a host name and a (host, port) tuple too.
        let err = guard(
            "connect by name",
            TcpStream::connect(("localhost", port.port())),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        // A string without a port says what is wrong.
        let err = guard("no port", TcpStream::connect("127.0.0.1"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("127.0.0.1"), "{err}");
    });
}

/// `local_addr`/`peer_addr` on every socket type, each matching the other
/// end; an unconnected socket's `peer_addr` is `NotConnected`.
#[test]
fn local_and_peer_addresses_on_every_socket_type_match_the_other_end() {
    use eddy::net::{UdpSocket, UnixListener};
    eddy::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let laddr = listener.local_addr().unwrap();
        let (c, a) = futures::join!(TcpStream::connect(laddr), listener.accept());
        let (c, (s, from)) = (c.unwrap(), a.unwrap());
        assert_eq!(c.peer_addr().unwrap(), laddr);
        assert_eq!(s.local_addr().unwrap(), laddr);
        assert_eq!(s.peer_addr().unwrap(), c.local_addr().unwrap());
        assert_eq!(from, c.local_addr().unwrap());
        let (r, w) = c.into_split();
        assert_eq!(r.as_ref().peer_addr().unwrap(), laddr);
        assert_eq!(w.as_ref().local_addr().unwrap(), from);

        let u1 = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let u2 = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let err = u1.peer_addr().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotConnected, "{err}");
        u1.connect(u2.local_addr().unwrap()).await.unwrap();
        assert_eq!(u1.peer_addr().unwrap(), u2.local_addr().unwrap());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sock");
        let ul = UnixListener::bind(&path).unwrap();
        assert_eq!(ul.local_addr().unwrap().as_pathname(), Some(&*path));
        let (c, a) = futures::join!(UnixStream::connect(&path), ul.accept());
        let (c, (s, from)) = (c.unwrap(), a.unwrap());
        assert_eq!(c.peer_addr().unwrap().as_pathname(), Some(&*path));
        assert!(c.local_addr().unwrap().is_unnamed() && from.is_unnamed());
        assert_eq!(s.local_addr().unwrap().as_pathname(), Some(&*path));

        let dpath = dir.path().join("d.sock");
        let d = UnixDatagram::bind(&dpath).unwrap();
        assert_eq!(d.local_addr().unwrap().as_pathname(), Some(&*dpath));
        let err = d.peer_addr().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotConnected, "{err}");
        let e = UnixDatagram::unbound().unwrap();
        e.connect(&dpath).unwrap();
        assert_eq!(e.peer_addr().unwrap().as_pathname(), Some(&*dpath));
    });
}

/// Many tasks awaiting `readable()` on one socket are all woken by one
/// arrival (tokio allows that on `&TcpStream` too), and `writable()` on a
/// full socket waits until the peer reads.
#[test]
fn readiness_wakes_every_waiter_and_writable_waits_for_room() {
    eddy::run(async {
        let (mut c, s) = tcp_pair().await;
        let s = std::rc::Rc::new(s);
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                eddy::spawn(async move { s.readable().await })
            })
            .collect();
        common::port::settle().await;
        c.write_all(b"x").await.unwrap();
        for w in waiters {
            guard("readable waiter", w).await.unwrap().unwrap();
        }
        // Fill the client's socket until try_write says no room.
        let chunk = vec![7u8; 64 * 1024];
        let mut sent = 0usize;
        loop {
            match c.try_write(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        let writable = eddy::spawn({
            let c = std::rc::Rc::new(c);
            async move { c.writable().await }
        });
        common::port::settle().await;
        assert!(
            !writable.is_finished(),
            "writable on a full socket returned"
        );
        let mut buf = vec![0u8; sent + 1];
        let mut s = &*s;
        guard("drain", s.read_exact(&mut buf)).await.unwrap();
        guard("writable once drained", writable)
            .await
            .unwrap()
            .unwrap();
    });
}

/// tokio's single-task full-duplex loop: `ready(READABLE | WRITABLE)`
/// says which way to go, then `try_write`/`try_read`. Every byte of a
/// 1 MiB echo comes back, in order.
#[test]
fn ready_for_either_direction_drives_a_full_duplex_loop_in_one_task() {
    use eddy::io::Interest;
    eddy::run(async {
        let (c, mut s) = tcp_pair().await;
        let echo = eddy::spawn(async move {
            let (mut r, mut w) = TcpStream::split(&mut s);
            futures::io::copy(&mut r, &mut w).await.unwrap()
        });
        let data: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 253) as u8).collect();
        let (mut sent, mut back) = (0, Vec::with_capacity(data.len()));
        let mut buf = vec![0u8; 64 * 1024];
        while back.len() < data.len() {
            let interest = if sent < data.len() {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let ready = guard("ready", c.ready(interest)).await.unwrap();
            if ready.is_writable() && sent < data.len() {
                match c.try_write(&data[sent..]) {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => panic!("try_write: {e}"),
                }
                if sent == data.len() {
                    c.shutdown(Shutdown::Write).unwrap();
                }
            }
            if ready.is_readable() {
                match c.try_read(&mut buf) {
                    Ok(0) => panic!("EOF after {} of {} bytes", back.len(), data.len()),
                    Ok(n) => back.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => panic!("try_read: {e}"),
                }
            }
        }
        assert!(back == data, "the echo lost or reordered bytes");
        assert_eq!(guard("echo", echo).await.unwrap(), data.len() as u64);
    });
}

/// `try_io`/`async_io` with an operation of the user's own (here a
/// `recv_from` on a duplicate of the descriptor, as a `recvmsg` would be):
/// not ready means `WouldBlock` without running it; its `WouldBlock`
/// clears readiness so `ready()` waits again; `async_io` waits for the
/// datagram.
#[test]
fn try_io_and_async_io_run_a_users_own_operation_under_the_readiness_rules() {
    use eddy::io::Interest;
    use eddy::net::UdpSocket;
    use std::os::fd::AsFd;
    eddy::run(async {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = sock.local_addr().unwrap();
        let raw = std::net::UdpSocket::from(sock.as_fd().try_clone_to_owned().unwrap());
        let calls = std::cell::Cell::new(0);
        let mut buf = [0u8; 16];
        let mut op = || {
            calls.set(calls.get() + 1);
            raw.recv_from(&mut buf)
        };
        assert_would_block(sock.try_io(Interest::READABLE, &mut op), "nothing queued");
        assert_eq!(
            calls.get(),
            0,
            "try_io ran the operation on a socket not ready"
        );
        peer.send_to(b"one", addr).await.unwrap();
        guard("ready", sock.ready(Interest::READABLE))
            .await
            .unwrap();
        let (n, from) = sock.try_io(Interest::READABLE, &mut op).unwrap();
        assert_eq!((n, from), (3, peer.local_addr().unwrap()));
        // Drained: the operation's WouldBlock clears readiness...
        assert_would_block(sock.try_io(Interest::READABLE, &mut op), "drained");
        let calls_before = calls.get();
        // ...so a wait now really waits, until the next datagram.
        let sock = std::rc::Rc::new(sock);
        let waiting = eddy::spawn({
            let sock = sock.clone();
            async move {
                sock.ready(Interest::READABLE)
                    .await
                    .map(|r| r.is_readable())
            }
        });
        common::port::settle().await;
        assert!(
            !waiting.is_finished(),
            "ready() returned on a drained socket"
        );
        peer.send_to(b"two!", addr).await.unwrap();
        assert!(guard("woken", waiting).await.unwrap().unwrap());
        let got = guard(
            "async_io",
            sock.async_io(Interest::READABLE, || raw.recv_from(&mut buf)),
        )
        .await
        .unwrap();
        assert_eq!(got.0, 4);
        assert_eq!(calls.get(), calls_before);
        // async_io waits for a datagram sent later by another task.
        let later = eddy::spawn(async move {
            common::port::settle().await;
            peer.send_to(b"three", addr).await.unwrap();
        });
        let mut buf = [0u8; 16];
        let (n, _) = guard(
            "async_io waits",
            sock.async_io(Interest::READABLE, || raw.recv_from(&mut buf)),
        )
        .await
        .unwrap();
        assert_eq!(&buf[..n], b"three");
        later.await.unwrap();
    });
}

/// A Unix socket file stays after its listener drops (as in std and
/// tokio), so binding the path again fails: the error says why and what
/// to do, for listeners and datagram sockets alike, and a missing
/// directory is named as the cause.
#[test]
fn binding_a_unix_path_again_says_the_old_socket_file_is_in_the_way() {
    use eddy::net::UnixListener;
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.sock");
        drop(UnixListener::bind(&path).unwrap());
        let err = UnixListener::bind(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        let text = err.to_string();
        assert!(
            text.contains("app.sock") && text.contains("remove it"),
            "{text}"
        );
        let err = UnixDatagram::bind(&path).unwrap_err();
        assert!(err.to_string().contains("remove it"), "{err}");
        std::fs::remove_file(&path).unwrap();
        drop(UnixListener::bind(&path).unwrap());
        let err = UnixListener::bind(dir.path().join("no/such/dir.sock")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(
            err.to_string().contains("directory does not exist"),
            "{err}"
        );
    });
}

/// The address forms tokio code passes to `bind`/`connect`, references
/// included (`&addr`, `&String`, `&(host, port)`), all accepted.
#[test]
fn bind_and_connect_take_the_address_forms_tokio_code_passes() {
    use eddy::net::UdpSocket;
    eddy::run(async {
        let host = String::from("127.0.0.1:0");
        let listener = TcpListener::bind(&host).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let by_name = ("localhost".to_string(), addr.port());
        let owned = addr.to_string();
        let list = [addr];
        let pair = ("127.0.0.1", addr.port());
        let forms = futures::join!(
            TcpStream::connect(&addr),
            TcpStream::connect(&owned),
            TcpStream::connect(&by_name),
            TcpStream::connect(&pair),
            TcpStream::connect(&list[..]),
        );
        for _ in 0..5 {
            guard("accept", listener.accept()).await.unwrap();
        }
        for (i, s) in [forms.0, forms.1, forms.2, forms.3, forms.4]
            .into_iter()
            .enumerate()
        {
            assert_eq!(
                s.unwrap().peer_addr().unwrap().port(),
                addr.port(),
                "form {i}"
            );
        }
        let udp = UdpSocket::bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        udp.connect(&addr).await.unwrap();
    });
}

/// tokio's `into_std`: accept on one loop, serve on another. The accepted
/// stream leaves the acceptor's loop with the bytes already queued in it,
/// the acceptor's runtime ends, and the stream goes on under the worker's
/// loop; a UDP socket and a listener move the same way, and a stream
/// handed to blocking code reads in blocking mode.
#[test]
fn into_std_moves_a_socket_to_another_loop_with_nothing_lost() {
    use eddy::net::UdpSocket;
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let acceptor = std::thread::spawn(move || {
        eddy::run(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            let (s, _) = listener.accept().await.unwrap();
            // Wait until the client's first bytes are queued here.
            let mut probe = [0u8; 5];
            while s.peek(&mut probe).await.unwrap() < 5 {
                eddy::yield_now().await;
            }
            (s.into_std(), listener.into_std())
        })
    });
    let addr = addr_rx.recv().unwrap();
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(&mut client, b"early").unwrap();
    let (std_stream, std_listener) = acceptor.join().unwrap();
    eddy::run(async move {
        let mut s = TcpStream::from_std(std_stream).unwrap();
        let mut buf = [0u8; 5];
        guard("queued bytes", s.read_exact(&mut buf)).await.unwrap();
        assert_eq!(&buf, b"early");
        s.write_all(b"reply").await.unwrap();
        // The listener moved too: it accepts under this loop.
        let listener = TcpListener::from_std(std_listener).unwrap();
        let (c2, a2) = futures::join!(TcpStream::connect(addr), listener.accept());
        assert_eq!(a2.unwrap().1, c2.unwrap().local_addr().unwrap());

        let u = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        peer.send_to(b"queued", u.local_addr().unwrap())
            .await
            .unwrap();
        guard("datagram", u.readable()).await.unwrap();
        let u = UdpSocket::from_std(u.into_std()).unwrap();
        let mut dbuf = [0u8; 16];
        let n = guard("datagram after the move", u.recv(&mut dbuf))
            .await
            .unwrap();
        assert_eq!(&dbuf[..n], b"queued");

        // To blocking code.
        let blocking = s.into_std();
        blocking.set_nonblocking(false).unwrap();
        eddy::to_thread(move || {
            let mut blocking = blocking;
            std::io::Write::write_all(&mut client, b"!").unwrap();
            let mut one = [0u8; 1];
            std::io::Read::read_exact(&mut blocking, &mut one).unwrap();
            assert_eq!(&one, b"!");
            let mut reply = [0u8; 5];
            std::io::Read::read_exact(&mut client, &mut reply).unwrap();
            assert_eq!(&reply, b"reply");
        })
        .await
        .unwrap();
    });
}

/// An accept loop written over `incoming()` (tokio-stream's
/// `TcpListenerStream`), for TCP and Unix listeners alike.
#[test]
fn incoming_streams_serve_an_accept_loop() {
    use eddy::net::UnixListener;
    use futures::StreamExt;
    eddy::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = eddy::spawn(async move {
            let mut served = 0;
            let mut incoming = listener.incoming().take(3);
            while let Some(stream) = incoming.next().await {
                let mut stream = stream.unwrap();
                stream.write_all(&[served]).await.unwrap();
                served += 1;
            }
            served
        });
        for want in 0..3u8 {
            let mut c = TcpStream::connect(addr).await.unwrap();
            let mut got = [0u8; 1];
            guard("served", c.read_exact(&mut got)).await.unwrap();
            assert_eq!(got[0], want);
        }
        assert_eq!(guard("server", server).await.unwrap(), 3);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let ul = UnixListener::bind(&path).unwrap();
        let mut incoming = ul.incoming();
        let (c, first) = futures::join!(UnixStream::connect(&path), incoming.next());
        let (mut c, mut s) = (c.unwrap(), first.unwrap().unwrap());
        s.write_all(b"unix").await.unwrap();
        let mut got = [0u8; 4];
        guard("unix served", c.read_exact(&mut got)).await.unwrap();
        assert_eq!(&got, b"unix");
    });
}

/// A connected UDP socket (tokio's `connect` then `send`/`recv`) takes
/// datagrams from its peer only; an unconnected one refuses `send` with
/// the OS's "destination address required" instead of dropping it.
#[test]
fn a_connected_udp_socket_hears_only_its_peer() {
    use eddy::net::UdpSocket;
    eddy::run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let err = a.send(b"nowhere").await.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(89), "EDESTADDRREQ: {err:?}");
        a.connect(b.local_addr().unwrap()).await.unwrap();
        stranger
            .send_to(b"ignored", a.local_addr().unwrap())
            .await
            .unwrap();
        b.send_to(b"from b", a.local_addr().unwrap()).await.unwrap();
        let mut buf = [0u8; 16];
        let n = guard("recv", a.recv(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"from b");
        a.send(b"to b").await.unwrap();
        let (n, from) = guard("b recv", b.recv_from(&mut buf)).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"to b"[..], a.local_addr().unwrap()));
    });
}
