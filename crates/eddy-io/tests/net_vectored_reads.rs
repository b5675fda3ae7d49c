//! Vectored reads (`read_vectored`) on the stream sockets: one `readv`
//! fills every buffer in order (futures' default filled only the first
//! non-empty one), through the stream, `&stream`, the borrowed and the
//! owned halves, TCP and Unix. Readiness follows the short-read rule: a
//! read shorter than all the buffers clears it, one that fills them keeps
//! it, and neither loses bytes or leaves a reader waiting for an event that
//! already came.

mod common;

use std::future::Future;
use std::io::{IoSliceMut, Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use eddy_io::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use futures::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// Runs the future `make` builds on a runtime of its own thread and fails
/// the test if it has not finished within 20 s (a reader left waiting for
/// an event that already came would otherwise hang the test run).
fn bounded<F, Fut>(make: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let (done, finished) = mpsc::channel();
    let test = std::thread::spawn(move || {
        common::run(make());
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(20)) {
        Ok(()) => test.join().unwrap(),
        // The thread panicked: its panic is the failure to report.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(test.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the reader hung (readiness lost)"),
    }
}

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// A connected pair through a listener in a temporary directory (the
/// directory goes with the returned guard).
async fn unix_pair_via_listener() -> (UnixStream, UnixStream, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let client = UnixStream::connect(&path).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server, dir)
}

/// Waits until `n` bytes are queued on the socket `peek` looks at, so the
/// next read sees all of them at once.
async fn await_queued<F, Fut>(n: usize, peek: F)
where
    F: Fn(Vec<u8>) -> Fut,
    Fut: Future<Output = (usize, Vec<u8>)>,
{
    let mut buf = vec![0u8; n];
    for _ in 0..10_000 {
        let (got, back) = peek(buf).await;
        buf = back;
        if got >= n {
            return;
        }
        eddy_core::yield_now().await;
    }
    panic!("{n} bytes never arrived");
}

async fn tcp_queued(s: &TcpStream, n: usize) {
    await_queued(n, |mut b| async move { (s.peek(&mut b).await.unwrap(), b) }).await;
}

async fn unix_queued(s: &UnixStream, n: usize) {
    await_queued(n, |mut b| async move { (s.peek(&mut b).await.unwrap(), b) }).await;
}

const TWELVE: &[u8; 12] = b"abcdefghijkl";

/// One vectored read of the 12 queued bytes `TWELVE` into three 4-byte
/// buffers (with an empty one between): all three are filled, in order.
async fn fills_three_buffers(mut r: impl AsyncRead + Unpin) {
    let (mut a, mut b, mut c) = ([0u8; 4], [0u8; 4], [0u8; 4]);
    let n = r
        .read_vectored(&mut [
            IoSliceMut::new(&mut a),
            IoSliceMut::new(&mut []),
            IoSliceMut::new(&mut b),
            IoSliceMut::new(&mut c),
        ])
        .await
        .unwrap();
    assert_eq!(n, 12, "one call fills every buffer, not only the first");
    assert_eq!((&a, &b, &c), (b"abcd", b"efgh", b"ijkl"));
}

/// A connected pair with `TWELVE` written and queued at the reader.
async fn tcp_with_twelve_queued() -> (TcpStream, TcpStream) {
    let (mut w, r) = tcp_pair().await;
    w.write_all(TWELVE).await.unwrap();
    tcp_queued(&r, 12).await;
    (w, r)
}

#[test]
fn a_vectored_read_fills_every_buffer_of_a_tcp_stream() {
    bounded(|| async {
        let (_w, mut r) = tcp_with_twelve_queued().await;
        fills_three_buffers(&mut r).await;
    });
}

#[test]
fn a_vectored_read_fills_every_buffer_through_a_shared_tcp_stream() {
    bounded(|| async {
        let (_w, r) = tcp_with_twelve_queued().await;
        fills_three_buffers(&r).await;
    });
}

#[test]
fn a_vectored_read_fills_every_buffer_through_a_borrowed_tcp_half() {
    bounded(|| async {
        let (_w, mut r) = tcp_with_twelve_queued().await;
        let (read, _write) = TcpStream::split(&mut r);
        fills_three_buffers(read).await;
    });
}

#[test]
fn a_vectored_read_fills_every_buffer_through_an_owned_tcp_half() {
    bounded(|| async {
        let (_w, r) = tcp_with_twelve_queued().await;
        let (read, _write) = r.into_split();
        fills_three_buffers(read).await;
    });
}

#[test]
fn a_vectored_read_fills_every_buffer_of_a_unix_stream() {
    bounded(|| async {
        let (mut w, mut r) = UnixStream::pair().unwrap();
        w.write_all(TWELVE).await.unwrap();
        unix_queued(&r, 12).await;
        fills_three_buffers(&mut r).await;
    });
}

#[test]
fn a_vectored_read_fills_every_buffer_through_unix_halves_and_a_shared_stream() {
    bounded(|| async {
        let (mut w, mut r, _dir) = unix_pair_via_listener().await;
        w.write_all(TWELVE).await.unwrap();
        unix_queued(&r, 12).await;
        fills_three_buffers(&r).await;

        w.write_all(TWELVE).await.unwrap();
        unix_queued(&r, 12).await;
        let (read, _write) = UnixStream::split(&mut r);
        fills_three_buffers(read).await;

        w.write_all(TWELVE).await.unwrap();
        unix_queued(&r, 12).await;
        let (read, _write) = r.into_split();
        fills_three_buffers(read).await;
    });
}

/// Reads into three buffers of 4, 4 and 4 bytes; returns what came.
async fn read_into_three(r: &mut (impl AsyncRead + Unpin)) -> Vec<u8> {
    let (mut a, mut b, mut c) = ([0u8; 4], [0u8; 4], [0u8; 4]);
    let n = r
        .read_vectored(&mut [
            IoSliceMut::new(&mut a),
            IoSliceMut::new(&mut b),
            IoSliceMut::new(&mut c),
        ])
        .await
        .unwrap();
    [a, b, c].concat()[..n].to_vec()
}

/// A short vectored read (5 of 12 bytes) clears readiness; bytes that
/// arrive afterwards still wake the next read, vectored or plain.
async fn short_then_more(
    mut w: impl futures::io::AsyncWrite + Unpin,
    mut r: impl AsyncRead + Unpin,
) {
    w.write_all(b"hello").await.unwrap();
    assert_eq!(read_into_three(&mut r).await, b"hello");
    w.write_all(b" world!").await.unwrap();
    assert_eq!(read_into_three(&mut r).await, b" world!");
    w.write_all(b"plain").await.unwrap();
    let mut buf = [0u8; 16];
    let n = r.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"plain");
}

