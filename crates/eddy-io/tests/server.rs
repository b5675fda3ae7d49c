//! start_server / open_connection / Server on loopback: echo, close and
//! wait_closed ordering, close_clients / abort_clients, a panicking
//! handler, and the accept loop surviving EMFILE in a child process with a
//! low RLIMIT_NOFILE.

mod common;

use std::cell::{Cell, RefCell};
use std::io::{BufRead, BufReader, Read, Write};
use std::rc::Rc;

use eddy_io::io::{open_connection, open_unix_connection, start_server, start_unix_server};
use eddy_io::io::{StreamReader, StreamWriter};

#[test]
fn echo_round_trip_and_peer_addr() {
    common::run(async {
        let server = start_server("127.0.0.1:0", common::echo_lines)
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let (mut r, mut w) = open_connection(&addr.to_string()).await.unwrap();
        assert_eq!(w.peer_addr(), Some(addr));
        for i in 0..100 {
            let msg = format!("line {i}\n");
            w.write(msg.as_bytes()).unwrap();
            assert_eq!(r.read_line().await.unwrap(), msg.as_bytes());
        }
        // Half-close: the server sees EOF, its handler returns, and its
        // writer shuts down, so we read EOF too.
        w.write_eof();
        assert_eq!(r.read_line().await.unwrap(), b"");
        server.close();
        server.wait_closed().await;
        assert_eq!(server.connection_count(), 0);
    });
}

