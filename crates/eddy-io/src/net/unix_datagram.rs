//! [`UnixDatagram`]: Unix-domain datagram sockets.

use std::fmt;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;

use super::addr::{unix_bind_error, unix_socket_addr};
use crate::driver::poll_evented::PollEvented;
use crate::driver::Interest;

/// A Unix-domain datagram socket. The calls that take a path (`bind`,
/// `connect`, `send_to`) take an abstract name too on Linux: a path that
/// starts with a NUL byte, as for [`UnixListener::bind`](super::UnixListener::bind).
///
/// # Example
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// let (a, b) = eddy_io::net::UnixDatagram::pair()?;
/// a.send(b"hello").await?;
/// let mut buf = [0u8; 16];
/// let n = b.recv(&mut buf).await?;
/// assert_eq!(&buf[..n], b"hello");
/// # Ok(()) }
/// ```
pub struct UnixDatagram {
    pub(super) io: PollEvented<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    #[track_caller]
    fn from_mio(sys: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: PollEvented::new(sys)?,
        })
    }

    /// A socket bound to `path`.
    ///
    /// # Errors
    ///
    /// The path exists or its directory is not writable, or it is too
    /// long for a socket address (`InvalidInput`; 107 bytes at most on
    /// Linux).
    ///
    /// # Panics
    ///
    /// Outside an eddy runtime.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo() -> std::io::Result<()> {
    /// let s = eddy_io::net::UnixDatagram::bind("/tmp/app.dgram")?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        let addr = unix_socket_addr(path)?;
        let sys = mio::net::UnixDatagram::bind_addr(&addr).map_err(|e| unix_bind_error(path, e))?;
        UnixDatagram::from_mio(sys)
    }

    /// An unbound socket (it can send, and receive replies once connected).
    ///
    /// # Errors
    ///
    /// Out of descriptors.
    ///
    /// # Panics
    ///
    /// Outside an eddy runtime.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo() -> std::io::Result<()> {
    /// let s = eddy_io::net::UnixDatagram::unbound()?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// A connected pair.
    ///
    /// # Errors
    ///
    /// Out of descriptors.
    ///
    /// # Panics
    ///
    /// Outside an eddy runtime.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo() -> std::io::Result<()> {
    /// let (a, b) = eddy_io::net::UnixDatagram::pair()?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_mio(a)?, UnixDatagram::from_mio(b)?))
    }

    /// Wraps a std socket, bound, connected or neither (switching it to
    /// non-blocking).
    ///
    /// # Errors
    ///
    /// Switching to non-blocking or registering with the reactor failed.
    ///
    /// # Panics
    ///
    /// Outside an eddy runtime.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo() -> std::io::Result<()> {
    /// let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
    /// let a = eddy_io::net::UnixDatagram::from_std(a)?;
    /// # let _ = (a, b);
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::from_mio(mio::net::UnixDatagram::from_std(socket))
    }

    /// Sets the default peer for `send`/`recv`.
    ///
    /// # Errors
    ///
    /// No socket at `path`, or a path too long for a socket address
    /// (`InvalidInput`).
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UnixDatagram) -> std::io::Result<()> {
    /// s.connect("/tmp/app.dgram")?;
    /// # Ok(()) }
    /// ```
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let addr = unix_socket_addr(path.as_ref())?;
        as_std(self.io.get_ref(), |s| s.connect_addr(&addr))
    }

    /// Sends one datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// Not connected, or the send failed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: sent whole or not at all.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &eddy_io::net::UnixDatagram) -> std::io::Result<()> {
    /// s.send(b"ping").await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.async_io(Interest::WRITABLE, |s| s.send(buf)).await
    }

    /// Receives one datagram, truncated to `buf`: the bytes of a longer
    /// datagram that do not fit are lost, and the count returned is what
    /// was copied.
    ///
    /// # Errors
    ///
    /// The receive failed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is only taken when this completes.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &eddy_io::net::UnixDatagram) -> std::io::Result<()> {
    /// let mut buf = [0u8; 256];
    /// let n = s.recv(&mut buf).await?;
    /// # Ok(()) }
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.recv(buf)).await
    }

    /// Sends one datagram to the socket at `path`.
    ///
    /// # Errors
    ///
    /// No socket there, a path too long for a socket address
    /// (`InvalidInput`), or the send failed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: sent whole or not at all.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &eddy_io::net::UnixDatagram) -> std::io::Result<()> {
    /// s.send_to(b"ping", "/tmp/app.dgram").await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let addr = unix_socket_addr(path.as_ref())?;
        self.io
            .async_io(Interest::WRITABLE, |s| {
                as_std(s, |s| s.send_to_addr(buf, &addr))
            })
            .await
    }

    /// Receives one datagram (truncated to `buf`, as
    /// [`recv`](Self::recv) does) and the sender's address.
    ///
    /// # Errors
    ///
    /// The receive failed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is only taken when this completes.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &eddy_io::net::UnixDatagram) -> std::io::Result<()> {
    /// let mut buf = [0u8; 256];
    /// let (n, from) = s.recv_from(&mut buf).await?;
    /// # Ok(()) }
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Interest::READABLE, |s| s.recv_from(buf))
            .await
    }

    /// Waits for a datagram and copies it into `buf` (truncated to it)
    /// without taking it off the socket: the next receive returns it
    /// again. Returns its length as copied. As
    /// [`UdpSocket::peek`](super::UdpSocket::peek), for a Unix socket.
    ///
    /// # Errors
    ///
    /// The receive failed, or the runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// let (a, b) = eddy_io::net::UnixDatagram::pair()?;
    /// a.send(b"Lhello").await?;
    /// let mut kind = [0u8; 1];
    /// b.peek(&mut kind).await?;
    /// let mut whole = vec![0u8; if kind[0] == b'L' { 65_536 } else { 512 }];
    /// let n = b.recv(&mut whole).await?; // the same datagram, whole
    /// assert_eq!(&whole[..n], b"Lhello");
    /// # Ok(()) }
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .async_io(Interest::READABLE, |s| {
                super::unix_stream::peek(s.as_fd(), buf)
            })
            .await
    }

    /// Waits for a datagram and copies it into `buf` (truncated to it)
    /// without taking it off the socket, as [`peek`](Self::peek), and
    /// returns its sender's address too, as
    /// [`recv_from`](Self::recv_from) does: unnamed for an unbound sender
    /// or the other end of a [`pair`](Self::pair). As
    /// [`UdpSocket::peek_from`](super::UdpSocket::peek_from), for a Unix
    /// socket.
    ///
    /// # Errors
    ///
    /// The receive failed, or the runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &eddy_io::net::UnixDatagram) -> std::io::Result<()> {
    /// let mut head = [0u8; 1];
    /// let (_, from) = s.peek_from(&mut head).await?;
    /// if from.is_unnamed() {
    ///     // Nobody to answer: drop it.
    ///     s.recv(&mut head).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Interest::READABLE, |s| peek_from(s.as_fd(), buf))
            .await
    }

    /// Waits until a datagram (or an error) is queued; then
    /// [`try_recv`](Self::try_recv) and [`try_recv_from`](Self::try_recv_from)
    /// take datagrams without waiting. Works as
    /// [`UdpSocket::readable`](super::UdpSocket::readable): any number of
    /// tasks may wait at once, and each is woken.
    ///
    /// # Errors
    ///
    /// Only once the runtime has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only waits, nothing is received.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &eddy_io::net::UnixDatagram) -> std::io::Result<()> {
    /// // Take every datagram queued now as one batch.
    /// s.readable().await?;
    /// let mut batch = Vec::new();
    /// let mut buf = [0u8; 512];
    /// loop {
    ///     match s.try_recv(&mut buf) {
    ///         Ok(n) => batch.push(buf[..n].to_vec()),
    ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until the socket can send (for a connected socket: until the
    /// peer's queue has room) or an error is pending; then
    /// [`try_send`](Self::try_send) sends without waiting. Any number of
    /// tasks may wait at once.
    ///
    /// # Errors
    ///
    /// Only once the runtime has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only waits, nothing is sent.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// let (a, b) = eddy_io::net::UnixDatagram::pair()?;
    /// a.writable().await?;
    /// assert_eq!(a.try_send(b"hello")?, 5);
    /// # drop(b);
    /// # Ok(()) }
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Sends one datagram to the connected peer if its queue has room now;
    /// `WouldBlock` if not. Readiness is handled as in
    /// [`UdpSocket::try_send`](super::UdpSocket::try_send): `WouldBlock`
    /// clears it, and a task parked in a send here stays registered.
    ///
    /// # Errors
    ///
    /// `WouldBlock` (also from a socket the loop has not polled yet: await
    /// [`writable`](Self::writable) first), not connected, or the send's
    /// error (`ConnectionRefused` once the peer is gone).
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UnixDatagram, sample: u32) {
    /// // Telemetry: drop a sample rather than wait for a slow reader.
    /// let _ = s.try_send(&sample.to_be_bytes());
    /// # }
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |s| s.send(buf))
    }

    /// Takes one queued datagram (truncated to `buf`); `WouldBlock` if
    /// none is. Readiness is handled as in
    /// [`UdpSocket::try_recv`](super::UdpSocket::try_recv): `WouldBlock`
    /// clears it, and a task parked in a receive here stays registered.
    ///
    /// # Errors
    ///
    /// `WouldBlock` (also from a socket the loop has not polled yet: await
    /// [`readable`](Self::readable) first), or the receive's error.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UnixDatagram) -> std::io::Result<Option<Vec<u8>>> {
    /// let mut message = vec![0u8; 4096];
    /// match s.try_recv(&mut message) {
    ///     Ok(n) => {
    ///         message.truncate(n);
    ///         Ok(Some(message))
    ///     }
    ///     Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
    ///     Err(e) => Err(e),
    /// }
    /// # }
    /// ```
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |s| s.recv(buf))
    }

    /// Sends one datagram to the socket at `path` if it takes it now;
    /// `WouldBlock` if not (readiness as for [`try_send`](Self::try_send)).
    ///
    /// The kernel signals no readiness for room in an unconnected
    /// receiver's queue: after `WouldBlock` from a full one,
    /// [`writable`](Self::writable) may only wake once this socket's own
    /// send buffer frees. [`connect`](Self::connect) to the receiver and
    /// use [`try_send`](Self::try_send) to be woken when its queue has
    /// room.
    ///
    /// # Errors
    ///
    /// `WouldBlock` (also from a socket the loop has not polled yet: await
    /// [`writable`](Self::writable) first), no socket at `path`, a path
    /// too long for a socket address (`InvalidInput`), or the send's
    /// error.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &eddy_io::net::UnixDatagram) -> std::io::Result<()> {
    /// s.writable().await?;
    /// s.try_send_to(b"ping", "/tmp/app.dgram")?;
    /// # Ok(()) }
    /// ```
    pub fn try_send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let addr = unix_socket_addr(path.as_ref())?;
        self.io.try_io(Interest::WRITABLE, |s| {
            as_std(s, |s| s.send_to_addr(buf, &addr))
        })
    }

    /// Takes one queued datagram (truncated to `buf`) and the sender's
    /// address; `WouldBlock` if none is (readiness as for
    /// [`try_recv`](Self::try_recv)). The address is unnamed for an
    /// unbound sender, which cannot be answered.
    ///
    /// # Errors
    ///
    /// `WouldBlock` (also from a socket the loop has not polled yet: await
    /// [`readable`](Self::readable) first), or the receive's error.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &eddy_io::net::UnixDatagram) -> std::io::Result<()> {
    /// s.readable().await?;
    /// let mut buf = [0u8; 256];
    /// if let Ok((n, from)) = s.try_recv_from(&mut buf) {
    ///     if let Some(path) = from.as_pathname() {
    ///         s.send_to(&buf[..n], path).await?; // echo
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| s.recv_from(buf))
    }

    /// The bound address.
    ///
    /// # Errors
    ///
    /// The OS could not report it.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UnixDatagram) -> std::io::Result<()> {
    /// println!("{:?}", s.local_addr()?);
    /// # Ok(()) }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// Not connected.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UnixDatagram) -> std::io::Result<()> {
    /// println!("{:?}", s.peer_addr()?);
    /// # Ok(()) }
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

