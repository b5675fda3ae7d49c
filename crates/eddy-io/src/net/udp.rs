//! [`UdpSocket`]: datagrams over UDP.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use super::addr::{bind_error, resolve, try_each, ToSocketAddrs};
use crate::driver::poll_evented::PollEvented;
use crate::driver::Interest;

/// A UDP socket (asyncio's datagram endpoint, without the protocol class).
///
/// # Example
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// use eddy_io::net::UdpSocket;
/// let a = UdpSocket::bind("127.0.0.1:0").await?;
/// let b = UdpSocket::bind("127.0.0.1:0").await?;
/// a.send_to(b"hi", b.local_addr()?).await?;
/// let mut buf = [0u8; 16];
/// let (n, from) = b.recv_from(&mut buf).await?;
/// assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr()?));
/// # Ok(()) }
/// ```
pub struct UdpSocket {
    pub(super) io: PollEvented<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr` (the first of its addresses that works).
    ///
    /// # Errors
    ///
    /// Address in use, permission denied, resolution failed; a bind error
    /// names the address and says what to do.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// let s = eddy_io::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # Ok(()) }
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        try_each(addr, |a| async move {
            Ok(UdpSocket {
                io: PollEvented::new(mio::net::UdpSocket::bind(a).map_err(|e| bind_error(a, e))?)?,
            })
        })
        .await
    }

    /// Wraps a bound std socket (switching it to non-blocking).
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
    /// # fn demo() -> std::io::Result<()> {
    /// let s = eddy_io::net::UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0")?)?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: PollEvented::new(mio::net::UdpSocket::from_std(socket))?,
        })
    }

    /// Sets the default peer: `send`/`recv` then talk to it only.
    ///
    /// # Errors
    ///
    /// Resolution failed or no address was usable.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// s.connect("127.0.0.1:9000").await?;
    /// s.send(b"ping").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let mut last = None;
        for a in resolve(addr).await? {
            match self.io.get_ref().connect(a) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("resolve returns at least one address"))
    }

    /// Sends one datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// Not connected, or the send failed (e.g. `ECONNREFUSED` from an
    /// earlier datagram's ICMP error).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the datagram is sent whole or not at all.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// let n = s.send(b"ping").await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.async_io(Interest::WRITABLE, |s| s.send(buf)).await
    }

    /// Receives one datagram from the connected peer (truncated to `buf`).
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
    /// # async fn demo(s: eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// let mut buf = [0u8; 1500];
    /// let n = s.recv(&mut buf).await?;
    /// # Ok(()) }
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.recv(buf)).await
    }

    /// Sends one datagram to `target`.
    ///
    /// # Errors
    ///
    /// The send failed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the datagram is sent whole or not at all.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// s.send_to(b"hello", "127.0.0.1:9000".parse().unwrap()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .async_io(Interest::WRITABLE, |s| s.send_to(buf, target))
            .await
    }

    /// Receives one datagram and its sender.
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
    /// # async fn demo(s: eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// let mut buf = [0u8; 1500];
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
    /// # fn demo(s: &eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// println!("{}", s.local_addr()?);
    /// # Ok(()) }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer.
    ///
    /// # Errors
    ///
    /// Not connected.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// println!("{}", s.peer_addr()?);
    /// # Ok(()) }
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Allows sending to broadcast addresses.
    ///
    /// # Errors
    ///
    /// The OS refused the option.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// s.set_broadcast(true)?;
    /// # Ok(()) }
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}