#[test]
fn large_transfer_through_streams_is_intact() {
    common::run(async {
        let server = start_server(
            "127.0.0.1:0",
            |mut r: StreamReader, mut w: StreamWriter| async move {
                loop {
                    let chunk = r.read(64 * 1024).await?;
                    if chunk.is_empty() {
                        return Ok::<_, std::io::Error>(());
                    }
                    w.write(&chunk)?;
                    w.drain().await?;
                }
            },
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let (mut r, mut w) = open_connection(&addr).await.unwrap();
        let data: Vec<u8> = (0..16 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
        let expected = data.clone();
        let sender = eddy_core::spawn(async move {
            for chunk in data.chunks(100_000) {
                w.write(chunk).unwrap();
                w.drain().await.unwrap();
            }
            w.write_eof();
            w
        });
        let got = r.read_to_end().await.unwrap();
        assert!(
            got == expected,
            "16 MiB echoed intact ({} bytes back)",
            got.len()
        );
        drop(sender.await.unwrap());
        server.close();
        server.wait_closed().await;
    });
}

#[test]
fn wait_closed_waits_for_close_and_for_every_connection() {
    common::run(async {
        let server = Rc::new(
            start_server("127.0.0.1:0", common::echo_lines)
                .await
                .unwrap(),
        );
        let addr = server.local_addr().unwrap().to_string();
        let (mut r, mut w) = open_connection(&addr).await.unwrap();
        w.write(b"hi\n").unwrap();
        assert_eq!(r.read_line().await.unwrap(), b"hi\n");

        let log = Rc::new(RefCell::new(Vec::new()));
        let waiter = {
            let (server, log) = (server.clone(), log.clone());
            eddy_core::spawn(async move {
                server.wait_closed().await;
                log.borrow_mut().push("wait_closed returned");
            })
        };
        common::settle().await;
        assert!(
            log.borrow().is_empty(),
            "not closed yet: wait_closed must wait"
        );

        server.close();
        assert!(!server.is_serving());
        server.serve_forever().await; // returns at once once closed
        common::settle().await;
        assert!(log.borrow().is_empty(), "a connection is still live");
        assert_eq!(server.connection_count(), 1);

        // The live connection still works after close().
        w.write(b"still here\n").unwrap();
        assert_eq!(r.read_line().await.unwrap(), b"still here\n");
        // New connections are refused once the listener is gone.
        assert!(open_connection(&addr).await.is_err());

        log.borrow_mut().push("client closing");
        w.close();
        drop(r);
        waiter.await.unwrap();
        assert_eq!(*log.borrow(), ["client closing", "wait_closed returned"]);
        assert_eq!(server.connection_count(), 0);
    });
}

#[test]
fn close_clients_delivers_buffered_data_then_closes() {
    common::run(async {
        let server = start_server(
            "127.0.0.1:0",
            |mut r: StreamReader, mut w: StreamWriter| async move {
                w.write(b"welcome\n").unwrap();
                // Waits for a line that never comes.
                let _ = r.read_line().await;
            },
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let (mut r, _w) = open_connection(&addr).await.unwrap();
        assert_eq!(r.read_line().await.unwrap(), b"welcome\n");
        server.close();
        server.close_clients();
        assert_eq!(
            r.read_line().await.unwrap(),
            b"",
            "the server closed our connection"
        );
        server.wait_closed().await;
    });
}

#[test]
fn abort_clients_drops_the_connections() {
    common::run(async {
        let server = start_server(
            "127.0.0.1:0",
            |mut r: StreamReader, _w: StreamWriter| async move {
                let _ = r.read_line().await;
            },
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let mut clients = Vec::new();
        for _ in 0..5 {
            clients.push(open_connection(&addr).await.unwrap());
        }
        while server.connection_count() < 5 {
            common::settle().await;
        }
        server.close();
        server.abort_clients();
        server.wait_closed().await;
        for (mut r, _w) in clients {
            // EOF or a reset: either way not a hang.
            let got = r.read(10).await;
            assert!(got.map(|b| b.is_empty()).unwrap_or(true));
        }
    });
}

#[test]
fn panicking_handler_leaves_the_server_serving() {
    common::run(async {
        let calls = Rc::new(Cell::new(0));
        let server = {
            let calls = calls.clone();
            start_server("127.0.0.1:0", move |r, w| {
                calls.set(calls.get() + 1);
                let first = calls.get() == 1;
                async move {
                    if first {
                        panic!("handler bug on the first connection");
                    }
                    common::echo_lines(r, w).await
                }
            })
            .await
            .unwrap()
        };
        let addr = server.local_addr().unwrap().to_string();
        let (mut r1, _w1) = open_connection(&addr).await.unwrap();
        // The panicking handler's connection is closed.
        assert_eq!(r1.read_line().await.unwrap(), b"");
        let (mut r2, mut w2) = open_connection(&addr).await.unwrap();
        w2.write(b"after the panic\n").unwrap();
        assert_eq!(r2.read_line().await.unwrap(), b"after the panic\n");
        assert_eq!(calls.get(), 2);
        drop((r2, w2));
        server.close();
        server.wait_closed().await;
    });
}

/// A handler cancelled by `close_clients` / `abort_clients` whose
/// destructor panics is one more handler panic: logged, its connection
/// closed, the server goes on, as the docs promise. Since a panic raised
/// while a cancelled task's future is dropped became the task's own panic,
/// such a panic reached the runtime's unhandled-panic policy through the
/// server's handle on the handler task, so under `ShutdownRuntime` the
/// whole runtime stopped.
#[test]
fn handler_destructor_panicking_on_cancel_leaves_the_server_serving() {
    struct PanicOnDrop(Rc<Cell<u32>>);
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
            panic!("handler destructor bug (expected in this test)");
        }
    }
    let driver = eddy_io::driver::IoDriver::new().unwrap();
    let _io = driver.handle().enter();
    let rt = eddy_core::Builder::new()
        .unhandled_panic(eddy_core::UnhandledPanic::ShutdownRuntime)
        .build_with_driver(Box::new(driver))
        .unwrap();
    rt.block_on(async {
        let dropped = Rc::new(Cell::new(0));
        let server = {
            let dropped = dropped.clone();
            start_server("127.0.0.1:0", move |r: StreamReader, w: StreamWriter| {
                let bomb = PanicOnDrop(dropped.clone());
                async move {
                    let _bomb = bomb;
                    std::future::pending::<()>().await;
                    drop((r, w));
                }
            })
            .await
            .unwrap()
        };
        let addr = server.local_addr().unwrap().to_string();
        for abort in [false, true] {
            let (mut r, _w) = open_connection(&addr).await.unwrap();
            common::settle().await; // the handler is parked
            if abort {
                server.abort_clients();
            } else {
                server.close_clients();
            }
            // The connection ends, read as end of stream or a reset.
            let got = r.read_line().await;
            assert!(got.map(|l| l.is_empty()).unwrap_or(true));
            common::settle().await;
        }
        assert_eq!(dropped.get(), 2);
        // Still serving: a third client is accepted and its handler runs.
        let (_r, _w) = open_connection(&addr).await.unwrap();
        common::settle().await;
        assert_eq!(server.connection_count(), 1);
        server.close();
        server.abort_clients();
        server.wait_closed().await;
        assert_eq!(dropped.get(), 3);
    });
}

#[test]
fn unix_server_round_trip_and_cleanup() {
    common::run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("echo.sock");
        let server = start_unix_server(&path, common::echo_lines).await.unwrap();
        assert_eq!(server.local_path(), Some(path.as_path()));
        let (mut r, mut w) = open_unix_connection(&path).await.unwrap();
        w.write(b"over unix\n").unwrap();
        assert_eq!(r.read_line().await.unwrap(), b"over unix\n");
        drop((r, w));
        server.close();
        server.wait_closed().await;
        assert!(!path.exists(), "the socket file is removed on close");
    });
}

