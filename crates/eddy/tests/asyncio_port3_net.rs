//! asyncio's networking edges, ported to eddy (third pass): servers and
//! clients on IPv6 loopback, create_connection trying several addresses,
//! create_server's backlog and reuse_address, a broadcast datagram
//! endpoint, socketpair(AF_UNIX, SOCK_DGRAM), and 200 clients of one
//! start_server at once.

mod common;

use std::io::ErrorKind;
use std::net::SocketAddr;

use common::port::{close_server, echo, guard};
use eddy::io::{open_connection, start_server};
use eddy::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram};
use futures::{AsyncReadExt, AsyncWriteExt};

/// Whether this machine can bind IPv6 loopback.
fn have_ipv6() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

/// An address on which nobody listens (a port just freed).
fn refusing_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

#[test]
fn echo_server_and_client_on_ipv6_loopback() {
    if !have_ipv6() {
        eprintln!("no IPv6 loopback here: skipped");
        return;
    }
    eddy::run(async {
        let server = start_server("[::1]:0", echo).await.unwrap();
        let addr = server.local_addr().unwrap();
        assert!(addr.is_ipv6() && addr.ip().is_loopback(), "{addr}");
        let (mut r, mut w) = open_connection(addr).await.unwrap();
        assert_eq!(w.peer_addr(), Some(addr));
        w.write(b"over six\n").unwrap();
        assert_eq!(guard("echo", r.read_line()).await.unwrap(), b"over six\n");
        w.close();
        guard("closed", w.wait_closed()).await;
        // The tuple form with an IPv6 literal works too.
        let (mut r, mut w) = open_connection(("::1", addr.port())).await.unwrap();
        w.write(b"tuple\n").unwrap();
        assert_eq!(guard("echo 2", r.read_line()).await.unwrap(), b"tuple\n");
        drop(w);
        close_server(&server).await;

        // Datagrams over ::1.
        let a = UdpSocket::bind("[::1]:0").await.unwrap();
        let b = UdpSocket::bind("[::1]:0").await.unwrap();
        a.send_to(b"v6 datagram", b.local_addr().unwrap())
            .await
            .unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = guard("udp6", b.recv_from(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"v6 datagram");
        assert_eq!(from, a.local_addr().unwrap());
    });
}

#[test]
fn connect_tries_the_next_address_when_the_first_refuses() {
    eddy::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let good = listener.local_addr().unwrap();
        let bad = refusing_addr();
        let addrs = [bad, good];
        let (stream, accepted) = futures::join!(TcpStream::connect(&addrs[..]), listener.accept());
        let mut stream = stream.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), good);
        let (mut peer, from) = accepted.unwrap();
        assert_eq!(from, stream.local_addr().unwrap());
        stream.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        guard("read", peer.read_exact(&mut buf)).await.unwrap();
        assert_eq!(&buf, b"hi");

        // open_connection takes the same list.
        let (connected, accepted) = futures::join!(open_connection(&addrs[..]), listener.accept());
        let (_r, w) = connected.unwrap();
        assert_eq!(w.peer_addr(), Some(good));
        drop(accepted.unwrap());

        // When every address refuses, the error is a refusal.
        let all_bad = [refusing_addr(), refusing_addr()];
        let err = TcpStream::connect(&all_bad[..]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        let err = open_connection(&all_bad[..]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        // And an empty list is an error, not a hang.
        let none: [SocketAddr; 0] = [];
        assert!(TcpStream::connect(&none[..]).await.is_err());
    });
}

#[test]
fn a_listener_with_a_backlog_of_one_still_serves_a_burst_of_clients() {
    eddy::run(async {
        let listener = TcpListener::builder("127.0.0.1:0".parse().unwrap())
            .backlog(1)
            .bind()
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let clients = (0..5u8).map(|i| async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(&[i]).await.unwrap();
            s
        });
        let accepting = async {
            let mut seen = Vec::new();
            for _ in 0..5 {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut b = [0u8; 1];
                s.read_exact(&mut b).await.unwrap();
                seen.push(b[0]);
            }
            seen.sort();
            seen
        };
        let (streams, seen) = guard("burst", async {
            futures::join!(eddy::gather_all(clients), accepting)
        })
        .await;
        assert_eq!(streams.len(), 5);
        assert_eq!(seen, (0..5).collect::<Vec<u8>>());
    });
}

