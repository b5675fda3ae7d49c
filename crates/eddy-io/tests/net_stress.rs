//! Adversarial tests of the reactor and sockets: registrations dropped
//! while events are in flight, fd reuse, registration churn, cross-thread
//! wakes, error readiness, full Unix backlogs and queues. Every test runs
//! under a hang guard. (Several waiters on one socket: net_waiters.rs.)

mod common;

use common::stress::{guarded, race_yields, tcp_pair, yields, Rng};

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Poll, Waker};
use std::time::Duration;

use eddy_io::driver::Handle;
use eddy_io::net::{TcpListener, TcpStream, UdpSocket, UnixStream};
use futures::io::{AsyncReadExt, AsyncWriteExt};

/// Full-duplex through owned halves in separate tasks, 16 connections at
/// once, random chunk sizes: each reader and writer of one socket waits
/// on its own direction, and both are always woken. 512 KiB each way per
/// connection (16 MiB in all), compared byte for byte.
#[test]
fn split_halves_in_separate_tasks_full_duplex_on_many_sockets() {
    guarded(60, || {
        common::run(async {
            const CONNS: u64 = 16;
            const BYTES: usize = 512 * 1024;
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            fn data(seed: u64) -> Vec<u8> {
                let mut rng = Rng::new(seed);
                (0..BYTES).map(|_| rng.next() as u8).collect()
            }
            /// Sends `data(seed)` and receives `data(expect)` on `s`.
            fn duplex(s: TcpStream, seed: u64, expect: u64) -> eddy_core::JoinHandle<()> {
                let (mut r, mut w) = s.into_split();
                let writer = eddy_core::spawn(async move {
                    let d = data(seed);
                    let mut rng = Rng::new(seed ^ 0xabc);
                    let mut at = 0;
                    while at < d.len() {
                        let n = (1 + rng.below(70_000) as usize).min(d.len() - at);
                        w.write_all(&d[at..at + n]).await.unwrap();
                        at += n;
                    }
                    w.close().await.unwrap();
                });
                eddy_core::spawn(async move {
                    let mut got = Vec::with_capacity(BYTES);
                    let mut rng = Rng::new(seed ^ 0xdef);
                    let mut buf = vec![0u8; 80_000];
                    loop {
                        let want = 1 + rng.below(buf.len() as u64) as usize;
                        let n = r.read(&mut buf[..want]).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        got.extend_from_slice(&buf[..n]);
                    }
                    writer.await.unwrap();
                    assert_eq!(got.len(), BYTES);
                    assert!(got == data(expect), "bytes differ");
                })
            }
            let server = eddy_core::spawn(async move {
                let mut tasks = Vec::new();
                for _ in 0..CONNS {
                    let (mut s, _) = listener.accept().await.unwrap();
                    let mut id = [0u8; 8];
                    s.read_exact(&mut id).await.unwrap();
                    let id = u64::from_le_bytes(id);
                    tasks.push(duplex(s, 1000 + id, id));
                }
                for t in tasks {
                    t.await.unwrap();
                }
            });
            let mut tasks = Vec::new();
            for id in 0..CONNS {
                let mut c = TcpStream::connect(addr).await.unwrap();
                c.write_all(&id.to_le_bytes()).await.unwrap();
                tasks.push(duplex(c, id, 1000 + id));
            }
            for t in tasks {
                t.await.unwrap();
            }
            server.await.unwrap();
        })
    });
}

/// A socket that reuses a just-closed socket's descriptor number starts
/// with no readiness and no wakers of the old one, even when the old one
/// had readiness pending, and still gets its own events. 2,000 rounds.
#[test]
fn a_reused_descriptor_number_inherits_nothing() {
    guarded(60, || {
        common::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let handle = Handle::current();
            let base = handle.registration_count();
            let mut reused = 0;
            for round in 0..2000u32 {
                let (a1, mut a2) = tcp_pair(&listener).await;
                let old_fd = std::os::fd::AsRawFd::as_raw_fd(&a1);
                a2.write_all(b"old").await.unwrap();
                if round % 2 == 0 {
                    // Let the reactor publish a1's readiness first.
                    a1.readable().await.unwrap();
                }
                drop(a1);
                drop(a2);
                let (b1, mut b2) = tcp_pair(&listener).await;
                if std::os::fd::AsRawFd::as_raw_fd(&b1) == old_fd {
                    reused += 1;
                }
                let mut buf = [0u8; 8];
                let e = b1.try_read(&mut buf).unwrap_err();
                assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
                // Not readable until b2 writes: a read stays pending.
                let mut r = &b1;
                assert!(
                    race_yields(r.read(&mut buf), 3).await.is_none(),
                    "round {round}: a read completed with nothing sent"
                );
                b2.write_all(b"new").await.unwrap();
                let n = r.read(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], b"new");
            }
            assert!(reused > 0, "no descriptor number was ever reused");
            assert_eq!(handle.registration_count(), base);
        })
    });
}

