//! `open_connection` and `start_server` take what `TcpStream::connect` and
//! `TcpListener::bind` take (`net::ToSocketAddrs`): `"host:port"` as a
//! `&str`, a `String` or a `&String`, a `SocketAddr`, `(ip, port)` and
//! `(host, port)` pairs, so an address at hand needs no `to_string()`.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};

use eddy_io::io::{open_connection, start_server, Server};
use eddy_io::net::{TcpListener, TcpStream};

/// Connects with `open_connection(addr)` and checks the server echoes.
async fn echo_through(server: &Server, addr: impl eddy_io::net::ToSocketAddrs) {
    let (mut r, mut w) = open_connection(addr).await.unwrap();
    assert_eq!(w.peer_addr(), server.local_addr());
    w.write(b"ping\n").unwrap();
    assert_eq!(r.read_line().await.unwrap(), b"ping\n");
}

async fn stop(server: Server) {
    server.close();
    server.wait_closed().await;
}

#[test]
fn start_server_binds_every_address_form() {
    common::run(async {
        let loopback = Ipv4Addr::LOCALHOST;
        let any_port = SocketAddr::from((loopback, 0));
        let port0 = String::from("127.0.0.1:0");
        let servers = vec![
            start_server("127.0.0.1:0", common::echo_lines)
                .await
                .unwrap(),
            start_server(port0.clone(), common::echo_lines)
                .await
                .unwrap(),
            start_server(&port0, common::echo_lines).await.unwrap(),
            start_server(any_port, common::echo_lines).await.unwrap(),
            start_server(SocketAddrV4::new(loopback, 0), common::echo_lines)
                .await
                .unwrap(),
            start_server((IpAddr::V4(loopback), 0), common::echo_lines)
                .await
                .unwrap(),
            start_server((loopback, 0), common::echo_lines)
                .await
                .unwrap(),
            start_server(([127, 0, 0, 1], 0), common::echo_lines)
                .await
                .unwrap(),
            start_server(("127.0.0.1", 0), common::echo_lines)
                .await
                .unwrap(),
            start_server((String::from("127.0.0.1"), 0), common::echo_lines)
                .await
                .unwrap(),
        ];
        for server in servers {
            let addr = server.local_addr().unwrap();
            assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
            echo_through(&server, addr).await;
            stop(server).await;
        }
    });
}

#[test]
fn open_connection_takes_every_address_form() {
    common::run(async {
        let server = start_server(("127.0.0.1", 0), common::echo_lines)
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let port = addr.port();
        let text = addr.to_string();
        echo_through(&server, text.as_str()).await;
        echo_through(&server, &text).await;
        echo_through(&server, text.clone()).await;
        echo_through(&server, addr).await;
        echo_through(&server, (addr.ip(), port)).await;
        echo_through(&server, (Ipv4Addr::LOCALHOST, port)).await;
        echo_through(&server, ([127, 0, 0, 1], port)).await;
        echo_through(&server, ("127.0.0.1", port)).await;
        echo_through(&server, (String::from("127.0.0.1"), port)).await;
        echo_through(&server, &[addr][..]).await;
        // The plain socket types take the same forms.
        drop(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
        drop(TcpStream::connect(text.clone()).await.unwrap());
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        assert!(listener.local_addr().unwrap().ip().is_loopback());
        stop(server).await;
    });
}

/// A list of addresses is tried in turn, as `connect` does: the first
/// that refuses is skipped.
#[test]
fn open_connection_tries_each_address() {
    common::run(async {
        let server = start_server("127.0.0.1:0", common::echo_lines)
            .await
            .unwrap();
        // A port nobody listens on: bound, then closed.
        let refused = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let addrs = [refused, server.local_addr().unwrap()];
        echo_through(&server, &addrs[..]).await;
        stop(server).await;
    });
}

/// A malformed address is an error of the call, not a panic.
#[test]
fn a_bad_address_is_an_error() {
    common::run(async {
        let err = start_server("127.0.0.1:notaport", common::echo_lines)
            .await
            .expect_err("no server on a malformed address");
        assert!(!err.to_string().is_empty());
    });
}
