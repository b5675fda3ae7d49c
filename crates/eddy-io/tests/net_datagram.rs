//! Readiness and non-blocking calls of the datagram sockets (`UdpSocket`
//! on 127.0.0.1, `UnixDatagram` in a temp dir): `readable`/`writable`,
//! `try_send`/`try_recv` and their `_to`/`_from` forms, UDP's peeks and
//! `from_std`. Every test runs under a hang guard; every wait has a
//! datagram (or room) on its way.

mod common;

use common::stress::{guarded, race_yields, yields};

use std::cell::Cell;
use std::io::{self, ErrorKind};
use std::rc::Rc;

use eddy_io::net::{UdpSocket, UnixDatagram};

/// What the generic tests need of a connected datagram socket.
trait Connected {
    async fn readable(&self) -> io::Result<()>;
    async fn writable(&self) -> io::Result<()>;
    fn try_send(&self, buf: &[u8]) -> io::Result<usize>;
    fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize>;
}

macro_rules! connected {
    ($($ty:ty),*) => {$(
        impl Connected for $ty {
            async fn readable(&self) -> io::Result<()> {
                <$ty>::readable(self).await
            }
            async fn writable(&self) -> io::Result<()> {
                <$ty>::writable(self).await
            }
            fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
                <$ty>::try_send(self, buf)
            }
            fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
                <$ty>::try_recv(self, buf)
            }
        }
    )*};
}

connected!(UdpSocket, UnixDatagram);

/// Two UDP sockets on loopback, each connected to the other.
async fn udp_pair() -> (UdpSocket, UdpSocket) {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    a.connect(b.local_addr().unwrap()).await.unwrap();
    b.connect(a.local_addr().unwrap()).await.unwrap();
    (a, b)
}

fn assert_would_block<T: std::fmt::Debug>(res: io::Result<T>, what: &str) {
    match res {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("{what}: expected WouldBlock, got {other:?}"),
    }
}

/// `try_recv` on an empty socket is `WouldBlock`; once a datagram is sent
/// and `readable()` returns, it takes the datagram; the next one is
/// `WouldBlock` again, and `readable()` then waits (no stale readiness).
async fn try_recv_waits_for_readable<S: Connected>(a: &S, b: &S) {
    let mut buf = [0u8; 16];
    assert_would_block(b.try_recv(&mut buf), "empty socket");
    a.writable().await.unwrap();
    assert_eq!(a.try_send(b"ping").unwrap(), 4);
    b.readable().await.unwrap();
    assert_eq!(b.try_recv(&mut buf).unwrap(), 4);
    assert_eq!(&buf[..4], b"ping");
    assert_would_block(b.try_recv(&mut buf), "drained socket");
    assert!(
        race_yields(b.readable(), 8).await.is_none(),
        "readable with nothing queued"
    );
    // And back the other way.
    b.writable().await.unwrap();
    assert_eq!(b.try_send(b"pong!").unwrap(), 5);
    a.readable().await.unwrap();
    assert_eq!(a.try_recv(&mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"pong!");
}

#[test]
fn udp_try_recv_is_would_block_until_readable() {
    guarded(30, || {
        common::run(async {
            let (a, b) = udp_pair().await;
            try_recv_waits_for_readable(&a, &b).await;
        })
    });
}

#[test]
fn unix_try_recv_is_would_block_until_readable() {
    guarded(30, || {
        common::run(async {
            let (a, b) = UnixDatagram::pair().unwrap();
            try_recv_waits_for_readable(&a, &b).await;
        })
    });
}

/// Ten tasks await `readable()` on one socket (plus some waits that are
/// dropped); one datagram wakes them all. Then one `try_recv` takes it.
async fn every_readable_waiter_is_woken<S: Connected + 'static>(a: S, b: S) {
    let b = Rc::new(b);
    for round in 0..20 {
        let woke = Rc::new(Cell::new(0u32));
        let waiters: Vec<_> = (0..10)
            .map(|_| {
                let (b, woke) = (b.clone(), woke.clone());
                eddy_core::spawn(async move {
                    b.readable().await.unwrap();
                    woke.set(woke.get() + 1);
                })
            })
            .collect();
        for k in 0..3 {
            assert!(race_yields(b.readable(), k).await.is_none());
        }
        yields(2).await;
        assert_eq!(woke.get(), 0, "round {round}: woken with nothing sent");
        a.writable().await.unwrap();
        a.try_send(&[round]).unwrap();
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(woke.get(), 10, "round {round}");
        let mut buf = [0u8; 4];
        assert_eq!(b.try_recv(&mut buf).unwrap(), 1);
        assert_eq!(buf[0], round);
        assert_would_block(b.try_recv(&mut buf), "after the only datagram");
    }
}

