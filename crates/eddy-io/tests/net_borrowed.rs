//! Writing through `&stream` and the borrowed halves behaves as through the
//! owned stream: vectored writes, and closing once the peer is gone.

mod common;

use std::io::IoSlice;

use eddy_io::net::{TcpListener, TcpStream, UnixStream};
use futures::io::{AsyncReadExt, AsyncWriteExt};

/// Three buffers that fit in an empty socket buffer many times over.
fn slices() -> [IoSlice<'static>; 4] {
    [
        IoSlice::new(b"one "),
        IoSlice::new(b""),
        IoSlice::new(b"two "),
        IoSlice::new(b"three"),
    ]
}

const JOINED: &[u8] = b"one two three";

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

async fn read_joined(mut from: impl futures::io::AsyncRead + Unpin) {
    let mut got = vec![0u8; JOINED.len()];
    from.read_exact(&mut got).await.unwrap();
    assert_eq!(got, JOINED);
}

/// One vectored write through `&a` sends all of `slices()`; `b` reads it.
async fn one_shared_vectored_write<S>(a: S, b: S)
where
    for<'a> &'a S: futures::io::AsyncWrite + Unpin,
    S: futures::io::AsyncRead + Unpin,
{
    let n = (&a).write_vectored(&slices()).await.unwrap();
    assert_eq!(n, JOINED.len(), "one call sends all buffers, not the first");
    read_joined(b).await;
}

#[test]
fn a_vectored_write_through_a_shared_tcp_stream_sends_every_buffer() {
    common::run(async {
        let (a, b) = tcp_pair().await;
        one_shared_vectored_write(a, b).await;
    });
}

#[test]
fn a_vectored_write_through_a_shared_unix_stream_sends_every_buffer() {
    common::run(async {
        let (a, b) = UnixStream::pair().unwrap();
        one_shared_vectored_write(a, b).await;
    });
}

#[test]
fn vectored_writes_through_every_write_half_send_every_buffer() {
    common::run(async {
        let (mut a, b) = tcp_pair().await;
        let (_, mut w) = TcpStream::split(&mut a);
        assert_eq!(w.write_vectored(&slices()).await.unwrap(), JOINED.len());
        let (_, mut w) = a.into_split();
        assert_eq!(w.write_vectored(&slices()).await.unwrap(), JOINED.len());
        let mut b = b;
        read_joined(&mut b).await;
        read_joined(&mut b).await;
    });
}

/// A connected stream whose peer has reset the connection (closed with
/// SO_LINGER 0), with the reset already seen by a read.
async fn reset_by_peer() -> TcpStream {
    let (mut a, b) = tcp_pair().await;
    socket2::SockRef::from(&b)
        .set_linger(Some(std::time::Duration::ZERO))
        .unwrap();
    drop(b);
    let mut buf = [0u8; 8];
    let err = a
        .read(&mut buf)
        .await
        .expect_err("a reset reads as an error");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    a
}

#[test]
fn closing_after_the_peer_reset_is_ok_through_every_writer() {
    common::run(async {
        // The owned write half always said Ok here; the others said
        // NotConnected.
        let (_r, mut w) = reset_by_peer().await.into_split();
        w.close().await.expect("owned write half");

        let mut s = reset_by_peer().await;
        let (_r, mut w) = TcpStream::split(&mut s);
        w.close().await.expect("borrowed write half");

        let mut s = reset_by_peer().await;
        s.close().await.expect("the stream");

        let s = reset_by_peer().await;
        (&s).close().await.expect("&stream");
    });
}

#[test]
fn closing_twice_is_ok_through_every_writer() {
    common::run(async {
        // Once both sides are shut (our FIN and the peer's both sent), the
        // second shutdown finds the connection closed.
        async fn closed_both_ways() -> (TcpStream, TcpStream) {
            let (mut a, mut b) = tcp_pair().await;
            a.close().await.unwrap();
            b.close().await.unwrap();
            let mut rest = Vec::new();
            assert_eq!(a.read_to_end(&mut rest).await.unwrap(), 0);
            assert_eq!(b.read_to_end(&mut rest).await.unwrap(), 0);
            (a, b)
        }
        let (mut a, _b) = closed_both_ways().await;
        a.close().await.expect("the stream, again");
        let (mut a, _b) = closed_both_ways().await;
        let (_r, mut w) = TcpStream::split(&mut a);
        w.close().await.expect("borrowed write half, again");
        let (a, _b) = closed_both_ways().await;
        (&a).close().await.expect("&stream, again");
    });
}

#[test]
fn closing_a_unix_stream_whose_peer_is_gone_is_ok() {
    common::run(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        drop(b);
        let (_r, mut w) = UnixStream::split(&mut a);
        w.close().await.expect("borrowed write half");
        a.close().await.expect("the stream");
        (&a).close().await.expect("&stream");
    });
}

/// Polls `fut` once with a no-op waker: `Some` if it finished.
fn poll_once<F: std::future::Future>(fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}

/// More buffers than one `writev` takes (Linux's IOV_MAX is 1024): the
/// kernel writes only the first 1024, which is not a sign of a full socket
/// buffer, so the stream must stay writable. It used to count the shortfall
/// as "full" and wait for a writable event that an idle TCP peer never
/// causes: the next write hung.
#[test]
fn a_vectored_write_of_more_buffers_than_iov_max_does_not_stall_the_next() {
    common::run(async {
        let (mut a, mut b) = tcp_pair().await;
        let bytes = vec![b'v'; 2000];
        let slices: Vec<IoSlice<'_>> = bytes.chunks(1).map(IoSlice::new).collect();
        // Room for all of it: wait until the socket has said so.
        a.writable().await.unwrap();
        let n = a.write_vectored(&slices).await.unwrap();
        assert!(n > 0 && n <= 2000);
        let rest = &bytes[n..];
        let next = poll_once(a.write(if rest.is_empty() { b"x" } else { rest }));
        let written = next
            .expect("the socket has room: the next write must not wait")
            .unwrap();
        assert!(written > 0);
        let mut got = vec![0u8; n + written];
        b.read_exact(&mut got).await.unwrap();
    });
}
