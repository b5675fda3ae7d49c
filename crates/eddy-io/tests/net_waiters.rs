//! Several tasks waiting on one socket at once (accept, recv, readable),
//! waits cancelled at random, and a non-blocking attempt that must not
//! evict a parked task. Every test runs under a hang guard.

mod common;

use common::stress::{guarded, race_yields, tcp_pair, yields, Rng};

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io::Write;
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;

use eddy_io::net::{TcpListener, TcpStream, UdpSocket};
use futures::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn two_tasks_accepting_on_one_listener_both_get_a_connection() {
    guarded(30, || {
        common::run(async {
            let listener = Rc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            let accepters: Vec<_> = (0..2)
                .map(|_| {
                    let l = listener.clone();
                    eddy_core::spawn(async move {
                        let (mut s, _) = l.accept().await.unwrap();
                        let mut b = [0u8; 1];
                        s.read_exact(&mut b).await.unwrap();
                        b[0]
                    })
                })
                .collect();
            // Let both accepters park on the listener.
            for _ in 0..4 {
                eddy_core::yield_now().await;
            }
            let mut clients = Vec::new();
            for i in 0..2u8 {
                let mut c = TcpStream::connect(addr).await.unwrap();
                c.write_all(&[i]).await.unwrap();
                clients.push(c);
            }
            let mut got = Vec::new();
            for a in accepters {
                got.push(a.await.unwrap());
            }
            got.sort();
            assert_eq!(got, vec![0, 1]);
        })
    });
}

#[test]
fn two_tasks_receiving_on_one_udp_socket_both_get_a_datagram() {
    guarded(30, || {
        common::run(async {
            let sock = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let addr = sock.local_addr().unwrap();
            let receivers: Vec<_> = (0..2)
                .map(|_| {
                    let s = sock.clone();
                    eddy_core::spawn(async move {
                        let mut b = [0u8; 8];
                        let n = s.recv(&mut b).await.unwrap();
                        b[..n].to_vec()
                    })
                })
                .collect();
            for _ in 0..4 {
                eddy_core::yield_now().await;
            }
            let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            tx.send_to(b"a", addr).await.unwrap();
            // One reactor turn between the two datagrams, so each arrives
            // as its own edge.
            for _ in 0..4 {
                eddy_core::yield_now().await;
            }
            tx.send_to(b"b", addr).await.unwrap();
            let mut got = Vec::new();
            for r in receivers {
                got.push(r.await.unwrap());
            }
            got.sort();
            assert_eq!(got, vec![b"a".to_vec(), b"b".to_vec()]);
        })
    });
}

