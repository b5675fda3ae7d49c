//! Sockets on loopback: large transfers, half-close, resets, many
//! connections on one loop, UDP and Unix sockets, split halves, AsyncFd,
//! and the cooperative budget on an always-ready socket.

mod common;

use std::cell::Cell;
use std::io::{Read, Write};
use std::net::Shutdown;
use std::rc::Rc;

use eddy_io::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream};
use futures::io::{AsyncReadExt, AsyncWriteExt};

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn sixteen_mib_arrive_intact_both_ways() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = eddy_core::spawn(async move {
            // Echo everything back, through split halves in one task.
            let (mut s, _) = listener.accept().await.unwrap();
            // Spelled out: futures' AsyncReadExt::split (by value) would
            // win method resolution over the inherent borrowed split.
            let (mut r, mut w) = TcpStream::split(&mut s);
            futures::io::copy(&mut r, &mut w).await.unwrap();
            w.close().await.unwrap();
        });
        let data = pattern(16 * 1024 * 1024);
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut r, mut w) = client.into_split();
        let sent = data.clone();
        let writer = eddy_core::spawn(async move {
            w.write_all(&sent).await.unwrap();
            w.close().await.unwrap(); // half-close: the server sees EOF
        });
        let mut back = Vec::new();
        r.read_to_end(&mut back).await.unwrap();
        writer.await.unwrap();
        server.await.unwrap();
        assert_eq!(back.len(), data.len());
        assert!(back == data, "the echoed bytes differ");
    });
}

#[test]
fn half_close_from_either_side_keeps_the_other_direction_open() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = eddy_core::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            // The server closes its write side first, then still reads.
            s.write_all(b"greeting").await.unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).await.unwrap();
            got
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        let mut greeting = Vec::new();
        c.read_to_end(&mut greeting).await.unwrap();
        assert_eq!(greeting, b"greeting");
        // The client can still write after reading EOF.
        c.write_all(b"reply after EOF").await.unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        assert_eq!(server.await.unwrap(), b"reply after EOF");
    });
}

#[test]
fn a_reset_by_the_peer_is_an_error_not_a_hang() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The peer is a plain blocking socket on another thread that
        // closes with SO_LINGER 0, which sends RST.
        let peer = std::thread::spawn(move || {
            let s = std::net::TcpStream::connect(addr).unwrap();
            socket2::SockRef::from(&s)
                .set_linger(Some(std::time::Duration::ZERO))
                .unwrap();
            let mut one = [0u8; 1];
            (&s).read_exact(&mut one).unwrap();
            drop(s);
        });
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(b"x").await.unwrap();
        let mut buf = [0u8; 16];
        let mut outcome = Ok(1);
        // Reads until the reset shows up (EOF would be wrong too).
        while let Ok(n) = outcome {
            if n == 0 {
                break;
            }
            outcome = s.read(&mut buf).await;
        }
        peer.join().unwrap();
        let err = outcome.expect_err("a reset must surface as an error, not EOF");
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    });
}

/// Raises the soft descriptor limit as far as allowed; returns it.
fn raise_nofile() -> u64 {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid, initialised struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
        rl.rlim_cur = rl.rlim_max.min(65536);
        libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
    }
    rl.rlim_cur
}

