//! Adversarial tests of the asyncio-style streams and servers over real
//! sockets: separator reads with the limit exactly at the boundary under
//! random chunking, write_eof then read, a peer reset under drain, and
//! close_clients / abort_clients / close racing live and new connections.
//! Every test runs under a hang guard and counts bytes end to end.

mod common;

use common::stress::{guarded, Rng};

use std::cell::Cell;
use std::rc::Rc;

use eddy_io::io::{open_connection, start_server, ReadError, StreamReader, StreamWriter};
use eddy_io::net::{TcpListener, TcpStream, UnixStream};
use futures::io::{AsyncReadExt, AsyncWriteExt};

/// Yields until `done()`, or fails after many turns (a hang guard that
/// counts turns, not time).
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200_000 {
        if done() {
            return;
        }
        eddy_core::yield_now().await;
    }
    panic!("never happened: {what}");
}

fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// Sends `bytes` to `w` in random chunks of 1..=9 bytes, yielding after
/// each, so the reader sees every possible split of every record.
async fn dribble(mut w: UnixStream, bytes: Vec<u8>, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut at = 0;
    while at < bytes.len() {
        let n = (1 + rng.below(9) as usize).min(bytes.len() - at);
        w.write_all(&bytes[at..at + n]).await.unwrap();
        at += n;
        eddy_core::yield_now().await;
    }
}

/// Records of lengths around the limit (L-1, L, L+1, 1, random), each a
/// body free of `\r`/`\n` plus `sep`, sent in tiny random chunks; ends
/// with an unterminated tail. A record of at most L bytes (separator
/// included) reads whole; a longer one is `LimitOverrun` with
/// L < consumed <= its length and the data left buffered, so raising the
/// limit then reads the rest: no byte lost or repeated.
fn separator_reads_at_the_limit(sep: &'static [u8], seed: u64) {
    guarded(60, move || {
        common::run(async move {
            const L: usize = 64;
            let mut rng = Rng::new(seed);
            let mut records: Vec<Vec<u8>> = Vec::new();
            for i in 0..400 {
                // Records whose data (what the limit counts) is just
                // under, at and just over the limit, the separator alone,
                // and random sizes.
                let len = match i % 5 {
                    0 => L - 1 + sep.len(),
                    1 => L + sep.len(),
                    2 => L + 1 + sep.len(),
                    3 => sep.len(),
                    _ => sep.len() + rng.below(3 * L as u64) as usize,
                }
                .max(sep.len());
                let mut r: Vec<u8> = (0..len - sep.len())
                    .map(|_| b"abcxyz0129 "[rng.below(11) as usize])
                    .collect();
                r.extend_from_slice(sep);
                records.push(r);
            }
            let tail = b"tail-without-separator".to_vec();
            let mut all: Vec<u8> = records.concat();
            all.extend_from_slice(&tail);
            let (a, b) = UnixStream::pair().unwrap();
            let writer = eddy_core::spawn(dribble(a, all.clone(), seed ^ 1));
            let mut reader = StreamReader::with_limit(b, L);
            let (mut whole, mut overruns) = (0, 0);
            for (i, rec) in records.iter().enumerate() {
                let got = if sep == b"\n" {
                    reader.read_line().await
                } else {
                    reader.read_until(sep).await
                };
                match got {
                    Ok(line) => {
                        assert!(
                            rec.len() - sep.len() <= L,
                            "record {i} ({} bytes) read whole",
                            rec.len()
                        );
                        assert_eq!(&line, rec, "record {i}");
                        whole += 1;
                    }
                    Err(ReadError::LimitOverrun { consumed, limit }) => {
                        assert_eq!(limit, L);
                        assert!(
                            rec.len() - sep.len() > L,
                            "record {i} ({} bytes) overran",
                            rec.len()
                        );
                        assert!(
                            consumed > L && consumed <= rec.len(),
                            "record {i}: consumed {consumed} of {}",
                            rec.len()
                        );
                        assert!(reader.buffer().starts_with(&rec[..consumed]));
                        reader.set_limit(usize::MAX);
                        let rest = reader.read_until(sep).await.unwrap();
                        reader.set_limit(L);
                        assert_eq!(&rest, rec, "record {i} after raising the limit");
                        overruns += 1;
                    }
                    Err(e) => panic!("record {i}: {e:?}"),
                }
            }
            // The tail: end of file without a separator.
            if sep == b"\n" {
                assert_eq!(reader.read_line().await.unwrap(), tail);
                assert_eq!(reader.read_line().await.unwrap(), b"");
            } else {
                match reader.read_until(sep).await {
                    Err(ReadError::IncompleteRead { partial, expected }) => {
                        assert_eq!(partial, tail);
                        assert_eq!(expected, None);
                    }
                    other => panic!("tail: {other:?}"),
                }
            }
            assert!(reader.at_eof());
            writer.await.unwrap();
            assert!(
                whole > 100 && overruns > 50,
                "{whole} whole, {overruns} overruns"
            );
        })
    });
}

