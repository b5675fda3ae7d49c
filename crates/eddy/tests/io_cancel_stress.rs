//! Socket operations abandoned by real timeouts (`eddy::time::timeout`
//! expiring at arbitrary points): several tasks accepting and receiving on
//! one socket, reads, `drain` and `connect` all cancelled over and over.
//! Nothing may be lost or leaked: every connection, datagram and byte is
//! counted end to end, and the reactor's registration table ends as it
//! began.

mod common;

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use eddy::io::open_connection;
use eddy::net::{TcpListener, TcpStream, UdpSocket};
use eddy::time::timeout;
use futures::io::AsyncReadExt;

use common::{guarded, Rng};

const CONNS: u32 = 300;
const BODY: usize = 1024;

/// Four tasks accept on one listener under timeouts of 0..500 µs, and each
/// connection is read under timeouts too, while a thread connects 300
/// times at random moments. Every connection is accepted once and every
/// byte arrives.
#[test]
fn accepts_and_reads_abandoned_by_timeouts_lose_nothing() {
    guarded(120, || {
        eddy::run(async {
            let listener = Rc::new(
                TcpListener::builder("127.0.0.1:0".parse().unwrap())
                    .backlog(CONNS)
                    .bind()
                    .unwrap(),
            );
            let addr = listener.local_addr().unwrap();
            let clients = thread::spawn(move || {
                let mut rng = Rng::new(1);
                let mut held = Vec::new();
                for id in 0..CONNS {
                    let mut s = std::net::TcpStream::connect(addr).unwrap();
                    let mut msg = id.to_le_bytes().to_vec();
                    msg.extend(std::iter::repeat_n(id as u8, BODY));
                    s.write_all(&msg).unwrap();
                    s.shutdown(std::net::Shutdown::Write).unwrap();
                    held.push(s);
                    if rng.below(4) == 0 {
                        thread::sleep(rng.micros(800));
                    }
                }
                held
            });
            let seen = Rc::new(RefCell::new(vec![0u32; CONNS as usize]));
            let accepted = Rc::new(Cell::new(0u32));
            let timeouts = Rc::new(Cell::new(0u32));
            let accepters: Vec<_> = (0..4u64)
                .map(|t| {
                    let (l, seen, accepted, timeouts) = (
                        listener.clone(),
                        seen.clone(),
                        accepted.clone(),
                        timeouts.clone(),
                    );
                    eddy::spawn(async move {
                        let mut rng = Rng::new(t + 10);
                        let mut readers = Vec::new();
                        while accepted.get() < CONNS {
                            let Ok(res) = timeout(rng.micros(500), l.accept()).await else {
                                timeouts.set(timeouts.get() + 1);
                                continue;
                            };
                            let (mut s, _) = res.unwrap();
                            accepted.set(accepted.get() + 1);
                            let seen = seen.clone();
                            let seed = rng.next();
                            readers.push(eddy::spawn(async move {
                                let mut rng = Rng::new(seed);
                                let mut got = Vec::new();
                                let mut buf = [0u8; 300];
                                loop {
                                    match timeout(rng.micros(200), s.read(&mut buf)).await {
                                        Err(_) => continue,
                                        Ok(Ok(0)) => break,
                                        Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
                                        Ok(Err(e)) => panic!("read: {e}"),
                                    }
                                }
                                assert_eq!(got.len(), 4 + BODY);
                                let id = u32::from_le_bytes(got[..4].try_into().unwrap());
                                assert!(got[4..].iter().all(|&b| b == id as u8));
                                seen.borrow_mut()[id as usize] += 1;
                            }));
                        }
                        for r in readers {
                            r.await.unwrap();
                        }
                    })
                })
                .collect();
            for a in accepters {
                a.await.unwrap();
            }
            drop(clients.join().unwrap());
            assert!(
                seen.borrow().iter().all(|&n| n == 1),
                "a connection was lost or doubled"
            );
            assert!(timeouts.get() > 0, "no accept was ever abandoned");
        })
    });
}