/// 20,000 register/deregister cycles (slab slot reuse, generations
/// moving on) while one long-lived socket keeps exchanging data: its
/// registration is never confused with the churn, and the table ends as
/// it began.
#[test]
fn registration_churn_leaves_a_long_lived_socket_working() {
    guarded(60, || {
        common::run(async {
            let handle = Handle::current();
            let base = handle.registration_count();
            let (mut x, mut y) = UnixStream::pair().unwrap();
            let echo = eddy_core::spawn(async move {
                let mut buf = [0u8; 4];
                let mut n = 0u32;
                while y.read_exact(&mut buf).await.is_ok() {
                    y.write_all(&buf).await.unwrap();
                    n += 1;
                }
                n
            });
            let mut rng = Rng::new(7);
            let mut pool: Vec<UdpSocket> = Vec::new();
            for i in 0..20_000u32 {
                if pool.len() < 64 && rng.below(2) == 0 {
                    pool.push(UdpSocket::bind("127.0.0.1:0").await.unwrap());
                } else if !pool.is_empty() {
                    let k = rng.below(pool.len() as u64) as usize;
                    pool.swap_remove(k);
                }
                if i % 100 == 0 {
                    x.write_all(&i.to_le_bytes()).await.unwrap();
                    let mut back = [0u8; 4];
                    x.read_exact(&mut back).await.unwrap();
                    assert_eq!(u32::from_le_bytes(back), i);
                }
            }
            drop(pool);
            drop(x);
            assert_eq!(echo.await.unwrap(), 200);
            assert_eq!(handle.registration_count(), base);
        })
    });
}

