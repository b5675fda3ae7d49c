//! [`TcpStream`]: a TCP connection.

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};

use super::addr::{try_each, ToSocketAddrs};
use super::split::stream_socket;
use crate::driver::poll_evented::PollEvented;
use crate::driver::Interest;

/// A TCP connection registered with the loop's reactor.
///
/// It implements futures' `AsyncRead`/`AsyncWrite` (also through `&TcpStream`),
/// so `futures::io` combinators work on it; `split()` and `into_split()`
/// give halves for reading and writing at once. Vectored reads and writes
/// (`read_vectored`, `write_vectored`) take one `readv`/`writev` per call
/// through the stream, `&TcpStream` and either kind of half, filling or
/// sending every buffer in order rather than only the first. For
/// asyncio's line- and limit-based reading, use
/// [`open_connection`](crate::io::open_connection).
///
/// Closing it (`AsyncWriteExt::close`, also through `&TcpStream` or a write
/// half) shuts the write side down: the peer reads EOF and this side can
/// still read. It succeeds when the peer is already gone, too (see
/// [`OwnedWriteHalf`](super::OwnedWriteHalf)).
///
/// Socket options other than [`set_nodelay`](Self::set_nodelay) (TTL,
/// linger, keep-alive, buffer sizes) are set through the descriptor with
/// `socket2::SockRef`: see [Socket options](super#socket-options).
///
/// # Example
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// let mut stream = eddy_io::net::TcpStream::connect("127.0.0.1:6379").await?;
/// stream.write_all(b"PING\r\n").await?;
/// let mut reply = [0u8; 7];
/// stream.read_exact(&mut reply).await?;
/// # Ok(()) }
/// ```
pub struct TcpStream {
    pub(crate) io: PollEvented<mio::net::TcpStream>,
}

stream_socket!(TcpStream);

impl TcpStream {
    /// Connects to `addr`, trying every address it resolves to in turn
    /// (host names are looked up off the loop).
    ///
    /// # Errors
    ///
    /// The last address's error (refused, unreachable, ...) when none
    /// accepts, or the resolution error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it closes the half-open socket.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// let stream = eddy_io::net::TcpStream::connect(("localhost", 8080)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        try_each(addr, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::from_mio(mio::net::TcpStream::connect(addr)?)?;
        // A non-blocking connect completes when the socket turns writable;
        // the outcome is in SO_ERROR.
        stream.io.ready(Interest::WRITABLE).await?;
        if let Some(e) = stream.io.get_ref().take_error()? {
            return Err(e);
        }
        match stream.io.get_ref().peer_addr() {
            Ok(_) => Ok(stream),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("connecting to {addr} failed"),
            )),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        let mut io = PollEvented::new(stream)?;
        io.use_in_queue_hint();
        Ok(TcpStream { io })
    }

    /// Wraps a connected std stream (switching it to non-blocking mode).
    /// A socket whose non-blocking connect is still in progress works too:
    /// the connect is done once [`writable`](Self::writable) returns, and
    /// its outcome is the socket's pending error (see
    /// [Socket options](super#socket-options) for the whole recipe).
    ///
    /// # Errors
    ///
    /// Registering with the reactor failed.
    ///
    /// # Panics
    ///
    /// Outside an eddy runtime.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(std_stream: std::net::TcpStream) -> std::io::Result<()> {
    /// let stream = eddy_io::net::TcpStream::from_std(std_stream)?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// The local address of this end.
    ///
    /// # Errors
    ///
    /// The OS could not report it.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::TcpStream) -> std::io::Result<()> {
    /// println!("local: {}", s.local_addr()?);
    /// # Ok(()) }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// Not connected (any more).
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::TcpStream) -> std::io::Result<()> {
    /// println!("peer: {}", s.peer_addr()?);
    /// # Ok(()) }
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm; small writes go out
    /// at once).
    ///
    /// # Errors
    ///
    /// The OS refused the option.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::TcpStream) -> std::io::Result<()> {
    /// s.set_nodelay(true)?;
    /// assert!(s.nodelay()?);
    /// # Ok(()) }
    /// ```
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(on)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The OS could not report it.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::TcpStream) -> std::io::Result<()> {
    /// let on = s.nodelay()?;
    /// # Ok(()) }
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Shuts down the read side, the write side (half-close: the peer
    /// reads EOF, this side can still read) or both.
    ///
    /// # Errors
    ///
    /// Not connected: also when the peer reset the connection or both
    /// sides are shut already (`close()` treats that case as done).
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::TcpStream) -> std::io::Result<()> {
    /// s.shutdown(std::net::Shutdown::Write)?;
    /// # Ok(()) }
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Waits until the socket is readable (data, EOF or an error).
    ///
    /// # Errors
    ///
    /// The runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &eddy_io::net::TcpStream) -> std::io::Result<()> {
    /// s.readable().await?;
    /// let mut buf = [0u8; 1024];
    /// match s.try_read(&mut buf) {
    ///     Ok(n) => println!("{n} bytes"),
    ///     Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until the socket is writable.
    ///
    /// # Errors
    ///
    /// The runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &eddy_io::net::TcpStream) -> std::io::Result<()> {
    /// s.writable().await?;
    /// let n = s.try_write(b"hello")?;
    /// # Ok(()) }
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Reads what is available now, without waiting; `WouldBlock` when
    /// nothing is. A task awaiting a read on this socket stays registered.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the read's error. Readiness comes from the
    /// reactor, so a socket that has not yet been through a turn of the
    /// loop (just connected, accepted or created) answers `WouldBlock`
    /// even if it could proceed: await [`readable`](Self::readable) first.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::TcpStream) {
    /// let mut buf = [0u8; 64];
    /// let _ = s.try_read(&mut buf);
    /// # }
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        use std::io::Read;
        self.io.try_io(Interest::READABLE, |s| (&*s).read(buf))
    }

    /// Writes what fits now, without waiting; `WouldBlock` when nothing
    /// does. A task awaiting a write on this socket stays registered.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the write's error. Readiness comes from the
    /// reactor, so a socket that has not yet been through a turn of the
    /// loop (just connected, accepted or created) answers `WouldBlock`
    /// even if it could proceed: await [`writable`](Self::writable) first.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::TcpStream) {
    /// let _ = s.try_write(b"ping");
    /// # }
    /// ```
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        use std::io::Write;
        self.io.try_io(Interest::WRITABLE, |s| (&*s).write(buf))
    }

    /// Reads without consuming: the same bytes are read again next time.
    ///
    /// # Errors
    ///
    /// The read's error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &eddy_io::net::TcpStream) -> std::io::Result<()> {
    /// let mut buf = [0u8; 4];
    /// let n = s.peek(&mut buf).await?;
    /// # Ok(()) }
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.peek(buf)).await
    }
}

/// Turns `TCP_INQ` off again (`into_std`): eddy's reads may have turned it
/// on (see `driver::in_queue`), and a std socket handed to other code must
/// not send that code control messages it never asked for. Best effort: a
/// kernel without the option (before Linux 4.18) never had it on.
pub(super) fn plain_reads(socket: &std::net::TcpStream) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let off: libc::c_int = 0;
        // SAFETY: the socket is open while borrowed; the option value
        // points at a c_int that outlives the call and its length is
        // passed with it.
        let _ = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_INQ,
                (&off as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = socket;
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}