/// Three tasks receive on one UDP socket under timeouts of 0..300 µs; a
/// thread sends 3,000 numbered datagrams in bursts of 30 (waiting for each
/// burst to be counted, so the socket buffer never overflows). Each
/// arrives exactly once.
#[test]
fn udp_receivers_abandoned_by_timeouts_get_every_datagram() {
    const N: usize = 3000;
    const BURST: usize = 30;
    guarded(120, || {
        let counted = Arc::new(AtomicUsize::new(0));
        let (addr_tx, addr_rx) = mpsc::channel();
        let sender = {
            let counted = counted.clone();
            thread::spawn(move || {
                let to: std::net::SocketAddr = addr_rx.recv().unwrap();
                let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                for burst in 0..N / BURST {
                    for k in 0..BURST {
                        let seq = (burst * BURST + k) as u32;
                        s.send_to(&seq.to_le_bytes(), to).unwrap();
                    }
                    while counted.load(Ordering::SeqCst) < (burst + 1) * BURST {
                        thread::sleep(Duration::from_micros(50));
                    }
                }
            })
        };
        eddy::run(async move {
            let sock = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            addr_tx.send(sock.local_addr().unwrap()).unwrap();
            let seen = Rc::new(RefCell::new(vec![0u32; N]));
            let timeouts = Rc::new(Cell::new(0u32));
            let receivers: Vec<_> = (0..3u64)
                .map(|t| {
                    let (sock, seen, timeouts, counted) = (
                        sock.clone(),
                        seen.clone(),
                        timeouts.clone(),
                        counted.clone(),
                    );
                    eddy::spawn(async move {
                        let mut rng = Rng::new(t + 20);
                        let mut buf = [0u8; 16];
                        while counted.load(Ordering::SeqCst) < N {
                            match timeout(rng.micros(300), sock.recv_from(&mut buf)).await {
                                Err(_) => timeouts.set(timeouts.get() + 1),
                                Ok(res) => {
                                    let (n, _) = res.unwrap();
                                    assert_eq!(n, 4);
                                    let seq = u32::from_le_bytes(buf[..4].try_into().unwrap());
                                    seen.borrow_mut()[seq as usize] += 1;
                                    counted.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                        }
                    })
                })
                .collect();
            for r in receivers {
                r.await.unwrap();
            }
            assert!(
                seen.borrow().iter().all(|&n| n == 1),
                "a datagram was lost or doubled"
            );
            assert!(timeouts.get() > 0, "no receive was ever abandoned");
        });
        sender.join().unwrap();
    });
}

/// A writer queues 8 MiB in random chunks and calls `drain` under
/// timeouts of 0..2 ms after each (often abandoning it), to a peer that
/// reads slowly; then closes. The peer receives exactly the bytes written.
#[test]
fn drains_abandoned_by_timeouts_lose_no_byte() {
    const LEN: usize = 8 * 1024 * 1024;
    guarded(120, || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut rng = Rng::new(3);
            let mut got = Vec::with_capacity(LEN);
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break got;
                }
                got.extend_from_slice(&buf[..n]);
                // Slow enough that the socket buffers fill and drains wait.
                if rng.below(2) == 0 {
                    thread::sleep(rng.micros(1500));
                }
            }
        });
        let mut rng = Rng::new(4);
        let data: Vec<u8> = (0..LEN).map(|_| rng.next() as u8).collect();
        let sent = data.clone();
        let abandoned = eddy::run(async move {
            let (_r, mut w) = open_connection(&addr.to_string()).await.unwrap();
            let mut rng = Rng::new(5);
            let mut at = 0;
            let mut abandoned = 0u32;
            while at < sent.len() {
                let n = (1 + rng.below(200_000) as usize).min(sent.len() - at);
                w.write(&sent[at..at + n]).unwrap();
                at += n;
                match timeout(rng.micros(2000), w.drain()).await {
                    Err(_) => abandoned += 1,
                    Ok(res) => res.unwrap(),
                }
            }
            w.close();
            w.wait_closed().await;
            abandoned
        });
        let got = peer.join().unwrap();
        assert_eq!(got.len(), LEN);
        assert!(got == data, "the peer's bytes differ");
        assert!(abandoned > 0, "no drain was ever abandoned");
    });
}

/// 400 connects under timeouts of 0..2 ms, alternating between a
/// listener that accepts and one whose accept queue is full (the kernel
/// drops the SYN, so the connect is abandoned mid-way, registered and
/// waiting): each completes or is dropped, and none leaves a registration
/// behind in the reactor.
#[test]
fn connects_abandoned_by_timeouts_leave_no_registration() {
    guarded(120, || {
        eddy::run(async {
            let open = TcpListener::builder("127.0.0.1:0".parse().unwrap())
                .backlog(1024)
                .bind()
                .unwrap();
            let full = TcpListener::builder("127.0.0.1:0".parse().unwrap())
                .backlog(0)
                .bind()
                .unwrap();
            let (open_addr, full_addr) = (open.local_addr().unwrap(), full.local_addr().unwrap());
            // Fill `full`'s queue: connect until a connect stays pending.
            let mut queued = Vec::new();
            loop {
                match timeout(Duration::from_millis(200), TcpStream::connect(full_addr)).await {
                    Ok(res) => queued.push(res.unwrap()),
                    Err(_) => break,
                }
                assert!(queued.len() < 64, "the accept queue never filled");
            }
            let handle = eddy_io::driver::Handle::current();
            let base = handle.registration_count();
            let mut rng = Rng::new(6);
            let (mut done, mut abandoned) = (0, 0);
            for i in 0..400 {
                let addr = if i % 2 == 0 { open_addr } else { full_addr };
                match timeout(rng.micros(2000), TcpStream::connect(addr)).await {
                    Ok(res) => {
                        drop(res.unwrap());
                        done += 1;
                    }
                    Err(_) => abandoned += 1,
                }
                // Keep `open`'s queue from filling: take what has arrived.
                while let Ok(Ok((s, _))) = timeout(Duration::ZERO, open.accept()).await {
                    drop(s);
                }
            }
            assert_eq!(
                handle.registration_count(),
                base,
                "{done} done, {abandoned} abandoned"
            );
            assert!(
                done > 0 && abandoned > 0,
                "{done} done, {abandoned} abandoned"
            );
        })
    });
}
