//! Transport-level features of the sockets and stream writers: what
//! `into_std` hands back.

mod common;

use std::os::fd::AsRawFd;

use common::run;
use common::stress::tcp_pair;
use eddy_io::net::{TcpListener, TcpStream};
use futures::io::AsyncReadExt;

async fn tcp() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    tcp_pair(&listener).await
}

/// `getsockopt(TCP_INQ)`.
fn tcp_inq(fd: &impl AsRawFd) -> libc::c_int {
    let mut on: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the socket is open while borrowed; `on` and `len` are valid
    // for writes and outlive the call, and `len` gives `on`'s size.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INQ,
            (&mut on as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
    on
}

#[test]
fn into_std_turns_tcp_inq_back_off() {
    run(async {
        use futures::io::AsyncWriteExt;
        let (mut a, mut b) = tcp().await;
        a.write_all(&[9; 64]).await.unwrap();
        // All 64 bytes queued, then one read that fills its buffer: eddy
        // turns TCP_INQ on to learn whether more is queued.
        let mut peek = [0u8; 64];
        while b.peek(&mut peek).await.unwrap() < 64 {
            eddy_core::yield_now().await;
        }
        let mut buf = [0u8; 64];
        assert_eq!(b.read(&mut buf).await.unwrap(), 64);
        assert_eq!(tcp_inq(&b), 1, "the read did not turn TCP_INQ on");
        let std_socket = b.into_std();
        assert_eq!(tcp_inq(&std_socket), 0);
    });
}