#[test]
fn a_short_vectored_read_leaves_later_bytes_to_the_next_read() {
    bounded(|| async {
        let (w, r) = tcp_pair().await;
        short_then_more(w, r).await;
        let (w, r) = UnixStream::pair().unwrap();
        short_then_more(w, r).await;
    });
}

/// A vectored read that fills every buffer keeps readiness: the rest of
/// what is queued comes with the next read, with no new event from the
/// peer (which sends nothing more).
#[test]
fn a_full_vectored_read_keeps_the_rest_readable() {
    bounded(|| async {
        let (mut w, mut r) = tcp_with_twelve_queued().await;
        let (mut a, mut b) = ([0u8; 4], [0u8; 4]);
        let n = r
            .read_vectored(&mut [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)])
            .await
            .unwrap();
        assert_eq!((n, &a, &b), (8, b"abcd", b"efgh"));
        assert_eq!(read_into_three(&mut r).await, b"ijkl");
        // And end of stream after it, through a vectored read.
        w.close().await.unwrap();
        assert!(read_into_three(&mut r).await.is_empty());
    });
}

/// Vectored and plain reads mixed on a TCP stream whose plain reads have
/// turned the in-queue hint on (a plain read that fills its buffer does):
/// no byte is lost or held back either way.
#[test]
fn vectored_reads_mix_with_plain_reads_under_the_in_queue_hint() {
    bounded(|| async {
        let (mut w, mut r) = tcp_pair().await;
        w.write_all(&[7u8; 16]).await.unwrap();
        tcp_queued(&r, 16).await;
        let mut eight = [0u8; 8];
        r.read_exact(&mut eight).await.unwrap(); // full: the hint goes on
        let (mut a, mut b) = ([0u8; 2], [0u8; 2]);
        let n = r
            .read_vectored(&mut [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)])
            .await
            .unwrap();
        assert_eq!(n, 4);
        // The last 4 bytes, read plainly under the hint.
        assert_eq!(r.read(&mut eight).await.unwrap(), 4);
        w.write_all(TWELVE).await.unwrap();
        tcp_queued(&r, 12).await;
        fills_three_buffers(&mut r).await;
        w.write_all(b"tail").await.unwrap();
        assert_eq!(read_into_three(&mut r).await, b"tail");
    });
}

/// The peer's FIN seen through vectored reads: the last bytes, then 0,
/// and 0 again (end of stream stays readable, for vectored and plain
/// reads alike).
async fn fin_through_vectored_reads(
    mut w: impl futures::io::AsyncWrite + Unpin,
    mut r: impl AsyncRead + Unpin,
) {
    w.write_all(b"xyz").await.unwrap();
    w.close().await.unwrap();
    assert_eq!(read_into_three(&mut r).await, b"xyz");
    assert!(read_into_three(&mut r).await.is_empty());
    assert!(read_into_three(&mut r).await.is_empty());
    assert_eq!(r.read(&mut [0u8; 4]).await.unwrap(), 0);
}

#[test]
fn end_of_stream_through_a_vectored_read_returns_zero() {
    bounded(|| async {
        let (w, r) = tcp_pair().await;
        fin_through_vectored_reads(w, r).await;
        let (w, mut r) = tcp_pair().await;
        let (read, _write) = TcpStream::split(&mut r);
        fin_through_vectored_reads(w, read).await;
        let (w, r) = tcp_pair().await;
        fin_through_vectored_reads(w, r.into_split().0).await;
        let (w, r) = UnixStream::pair().unwrap();
        fin_through_vectored_reads(w, &r).await;
        let (w, r) = UnixStream::pair().unwrap();
        fin_through_vectored_reads(w, r.into_split().0).await;
    });
}