#[test]
fn a_thousand_concurrent_connections_on_one_loop() {
    const N: usize = 1000;
    let limit = raise_nofile();
    if limit < (2 * N + 64) as u64 {
        eprintln!(
            "skipped: the open-file limit ({limit}) is below {}",
            2 * N + 64
        );
        return;
    }
    common::run(async {
        let listener = TcpListener::builder("127.0.0.1:0".parse().unwrap())
            .backlog(N as u32)
            .bind()
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let served = Rc::new(Cell::new(0usize));
        let counter = served.clone();
        let server = eddy_core::spawn(async move {
            let mut handlers = Vec::new();
            for _ in 0..N {
                let (mut s, _) = listener.accept().await.unwrap();
                let counter = counter.clone();
                handlers.push(eddy_core::spawn(async move {
                    let mut buf = [0u8; 8];
                    s.read_exact(&mut buf).await.unwrap();
                    s.write_all(&buf).await.unwrap();
                    counter.set(counter.get() + 1);
                }));
            }
            for h in handlers {
                h.await.unwrap();
            }
        });
        // Every client connects first and holds its socket, so all N are
        // open at once, then they all talk.
        let mut clients = Vec::new();
        for _ in 0..N {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        let tasks: Vec<_> = clients
            .into_iter()
            .enumerate()
            .map(|(i, mut c)| {
                eddy_core::spawn(async move {
                    let msg = (i as u64).to_le_bytes();
                    c.write_all(&msg).await.unwrap();
                    let mut back = [0u8; 8];
                    c.read_exact(&mut back).await.unwrap();
                    assert_eq!(back, msg);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        server.await.unwrap();
        assert_eq!(served.get(), N);
    });
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    common::run(async {
        // Bind then drop, so the port is (almost certainly) closed.
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    });
}

/// Binding a busy address fails with `AddrInUse` and a message that names
/// the address and says what to do, for TCP, UDP and start_server alike.
#[test]
fn binding_a_busy_address_says_which_and_what_to_do() {
    common::run(async {
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let taken = tcp.local_addr().unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let taken_udp = udp.local_addr().unwrap();
        let handler = |_r, _w| async {};
        let errors = [
            TcpListener::bind(taken).await.unwrap_err(),
            eddy_io::io::start_server(&taken.to_string(), handler)
                .await
                .unwrap_err(),
            UdpSocket::bind(taken_udp).await.unwrap_err(),
        ];
        for (err, addr) in errors.iter().zip([taken, taken, taken_udp]) {
            assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
            let msg = err.to_string();
            assert!(msg.contains(&addr.to_string()), "{msg}");
            assert!(msg.contains("choose another port"), "{msg}");
        }
    });
}

#[test]
fn names_are_resolved_off_the_loop() {
    common::run(async {
        let listener = TcpListener::bind(("localhost", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accept = eddy_core::spawn(async move { listener.accept().await.map(drop) });
        let c = TcpStream::connect(format!("localhost:{port}"))
            .await
            .unwrap();
        accept.await.unwrap().unwrap();
        assert_eq!(c.peer_addr().unwrap().port(), port);
    });
}

#[test]
fn udp_send_to_recv_from_and_connected_send_recv() {
    common::run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (aa, ba) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        a.send_to(b"one", ba).await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"one"[..], aa));
        b.connect(aa).await.unwrap();
        a.connect(ba).await.unwrap();
        b.send(b"two").await.unwrap();
        let n = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"two");
        assert_eq!(a.peer_addr().unwrap(), ba);
    });
}

#[test]
fn unix_listener_stream_and_datagrams() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    let dpath = dir.path().join("d.sock");
    common::run(async move {
        let listener = UnixListener::bind(&path).unwrap();
        let server = eddy_core::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut line = Vec::new();
            s.read_to_end(&mut line).await.unwrap();
            s.write_all(&line).await.unwrap();
        });
        let mut c = UnixStream::connect(&path).await.unwrap();
        c.write_all(b"over unix").await.unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut back = Vec::new();
        c.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"over unix");
        server.await.unwrap();

        let d = UnixDatagram::bind(&dpath).unwrap();
        let u = UnixDatagram::unbound().unwrap();
        u.send_to(b"dgram", &dpath).await.unwrap();
        let mut buf = [0u8; 16];
        let n = d.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"dgram");
    });
}

#[test]
fn owned_halves_work_from_different_tasks() {
    common::run(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let (mut r, mut w) = a.into_split();
        let reader = eddy_core::spawn(async move {
            let mut got = [0u8; 5];
            r.read_exact(&mut got).await.unwrap();
            got
        });
        let writer = eddy_core::spawn(async move {
            w.write_all(b"to-b!").await.unwrap();
        });
        let mut got = [0u8; 5];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"to-b!");
        b.write_all(b"to-a!").await.unwrap();
        assert_eq!(&reader.await.unwrap(), b"to-a!");
        writer.await.unwrap();
    });
}

#[test]
fn dropping_the_owned_write_half_sends_eof() {
    common::run(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let (_r, w) = a.into_split();
        drop(w);
        let mut rest = Vec::new();
        b.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    });
}

#[test]
fn async_fd_waits_for_readability_of_a_raw_descriptor() {
    common::run(async {
        let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let fd = eddy_io::io::AsyncFd::new(a).unwrap();
        let writer = std::thread::spawn(move || b.write_all(b"late").unwrap());
        let mut buf = [0u8; 8];
        let n = loop {
            let mut guard = fd.readable().await.unwrap();
            match guard.try_io(|fd| fd.get_ref().read(&mut buf)) {
                Ok(res) => break res.unwrap(),
                Err(_would_block) => continue,
            }
        };
        writer.join().unwrap();
        assert_eq!(&buf[..n], b"late");
    });
}

#[test]
fn an_always_ready_socket_does_not_starve_other_tasks() {
    common::run(async {
        let blob = vec![1u8; 64 * 1024];
        // Plenty of data, so every read below is ready at once.
        let (mut x, mut y) = UnixStream::pair().unwrap();
        x.write_all(&blob).await.unwrap();
        // One read first: it waits for the reactor to report readiness.
        let mut one = [0u8; 1];
        y.read_exact(&mut one).await.unwrap();
        // Spawned now, so only this task's yielding can let it run.
        let other_ran = Rc::new(Cell::new(false));
        let flag = other_ran.clone();
        eddy_core::spawn(async move { flag.set(true) });
        // Read one byte at a time: every read is immediately ready, so
        // only the budget makes this task yield.
        let mut reads = 0;
        while !other_ran.get() {
            assert!(reads < blob.len() - 1, "the other task never ran");
            y.read_exact(&mut one).await.unwrap();
            reads += 1;
        }
    });
}
