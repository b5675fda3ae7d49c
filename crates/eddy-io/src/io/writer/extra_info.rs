//! What asyncio's `get_extra_info` gives on a transport, for a
//! [`StreamWriter`]: the peer's and the local address, and the socket.

use std::net::SocketAddr;

use futures_io::AsyncWrite;

use super::StreamWriter;
#[cfg(feature = "net")]
use super::{SocketLink, TransportSocket};

impl<W: AsyncWrite + Unpin + 'static> StreamWriter<W> {
    /// Records the peer's address (what [`peer_addr`](Self::peer_addr)
    /// returns).
    ///
    /// # Example
    ///
    /// ```
    /// let addr = "127.0.0.1:80".parse().unwrap();
    /// let writer = eddy_io::io::StreamWriter::new(futures::io::sink()).with_peer_addr(addr);
    /// assert_eq!(writer.peer_addr(), Some(addr));
    /// ```
    pub fn with_peer_addr(mut self, addr: SocketAddr) -> StreamWriter<W> {
        self.peer = Some(addr);
        self
    }

    /// The remote address for TCP writers; `None` for other streams
    /// (asyncio's `get_extra_info("peername")`).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(eddy_io::io::StreamWriter::new(futures::io::sink()).peer_addr(), None);
    /// ```
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The local address of a TCP writer's socket (asyncio's
    /// `get_extra_info("sockname")`); `None` for other streams. For a
    /// Unix socket, ask its [`socket`](Self::socket):
    /// `socket2::SockRef::from(&socket).local_addr()`.
    ///
    /// The address is read from the socket the first time, then kept: ask
    /// before the connection is closed (after that, a first call answers
    /// `None`).
    ///
    /// # Example
    ///
    /// ```
    /// # let driver = eddy_io::driver::IoDriver::new()?;
    /// # let _io = driver.handle().enter();
    /// # let rt = eddy_core::Builder::new().build_with_driver(Box::new(driver))?;
    /// # rt.block_on(async {
    /// let server = eddy_io::io::start_server("127.0.0.1:0", |_r, _w| async {}).await?;
    /// let (_reader, writer) = eddy_io::io::open_connection(server.local_addr().unwrap()).await?;
    /// let local = writer.local_addr().expect("a TCP writer");
    /// assert_eq!(local.ip(), std::net::Ipv4Addr::LOCALHOST);
    /// assert_ne!(Some(local), writer.peer_addr());
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> Option<SocketAddr> {
        if let Some(addr) = self.local.get() {
            return Some(addr);
        }
        #[cfg(feature = "net")]
        {
            let addr = self.socket()?.tcp_local_addr()?;
            self.local.set(Some(addr));
            Some(addr)
        }
        #[cfg(not(feature = "net"))]
        None
    }

    /// The socket under a writer made by
    /// [`open_connection`](crate::io::open_connection),
    /// [`start_server`](crate::io::start_server) or their Unix forms
    /// (asyncio's `get_extra_info("socket")`), for socket options and
    /// queries through `socket2::SockRef` (`TCP_NODELAY`, keep-alive,
    /// buffer sizes, `SO_PEERCRED`, ...). `None` for a writer over
    /// anything else, and once the socket is closed (the writer closed or
    /// aborted, and its reader gone too).
    ///
    /// It is an owned handle, not a borrow: the writer does not own its
    /// socket for its whole life (an abort, also one from the server,
    /// closes it under the writer), so a reference tied to the writer
    /// could outlive the descriptor. The handle keeps the descriptor open
    /// while it lives; drop it once the options are set (see
    /// [`TransportSocket`]).
    ///
    /// # Example
    ///
    /// ```
    /// # let driver = eddy_io::driver::IoDriver::new()?;
    /// # let _io = driver.handle().enter();
    /// # let rt = eddy_core::Builder::new().build_with_driver(Box::new(driver))?;
    /// # rt.block_on(async {
    /// let server = eddy_io::io::start_server("127.0.0.1:0", |_r, _w| async {}).await?;
    /// let (_reader, writer) = eddy_io::io::open_connection(server.local_addr().unwrap()).await?;
    /// if let Some(socket) = writer.socket() {
    ///     let sock = socket2::SockRef::from(&socket);
    ///     sock.set_send_buffer_size(256 * 1024)?;
    ///     assert!(sock.tcp_nodelay()?); // open_connection turns Nagle off
    /// }
    /// assert!(eddy_io::io::StreamWriter::new(futures::io::sink()).socket().is_none());
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "net")]
    pub fn socket(&self) -> Option<TransportSocket> {
        self.socket.as_ref()?.upgrade()
    }

    /// Records the socket under a socket form's writer.
    #[cfg(feature = "net")]
    pub(crate) fn set_socket(&mut self, link: SocketLink) {
        self.socket = Some(link);
    }
}
