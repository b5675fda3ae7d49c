//! asyncio's server topics, ported to eddy: Server.close / wait_closed /
//! close_clients / abort_clients, handlers that fail, and Unix-socket
//! servers in a temp dir.

mod common;

use std::cell::RefCell;
use std::io::ErrorKind;
use std::rc::Rc;

use common::port::{close_server, connect, echo, guard, settle, wait_while};
use eddy::io::{
    open_connection, open_unix_connection, start_server, start_unix_server, StreamReader,
    StreamWriter, WriteError,
};
use eddy::sync::Event;

#[test]
fn server_close_clients_sends_what_is_buffered_then_ends_each_connection() {
    eddy::run(async {
        let greeted = Rc::new(Event::new());
        let g = greeted.clone();
        let server = start_server(
            "127.0.0.1:0",
            move |mut r: StreamReader, mut w: StreamWriter| {
                let g = g.clone();
                async move {
                    w.write(b"welcome\n").unwrap();
                    g.set();
                    // Wait for a request that never comes.
                    let _ = r.read_line().await;
                }
            },
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let (mut r1, _w1) = open_connection(&addr).await.unwrap();
        assert_eq!(
            guard("welcome", r1.read_line()).await.unwrap(),
            b"welcome\n"
        );
        guard("greeted", greeted.wait()).await;
        assert_eq!(server.connection_count(), 1);

        server.close();
        // New connections are refused, the old one still lives.
        assert_eq!(
            open_connection(&addr).await.unwrap_err().kind(),
            ErrorKind::ConnectionRefused
        );
        assert_eq!(server.connection_count(), 1);

        server.close_clients();
        guard("wait_closed", server.wait_closed()).await;
        assert_eq!(server.connection_count(), 0);
        // The client sees end of file.
        assert_eq!(guard("eof", r1.read_line()).await.unwrap(), b"");
    });
}

#[test]
fn server_wait_closed_waits_for_handlers_still_running() {
    eddy::run(async {
        let release = Rc::new(Event::new());
        let finished = Rc::new(RefCell::new(0));
        let (rel, fin) = (release.clone(), finished.clone());
        let server = start_server(
            "127.0.0.1:0",
            move |_r: StreamReader, mut w: StreamWriter| {
                let (rel, fin) = (rel.clone(), fin.clone());
                async move {
                    rel.wait().await;
                    w.write(b"done\n").unwrap();
                    *fin.borrow_mut() += 1;
                }
            },
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let (mut r1, _w1) = open_connection(&addr).await.unwrap();
        let (mut r2, _w2) = open_connection(&addr).await.unwrap();
        // Both connections accepted (no more may arrive).
        wait_while("accepts", || server.connection_count() < 2).await;
        server.close();
        let waiting = eddy::spawn(async move {
            server.wait_closed().await;
            server
        });
        settle().await;
        assert!(
            !waiting.is_finished(),
            "wait_closed returned with handlers running"
        );
        release.set();
        let server = guard("wait_closed", waiting).await.unwrap();
        assert_eq!(*finished.borrow(), 2);
        assert_eq!(server.connection_count(), 0);
        assert_eq!(r1.read_line().await.unwrap(), b"done\n");
        assert_eq!(r2.read_line().await.unwrap(), b"done\n");
    });
}

#[test]
fn server_abort_clients_drops_unsent_data() {
    eddy::run(async {
        let server = start_server(
            "127.0.0.1:0",
            |_r: StreamReader, mut w: StreamWriter| async move {
                // Far more than the socket buffers hold, to a client that does
                // not read: most of it stays buffered in the writer.
                w.write(&vec![b'z'; 32 << 20]).unwrap();
                std::future::pending::<()>().await
            },
        )
        .await
        .unwrap();
        let (mut r, _w) = connect(&server).await;
        wait_while("accept", || server.connection_count() < 1).await;
        server.close();
        server.abort_clients();
        guard("wait_closed", server.wait_closed()).await;
        // The client gets at most what was in flight, then end or reset.
        let mut total = 0usize;
        loop {
            match guard("read", r.read(1 << 20)).await {
                Ok(chunk) if chunk.is_empty() => break,
                Ok(chunk) => total += chunk.len(),
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::ConnectionReset);
                    break;
                }
            }
        }
        assert!(total < 32 << 20, "aborted data arrived whole");
    });
}