#[test]
fn read_line_at_the_limit_under_random_chunking() {
    separator_reads_at_the_limit(b"\n", 11);
}

#[test]
fn read_until_a_four_byte_separator_at_the_limit_under_random_chunking() {
    separator_reads_at_the_limit(b"\r\n\r\n", 12);
}

/// 200 request/response exchanges where the client sends a request of
/// random size (up to 256 KiB), then `write_eof`, and reads the reply to
/// end of file; the server reads the request to end of file first. Every
/// byte of both directions is checked.
#[test]
fn write_eof_then_read_the_reply_200_times() {
    guarded(60, || {
        common::run(async {
            let server = start_server(
                "127.0.0.1:0",
                |mut r: StreamReader, mut w: StreamWriter| async move {
                    let req = r.read_to_end().await.unwrap();
                    // Reply: the request's length, then the request reversed.
                    w.write(&(req.len() as u64).to_le_bytes()).unwrap();
                    let mut rev = req;
                    rev.reverse();
                    w.write(&rev).unwrap();
                    w.drain().await.unwrap();
                    w.close();
                    w.wait_closed().await;
                },
            )
            .await
            .unwrap();
            let addr = server.local_addr().unwrap().to_string();
            let mut rng = Rng::new(3);
            let mut total = 0usize;
            for i in 0..200u64 {
                let len = match i % 4 {
                    0 => 0,
                    1 => 1,
                    _ => rng.below(256 * 1024) as usize,
                };
                let req = payload(i, len);
                let (mut r, mut w) = open_connection(&addr).await.unwrap();
                w.write(&req).unwrap();
                w.write_eof();
                assert!(
                    w.write(b"late").is_err(),
                    "a write after write_eof was taken"
                );
                let reply = r.read_to_end().await.unwrap();
                assert_eq!(reply.len(), 8 + len, "exchange {i}");
                assert_eq!(
                    u64::from_le_bytes(reply[..8].try_into().unwrap()),
                    len as u64
                );
                let mut rev = reply[8..].to_vec();
                rev.reverse();
                assert!(rev == req, "exchange {i}: reply differs");
                w.close();
                w.wait_closed().await;
                total += len;
            }
            assert!(total > 1024 * 1024);
            server.close();
            server.wait_closed().await;
            assert_eq!(server.connection_count(), 0);
        })
    });
}

/// The peer reads a little and then resets (SO_LINGER 0) while the writer
/// has 32 MiB queued and waits in `drain`: `drain` returns an error,
/// later writes fail, and `wait_closed` returns; nothing hangs.
#[test]
fn drain_surfaces_a_reset_during_the_wait() {
    guarded(60, || {
        common::run(async {
            for round in 0..5u64 {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let peer = eddy_core::spawn(async move {
                    let (mut s, _) = listener.accept().await.unwrap();
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut got = 0;
                    while got < (round as usize + 1) * 100_000 {
                        got += s.read(&mut buf).await.unwrap();
                    }
                    set_linger_zero(&s);
                    drop(s); // RST
                });
                let (_r, mut w) = open_connection(&addr.to_string()).await.unwrap();
                w.write(&payload(round, 32 * 1024 * 1024)).unwrap();
                let res = w.drain().await;
                peer.await.unwrap();
                assert!(
                    res.is_err(),
                    "round {round}: drain returned Ok after a reset"
                );
                assert!(w.write(b"more").is_err());
                w.wait_closed().await;
                assert!(w.is_closing());
            }
        })
    });
}

fn set_linger_zero(s: &TcpStream) {
    use std::os::fd::AsRawFd;
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a correctly sized linger struct.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &l as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
}

