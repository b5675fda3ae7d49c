//! Review of the socket layer (net, AsyncFd, the reactor): each test here
//! failed on the code before the fix named in its comment.

mod common;

use std::net::Shutdown;

use common::stress::guarded;
use eddy_io::driver::Interest;
use eddy_io::net::{UdpSocket, UnixStream};
use futures::io::AsyncReadExt;

/// `ready()` counts a socket at end of stream as readable: its doc says a
/// closed socket is ready and that one task serves it by reading when
/// `is_readable()`. Bytes and the peer's shutdown arrive in one event; a
/// short read takes the bytes and clears the readable bit, leaving only
/// read-closed. `ready()` then returned a readiness that was not
/// `is_readable()`, so a loop following the doc neither read the end of
/// stream nor waited: it spun.
#[test]
fn ready_at_end_of_stream_is_readable_after_a_draining_read() {
    guarded(30, || {
        common::run(async {
            let (a, mut b) = UnixStream::pair().unwrap();
            a.writable().await.unwrap();
            assert_eq!(a.try_write(b"abc").unwrap(), 3);
            a.shutdown(Shutdown::Write).unwrap();
            let mut buf = [0u8; 16];
            assert_eq!(b.read(&mut buf).await.unwrap(), 3);
            let ready = b
                .ready(Interest::READABLE | Interest::WRITABLE)
                .await
                .unwrap();
            assert!(
                ready.is_readable(),
                "a socket at end of stream is ready to read (its read returns 0), got {ready:?}"
            );
            assert!(ready.is_read_closed(), "{ready:?}");
            assert_eq!(b.try_read(&mut buf).unwrap(), 0);
        })
    });
}

/// `ready()` counts a socket with a pending error as ready for the
/// direction asked: a connected UDP socket whose datagram drew an ICMP
/// "port unreachable" has only the error bit, which completes the wait;
/// `ready()` returned it as neither readable nor writable, so the doc's
/// dispatch never took the error and every later wait returned at once.
#[test]
fn ready_with_a_pending_error_is_ready_for_the_direction_asked() {
    guarded(30, || {
        common::run(async {
            let closed = {
                let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                s.local_addr().unwrap()
            };
            let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            sock.connect(closed).await.unwrap();
            sock.send(b"x").await.unwrap();
            // Returns once the error is pending (the ICMP reply).
            sock.readable().await.unwrap();
            let ready = sock.ready(Interest::READABLE).await.unwrap();
            assert!(ready.is_error(), "{ready:?}");
            assert!(
                ready.is_readable(),
                "a pending error is for the next read to return, got {ready:?}"
            );
            let mut buf = [0u8; 4];
            let err = sock.try_recv(&mut buf).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
        })
    });
}
