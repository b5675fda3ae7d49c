//! [`UnixStream`]: a connected Unix-domain stream socket.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use super::split::stream_socket;
use crate::driver::poll_evented::PollEvented;
use crate::driver::Interest;

/// A Unix-domain stream socket registered with the loop's reactor. Like
/// [`TcpStream`](super::TcpStream): `AsyncRead`/`AsyncWrite`, `split()`,
/// `into_split()`.
///
/// # Example
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// let (mut a, mut b) = eddy_io::net::UnixStream::pair()?;
/// a.write_all(b"ping").await?;
/// let mut buf = [0u8; 4];
/// b.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # Ok(()) }
/// ```
pub struct UnixStream {
    pub(crate) io: PollEvented<mio::net::UnixStream>,
}

stream_socket!(UnixStream);

/// First and last pause of `connect` while the listener's backlog is full.
const BACKLOG_PAUSE_MIN: Duration = Duration::from_millis(1);
const BACKLOG_PAUSE_MAX: Duration = Duration::from_millis(100);

impl UnixStream {
    /// Connects to the socket at `path`. If the listener's backlog is full
    /// it waits for room, as a blocking connect does (retrying after a
    /// pause of 1 ms doubling to 100 ms: the kernel signals no readiness
    /// for that), rather than failing with the `WouldBlock` a non-blocking
    /// connect gets there.
    ///
    /// # Errors
    ///
    /// No socket there (`NotFound`), nobody listening (`ConnectionRefused`),
    /// permission denied.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it abandons the attempt.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// let s = eddy_io::net::UnixStream::connect("/tmp/app.sock").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let mut pause = BACKLOG_PAUSE_MIN;
        let sys = loop {
            match mio::net::UnixStream::connect(path) {
                Ok(sys) => break sys,
                // Linux's EAGAIN for a Unix socket: the listener's backlog
                // is full (the socket is not connecting; nothing will
                // report when there is room), so try again later.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    crate::driver::offload::pause(pause).await;
                    pause = (pause * 2).min(BACKLOG_PAUSE_MAX);
                }
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("could not connect to {}: {e}", path.display()),
                    ))
                }
            }
        };
        let stream = UnixStream::from_mio(sys)?;
        stream.io.ready(Interest::WRITABLE).await?;
        if let Some(e) = stream.io.get_ref().take_error()? {
            return Err(e);
        }
        Ok(stream)
    }

    /// A connected pair of sockets (`socketpair`).
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
    /// let (a, b) = eddy_io::net::UnixStream::pair()?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    #[track_caller]
    pub(crate) fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: PollEvented::new(stream)?,
        })
    }

    /// Wraps a connected std socket (switching it to non-blocking).
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
    /// # fn demo(s: std::os::unix::net::UnixStream) -> std::io::Result<()> {
    /// let s = eddy_io::net::UnixStream::from_std(s)?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    /// The local address (unnamed for a client or a pair).
    ///
    /// # Errors
    ///
    /// The OS could not report it.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UnixStream) -> std::io::Result<()> {
    /// println!("{:?}", s.local_addr()?);
    /// # Ok(()) }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// Not connected.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UnixStream) -> std::io::Result<()> {
    /// println!("{:?}", s.peer_addr()?);
    /// # Ok(()) }
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down one side or both (see [`TcpStream::shutdown`](super::TcpStream::shutdown)).
    ///
    /// # Errors
    ///
    /// Not connected.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UnixStream) -> std::io::Result<()> {
    /// s.shutdown(std::net::Shutdown::Write)?;
    /// # Ok(()) }
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}