/// `close_clients` cancels the handlers but each writer still sends what
/// it had buffered (8 MiB that the client had not started reading) and
/// then shuts down: every client reads exactly its payload, then EOF.
/// 4 clients, 32 MiB in all.
#[test]
fn close_clients_still_delivers_every_buffered_byte() {
    guarded(60, || {
        common::run(async {
            const CLIENTS: u64 = 4;
            const LEN: usize = 8 * 1024 * 1024;
            let written = Rc::new(Cell::new(0u64));
            let w2 = written.clone();
            let server = start_server(
                "127.0.0.1:0",
                move |mut r: StreamReader, mut w: StreamWriter| {
                    let written = w2.clone();
                    async move {
                        let id = r.read_exactly(8).await.unwrap();
                        let id = u64::from_le_bytes(id.try_into().unwrap());
                        w.write(&payload(id, LEN)).unwrap();
                        written.set(written.get() + 1);
                        // Wait for a request that never comes, until cancelled.
                        let _ = r.read_line().await;
                    }
                },
            )
            .await
            .unwrap();
            let addr = server.local_addr().unwrap();
            let mut clients = Vec::new();
            for id in 0..CLIENTS {
                let mut c = TcpStream::connect(addr).await.unwrap();
                c.write_all(&id.to_le_bytes()).await.unwrap();
                clients.push(c);
            }
            until("every handler wrote", || written.get() == CLIENTS).await;
            server.close();
            server.close_clients();
            let readers: Vec<_> = clients
                .into_iter()
                .enumerate()
                .map(|(id, mut c)| {
                    eddy_core::spawn(async move {
                        let mut got = Vec::new();
                        c.read_to_end(&mut got).await.unwrap();
                        assert_eq!(got.len(), LEN, "client {id}");
                        assert!(got == payload(id as u64, LEN), "client {id}: bytes differ");
                    })
                })
                .collect();
            server.wait_closed().await;
            for r in readers {
                r.await.unwrap();
            }
            assert_eq!(server.connection_count(), 0);
        })
    });
}

/// `abort_clients` while every handler waits in `drain` on a client that
/// does not read: the handlers end, `wait_closed` returns, and each client
/// then reads part of its 64 MiB (never all: that cannot fit in the socket
/// buffers) followed by end of file or a reset, never a hang.
#[test]
fn abort_clients_during_drain_ends_everything() {
    guarded(60, || {
        common::run(async {
            const CLIENTS: u64 = 3;
            const LEN: usize = 64 * 1024 * 1024;
            let draining = Rc::new(Cell::new(0u64));
            let d2 = draining.clone();
            let server = start_server(
                "127.0.0.1:0",
                move |mut r: StreamReader, mut w: StreamWriter| {
                    let draining = d2.clone();
                    async move {
                        let _ = r.read_exactly(1).await.unwrap();
                        w.write(&vec![7u8; LEN]).unwrap();
                        draining.set(draining.get() + 1);
                        let _ = w.drain().await;
                        // Aborted: the handler is cancelled, or drain ended.
                    }
                },
            )
            .await
            .unwrap();
            let addr = server.local_addr().unwrap();
            let mut clients = Vec::new();
            for _ in 0..CLIENTS {
                let mut c = TcpStream::connect(addr).await.unwrap();
                c.write_all(b"!").await.unwrap();
                clients.push(c);
            }
            until("every handler drains", || draining.get() == CLIENTS).await;
            server.close();
            server.abort_clients();
            server.wait_closed().await;
            assert_eq!(server.connection_count(), 0);
            for (i, mut c) in clients.into_iter().enumerate() {
                let mut buf = vec![0u8; 1 << 20];
                let mut total = 0usize;
                loop {
                    match c.read(&mut buf).await {
                        Ok(0) => break,
                        Ok(n) => {
                            assert!(buf[..n].iter().all(|&b| b == 7));
                            total += n;
                        }
                        Err(e) => {
                            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
                            break;
                        }
                    }
                }
                assert!(
                    total < LEN,
                    "client {i} got all {total} bytes despite the abort"
                );
            }
        })
    });
}

