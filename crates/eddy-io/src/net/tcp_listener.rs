//! [`TcpListener`]: accepting TCP connections, and [`TcpListenerBuilder`]
//! for the socket options that must be set before `listen`.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::addr::{bind_error, try_each, ToSocketAddrs};
use super::TcpStream;
use crate::driver::poll_evented::PollEvented;
use crate::driver::Interest;

/// A listening TCP socket.
///
/// # Example
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// let listener = eddy_io::net::TcpListener::bind("127.0.0.1:0").await?;
/// loop {
///     let (stream, peer) = listener.accept().await?;
///     eddy_core::spawn(async move {
///         // serve `stream`
///         # drop((stream, peer));
///     });
/// }
/// # }
/// ```
pub struct TcpListener {
    pub(super) io: PollEvented<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (the first of its addresses that works), with
    /// `SO_REUSEADDR` and a backlog of 1024. Port 0 picks a free port; see
    /// [`local_addr`](Self::local_addr).
    ///
    /// # Errors
    ///
    /// Address in use, permission denied, or resolution failed; a bind
    /// error names the address and says what to do.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// let listener = eddy_io::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # Ok(()) }
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        try_each(addr, |a| async move { TcpListener::builder(a).bind() }).await
    }

    /// A builder for backlog, `SO_REUSEADDR` and `SO_REUSEPORT`.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo() -> std::io::Result<()> {
    /// let listener = eddy_io::net::TcpListener::builder("127.0.0.1:0".parse().unwrap())
    ///     .backlog(4096)
    ///     .reuse_port(true)
    ///     .bind()?;
    /// # Ok(()) }
    /// ```
    pub fn builder(addr: SocketAddr) -> TcpListenerBuilder {
        TcpListenerBuilder {
            addr,
            backlog: 1024,
            reuse_address: true,
            reuse_port: false,
        }
    }

    /// Wraps a bound, listening std listener (switching it to non-blocking).
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
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let listener = eddy_io::net::TcpListener::from_std(std_listener)?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: PollEvented::with_interest(
                mio::net::TcpListener::from_std(listener),
                Interest::READABLE,
            )?,
        })
    }

    /// Waits for the next connection. Several tasks may accept on one
    /// listener at once (sharing it through an `Rc`): each is woken when
    /// connections arrive.
    ///
    /// # Errors
    ///
    /// Accepting failed: `EMFILE`/`ENFILE` (out of descriptors) and
    /// `ECONNABORTED` are worth retrying after a pause.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a connection is only taken from the kernel's queue when
    /// this future completes.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(listener: eddy_io::net::TcpListener) -> std::io::Result<()> {
    /// let (stream, peer) = listener.accept().await?;
    /// println!("connection from {peer}");
    /// # Ok(()) }
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self.io.async_io(Interest::READABLE, |l| l.accept()).await?;
        Ok((TcpStream::from_mio(stream)?, peer))
    }

    /// Poll form of [`accept`](Self::accept). Like every `poll_*` method it
    /// keeps one waker: if several tasks poll it, only the last is woken
    /// (the same holds for [`incoming`](Self::incoming)); tasks that
    /// accept concurrently should use `accept`.
    ///
    /// # Errors
    ///
    /// As [`accept`](Self::accept).
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(listener: eddy_io::net::TcpListener) -> std::io::Result<()> {
    /// let (stream, peer) = std::future::poll_fn(|cx| listener.poll_accept(cx)).await?;
    /// # Ok(()) }
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        match self.io.poll_io(cx, Interest::READABLE, |l| l.accept()) {
            Poll::Ready(Ok((stream, peer))) => {
                Poll::Ready(TcpStream::from_mio(stream).map(|s| (s, peer)))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// A `Stream` of accepted connections (without their addresses).
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(listener: eddy_io::net::TcpListener) -> std::io::Result<()> {
    /// use futures::StreamExt;
    /// let mut incoming = listener.incoming();
    /// while let Some(stream) = incoming.next().await {
    ///     let stream = stream?;
    ///     # drop(stream);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The bound address (with the port the OS picked for port 0).
    ///
    /// # Errors
    ///
    /// The OS could not report it.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// let listener = eddy_io::net::TcpListener::bind("127.0.0.1:0").await?;
    /// assert_ne!(listener.local_addr()?.port(), 0);
    /// # Ok(()) }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}

/// Accepted connections as a `Stream`, from [`TcpListener::incoming`].
/// It never ends; errors are items.
///
/// # Example
///
/// ```
/// # async fn demo(listener: eddy_io::net::TcpListener) {
/// use futures::StreamExt;
/// let first = listener.incoming().next().await;
/// # }
/// ```
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|r| Some(r.map(|(s, _)| s)))
    }
}

/// Socket options for a listener, set before `listen`; from
/// [`TcpListener::builder`].
///
/// # Example
///
/// ```
/// # fn demo() -> std::io::Result<()> {
/// let listener = eddy_io::net::TcpListener::builder("127.0.0.1:0".parse().unwrap())
///     .backlog(128)
///     .reuse_address(true)
///     .bind()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct TcpListenerBuilder {
    addr: SocketAddr,
    backlog: u32,
    reuse_address: bool,
    reuse_port: bool,
}

impl TcpListenerBuilder {
    /// The length of the queue of connections not yet accepted (default
    /// 1024; the kernel caps it at `net.core.somaxconn`).
    ///
    /// # Example
    ///
    /// ```
    /// let b = eddy_io::net::TcpListener::builder("127.0.0.1:0".parse().unwrap()).backlog(64);
    /// # let _ = b;
    /// ```
    pub fn backlog(mut self, n: u32) -> Self {
        self.backlog = n;
        self
    }

    /// `SO_REUSEADDR` (default on): rebind a port with connections in
    /// `TIME_WAIT`.
    ///
    /// # Example
    ///
    /// ```
    /// let b = eddy_io::net::TcpListener::builder("127.0.0.1:0".parse().unwrap()).reuse_address(false);
    /// # let _ = b;
    /// ```
    pub fn reuse_address(mut self, on: bool) -> Self {
        self.reuse_address = on;
        self
    }

    /// `SO_REUSEPORT` (default off): several listeners (one per loop
    /// thread) share a port and the kernel spreads connections.
    ///
    /// # Example
    ///
    /// ```
    /// let b = eddy_io::net::TcpListener::builder("127.0.0.1:0".parse().unwrap()).reuse_port(true);
    /// # let _ = b;
    /// ```
    pub fn reuse_port(mut self, on: bool) -> Self {
        self.reuse_port = on;
        self
    }

    /// Creates, binds and listens.
    ///
    /// # Errors
    ///
    /// Address in use, permission denied.
    ///
    /// # Panics
    ///
    /// Outside an eddy runtime.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo() -> std::io::Result<()> {
    /// let l = eddy_io::net::TcpListener::builder("127.0.0.1:0".parse().unwrap()).bind()?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn bind(self) -> io::Result<TcpListener> {
        use socket2::{Domain, Protocol, Socket, Type};
        let socket = Socket::new(
            Domain::for_address(self.addr),
            Type::STREAM.nonblocking().cloexec(),
            Some(Protocol::TCP),
        )?;
        socket.set_reuse_address(self.reuse_address)?;
        if self.reuse_port {
            socket.set_reuse_port(true)?;
        }
        socket
            .bind(&self.addr.into())
            .map_err(|e| bind_error(self.addr, e))?;
        socket.listen(self.backlog.min(i32::MAX as u32) as i32)?;
        TcpListener::from_std(socket.into())
    }
}
