//! [`UnixDatagram`]: Unix-domain datagram sockets.

use std::fmt;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use crate::driver::poll_evented::PollEvented;
use crate::driver::Interest;

/// A Unix-domain datagram socket.
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
    /// The path exists or its directory is not writable.
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
        let sys = mio::net::UnixDatagram::bind(path).map_err(|e| {
            io::Error::new(e.kind(), format!("could not bind {}: {e}", path.display()))
        })?;
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

    /// Sets the default peer for `send`/`recv`.
    ///
    /// # Errors
    ///
    /// No socket at `path`.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UnixDatagram) -> std::io::Result<()> {
    /// s.connect("/tmp/app.dgram")?;
    /// # Ok(()) }
    /// ```
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get_ref().connect(path)
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

    /// Receives one datagram.
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
    /// No socket there, or the send failed.
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
        let path = path.as_ref();
        self.io
            .async_io(Interest::WRITABLE, |s| s.send_to(buf, path))
            .await
    }

    /// Receives one datagram and the sender's address.
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

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}