/// Runs `f` on `sock` seen as std's socket, for the calls std takes a
/// `SocketAddr` for (`connect_addr`, `send_to_addr`) where mio takes only
/// a path.
fn as_std<R>(
    sock: &mio::net::UnixDatagram,
    f: impl FnOnce(&std::os::unix::net::UnixDatagram) -> R,
) -> R {
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: the descriptor is open while `sock` is borrowed, which
    // outlasts the view; `ManuallyDrop` keeps the view from closing it
    // (also if `f` panics), and std's socket is the descriptor alone, so
    // nothing else is shared or freed twice.
    let view = std::mem::ManuallyDrop::new(unsafe {
        std::os::unix::net::UnixDatagram::from_raw_fd(sock.as_raw_fd())
    });
    f(&view)
}

/// `recvfrom(MSG_PEEK)` on a non-blocking socket, with the sender as
/// std's address type (std's `UnixDatagram::peek_from` is not stable).
fn peek_from(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
    // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and recvfrom only
    // writes initialised bytes into the buffer, so it stays initialised
    // for the caller's `&mut [u8]`.
    let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
    let (n, from) = socket2::SockRef::from(&fd).peek_from(uninit)?;
    Ok((n, std_unix_addr(&from)?))
}

/// A Unix socket address from the kernel as std's type, in the three
/// forms `recv_from` reports: a path, an abstract name, or unnamed.
fn std_unix_addr(addr: &socket2::SockAddr) -> io::Result<SocketAddr> {
    if let Some(path) = addr.as_pathname() {
        return SocketAddr::from_pathname(path);
    }
    // Abstract names are Linux's (socket2 reports none elsewhere).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(name) = addr.as_abstract_namespace() {
        use std::os::linux::net::SocketAddrExt;
        return SocketAddr::from_abstract_name(name);
    }
    // An unbound sender: std builds an address of no path bytes, which is
    // how the kernel spells unnamed (`is_unnamed()` holds for it).
    SocketAddr::from_pathname("")
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}
