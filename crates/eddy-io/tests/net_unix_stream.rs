//! `UnixStream`'s readiness API, as `TcpStream` has it: `readable`,
//! `writable`, `try_read`, `try_write` and `peek`.

mod common;

use std::future::Future;
use std::io::ErrorKind;
use std::pin::pin;
use std::task::{Context, Poll};

use eddy_io::net::UnixStream;
use futures::io::{AsyncReadExt, AsyncWriteExt};

/// Polls `fut` once with a no-op waker: `Some` if it finished.
fn poll_once<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    match fut
        .as_mut()
        .poll(&mut Context::from_waker(std::task::Waker::noop()))
    {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

#[test]
fn try_read_and_try_write_move_bytes_without_waiting() {
    common::run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let mut buf = [0u8; 16];
        // Nothing queued: WouldBlock, and readable() does not complete.
        let e = b.try_read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WouldBlock);
        assert!(
            poll_once(b.readable()).is_none(),
            "readable with nothing sent"
        );

        a.writable().await.unwrap();
        assert_eq!(a.try_write(b"hello").unwrap(), 5);
        b.readable().await.unwrap();
        assert_eq!(b.try_read(&mut buf).unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        let e = b.try_read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WouldBlock);

        // End of stream reads as 0.
        drop(a);
        b.readable().await.unwrap();
        assert_eq!(b.try_read(&mut buf).unwrap(), 0);
    });
}

#[test]
fn try_write_fills_the_buffer_then_writable_waits_for_the_reader() {
    common::run(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let chunk = [7u8; 4096];
        let mut sent = 0usize;
        // Readiness is learned from the reactor: wait for the first event.
        a.writable().await.unwrap();
        loop {
            match a.try_write(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("try_write: {e}"),
            }
        }
        assert!(sent > 0);
        assert!(
            poll_once(a.writable()).is_none(),
            "writable with a full buffer"
        );

        let reader = eddy_core::spawn(async move {
            let mut got = vec![0u8; sent];
            b.read_exact(&mut got).await.unwrap();
            assert!(got.iter().all(|&x| x == 7));
            b // kept open until the writes below are done
        });
        a.writable().await.unwrap();
        assert!(a.try_write(b"more").unwrap() > 0);
        drop(reader.await.unwrap());
    });
}

#[test]
fn peek_waits_for_bytes_and_leaves_them_to_read() {
    common::run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let writer = eddy_core::spawn(async move {
            eddy_core::yield_now().await;
            a.write_all(b"abcdef").await.unwrap();
            a
        });
        let mut peeked = [0u8; 3];
        assert_eq!(b.peek(&mut peeked).await.unwrap(), 3);
        assert_eq!(&peeked, b"abc");
        // Peeking again sees the same bytes.
        let mut again = [0u8; 6];
        assert_eq!(b.peek(&mut again).await.unwrap(), 6);
        assert_eq!(&again, b"abcdef");
        let mut got = [0u8; 6];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"abcdef");

        // Once the peer is gone and everything is read: 0.
        drop(writer.await.unwrap());
        assert_eq!(b.peek(&mut peeked).await.unwrap(), 0);
    });
}

#[test]
fn peek_with_nothing_sent_stays_pending_and_is_cancel_safe() {
    common::run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let mut buf = [0u8; 4];
        assert!(poll_once(b.peek(&mut buf)).is_none());
        a.writable().await.unwrap();
        a.try_write(b"xy").unwrap();
        assert_eq!(b.peek(&mut buf).await.unwrap(), 2);
        assert_eq!(b.try_read(&mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], b"xy");
    });
}