#[test]
fn reuse_address_decides_whether_a_port_in_time_wait_can_be_bound_again() {
    eddy::run(async {
        let listener = TcpListener::builder("127.0.0.1:0".parse().unwrap())
            .bind()
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
        let mut client = client.unwrap();
        // The server closes first, so its end of the connection (on the
        // listening port) goes to TIME_WAIT once the client closes too.
        drop(accepted.unwrap().0);
        let mut rest = Vec::new();
        guard("eof", client.read_to_end(&mut rest)).await.unwrap();
        drop(client);
        drop(listener);

        let err = TcpListener::builder(addr)
            .reuse_address(false)
            .bind()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        // asyncio (and eddy) default to SO_REUSEADDR: the restart works
        // (once the old connection has reached TIME_WAIT, which the
        // client's close above starts).
        let again = guard("rebind", async {
            loop {
                match TcpListener::builder(addr).bind() {
                    Ok(l) => break l,
                    Err(e) if e.kind() == ErrorKind::AddrInUse => eddy::yield_now().await,
                    Err(e) => panic!("{e}"),
                }
            }
        })
        .await;
        assert_eq!(again.local_addr().unwrap(), addr);
        // reuse_address does not let a second listener share the port...
        let err = TcpListener::builder(addr).bind().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        drop(again);
        // ...reuse_port on both does.
        let one = TcpListener::builder(addr).reuse_port(true).bind().unwrap();
        let two = TcpListener::builder(addr).reuse_port(true).bind().unwrap();
        assert_eq!(one.local_addr().unwrap(), two.local_addr().unwrap());
    });
}

#[test]
fn broadcast_needs_the_flag_and_then_reaches_the_loopback_broadcast_address() {
    eddy::run(async {
        // A receiver bound to lo's broadcast address gets broadcasts only.
        let receiver = UdpSocket::bind("127.255.255.255:0").await.unwrap();
        let target = receiver.local_addr().unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let err = sender.send_to(b"no flag", target).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        sender.set_broadcast(true).unwrap();
        sender.send_to(b"to everyone", target).await.unwrap();
        let mut buf = [0u8; 32];
        let (n, from) = guard("broadcast", receiver.recv_from(&mut buf))
            .await
            .unwrap();
        assert_eq!(&buf[..n], b"to everyone");
        assert_eq!(from, sender.local_addr().unwrap());
        // Switched off again, refused again.
        sender.set_broadcast(false).unwrap();
        assert!(sender.send_to(b"x", target).await.is_err());
    });
}

#[test]
fn unix_datagram_pair_keeps_boundaries_both_ways() {
    eddy::run(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        a.send(b"one").await.unwrap();
        a.send(b"").await.unwrap();
        a.send(b"three!").await.unwrap();
        let mut buf = [0u8; 16];
        let n = guard("1", b.recv(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"one");
        assert_eq!(
            guard("2", b.recv(&mut buf)).await.unwrap(),
            0,
            "an empty datagram"
        );
        let n = guard("3", b.recv(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"three!");
        // Nothing queued: try_recv does not wait.
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );

        // The other way, with a receiver waiting in another task first.
        let (tx, rx) = (std::rc::Rc::new(a), std::rc::Rc::new(b));
        let waiting = {
            let tx = tx.clone();
            eddy::spawn(async move {
                let mut buf = [0u8; 16];
                let (n, from) = tx.recv_from(&mut buf).await.unwrap();
                (buf[..n].to_vec(), from.as_pathname().is_none())
            })
        };
        eddy::yield_now().await;
        rx.send(b"back").await.unwrap();
        let (got, unnamed) = guard("back", waiting).await.unwrap();
        assert_eq!(got, b"back");
        assert!(unnamed, "a socketpair end has no path");

        // One end gone: sending is refused, as asyncio's sock_sendall is.
        drop(rx);
        let err = tx.send(b"anyone?").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn two_hundred_clients_at_once_through_start_server() {
    const N: usize = 200;
    eddy::run(async {
        let server = start_server("127.0.0.1:0", echo).await.unwrap();
        let addr = server.local_addr().unwrap();
        let clients = (0..N).map(|i| async move {
            let (mut r, mut w) = open_connection(addr).await.unwrap();
            let msg = format!("client {i}\n");
            w.write(msg.as_bytes()).unwrap();
            let back = r.read_line().await.unwrap();
            assert_eq!(back, msg.as_bytes());
            (r, w)
        });
        let conns = guard("200 clients", eddy::gather_all(clients)).await;
        assert_eq!(server.connection_count(), N);
        for (_r, mut w) in conns {
            w.close();
            guard("client closed", w.wait_closed()).await;
        }
        close_server(&server).await;
        assert_eq!(server.connection_count(), 0);
    });
}