/// Wakes from another thread while the loop is parked in epoll: 20,000
/// round trips where the only thing that can wake the loop is the other
/// thread (no socket, no timer). A lost unpark would hang.
#[test]
fn cross_thread_wakes_reach_a_loop_parked_in_epoll() {
    guarded(60, || {
        const ROUNDS: usize = 20_000;
        struct Slot {
            done: AtomicBool,
            waker: std::sync::Mutex<Option<Waker>>,
        }
        let slot = Arc::new(Slot {
            done: AtomicBool::new(false),
            waker: std::sync::Mutex::new(None),
        });
        let (tx, rx) = mpsc::channel::<()>();
        let woken = Arc::new(AtomicUsize::new(0));
        let other = {
            let (slot, woken) = (slot.clone(), woken.clone());
            std::thread::spawn(move || {
                let mut rng = Rng::new(5);
                while rx.recv().is_ok() {
                    // Sometimes wake at once, sometimes after the loop
                    // has surely gone to sleep in epoll_wait.
                    if rng.below(4) == 0 {
                        std::thread::sleep(Duration::from_micros(rng.below(200)));
                    }
                    slot.done.store(true, Ordering::SeqCst);
                    let w = slot.waker.lock().unwrap().take();
                    if let Some(w) = w {
                        w.wake();
                        woken.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        };
        common::run(async {
            for _ in 0..ROUNDS {
                slot.done.store(false, Ordering::SeqCst);
                tx.send(()).unwrap();
                std::future::poll_fn(|cx| {
                    *slot.waker.lock().unwrap() = Some(cx.waker().clone());
                    if slot.done.load(Ordering::SeqCst) {
                        Poll::Ready(())
                    } else {
                        Poll::Pending
                    }
                })
                .await;
            }
        });
        drop(tx);
        other.join().unwrap();
        assert!(
            woken.load(Ordering::SeqCst) > 0,
            "no cross-thread wake happened"
        );
    });
}

/// An error reported by epoll (here ICMP "port unreachable" on a
/// connected UDP socket, which sets `SO_ERROR` and `EPOLLERR`) is
/// consumed by the next operation, which returns it; after that the
/// socket must wait again like any other, not spin: the next `recv` stays
/// pending until a datagram really arrives, then returns it.
#[test]
fn an_error_once_reported_does_not_make_the_socket_spin() {
    guarded(30, || {
        common::run(async {
            for round in 0..20u8 {
                let gone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let port_addr = gone.local_addr().unwrap();
                drop(gone);
                let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                a.connect(port_addr).await.unwrap();
                a.send(b"anyone?").await.unwrap();
                let mut buf = [0u8; 16];
                let e = a.recv(&mut buf).await.unwrap_err();
                assert_eq!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionRefused,
                    "round {round}"
                );
                // Nothing is pending now: a recv must wait, not spin.
                assert!(
                    race_yields(a.recv(&mut buf), 5).await.is_none(),
                    "round {round}: recv completed with nothing sent"
                );
                // The port comes back and talks to `a`: it is received.
                let Ok(back) = UdpSocket::bind(port_addr).await else {
                    continue; // the port was taken meanwhile; try again
                };
                back.send_to(&[round], a.local_addr().unwrap())
                    .await
                    .unwrap();
                let n = a.recv(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], &[round]);
            }
        })
    });
}

/// Sockets with readiness events in flight are dropped on another thread
/// while the loop waits in epoll for other sockets: the reactor neither
/// delivers their stale events to the sockets that reuse their slots and
/// descriptors nor keeps their registrations. 50 rounds of 20 sockets.
#[test]
fn sockets_dropped_on_another_thread_while_their_events_are_in_flight() {
    guarded(60, || {
        common::run(async {
            let handle = Handle::current();
            let base = handle.registration_count();
            let target = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            for round in 0..50u32 {
                let mut batch = Vec::new();
                for _ in 0..20 {
                    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                    // Make each readable: an event is on its way.
                    target.send_to(b"x", s.local_addr().unwrap()).await.unwrap();
                    batch.push(s);
                }
                let (tx, rx) = mpsc::channel::<()>();
                let dropper = std::thread::spawn(move || {
                    rx.recv().unwrap();
                    drop(batch);
                });
                // Fresh sockets will take the freed slots and fds; the loop
                // waits for `fresh` while the other thread drops the batch.
                let fresh = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let fresh_addr = fresh.local_addr().unwrap();
                tx.send(()).unwrap();
                let sender = std::thread::spawn(move || {
                    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                    s.send_to(&round.to_le_bytes(), fresh_addr).unwrap();
                });
                let mut buf = [0u8; 8];
                let (n, _) = fresh.recv_from(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], &round.to_le_bytes());
                dropper.join().unwrap();
                sender.join().unwrap();
                // Sockets reusing the batch's slots see no stale readiness.
                let mut reused = Vec::new();
                for _ in 0..20 {
                    reused.push(UdpSocket::bind("127.0.0.1:0").await.unwrap());
                }
                for s in &reused {
                    let mut b = [0u8; 4];
                    assert!(
                        race_yields(s.recv_from(&mut b), 2).await.is_none(),
                        "round {round}: a fresh socket received something"
                    );
                }
                drop(reused);
                drop(fresh);
            }
            drop(target);
            assert_eq!(handle.registration_count(), base);
        })
    });
}

/// A Unix-socket connect to a listener whose backlog is full waits for
/// room, as a blocking connect does, instead of failing with
/// `WouldBlock` (what Linux returns for a non-blocking one): ten clients
/// connect to a listener with a backlog of 1 that starts accepting only
/// after all of them have tried. All ten connect and are served.
#[test]
fn unix_connect_to_a_full_backlog_waits_for_room() {
    guarded(60, || {
        common::run(async {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("backlog1.sock");
            let sock =
                socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
            sock.bind(&socket2::SockAddr::unix(&path).unwrap()).unwrap();
            sock.listen(1).unwrap();
            let std_listener =
                std::os::unix::net::UnixListener::from(std::os::fd::OwnedFd::from(sock));
            std_listener.set_nonblocking(true).unwrap();
            let listener = eddy_io::net::UnixListener::from_std(std_listener).unwrap();
            let clients: Vec<_> = (0..10u8)
                .map(|id| {
                    let path = path.clone();
                    eddy_core::spawn(async move {
                        let mut s = UnixStream::connect(&path).await.unwrap();
                        s.write_all(&[id]).await.unwrap();
                        let mut back = [0u8; 1];
                        s.read_exact(&mut back).await.unwrap();
                        assert_eq!(back[0], id);
                    })
                })
                .collect();
            yields(20).await; // every client has tried; most found no room
            let mut seen = Vec::new();
            for _ in 0..10 {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut id = [0u8; 1];
                s.read_exact(&mut id).await.unwrap();
                s.write_all(&id).await.unwrap();
                seen.push(id[0]);
            }
            for c in clients {
                c.await.unwrap();
            }
            seen.sort();
            assert_eq!(seen, (0..10).collect::<Vec<u8>>());
        })
    });
}

/// Datagram back-pressure on Unix sockets: a sender that fills its peer's
/// receive queue waits (Linux wakes it through the peer when the queue
/// drains) and is woken each time the slow receiver makes room. 5,000
/// numbered datagrams arrive in order, none lost.
#[test]
fn unix_datagram_sender_blocked_on_a_full_peer_is_woken() {
    guarded(60, || {
        common::run(async {
            const N: u32 = 5000;
            let (a, b) = eddy_io::net::UnixDatagram::pair().unwrap();
            let sender = eddy_core::spawn(async move {
                let mut blocked = 0u32;
                for i in 0..N {
                    let mut d = [0u8; 512];
                    d[..4].copy_from_slice(&i.to_le_bytes());
                    let mut send = pin!(a.send(&d));
                    let first =
                        std::future::poll_fn(|cx| Poll::Ready(send.as_mut().poll(cx))).await;
                    let sent = match first {
                        Poll::Ready(res) => res,
                        Poll::Pending => {
                            blocked += 1;
                            send.await
                        }
                    };
                    assert_eq!(sent.unwrap(), 512);
                }
                blocked
            });
            let mut rng = Rng::new(8);
            let mut buf = [0u8; 1024];
            for i in 0..N {
                if rng.below(50) == 0 {
                    yields(1 + rng.below(20)).await; // let the queue fill up
                }
                let n = b.recv(&mut buf).await.unwrap();
                assert_eq!(n, 512);
                assert_eq!(u32::from_le_bytes(buf[..4].try_into().unwrap()), i);
            }
            let blocked = sender.await.unwrap();
            assert!(blocked > 0, "the sender never had to wait");
        })
    });
}