/// A socket file left by a server that died without cleaning up (bound,
/// then dropped: the file stays, nobody listens) is replaced, as asyncio's
/// create_unix_server does.
#[test]
fn unix_server_replaces_a_stale_socket_file() {
    common::run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists(), "the dead server left its socket file");
        let server = start_unix_server(&path, common::echo_lines).await.unwrap();
        let (mut r, mut w) = open_unix_connection(&path).await.unwrap();
        w.write(b"fresh\n").unwrap();
        assert_eq!(r.read_line().await.unwrap(), b"fresh\n");
        drop((r, w));
        server.close();
        server.wait_closed().await;
        assert!(!path.exists());
    });
}

/// Only socket files are replaced: a regular file at the path is refused
/// with an error that says so, and it is left exactly as it was.
#[test]
fn unix_server_refuses_a_path_that_is_not_a_socket() {
    common::run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.txt");
        std::fs::write(&path, b"precious").unwrap();
        let err = start_unix_server(&path, common::echo_lines)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
        let msg = err.to_string();
        assert!(msg.contains("not a socket"), "{msg}");
        assert!(msg.contains("data.txt"), "{msg}");
        assert_eq!(std::fs::read(&path).unwrap(), b"precious");
    });
}

/// A socket a live server still listens on is not taken over: the second
/// server is refused and the first keeps its path and its clients.
#[test]
fn unix_server_refuses_a_socket_another_server_listens_on() {
    common::run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.sock");
        let first = start_unix_server(&path, common::echo_lines).await.unwrap();
        let err = start_unix_server(&path, common::echo_lines)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains("listening"), "{err}");
        let (mut r, mut w) = open_unix_connection(&path).await.unwrap();
        w.write(b"still mine\n").unwrap();
        assert_eq!(r.read_line().await.unwrap(), b"still mine\n");
        drop((r, w));
        first.close();
        first.wait_closed().await;
        assert!(!path.exists());
    });
}

/// `close` removes the path only while it is still the socket this server
/// created: one that someone else bound there since is left alone.
#[test]
fn unix_server_close_leaves_a_path_rebound_by_someone_else() {
    common::run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.sock");
        let server = start_unix_server(&path, common::echo_lines).await.unwrap();
        // Someone else takes the path over (as a second asyncio server
        // replacing "our" socket file would).
        std::fs::remove_file(&path).unwrap();
        let other = std::os::unix::net::UnixListener::bind(&path).unwrap();
        server.close();
        server.wait_closed().await;
        assert!(path.exists(), "close deleted a socket that was not ours");
        let _client = std::os::unix::net::UnixStream::connect(&path).unwrap();
        other.accept().unwrap();
    });
}

const CHILD_ENV: &str = "EDDY_STREAMS_EMFILE_CHILD";
/// Connections the parent opens at once; far more than fit in the child.
const CLIENTS: usize = 24;
/// Descriptors the child may open beyond those it has when it starts.
const HEADROOM: u64 = 6;

/// The server side of `accept_survives_emfile`, run in a child process with
/// a low RLIMIT_NOFILE.
#[test]
#[ignore = "run by accept_survives_emfile in a child process"]
fn emfile_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    common::run(async move {
        // Bind first (the listener and the reactor's descriptors exist
        // before the limit drops).
        let served = Rc::new(Cell::new(0usize));
        let live = Rc::new(Cell::new(0usize));
        let max_live = Rc::new(Cell::new(0usize));
        let (done_tx, mut done_rx) = futures::channel::mpsc::unbounded::<()>();
        let server = {
            let (served, live, max_live) = (served.clone(), live.clone(), max_live.clone());
            start_server(
                "127.0.0.1:0",
                move |mut r: StreamReader, mut w: StreamWriter| {
                    let (served, live, max_live) = (served.clone(), live.clone(), max_live.clone());
                    let done_tx = done_tx.clone();
                    live.set(live.get() + 1);
                    max_live.set(max_live.get().max(live.get()));
                    async move {
                        let _ = r.read_line().await;
                        let _ = w.write(b"pong\n");
                        let _ = w.flush().await;
                        // Hold the descriptor until the client hangs up.
                        let _ = r.read_to_end().await;
                        live.set(live.get() - 1);
                        served.set(served.get() + 1);
                        let _ = done_tx.unbounded_send(());
                    }
                },
            )
            .await
            .unwrap()
        };
        // New descriptors take the lowest free numbers and must be below
        // the limit, so the limit sits just above the HEADROOM-th free
        // number (inherited high descriptors do not count).
        let open: std::collections::HashSet<u64> = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
            .collect::<Vec<_>>()
            .into_iter()
            // The listing's own descriptor is closed again by now.
            // SAFETY: F_GETFD only queries the descriptor table.
            .filter(|&fd| unsafe { libc::fcntl(fd as i32, libc::F_GETFD) } != -1)
            .collect();
        let limit = (0u64..)
            .filter(|fd| !open.contains(fd))
            .nth(HEADROOM as usize - 1)
            .unwrap()
            + 1;
        let rl = libc::rlimit {
            rlim_cur: limit,
            rlim_max: limit,
        };
        // SAFETY: setrlimit with a valid, initialised struct.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) }, 0);
        println!("PORT={}", server.local_addr().unwrap().port());
        for _ in 0..CLIENTS {
            futures::StreamExt::next(&mut done_rx).await.unwrap();
        }
        println!("SERVED={} MAX_LIVE={}", served.get(), max_live.get());
        server.close();
        server.wait_closed().await;
    });
}