#[test]
fn udp_every_task_awaiting_readable_is_woken() {
    guarded(30, || {
        common::run(async {
            let (a, b) = udp_pair().await;
            every_readable_waiter_is_woken(a, b).await;
        })
    });
}

#[test]
fn unix_every_task_awaiting_readable_is_woken() {
    guarded(30, || {
        common::run(async {
            let (a, b) = UnixDatagram::pair().unwrap();
            every_readable_waiter_is_woken(a, b).await;
        })
    });
}

#[test]
fn udp_try_send_to_and_try_recv_from_carry_the_addresses() {
    guarded(30, || {
        common::run(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let mut buf = [0u8; 16];
            assert_would_block(b.try_recv_from(&mut buf), "empty socket");
            a.writable().await.unwrap();
            let to = b.local_addr().unwrap();
            assert_eq!(a.try_send_to(b"one", to).unwrap(), 3);
            assert_eq!(a.try_send_to(b"two", to).unwrap(), 3);
            for want in [b"one", b"two"] {
                // Retried on WouldBlock: the second datagram is normally
                // queued with the first, but nothing promises that.
                let (n, from) = loop {
                    b.readable().await.unwrap();
                    match b.try_recv_from(&mut buf) {
                        Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                        res => break res.unwrap(),
                    }
                };
                assert_eq!((&buf[..n], from), (&want[..], a.local_addr().unwrap()));
            }
            assert_would_block(b.try_recv_from(&mut buf), "drained socket");
        })
    });
}

#[test]
fn unix_try_send_to_and_try_recv_from_carry_the_paths() {
    guarded(30, || {
        common::run(async {
            let dir = tempfile::tempdir().unwrap();
            let (pa, pb) = (dir.path().join("a"), dir.path().join("b"));
            let a = UnixDatagram::bind(&pa).unwrap();
            let b = UnixDatagram::bind(&pb).unwrap();
            let mut buf = [0u8; 16];
            assert_would_block(b.try_recv_from(&mut buf), "empty socket");
            a.writable().await.unwrap();
            assert_eq!(a.try_send_to(b"hello", &pb).unwrap(), 5);
            b.readable().await.unwrap();
            let (n, from) = b.try_recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"hello");
            assert_eq!(from.as_pathname(), Some(pa.as_path()));
            assert_would_block(b.try_recv_from(&mut buf), "drained socket");
        })
    });
}

#[test]
fn udp_peeks_leave_the_datagram_queued() {
    guarded(30, || {
        common::run(async {
            let r = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let c = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            c.send_to(b"first", r.local_addr().unwrap()).await.unwrap();
            let mut head = [0u8; 2];
            for _ in 0..3 {
                let (n, from) = r.peek_from(&mut head).await.unwrap();
                assert_eq!((&head[..n], from), (&b"fi"[..], c.local_addr().unwrap()));
            }
            let mut buf = [0u8; 16];
            let (n, from) = r.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&b"first"[..], c.local_addr().unwrap()));
            // The connected forms (a connected socket takes datagrams from
            // its peer only).
            let (a, b) = udp_pair().await;
            a.send(b"second").await.unwrap();
            assert_eq!(b.peek(&mut buf).await.unwrap(), 6);
            assert_eq!(b.peek(&mut head).await.unwrap(), 2);
            assert_eq!(b.recv(&mut buf).await.unwrap(), 6);
            assert_eq!(&buf[..6], b"second");
            assert_would_block(b.try_recv(&mut buf), "drained socket");
        })
    });
}

#[test]
fn from_std_sockets_send_and_receive() {
    guarded(30, || {
        common::run(async {
            let (sa, sb) = std::os::unix::net::UnixDatagram::pair().unwrap();
            let (a, b) = (
                UnixDatagram::from_std(sa).unwrap(),
                UnixDatagram::from_std(sb).unwrap(),
            );
            a.send(b"unix").await.unwrap();
            let mut buf = [0u8; 8];
            assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
            assert_eq!(&buf[..4], b"unix");

            let std_udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let u = UdpSocket::from_std(std_udp).unwrap();
            let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            peer.send_to(b"udp", u.local_addr().unwrap()).await.unwrap();
            let (n, from) = u.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&b"udp"[..], peer.local_addr().unwrap()));
            // Non-blocking after the switch: an empty socket answers
            // WouldBlock instead of blocking the loop.
            assert_would_block(u.try_recv(&mut buf), "empty std-made socket");
            assert_would_block(b.try_recv(&mut buf), "empty std-made socket");
        })
    });
}