/// Eight tasks accept in loops on one listener while being cancelled at
/// random points (their `accept` futures dropped mid-wait); 400 clients
/// each send their id. Every connection is accepted exactly once: none is
/// lost to a cancelled accept and no accepter is left asleep.
#[test]
fn accepts_cancelled_at_random_lose_no_connection() {
    guarded(60, || {
        common::run(async {
            const CLIENTS: u32 = 400;
            const ACCEPTERS: u64 = 8;
            let listener = Rc::new(
                TcpListener::builder("127.0.0.1:0".parse().unwrap())
                    .backlog(CLIENTS)
                    .bind()
                    .unwrap(),
            );
            let addr = listener.local_addr().unwrap();
            let seen = Rc::new(RefCell::new(vec![0u32; CLIENTS as usize]));
            let accepted = Rc::new(Cell::new(0u32));
            let cancelled = Rc::new(Cell::new(0u32));
            let mut accepters = Vec::new();
            for t in 0..ACCEPTERS {
                let (l, seen, accepted, cancelled) = (
                    listener.clone(),
                    seen.clone(),
                    accepted.clone(),
                    cancelled.clone(),
                );
                accepters.push(eddy_core::spawn(async move {
                    let mut rng = Rng::new(t + 1);
                    let mut readers = Vec::new();
                    while accepted.get() < CLIENTS {
                        match race_yields(l.accept(), rng.below(6)).await {
                            None => cancelled.set(cancelled.get() + 1),
                            Some(res) => {
                                let (mut s, _) = res.unwrap();
                                accepted.set(accepted.get() + 1);
                                let seen = seen.clone();
                                readers.push(eddy_core::spawn(async move {
                                    let mut id = [0u8; 4];
                                    s.read_exact(&mut id).await.unwrap();
                                    seen.borrow_mut()[u32::from_le_bytes(id) as usize] += 1;
                                }));
                            }
                        }
                    }
                    for r in readers {
                        r.await.unwrap();
                    }
                }));
            }
            let mut rng = Rng::new(99);
            let mut clients = Vec::new();
            for id in 0..CLIENTS {
                let mut c = TcpStream::connect(addr).await.unwrap();
                c.write_all(&id.to_le_bytes()).await.unwrap();
                clients.push(c);
                yields(rng.below(3)).await;
            }
            // The last accepter to see the count reach CLIENTS ends; the
            // others are still in accept: wake them with extra clients.
            let mut extra = Vec::new();
            for _ in 0..ACCEPTERS {
                extra.push(TcpStream::connect(addr).await.unwrap());
            }
            for a in accepters {
                a.await.unwrap();
            }
            let seen = seen.borrow();
            assert!(
                seen.iter().all(|&n| n == 1),
                "ids not seen exactly once: {:?}",
                seen.iter()
                    .enumerate()
                    .filter(|(_, &n)| n != 1)
                    .collect::<Vec<_>>()
            );
            assert!(cancelled.get() > 0, "no accept was ever cancelled");
        })
    });
}

/// An accept that was woken for a pending connection and then dropped
/// before it ran leaves the connection for the next accept.
#[test]
fn an_accept_dropped_after_its_wake_leaves_the_connection_queued() {
    guarded(30, || {
        common::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            for round in 0..50u8 {
                // Park an accept on the listener, then let a client in and
                // give the reactor time to wake it, then drop it unpolled.
                let got = race_yields(
                    async {
                        let client = std::net::TcpStream::connect(addr).unwrap();
                        (&client).write_all(&[round]).unwrap();
                        client
                    },
                    0,
                )
                .await;
                let client = got.expect("the connect runs in one poll");
                {
                    let mut accept = pin!(listener.accept());
                    // One poll: usually pending, as the reactor has not yet
                    // reported the connection.
                    let first = std::future::poll_fn(|cx| match accept.as_mut().poll(cx) {
                        Poll::Ready(r) => Poll::Ready(Some(r)),
                        Poll::Pending => Poll::Ready(None),
                    })
                    .await;
                    if let Some(r) = first {
                        // Accepted at the first poll: that is fine too,
                        // but then it must be this client.
                        let (mut s, _) = r.unwrap();
                        let mut b = [0u8; 1];
                        s.read_exact(&mut b).await.unwrap();
                        assert_eq!(b[0], round);
                        continue;
                    }
                    // The reactor turns and wakes it; it is dropped here
                    // without being polled again.
                    yields(3).await;
                }
                let (mut s, _) = listener.accept().await.unwrap();
                let mut b = [0u8; 1];
                s.read_exact(&mut b).await.unwrap();
                assert_eq!(b[0], round, "round {round} got another connection");
                drop(client);
            }
        })
    });
}

