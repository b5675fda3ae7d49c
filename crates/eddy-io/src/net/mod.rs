//! Sockets (asyncio's transports, without protocol classes): TCP, UDP and
//! Unix-domain, registered with the loop's reactor.
//!
//! Stream types implement futures' `AsyncRead`/`AsyncWrite`, so
//! `futures::io` combinators (`copy`, `read_to_end`, `BufReader`, ...)
//! work on them. For asyncio's `StreamReader`/`StreamWriter` API use
//! [`crate::io::open_connection`] and [`crate::io::start_server`].
//!
//! Every constructor registers with the reactor of the current runtime
//! and panics outside one. Host names are resolved off the loop.
//!
//! The async methods that take `&self` (`accept`, `recv`, `send_to`,
//! `readable`, ...) may be awaited by any number of tasks on one socket at
//! once, and each is woken by the events it waits for. The `poll_*`
//! methods and the `AsyncRead`/`AsyncWrite` impls keep one waker per
//! direction: one task reading and one writing (e.g. the two halves of a
//! split stream), as with any `poll_*` API.
//!
//! # Socket options
//!
//! The sockets wrap the options most programs set (`TcpStream::set_nodelay`,
//! `UdpSocket::set_broadcast`, the listener's
//! [`TcpListenerBuilder`]). Every other one — TTL, `SO_LINGER`,
//! keep-alive, buffer sizes, `IP_TOS`, ... — is set on the descriptor, which
//! every socket type lends through `AsFd`: `socket2::SockRef::from(&socket)`
//! (add `socket2` to your dependencies) has them all; tokio's
//! `TcpStream::set_ttl`/`set_linger` and `TcpSocket`'s setters are there
//! under the same names.
//!
//! ```
//! # fn demo(stream: &eddy_io::net::TcpStream) -> std::io::Result<()> {
//! use std::time::Duration;
//! let sock = socket2::SockRef::from(stream);
//! sock.set_ttl_v4(32)?;
//! sock.set_keepalive(true)?;
//! sock.set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(Duration::from_secs(60)))?;
//! sock.set_send_buffer_size(256 * 1024)?;
//! // SO_LINGER with a timeout makes close block the loop thread: use
//! // Some(Duration::ZERO) (reset on close) or leave it off.
//! sock.set_linger(Some(Duration::ZERO))?;
//! # Ok(()) }
//! ```

mod addr;
pub(crate) mod split;
mod tcp_listener;
mod tcp_stream;
mod udp;
mod unix_datagram;
mod unix_listener;
mod unix_stream;

pub use addr::ToSocketAddrs;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, SplitStream, WriteHalf};
pub use tcp_listener::{Incoming, TcpListener, TcpListenerBuilder};
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;
pub use unix_datagram::UnixDatagram;
pub use unix_listener::{UnixIncoming, UnixListener};
pub use unix_stream::UnixStream;

/// `AsRawFd`/`AsFd` for the socket types, so socket options that eddy does
/// not wrap can be set through `socket2::SockRef` or libc.
macro_rules! as_fd {
    ($($ty:ty),*) => {$(
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.io.get_ref().as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.io.get_ref().as_fd()
            }
        }
    )*};
}

as_fd!(
    TcpStream,
    TcpListener,
    UdpSocket,
    UnixStream,
    UnixListener,
    UnixDatagram
);
