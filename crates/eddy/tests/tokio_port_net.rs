//! tokio::net habits, ported to eddy: what a tokio user reaches for on
//! sockets (try_read_vectored, peeks, readiness, split halves, socket
//! options, half-close, refused connects, addresses) behaves as they
//! expect, or differs where eddy's docs say so.

mod common;

use std::io::{ErrorKind, IoSlice, IoSliceMut};
use std::net::Shutdown;

use common::port::guard;
use eddy::net::{TcpListener, TcpStream, UnixDatagram, UnixStream};
use futures::{AsyncReadExt, AsyncWriteExt};

/// A connected TCP pair on 127.0.0.1: (client, accepted).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (c, a) = futures::join!(
        TcpStream::connect(listener.local_addr().unwrap()),
        listener.accept()
    );
    (c.unwrap(), a.unwrap().0)
}

fn assert_would_block<T: std::fmt::Debug>(res: std::io::Result<T>, what: &str) {
    match res {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("{what}: expected WouldBlock, got {other:?}"),
    }
}

/// tokio's `try_read_vectored` loop: wait for `readable`, then one
/// non-blocking `readv` into a 4-byte header and a body.
macro_rules! try_read_vectored_case {
    ($w:expr, $r:expr) => {{
        let (mut w, r) = ($w, $r);
        w.write_all(b"headbody!").await.unwrap();
        let (mut head, mut body) = ([0u8; 4], [0u8; 16]);
        guard("readable", r.readable()).await.unwrap();
        let n = r
            .try_read_vectored(&mut [IoSliceMut::new(&mut head), IoSliceMut::new(&mut body)])
            .unwrap();
        assert_eq!((n, &head, &body[..5]), (9, b"head", &b"body!"[..]));
        assert_would_block(
            r.try_read_vectored(&mut [IoSliceMut::new(&mut body)]),
            "drained socket",
        );
        // End of stream reads as 0, as try_read's does.
        w.shutdown(Shutdown::Write).unwrap();
        guard("eof", r.readable()).await.unwrap();
        assert_eq!(
            r.try_read_vectored(&mut [IoSliceMut::new(&mut body)])
                .unwrap(),
            0
        );
    }};
}

#[test]
fn try_read_vectored_fills_the_buffers_in_order_without_waiting() {
    eddy::run(async {
        let (w, r) = tcp_pair().await;
        try_read_vectored_case!(w, r);
        let (w, r) = UnixStream::pair().unwrap();
        try_read_vectored_case!(w, r);
        // An owned read half reaches it through as_ref(), as tokio's
        // halves reach the stream's methods.
        let (w, r) = tcp_pair().await;
        let (r, _rw) = r.into_split();
        try_read_vectored_case!(w, r.as_ref());
    });
}

#[test]
fn unix_datagram_peeks_leave_the_datagram_queued_and_name_the_sender() {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::SocketAddr;
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let (rp, sp) = (dir.path().join("r.sock"), dir.path().join("s.sock"));
        let r = UnixDatagram::bind(&rp).unwrap();
        let s = UnixDatagram::bind(&sp).unwrap();
        s.send_to(b"first", &rp).await.unwrap();
        let mut head = [0u8; 2];
        for _ in 0..3 {
            let (n, from) = guard("peek_from", r.peek_from(&mut head)).await.unwrap();
            assert_eq!((&head[..n], from.as_pathname()), (&b"fi"[..], Some(&*sp)));
        }
        assert_eq!(r.peek(&mut head).await.unwrap(), 2);
        let mut buf = [0u8; 16];
        let (n, from) = r.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from.as_pathname()), (&b"first"[..], Some(&*sp)));
        assert_would_block(r.try_recv(&mut buf), "drained socket");

        // An unbound sender and a pair's other end are unnamed, as
        // recv_from reports them.
        let u = UnixDatagram::unbound().unwrap();
        u.send_to(b"anon", &rp).await.unwrap();
        let (n, from) = r.peek_from(&mut buf).await.unwrap();
        assert!(n == 4 && from.is_unnamed(), "{from:?}");
        assert!(r.recv_from(&mut buf).await.unwrap().1.is_unnamed());
        let (a, b) = UnixDatagram::pair().unwrap();
        a.send(b"paired").await.unwrap();
        let (n, from) = b.peek_from(&mut buf).await.unwrap();
        assert!(n == 6 && from.is_unnamed(), "{from:?}");
        assert_eq!(b.peek(&mut buf).await.unwrap(), 6);
        assert_eq!(b.recv(&mut buf).await.unwrap(), 6);

        // A sender bound to an abstract name (Linux).
        let name = format!("eddy-tokio-port-{}", std::process::id());
        let abs = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let std_sender = std::os::unix::net::UnixDatagram::bind_addr(&abs).unwrap();
        let sender = UnixDatagram::from_std(std_sender).unwrap();
        sender.send_to(b"abstract", &rp).await.unwrap();
        let (_, peeked) = r.peek_from(&mut buf).await.unwrap();
        let (_, received) = r.recv_from(&mut buf).await.unwrap();
        assert_eq!(peeked.as_abstract_name(), Some(name.as_bytes()));
        assert_eq!(received.as_abstract_name(), peeked.as_abstract_name());
    });
}

/// tokio's `try_write_vectored` loop: wait for `writable`, then one
/// non-blocking `writev`; once the socket is full it answers WouldBlock,
/// and every byte it took reaches the peer in order.
macro_rules! try_write_vectored_case {
    ($w:expr, $r:expr) => {{
        let (w, mut r) = ($w, $r);
        guard("writable", w.writable()).await.unwrap();
        let bufs = [
            IoSlice::new(b"head"),
            IoSlice::new(b""),
            IoSlice::new(b"tail"),
        ];
        assert_eq!(w.try_write_vectored(&bufs).unwrap(), 8);
        let mut got = [0u8; 8];
        guard("read", r.read_exact(&mut got)).await.unwrap();
        assert_eq!(&got, b"headtail");
        // Fill the socket: numbered chunks, until no room is left.
        let chunk: Vec<u8> = (0..=255u8).cycle().take(64 * 1024).collect();
        let mut sent = 0;
        loop {
            // Start where the last (maybe partial) write stopped.
            let from = &chunk[sent % 256..];
            match w.try_write_vectored(&[IoSlice::new(from), IoSlice::new(&chunk)]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("try_write_vectored: {e}"),
            }
        }
        let mut back = vec![0u8; sent];
        guard("drain", r.read_exact(&mut back)).await.unwrap();
        assert!(back.iter().enumerate().all(|(i, &b)| b == (i % 256) as u8));
    }};
}

#[test]
fn try_write_vectored_sends_the_buffers_in_order_until_the_socket_is_full() {
    eddy::run(async {
        let (w, r) = tcp_pair().await;
        try_write_vectored_case!(w, r);
        let (w, r) = UnixStream::pair().unwrap();
        try_write_vectored_case!(w, r);
        let (w, r) = tcp_pair().await;
        let (_wr, w) = w.into_split();
        try_write_vectored_case!(w.as_ref(), r);
    });
}