/// Many tasks wait on `readable()` of one socket; one byte arrives: all
/// are woken (none displaced by another's registration), and waits that
/// are cancelled leave no entry behind that would keep waking.
#[test]
fn every_task_waiting_on_readable_is_woken() {
    guarded(30, || {
        common::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let (a, mut b) = tcp_pair(&listener).await;
            let a = Rc::new(a);
            for round in 0..100u32 {
                let woke = Rc::new(Cell::new(0u32));
                let waiters: Vec<_> = (0..10)
                    .map(|_| {
                        let (a, woke) = (a.clone(), woke.clone());
                        eddy_core::spawn(async move {
                            a.readable().await.unwrap();
                            woke.set(woke.get() + 1);
                        })
                    })
                    .collect();
                // Some cancelled waits on the same socket, too.
                for k in 0..5 {
                    assert!(
                        race_yields(a.readable(), k).await.is_none(),
                        "round {round}: readable with nothing sent"
                    );
                }
                yields(2).await;
                assert_eq!(woke.get(), 0, "round {round}: woken with nothing sent");
                b.write_all(&[1]).await.unwrap();
                for w in waiters {
                    w.await.unwrap();
                }
                assert_eq!(woke.get(), 10);
                // Take the byte and read until WouldBlock, which clears
                // the readiness for the next round.
                let mut buf = [0u8; 8];
                assert_eq!(a.try_read(&mut buf).unwrap(), 1);
                let e = a.try_read(&mut buf).unwrap_err();
                assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
            }
        })
    });
}

/// `try_read`/`try_write` that find the socket not ready must not take
/// the place of a task parked in `AsyncRead`/`AsyncWrite` on it: here a
/// reader task and a writer task (blocked on a full buffer) wait on one
/// socket while another task keeps calling `try_read`/`try_write` and
/// getting `WouldBlock`. Both waiting tasks must still be woken.
#[test]
fn try_io_that_would_block_does_not_displace_a_parked_task() {
    guarded(30, || {
        common::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            for round in 0..20u8 {
                let (a, mut b) = tcp_pair(&listener).await;
                let a = Rc::new(a);
                // Fill a's send buffer so a writer will block.
                let chunk = vec![round; 64 * 1024];
                let mut queued = 0usize;
                while let Ok(n) = a.try_write(&chunk) {
                    queued += n;
                }
                let reader = {
                    let a = a.clone();
                    eddy_core::spawn(async move {
                        let mut buf = [0u8; 4];
                        (&*a).read_exact(&mut buf).await.unwrap();
                        buf
                    })
                };
                let writer = {
                    let a = a.clone();
                    eddy_core::spawn(async move {
                        (&*a).write_all(b"tail").await.unwrap();
                    })
                };
                yields(3).await; // both park on the socket
                let mut buf = [0u8; 4];
                for _ in 0..3 {
                    let e = a.try_read(&mut buf).unwrap_err();
                    assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
                    let e = a.try_write(b"x").unwrap_err();
                    assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
                    yields(1).await;
                }
                // Wake the reader with data, the writer by draining b.
                b.write_all(b"ping").await.unwrap();
                assert_eq!(&reader.await.unwrap(), b"ping", "round {round}");
                let mut drained = vec![0u8; queued + 4];
                b.read_exact(&mut drained).await.unwrap();
                assert!(drained[..queued].iter().all(|&x| x == round));
                assert_eq!(&drained[queued..], b"tail");
                writer.await.unwrap();
            }
        })
    });
}

/// The read half keeps waiting (and is woken) while another task drops
/// the write half, which sends EOF to the peer; the peer answers after
/// that EOF and closes. 200 rounds, every byte checked.
#[test]
fn the_read_half_waits_on_while_the_write_half_is_dropped() {
    guarded(30, || {
        common::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            for round in 0..200u32 {
                let (mine, mut peer) = tcp_pair(&listener).await;
                let (mut r, mut w) = mine.into_split();
                let reader = eddy_core::spawn(async move {
                    let mut got = Vec::new();
                    r.read_to_end(&mut got).await.unwrap();
                    got
                });
                yields(2).await; // the reader parks first
                let dropper = eddy_core::spawn(async move {
                    w.write_all(&round.to_le_bytes()).await.unwrap();
                    drop(w);
                });
                let mut req = Vec::new();
                peer.read_to_end(&mut req).await.unwrap(); // ends at the EOF
                assert_eq!(req, round.to_le_bytes());
                peer.write_all(b"reply after your EOF").await.unwrap();
                drop(peer);
                dropper.await.unwrap();
                assert_eq!(reader.await.unwrap(), b"reply after your EOF");
            }
        })
    });
}
