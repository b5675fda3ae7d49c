//! [`UdpSocket`]: datagrams over UDP.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use super::addr::{bind_error, resolve, resolve_first, try_each, ToSocketAddrs};
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

    /// Receives one datagram from the connected peer, truncated to `buf`:
    /// the bytes of a longer datagram that do not fit are lost, and the
    /// count returned is what was copied (peek first, or pass a buffer as
    /// large as the largest datagram, 65,507 bytes for UDP over IPv4).
    ///
    /// # Errors
    ///
    /// The receive failed, e.g. `ConnectionRefused` from the ICMP error
    /// an earlier send to a port nobody listens on drew (Linux reports it
    /// on the next receive or send of a connected socket).
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

    /// Sends one datagram to `target`: anything [`ToSocketAddrs`] takes, as
    /// with tokio. A `SocketAddr` (or `(ip, port)`, or a numeric
    /// `"ip:port"`) is used as it is, with no allocation and no thread hop.
    /// A host name is resolved off the loop on every call, and the
    /// datagram goes to the first address it resolves to (tokio's rule;
    /// there is no trying the others, as a datagram send cannot tell a
    /// wrong address from a working one): resolve once with
    /// [`lookup_host`](super::lookup_host) to choose the address yourself
    /// and not to look the name up again for each datagram.
    ///
    /// # Errors
    ///
    /// The name could not be resolved (the error names it), or the send
    /// failed (e.g. an IPv6 target from an IPv4 socket: `localhost` may
    /// resolve to `::1` first; bind and send with the same family).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the datagram is sent whole or not at all.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// let to: std::net::SocketAddr = "127.0.0.1:9000".parse().unwrap();
    /// s.send_to(b"hello", to).await?;
    /// s.send_to(b"hello", "127.0.0.1:9000").await?;
    /// s.send_to(b"hello", ("localhost", 9000)).await?; // resolved each time
    /// # Ok(()) }
    /// ```
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = resolve_first(target).await?;
        self.io
            .async_io(Interest::WRITABLE, |s| s.send_to(buf, target))
            .await
    }

    /// Receives one datagram and its sender, truncated to `buf` as
    /// [`recv`](Self::recv) does.
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

    /// Waits for a datagram and copies it into `buf` (truncated to it)
    /// without taking it off the socket: the next receive returns it
    /// again. Returns its length (as copied) and its sender.
    ///
    /// # Errors
    ///
    /// The receive failed (on a connected socket, e.g. `ConnectionRefused`
    /// from the ICMP error an earlier send drew), or the runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// let mut head = [0u8; 1];
    /// let (_, from) = s.peek_from(&mut head).await?;
    /// let mut whole = vec![0u8; if head[0] == b'L' { 65_507 } else { 512 }];
    /// let (n, again) = s.recv_from(&mut whole).await?; // the same datagram
    /// assert_eq!(from, again);
    /// # let _ = n;
    /// # Ok(()) }
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Interest::READABLE, |s| s.peek_from(buf))
            .await
    }

    /// Waits for a datagram from the connected peer and copies it into
    /// `buf` (truncated to it) without taking it off the socket: the next
    /// receive returns it again.
    ///
    /// # Errors
    ///
    /// The receive failed (e.g. `ConnectionRefused` from the ICMP error an
    /// earlier send drew), or the runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// let mut version = [0u8; 1];
    /// s.peek(&mut version).await?;
    /// # Ok(()) }
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.peek(buf)).await
    }

    /// Waits until a datagram (or an error: on a connected socket, the
    /// ICMP "port unreachable" an earlier send drew) is queued; then
    /// [`try_recv_from`](Self::try_recv_from) or [`try_recv`](Self::try_recv)
    /// takes it without waiting. Any number of tasks may wait at once;
    /// each is woken.
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
    /// # async fn demo() -> std::io::Result<()> {
    /// use eddy_io::net::UdpSocket;
    /// let a = UdpSocket::bind("127.0.0.1:0").await?;
    /// let b = UdpSocket::bind("127.0.0.1:0").await?;
    /// a.send_to(b"ping", b.local_addr()?).await?;
    /// let mut buf = [0u8; 64];
    /// let (n, from) = loop {
    ///     b.readable().await?;
    ///     match b.try_recv_from(&mut buf) {
    ///         Ok(got) => break got,
    ///         // The readiness was stale: wait again.
    ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
    ///         Err(e) => return Err(e),
    ///     }
    /// };
    /// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
    /// # Ok(()) }
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until the socket has room for a datagram (or an error is
    /// pending); then [`try_send_to`](Self::try_send_to) or
    /// [`try_send`](Self::try_send) sends without waiting. Any number of
    /// tasks may wait at once; each is woken.
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
    /// # async fn demo(s: &eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// let to = "127.0.0.1:9000".parse().unwrap();
    /// loop {
    ///     s.writable().await?;
    ///     match s.try_send_to(b"tick", to) {
    ///         Ok(_) => break,
    ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Sends one datagram to the connected peer if the socket has room
    /// now, without waiting; `WouldBlock` when it has none (which clears
    /// the write readiness: [`writable`](Self::writable) then waits for
    /// room). A task parked in a send on this socket stays registered.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, not connected, or the send's error (e.g.
    /// `ConnectionRefused` from an earlier datagram's ICMP error).
    /// Readiness comes from the reactor, so a socket that has not yet been
    /// through a turn of the loop (just bound or created) answers
    /// `WouldBlock` even if it could send: await
    /// [`writable`](Self::writable) first.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// match s.try_send(b"ping") {
    ///     Ok(n) => assert_eq!(n, 4), // a datagram goes whole or not at all
    ///     Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => println!("no room yet"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |s| s.send(buf))
    }

    /// Takes one datagram from the connected peer (truncated to `buf`) if
    /// one is queued now, without waiting; `WouldBlock` when none is
    /// (which clears the read readiness: [`readable`](Self::readable)
    /// then waits for the next datagram). A task parked in a receive on
    /// this socket stays registered.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the receive's error.
    /// Readiness comes from the reactor, so a socket that has not yet been
    /// through a turn of the loop answers `WouldBlock` even if a datagram
    /// is queued: await [`readable`](Self::readable) first.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// let mut buf = [0u8; 1500];
    /// while let Some(n) = match s.try_recv(&mut buf) {
    ///     Ok(n) => Some(n),
    ///     Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
    ///     Err(e) => return Err(e),
    /// } {
    ///     println!("{n} bytes");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |s| s.recv(buf))
    }

    /// Sends one datagram to `target` if the socket has room now, without
    /// waiting; `WouldBlock` when it has none (which clears the write
    /// readiness). A task parked in a send on this socket stays
    /// registered. `target` is a resolved `SocketAddr` (as in tokio): a
    /// host name would need a lookup, which cannot be done without waiting
    /// — resolve it first with [`lookup_host`](super::lookup_host).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the send's error.
    /// Readiness comes from the reactor, so a socket that has not yet been
    /// through a turn of the loop (just bound or created) answers
    /// `WouldBlock` even if it could send: await
    /// [`writable`](Self::writable) first.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// s.writable().await?;
    /// s.try_send_to(b"hello", "127.0.0.1:9000".parse().unwrap())?;
    /// # Ok(()) }
    /// ```
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_io(Interest::WRITABLE, |s| s.send_to(buf, target))
    }

    /// Takes one datagram (truncated to `buf`) and its sender if one is
    /// queued now, without waiting; `WouldBlock` when none is (which
    /// clears the read readiness). A task parked in a receive on this
    /// socket stays registered.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the receive's error.
    /// Readiness comes from the reactor, so a socket that has not yet been
    /// through a turn of the loop answers `WouldBlock` even if a datagram
    /// is queued: await [`readable`](Self::readable) first.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UdpSocket) -> std::io::Result<()> {
    /// let mut buf = [0u8; 1500];
    /// match s.try_recv_from(&mut buf) {
    ///     Ok((n, from)) => println!("{n} bytes from {from}"),
    ///     Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => println!("nothing yet"),
    ///     Err(e) => return Err(e),
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