/// A peer on another thread writes 1 MiB in uneven pieces while the loop
/// reads it through vectored reads into uneven buffers: short and full
/// reads race with arriving data, and every byte arrives once, in order,
/// followed by end of stream.
fn stream_through_vectored_reads<S, R>(peer: S, reader: impl FnOnce() -> R + Send + 'static)
where
    S: Write + Send + 'static,
    R: Future<Output = Vec<u8>>,
{
    const TOTAL: usize = 1 << 20;
    let expected: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
    let sent = expected.clone();
    let writer = std::thread::spawn(move || {
        let mut peer = peer;
        let mut at = 0;
        let mut piece = 1;
        while at < sent.len() {
            let end = (at + piece).min(sent.len());
            peer.write_all(&sent[at..end]).unwrap();
            at = end;
            piece = piece * 7 % 9001 + 1;
        }
        // Dropping `peer` closes it: the reader sees end of stream.
    });
    let (got_tx, got_rx) = mpsc::channel();
    bounded(move || async move {
        got_tx.send(reader().await).unwrap();
    });
    writer.join().unwrap();
    let got = got_rx.recv().unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "bytes lost, repeated or out of order");
}

async fn read_all_vectored(mut r: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut all = Vec::new();
    let (mut a, mut b, mut c) = (vec![0u8; 1000], vec![0u8; 7], vec![0u8; 3000]);
    loop {
        let n = r
            .read_vectored(&mut [
                IoSliceMut::new(&mut a),
                IoSliceMut::new(&mut b),
                IoSliceMut::new(&mut c),
            ])
            .await
            .unwrap();
        if n == 0 {
            return all;
        }
        let joined = [&a[..], &b[..], &c[..]].concat();
        all.extend_from_slice(&joined[..n]);
    }
}

#[test]
fn a_tcp_stream_read_through_vectored_reads_loses_nothing() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = std::net::TcpStream::connect(addr).unwrap();
    let (server, _) = listener.accept().unwrap();
    drop(listener);
    stream_through_vectored_reads(client, move || async move {
        let server = TcpStream::from_std(server).unwrap();
        read_all_vectored(server.into_split().0).await
    });
}

#[test]
fn a_unix_stream_read_through_vectored_reads_loses_nothing() {
    let (client, server) = std::os::unix::net::UnixStream::pair().unwrap();
    stream_through_vectored_reads(client, move || async move {
        let server = UnixStream::from_std(server).unwrap();
        read_all_vectored(&server).await
    });
}

/// The plain std reader is unaffected by reads done through eddy: a
/// blocking peer sees what an eddy vectored read left queued (nothing is
/// read ahead of the caller's buffers).
#[test]
fn a_vectored_read_takes_no_more_than_its_buffers() {
    let (mut std_side, eddy_side) = std::os::unix::net::UnixStream::pair().unwrap();
    std_side.write_all(b"0123456789").unwrap();
    let (back_tx, back_rx) = mpsc::channel();
    bounded(move || async move {
        let s = UnixStream::from_std(eddy_side).unwrap();
        unix_queued(&s, 10).await;
        let (mut a, mut b) = ([0u8; 3], [0u8; 3]);
        let n = (&s)
            .read_vectored(&mut [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)])
            .await
            .unwrap();
        assert_eq!((n, &a, &b), (6, b"012", b"345"));
        // Back to a blocking std socket: the rest is still queued.
        let fd: std::os::fd::OwnedFd = std::os::fd::AsFd::as_fd(&s).try_clone_to_owned().unwrap();
        back_tx.send(fd).unwrap();
    });
    let mut rest = std::os::unix::net::UnixStream::from(back_rx.recv().unwrap());
    rest.set_nonblocking(false).unwrap();
    drop(std_side);
    let mut tail = Vec::new();
    rest.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, b"6789");
}

/// More buffers than one system call takes (1024): the read fills the
/// first 1024 and is not taken for a short one, so the rest of the queued
/// bytes still come with the next read, with no new event from the peer.
#[test]
fn a_vectored_read_over_more_than_1024_buffers_keeps_the_rest_readable() {
    bounded(|| async {
        let (mut w, mut r) = UnixStream::pair().unwrap();
        let sent: Vec<u8> = (0..1100u32).map(|i| (i % 256) as u8).collect();
        w.write_all(&sent).await.unwrap();
        unix_queued(&r, sent.len()).await;
        let mut bytes = vec![0u8; 1100];
        let n = {
            let mut bufs: Vec<IoSliceMut<'_>> = bytes.chunks_mut(1).map(IoSliceMut::new).collect();
            r.read_vectored(&mut bufs).await.unwrap()
        };
        assert_eq!(n, 1024, "one readv takes at most 1024 buffers");
        let mut rest = [0u8; 200];
        let m = r.read(&mut rest).await.unwrap();
        assert_eq!(m, 76);
        assert_eq!(&bytes[..n], &sent[..n]);
        assert_eq!(&rest[..m], &sent[n..]);
    });
}
