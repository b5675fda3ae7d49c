//! asyncio's datagram topics (create_datagram_endpoint), ported to eddy:
//! a UDP echo server and client on loopback, and Unix datagrams in a temp
//! dir.

mod common;

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use common::port::guard;
use eddy::net::{UdpSocket, UnixDatagram};

/// Echoes every datagram upper-cased until it receives `quit`.
async fn udp_echo_server(sock: Rc<UdpSocket>) -> usize {
    let mut buf = [0u8; 2048];
    let mut served = 0;
    loop {
        let (n, from) = sock.recv_from(&mut buf).await.unwrap();
        if &buf[..n] == b"quit" {
            return served;
        }
        let reply = buf[..n].to_ascii_uppercase();
        sock.send_to(&reply, from).await.unwrap();
        served += 1;
    }
}

/// A [`udp_echo_server`] task on loopback, and its address.
async fn start_udp_echo_server() -> (SocketAddr, eddy::JoinHandle<usize>) {
    let sock = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let addr = sock.local_addr().unwrap();
    (addr, eddy::spawn(udp_echo_server(sock)))
}

#[test]
fn udp_echo_server_and_client() {
    eddy::run(async {
        let (server_addr, server) = start_udp_echo_server().await;

        // A connected client: send/recv talk to the server only.
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.connect(server_addr).await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), server_addr);
        let mut buf = [0u8; 2048];
        for msg in ["hello", "datagrams keep their boundaries", ""] {
            client.send(msg.as_bytes()).await.unwrap();
            let n = guard("reply", client.recv(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], msg.to_ascii_uppercase().as_bytes());
        }

        // An unconnected client: each reply says who sent it.
        let other = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        other.send_to(b"from elsewhere", server_addr).await.unwrap();
        let (n, from) = guard("reply", other.recv_from(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"FROM ELSEWHERE");
        assert_eq!(from, server_addr);

        client.send(b"quit").await.unwrap();
        assert_eq!(guard("server", server).await.unwrap(), 4);
    });
}

#[test]
fn udp_many_clients_at_once() {
    eddy::run(async {
        let (server_addr, server) = start_udp_echo_server().await;
        let clients = (0..10).map(|i| async move {
            let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            sock.connect(server_addr).await.unwrap();
            let mut buf = [0u8; 64];
            let mut got = Vec::new();
            for j in 0..3 {
                let msg = format!("c{i} m{j}");
                sock.send(msg.as_bytes()).await.unwrap();
                // Loopback does not drop datagrams under this load; the
                // guard turns a loss into a clear failure, not a hang.
                let n = guard("reply", sock.recv(&mut buf)).await.unwrap();
                got.push(String::from_utf8(buf[..n].to_vec()).unwrap());
            }
            got
        });
        let all = eddy::gather_all(clients).await;
        for (i, got) in all.iter().enumerate() {
            assert_eq!(got, &[0, 1, 2].map(|j| format!("C{i} M{j}")));
        }
        let quitter = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        quitter.send_to(b"quit", server_addr).await.unwrap();
        assert_eq!(guard("server", server).await.unwrap(), 30);
    });
}

#[test]
fn a_small_buffer_truncates_the_datagram_and_peek_leaves_it_queued() {
    eddy::run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.send_to(b"0123456789", b.local_addr().unwrap())
            .await
            .unwrap();
        a.send_to(b"next", b.local_addr().unwrap()).await.unwrap();
        let mut small = [0u8; 4];
        let (n, from) = guard("peek", b.peek_from(&mut small)).await.unwrap();
        assert_eq!((&small[..n], from), (&b"0123"[..], a.local_addr().unwrap()));
        let (n, _) = guard("recv", b.recv_from(&mut small)).await.unwrap();
        assert_eq!(&small[..n], b"0123"); // the rest of that datagram is gone
        let mut buf = [0u8; 64];
        let (n, _) = guard("next", b.recv_from(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"next");
        // Nothing more queued: try_recv does not wait.
        assert_eq!(
            b.try_recv_from(&mut buf).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock
        );
    });
}

#[test]
fn a_timed_out_recv_loses_no_datagram() {
    eddy::run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0u8; 16];
        assert!(
            eddy::wait_for(b.recv_from(&mut buf), Duration::from_millis(5))
                .await
                .is_err()
        );
        a.send_to(b"late", b.local_addr().unwrap()).await.unwrap();
        let (n, _) = guard("late", b.recv_from(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"late");
    });
}

#[test]
fn unix_datagram_echo_in_a_temp_dir() {
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let server_path = dir.path().join("server.sock");
        let client_path = dir.path().join("client.sock");
        let server = UnixDatagram::bind(&server_path).unwrap();
        let client = UnixDatagram::bind(&client_path).unwrap();
        let echo = eddy::spawn(async move {
            let mut buf = [0u8; 256];
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            let from = from.as_pathname().unwrap().to_path_buf();
            server.send_to(&buf[..n], &from).await.unwrap();
            from
        });
        client.send_to(b"ping", &server_path).await.unwrap();
        let mut buf = [0u8; 256];
        let (n, from) = guard("pong", client.recv_from(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(from.as_pathname(), Some(server_path.as_path()));
        assert_eq!(guard("echo", echo).await.unwrap(), client_path);

        // A connected pair, like socket.socketpair(AF_UNIX, SOCK_DGRAM).
        let (x, y) = UnixDatagram::pair().unwrap();
        x.send(b"one").await.unwrap();
        x.send(b"two").await.unwrap();
        let n = y.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"one");
        let n = y.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"two");
    });
}

#[test]
fn a_connected_udp_socket_reports_a_closed_port() {
    eddy::run(async {
        // A port nobody listens on any more.
        let gone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = gone.local_addr().unwrap();
        drop(gone);
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.connect(addr).await.unwrap();
        client.send(b"anyone?").await.unwrap();
        // asyncio's error_received(ConnectionRefusedError): here the next
        // receive fails.
        let mut buf = [0u8; 16];
        let err = guard("refused", client.recv(&mut buf)).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    });
}