#[test]
fn accept_survives_emfile() {
    let mut child = common::test_in_child("emfile_child", CHILD_ENV, "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut port = None;
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 {
        // The harness prints "test emfile_child ... " before the line.
        if let Some((_, p)) = line.trim().split_once("PORT=") {
            port = Some(p.parse::<u16>().unwrap());
            break;
        }
        line.clear();
    }
    let port = port.expect("the child printed its port");
    // All clients connect at once (the kernel queues them), so the server
    // must accept more than its descriptor limit allows.
    let mut clients: Vec<std::net::TcpStream> = (0..CLIENTS)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(b"ping\n").unwrap();
            s
        })
        .collect();
    // Each client gets its reply, then hangs up, which frees a descriptor
    // in the server for the next queued connection.
    for (i, client) in clients.drain(..).enumerate() {
        let mut reply = [0u8; 5];
        let mut client = client;
        client
            .read_exact(&mut reply)
            .unwrap_or_else(|e| panic!("client {i}: {e}"));
        assert_eq!(&reply, b"pong\n", "client {i}");
    }
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "child failed:\n{rest}");
    let stats = rest
        .lines()
        .find_map(|l| l.strip_prefix("SERVED="))
        .expect("child printed its stats");
    let (served, max_live) = stats.split_once(" MAX_LIVE=").unwrap();
    assert_eq!(served.parse::<usize>().unwrap(), CLIENTS);
    let max_live: u64 = max_live.parse().unwrap();
    assert!(
        max_live <= HEADROOM,
        "the descriptor limit capped concurrent connections ({max_live})"
    );
}

#[test]
fn waiting_on_a_server_again_and_again_keeps_one_waker_per_task() {
    use std::future::Future;
    use std::sync::Arc;
    use std::task::{Context, Wake, Waker};

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    common::run(async {
        let server = start_server("127.0.0.1:0", common::echo_lines)
            .await
            .unwrap();
        let token = Arc::new(Noop);
        let waker = Waker::from(token.clone());
        let mut cx = Context::from_waker(&waker);
        // What a `select!` loop does: a fresh future each turn, polled once.
        for _ in 0..1_000 {
            assert!(std::pin::pin!(server.serve_forever())
                .poll(&mut cx)
                .is_pending());
            assert!(std::pin::pin!(server.wait_closed())
                .poll(&mut cx)
                .is_pending());
        }
        // The token, the `waker` above, and one clone kept by the server.
        assert_eq!(Arc::strong_count(&token), 3, "wakers piled up");
        server.close();
        server.wait_closed().await;
    });
}

#[test]
fn the_server_side_writer_knows_its_peer() {
    common::run(async {
        let seen = Rc::new(Cell::new(None));
        let s2 = seen.clone();
        let server = start_server("127.0.0.1:0", move |_r: StreamReader, w: StreamWriter| {
            s2.set(w.peer_addr());
            async {}
        })
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();
        let client = eddy_io::net::TcpStream::connect(addr).await.unwrap();
        let ours = client.local_addr().unwrap();
        let (mut r, _w) = client.into_split();
        // The handler returns at once: its writer closes, we read EOF.
        let mut buf = [0u8; 1];
        assert_eq!(
            futures::AsyncReadExt::read(&mut r, &mut buf).await.unwrap(),
            0
        );
        assert_eq!(seen.get(), Some(ours));
        server.close();
        server.wait_closed().await;
    });
}
