//! How a Server closes: the listening socket at once, and every live
//! connection for close_clients / abort_clients, wherever its writer is
//! kept and whether or not its handler still runs.

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use eddy_io::io::{open_connection, start_server, start_unix_server};
use eddy_io::io::{StreamReader, StreamWriter};

/// Awaits `server.wait_closed()`, failing with `what` if it is still
/// pending after 10,000 turns of the loop (a hang, not a slow close: no
/// time is involved).
async fn wait_closed_within_turns(server: &eddy_io::io::Server, what: &str) {
    let wait = server.wait_closed();
    futures::pin_mut!(wait);
    let mut turns = 0;
    while futures::poll!(wait.as_mut()).is_pending() {
        turns += 1;
        assert!(turns < 10_000, "{what}");
        eddy_core::yield_now().await;
    }
}

/// asyncio's `close()` closes the listening socket before it returns: once
/// `close()` + `wait_closed()` are done, the port is free to bind again
/// and a new connection is refused, with no turn of the loop in between.
#[test]
fn close_frees_the_port_before_it_returns() {
    common::run(async {
        for unix in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("s.sock");
            let server = if unix {
                start_unix_server(&path, common::echo_lines).await.unwrap()
            } else {
                start_server("127.0.0.1:0", common::echo_lines)
                    .await
                    .unwrap()
            };
            common::settle().await; // the accept task is parked in accept()
            server.close();
            server.wait_closed().await;
            if unix {
                let err = std::os::unix::net::UnixStream::connect(&path).unwrap_err();
                assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
            } else {
                let addr = server.local_addr().unwrap();
                let err = std::net::TcpStream::connect(addr).unwrap_err();
                assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
                let again = eddy_io::net::TcpListener::bind(addr).await;
                assert!(again.is_ok(), "port still taken after close: {again:?}");
            }
        }
    });
}

/// A handler that wrote more than the peer reads and returned leaves a
/// writer still flushing: the connection is live, and `abort_clients`
/// must reach it too (asyncio aborts every transport not yet closed), or
/// `wait_closed` waits for a peer that never reads.
#[test]
fn abort_clients_reaches_writers_still_flushing_after_their_handler() {
    common::run(async {
        let returned = Rc::new(Cell::new(false));
        let flag = returned.clone();
        let server = start_server("127.0.0.1:0", move |_r, mut w: StreamWriter| {
            let flag = flag.clone();
            async move {
                // Far more than the socket buffers hold.
                w.write(&vec![b'x'; 32 << 20]).unwrap();
                flag.set(true);
            }
        })
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();
        // A client that never reads.
        let _client = eddy_io::net::TcpStream::connect(addr).await.unwrap();
        while !returned.get() {
            common::settle().await;
        }
        common::settle().await;
        assert_eq!(server.connection_count(), 1, "its writer is still flushing");
        server.close();
        server.abort_clients();
        wait_closed_within_turns(&server, "abort_clients left the flushing writer alive").await;
        assert_eq!(server.connection_count(), 0);
    });
}

/// `close_clients` closes every connection, as asyncio closes every
/// transport, even one whose writer the handler handed elsewhere (a
/// registry of clients): the peer reads EOF and `wait_closed` returns
/// although that `StreamWriter` value still exists.
#[test]
fn close_clients_closes_writers_kept_outside_their_handler() {
    common::run(async {
        let registry: Rc<RefCell<Vec<StreamWriter>>> = Rc::default();
        let reg = registry.clone();
        let server = start_server("127.0.0.1:0", move |mut r: StreamReader, w| {
            reg.borrow_mut().push(w);
            async move {
                let _ = r.read_line().await;
            }
        })
        .await
        .unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let (mut r, _w) = open_connection(&addr).await.unwrap();
        while server.connection_count() < 1 || registry.borrow().is_empty() {
            common::settle().await;
        }
        server.close();
        server.close_clients();
        wait_closed_within_turns(&server, "a registered writer kept its connection open").await;
        assert_eq!(r.read(10).await.unwrap(), b"", "the peer reads EOF");
        assert!(registry.borrow()[0].is_closing());
    });
}