#[test]
fn unix_socket_echo_server_in_a_temp_dir() {
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("echo.sock");
        let server = start_unix_server(&path, echo).await.unwrap();
        assert_eq!(server.local_path(), Some(path.as_path()));
        assert!(server.local_addr().is_none());
        assert!(path.exists());

        let (mut r, mut w) = open_unix_connection(&path).await.unwrap();
        w.write(b"over a unix socket\n").unwrap();
        w.drain().await.unwrap();
        assert_eq!(
            guard("echo", r.read_line()).await.unwrap(),
            b"over a unix socket\n"
        );
        assert_eq!(w.peer_addr(), None);
        w.write_eof();
        assert_eq!(guard("eof", r.read_line()).await.unwrap(), b"");

        close_server(&server).await;
        assert!(!path.exists(), "close removes the socket file");
        let err = open_unix_connection(&path).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    });
}

#[test]
fn unix_server_replaces_a_stale_socket_but_not_a_live_one_or_a_file() {
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.sock");
        // A stale socket: bound by a listener that is gone without cleanup.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let server = start_unix_server(&path, echo).await.unwrap();

        // A second server on the same live path is refused.
        let err = start_unix_server(&path, echo).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        // ... and the first still works.
        let (mut r, mut w) = open_unix_connection(&path).await.unwrap();
        w.write(b"still here\n").unwrap();
        assert_eq!(guard("echo", r.read_line()).await.unwrap(), b"still here\n");
        drop((r, w));
        close_server(&server).await;

        // A regular file is never removed.
        let file = dir.path().join("not-a-socket");
        std::fs::write(&file, b"data").unwrap();
        let err = start_unix_server(&file, echo).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert_eq!(std::fs::read(&file).unwrap(), b"data");
    });
}

#[test]
fn a_failing_handler_does_not_stop_the_server() {
    eddy::run(async {
        let server = start_server(
            "127.0.0.1:0",
            |mut r: StreamReader, mut w: StreamWriter| async move {
                let line = r.read_line().await?;
                if line == b"fail\n" {
                    return Err(std::io::Error::other("bad request"));
                }
                if line == b"panic\n" {
                    panic!("handler panicked on purpose");
                }
                w.write(b"served\n")?;
                Ok::<(), std::io::Error>(())
            },
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap().to_string();
        for req in ["fail\n", "panic\n", "fine\n"] {
            let (mut r, mut w) = open_connection(&addr).await.unwrap();
            w.write(req.as_bytes()).unwrap();
            let reply = guard("reply", r.read_line()).await.unwrap();
            if req == "fine\n" {
                assert_eq!(reply, b"served\n");
            } else {
                assert_eq!(reply, b"", "{req:?} ends the connection");
            }
        }
        assert!(server.is_serving());
        close_server(&server).await;
    });
}

#[test]
fn close_clients_reaches_a_writer_kept_outside_its_handler() {
    eddy::run(async {
        // A chat-style server keeps every client's writer in a shared list
        // and lets the handler return.
        let writers: Rc<RefCell<Vec<StreamWriter>>> = Rc::default();
        let ws = writers.clone();
        let server = start_server("127.0.0.1:0", move |_r: StreamReader, w: StreamWriter| {
            let ws = ws.clone();
            async move {
                ws.borrow_mut().push(w);
            }
        })
        .await
        .unwrap();
        let (mut r, _w) = connect(&server).await;
        wait_while("registered", || writers.borrow().is_empty()).await;
        writers.borrow_mut()[0].write(b"broadcast\n").unwrap();
        assert_eq!(server.connection_count(), 1);
        server.close();
        server.close_clients();
        guard("wait_closed", server.wait_closed()).await;
        assert_eq!(guard("msg", r.read_line()).await.unwrap(), b"broadcast\n");
        assert_eq!(guard("eof", r.read_line()).await.unwrap(), b"");
        assert!(matches!(
            writers.borrow_mut()[0].write(b"late\n"),
            Err(WriteError::Closing)
        ));
    });
}

#[test]
fn dropping_a_unix_server_removes_its_socket_file_and_a_new_one_can_start() {
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("restart.sock");
        for round in 0..3 {
            let server = start_unix_server(&path, echo).await.unwrap();
            let (mut r, mut w) = open_unix_connection(&path).await.unwrap();
            w.write(format!("round {round}\n").as_bytes()).unwrap();
            assert_eq!(
                guard("echo", r.read_line()).await.unwrap(),
                format!("round {round}\n").as_bytes()
            );
            drop(server); // no close(): dropping closes it
            assert!(!path.exists(), "round {round}: the socket file was left");
        }
    });
}
