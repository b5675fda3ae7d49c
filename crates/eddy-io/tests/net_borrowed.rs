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