/// Four client tasks keep connecting and doing an echo exchange while the
/// server is closed under them. Every attempt ends in one of: a full
/// echo, end of file or reset (connected to a listener that then closed;
/// the reset may even fail the connect), or a refused connect (after it
/// closed); never a hang or a wrong reply. `wait_closed` then returns with no connection left.
#[test]
fn close_races_new_connections() {
    guarded(60, || {
        common::run(async {
            let server = Rc::new(
                start_server(
                    "127.0.0.1:0",
                    |mut r: StreamReader, mut w: StreamWriter| async move {
                        while let Ok(line) = r.read_line().await {
                            if line.is_empty() {
                                break;
                            }
                            w.write(&line).unwrap();
                            w.drain().await.unwrap();
                        }
                    },
                )
                .await
                .unwrap(),
            );
            let addr = server.local_addr().unwrap().to_string();
            let echoed = Rc::new(Cell::new(0u32));
            let cut = Rc::new(Cell::new(0u32));
            let refused = Rc::new(Cell::new(0u32));
            let clients: Vec<_> = (0..4u64)
                .map(|t| {
                    let (addr, echoed, cut, refused) =
                        (addr.clone(), echoed.clone(), cut.clone(), refused.clone());
                    eddy_core::spawn(async move {
                        let mut rng = Rng::new(t + 40);
                        loop {
                            let (mut r, mut w) = match open_connection(&addr).await {
                                Ok(rw) => rw,
                                // Queued by the kernel, then the listener
                                // closed before the connect was seen done.
                                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                                    cut.set(cut.get() + 1);
                                    continue;
                                }
                                Err(e) => {
                                    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
                                    refused.set(refused.get() + 1);
                                    return;
                                }
                            };
                            let msg = format!("{t}-{}\n", rng.next()).into_bytes();
                            let _ = w.write(&msg);
                            match r.read_line().await {
                                Ok(line) if line == msg => echoed.set(echoed.get() + 1),
                                Ok(line) if line.is_empty() => cut.set(cut.get() + 1),
                                Ok(line) => panic!("wrong reply {line:?} to {msg:?}"),
                                Err(ReadError::Io(e))
                                    if e.kind() == std::io::ErrorKind::ConnectionReset =>
                                {
                                    cut.set(cut.get() + 1)
                                }
                                Err(e) => panic!("unexpected {e:?}"),
                            }
                            w.close();
                            w.wait_closed().await;
                        }
                    })
                })
                .collect();
            until("200 echoes", || echoed.get() >= 200).await;
            server.close();
            for c in clients {
                c.await.unwrap();
            }
            server.wait_closed().await;
            assert_eq!(server.connection_count(), 0);
            assert_eq!(refused.get(), 4);
            assert!(echoed.get() >= 200);
        })
    });
}

/// The handler factory (the closure given to `start_server`, called for
/// each connection before its future runs) may use the server itself,
/// e.g. to read `connection_count` or to `close` it after N connections;
/// and if it panics, that connection is dropped and the server goes on.
#[test]
fn the_handler_factory_may_use_the_server_or_panic() {
    guarded(30, || {
        common::run(async {
            let slot: Rc<std::cell::RefCell<Option<Rc<eddy_io::io::Server>>>> = Rc::default();
            let counts = Rc::new(std::cell::RefCell::new(Vec::new()));
            let (s2, c2) = (slot.clone(), counts.clone());
            let calls = Rc::new(Cell::new(0u32));
            let server = Rc::new(
                start_server(
                    "127.0.0.1:0",
                    move |mut r: StreamReader, mut w: StreamWriter| {
                        calls.set(calls.get() + 1);
                        if calls.get() == 2 {
                            panic!("the factory fails for the second connection");
                        }
                        let server = s2.borrow().clone().expect("set after start");
                        c2.borrow_mut().push(server.connection_count());
                        if calls.get() == 4 {
                            server.close(); // the last one we take
                        }
                        async move {
                            let line = r.read_line().await.unwrap();
                            w.write(&line).unwrap();
                            w.close();
                            w.wait_closed().await;
                        }
                    },
                )
                .await
                .unwrap(),
            );
            *slot.borrow_mut() = Some(server.clone());
            let addr = server.local_addr().unwrap().to_string();
            for i in 0..4 {
                let (mut r, mut w) = open_connection(&addr).await.unwrap();
                w.write(format!("hello {i}\n").as_bytes()).unwrap();
                let reply = r.read_line().await;
                if i == 1 {
                    // Its factory panicked: the connection was closed
                    // (EOF, or a reset as the request went unread).
                    assert!(matches!(&reply, Ok(l) if l.is_empty()) || reply.is_err());
                } else {
                    assert_eq!(reply.unwrap(), format!("hello {i}\n").into_bytes());
                }
                until("the connection is gone", || server.connection_count() == 0).await;
            }
            // Each count includes the connection being set up.
            assert_eq!(*counts.borrow(), vec![1, 1, 1]);
            server.wait_closed().await;
            assert!(!server.is_serving());
            slot.borrow_mut().take(); // break the Rc cycle
        })
    });
}
