//! [`UnixStream`]: a connected Unix-domain stream socket.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use super::addr::unix_socket_addr;
use super::split::stream_socket;
use crate::driver::poll_evented::PollEvented;
use crate::driver::Interest;

/// A Unix-domain stream socket registered with the loop's reactor. Like
/// [`TcpStream`](super::TcpStream): `AsyncRead`/`AsyncWrite` (with
/// vectored reads and writes), `split()`, `into_split()`.
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
    /// Connects to the socket at `path` (on Linux, `"\0name"` is the
    /// abstract socket `name`, as for
    /// [`UnixListener::bind`](super::UnixListener::bind)). If the
    /// listener's backlog is full
    /// it waits for room, as a blocking connect does (retrying after a
    /// pause of 1 ms doubling to 100 ms: the kernel signals no readiness
    /// for that), rather than failing with the `WouldBlock` a non-blocking
    /// connect gets there.
    ///
    /// # Errors
    ///
    /// The OS error, unchanged, so both its `kind()` and its
    /// `raw_os_error()` can be matched: no socket there (`NotFound`,
    /// `ENOENT`), nobody listening (`ConnectionRefused`, `ECONNREFUSED`),
    /// permission denied (`EACCES`). As with std's and asyncio's connect,
    /// the message does not name the path (an `io::Error` cannot carry
    /// both a message of its own and the errno); add it where the error is
    /// reported. A path too long for a socket address (107 bytes at most
    /// on Linux), which has no errno, is an `InvalidInput` error whose
    /// message names it.
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
    ///
    /// Telling the failures apart, and naming the path when reporting:
    ///
    /// ```
    /// # async fn demo() {
    /// use std::io::ErrorKind;
    /// let path = "/tmp/app.sock";
    /// match eddy_io::net::UnixStream::connect(path).await {
    ///     Ok(_stream) => {}
    ///     Err(e) if e.kind() == ErrorKind::NotFound => eprintln!("{path}: no server started"),
    ///     Err(e) => eprintln!("{path}: {e} (errno {:?})", e.raw_os_error()),
    /// }
    /// # }
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let addr = unix_socket_addr(path)?;
        let mut pause = BACKLOG_PAUSE_MIN;
        let sys = loop {
            match mio::net::UnixStream::connect_addr(&addr) {
                Ok(sys) => break sys,
                // Linux's EAGAIN for a Unix socket: the listener's backlog
                // is full (the socket is not connecting; nothing will
                // report when there is room), so try again later.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    crate::driver::offload::pause(pause).await;
                    pause = (pause * 2).min(BACKLOG_PAUSE_MAX);
                }
                // The OS error as it is: wrapping it to name the path
                // (io::Error::new) would keep its kind but lose
                // `raw_os_error()`, which callers match on.
                Err(e) => return Err(e),
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

    /// Waits until the socket can be read: bytes are queued, the peer
    /// shut its write side (reads return 0) or an error is pending. Then
    /// [`try_read`](Self::try_read) reads without waiting. Several tasks
    /// may wait at once; each is woken.
    ///
    /// # Errors
    ///
    /// Only once the runtime has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only waits, nothing is read.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo() -> std::io::Result<()> {
    /// let (a, b) = eddy_io::net::UnixStream::pair()?;
    /// a.writable().await?;
    /// a.try_write(b"hi")?;
    /// let mut got = [0u8; 8];
    /// loop {
    ///     b.readable().await?;
    ///     match b.try_read(&mut got) {
    ///         Ok(n) => break assert_eq!(&got[..n], b"hi"),
    ///         // The readiness was stale: wait again.
    ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until the socket has room to write (or an error is pending);
    /// then [`try_write`](Self::try_write) writes without waiting.
    ///
    /// # Errors
    ///
    /// Only once the runtime has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only waits, nothing is written.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &eddy_io::net::UnixStream) -> std::io::Result<()> {
    /// let mut rest: &[u8] = b"a message";
    /// while !rest.is_empty() {
    ///     s.writable().await?;
    ///     match s.try_write(rest) {
    ///         Ok(n) => rest = &rest[n..],
    ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Reads the bytes queued now into `buf` and returns how many (0: the
    /// peer shut its write side), without waiting. Fails with
    /// `WouldBlock` when nothing is queued; the waker of a task parked in
    /// a read of this socket is left in place.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when nothing can be read yet, or the read's error
    /// (e.g. `ConnectionReset`).
    /// Readiness comes from the reactor, so a socket that has not yet been
    /// through a turn of the loop (just connected, accepted or created)
    /// answers `WouldBlock` even if it could proceed: await
    /// [`readable`](Self::readable) first.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UnixStream) -> std::io::Result<()> {
    /// let mut buf = [0u8; 256];
    /// match s.try_read(&mut buf) {
    ///     Ok(0) => println!("the peer is done writing"),
    ///     Ok(n) => println!("read {n} bytes"),
    ///     Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => println!("nothing yet"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        use std::io::Read;
        self.io.try_io(Interest::READABLE, |s| (&*s).read(buf))
    }

    /// Writes as much of `buf` as the socket takes now and returns how
    /// many bytes that was, without waiting. Fails with `WouldBlock` when
    /// the socket's buffer is full; the waker of a task parked in a write
    /// of this socket is left in place.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when there is no room yet, or the write's error (e.g.
    /// `BrokenPipe` once the peer is gone).
    /// Readiness comes from the reactor, so a socket that has not yet been
    /// through a turn of the loop (just connected, accepted or created)
    /// answers `WouldBlock` even if it could proceed: await
    /// [`writable`](Self::writable) first.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(s: &eddy_io::net::UnixStream) -> std::io::Result<()> {
    /// let sent = match s.try_write(b"status?") {
    ///     Ok(n) => n,
    ///     Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
    ///     Err(e) => return Err(e),
    /// };
    /// # let _ = sent;
    /// # Ok(()) }
    /// ```
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        use std::io::Write;
        self.io.try_io(Interest::WRITABLE, |s| (&*s).write(buf))
    }

    /// Waits for bytes and copies them into `buf` without taking them off
    /// the socket: the next read returns them again. Returns 0 once the
    /// peer shut its write side and everything before was read.
    ///
    /// # Errors
    ///
    /// The read's error (e.g. `ConnectionReset`), or the runtime shut
    /// down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(s: &mut eddy_io::net::UnixStream) -> std::io::Result<()> {
    /// use futures::io::AsyncReadExt;
    /// let mut tag = [0u8; 1];
    /// s.peek(&mut tag).await?;
    /// let mut message = vec![0u8; if tag[0] == b'L' { 4096 } else { 64 }];
    /// let n = s.read(&mut message).await?; // the tag byte comes again
    /// # let _ = n;
    /// # Ok(()) }
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .async_io(Interest::READABLE, |s| peek(s.as_fd(), buf))
            .await
    }
}

/// `recv(MSG_PEEK)` on a non-blocking socket: std's `UnixStream::peek` is
/// not stable (nor is `UnixDatagram::peek`, which uses this too).
pub(super) fn peek(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the whole
    // call, recv writes at most that many, and `fd` is open while borrowed.
    let n = unsafe {
        libc::recv(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    // Negative (-1) only on failure, with the cause in errno.
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}
