//! The socket under a socket's [`StreamWriter`](super::StreamWriter):
//! what asyncio's `get_extra_info("socket")` and `"sockname"` reach, and
//! the path `StreamWriter::sendfile` takes to the kernel.
//!
//! The writer keeps only a weak link: the socket belongs to the stream's
//! halves, and closing or aborting the writer must close it at once (see
//! `io::read_end`), whoever still holds the writer value.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::{Arc, Weak};

use crate::net::sendfile::Transfer;
use crate::net::{OwnedWriteHalf, TcpStream, UnixStream};

/// How a socket's writer finds its socket while the socket is open.
#[derive(Clone)]
pub(crate) enum SocketLink {
    Tcp(Weak<TcpStream>),
    Unix(Weak<UnixStream>),
}

impl SocketLink {
    /// The socket, while it is open.
    pub(crate) fn upgrade(&self) -> Option<TransportSocket> {
        Some(TransportSocket(match self {
            SocketLink::Tcp(w) => Kind::Tcp(w.upgrade()?),
            SocketLink::Unix(w) => Kind::Unix(w.upgrade()?),
        }))
    }
}

impl From<&OwnedWriteHalf<TcpStream>> for SocketLink {
    fn from(half: &OwnedWriteHalf<TcpStream>) -> Self {
        SocketLink::Tcp(half.downgrade())
    }
}

impl From<&OwnedWriteHalf<UnixStream>> for SocketLink {
    fn from(half: &OwnedWriteHalf<UnixStream>) -> Self {
        SocketLink::Unix(half.downgrade())
    }
}

/// The socket under a [`StreamWriter`](super::StreamWriter), from
/// [`StreamWriter::socket`](super::StreamWriter::socket): asyncio's
/// `get_extra_info("socket")` (a `TransportSocket` there too). It lends
/// the descriptor (`AsFd`/`AsRawFd`) for socket options and queries, e.g.
/// through `socket2::SockRef::from(&socket)`.
///
/// It holds the socket open while it lives, so keep it briefly (set the
/// options, drop it): a writer that is closed or aborted meanwhile closes
/// its socket only once this is dropped too. As with asyncio's
/// `TransportSocket`, read and write through the stream, not the
/// descriptor: bytes written here would cut into what the writer sends,
/// and bytes read here are lost to the `StreamReader`.
///
/// # Example
///
/// ```
/// use eddy_io::io::{open_connection, start_server};
///
/// # let driver = eddy_io::driver::IoDriver::new()?;
/// # let _io = driver.handle().enter();
/// # let rt = eddy_core::Builder::new().build_with_driver(Box::new(driver))?;
/// # rt.block_on(async {
/// let server = start_server("127.0.0.1:0", |_r, _w| async {}).await?;
/// let (_reader, writer) = open_connection(server.local_addr().unwrap()).await?;
/// let socket = writer.socket().expect("a TCP connection's writer");
/// let sock = socket2::SockRef::from(&socket);
/// sock.set_keepalive(true)?;
/// assert!(sock.keepalive()?);
/// assert!(socket.is_tcp());
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TransportSocket(Kind);

enum Kind {
    Tcp(Arc<TcpStream>),
    Unix(Arc<UnixStream>),
}

impl TransportSocket {
    /// Whether it is a TCP socket (else a Unix-domain one).
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(writer: &eddy_io::io::StreamWriter) {
    /// if let Some(socket) = writer.socket() {
    ///     if socket.is_tcp() {
    ///         let _ = socket2::SockRef::from(&socket).set_tcp_nodelay(true);
    ///     }
    /// }
    /// # }
    /// ```
    pub fn is_tcp(&self) -> bool {
        matches!(self.0, Kind::Tcp(_))
    }

    /// The local address of a TCP socket; `None` for a Unix socket (whose
    /// address `socket2::SockRef::from(&socket).local_addr()` gives).
    pub(crate) fn tcp_local_addr(&self) -> Option<std::net::SocketAddr> {
        match &self.0 {
            Kind::Tcp(s) => s.local_addr().ok(),
            Kind::Unix(_) => None,
        }
    }

    /// One step of a file transfer through this socket (see
    /// `net::sendfile`).
    pub(crate) async fn sendfile_step(&self, t: &mut Transfer<'_>) -> io::Result<Option<u64>> {
        match &self.0 {
            Kind::Tcp(s) => t.step(&s.io).await,
            Kind::Unix(s) => t.step(&s.io).await,
        }
    }
}

impl AsFd for TransportSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.0 {
            Kind::Tcp(s) => s.as_fd(),
            Kind::Unix(s) => s.as_fd(),
        }
    }
}

impl AsRawFd for TransportSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

impl fmt::Debug for TransportSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Tcp(s) => f.debug_tuple("TransportSocket").field(&**s).finish(),
            Kind::Unix(s) => f.debug_tuple("TransportSocket").field(&**s).finish(),
        }
    }
}
