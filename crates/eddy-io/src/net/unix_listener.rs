//! [`UnixListener`]: accepting Unix-domain stream connections.

use std::fmt;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::addr::{unix_bind_error, unix_socket_addr};
use super::UnixStream;
use crate::driver::poll_evented::PollEvented;
use crate::driver::Interest;

/// A listening Unix-domain socket. The socket file stays after the
/// listener drops (as with std); remove it yourself, or use
/// [`start_unix_server`](crate::io::start_unix_server), which does.
///
/// # Example
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let listener = eddy_io::net::UnixListener::bind(dir.path().join("app.sock"))?;
/// let (stream, _addr) = listener.accept().await?;
/// # Ok(()) }
/// ```
pub struct UnixListener {
    pub(super) io: PollEvented<mio::net::UnixListener>,
}

impl UnixListener {
    /// Creates the socket file at `path` and listens on it. On Linux, a
    /// path that starts with a NUL byte (`"\0name"`) names an abstract
    /// socket instead, as with tokio and Python: no file is made, and the
    /// name is free again once the listener drops.
    ///
    /// # Errors
    ///
    /// The path exists (`AddrInUse`), its directory is missing or not
    /// writable, or it is too long for a socket address (`InvalidInput`;
    /// 107 bytes at most on Linux).
    ///
    /// # Panics
    ///
    /// Outside an eddy runtime.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo() -> std::io::Result<()> {
    /// let listener = eddy_io::net::UnixListener::bind("/tmp/app.sock")?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        let addr = unix_socket_addr(path)?;
        let sys = mio::net::UnixListener::bind_addr(&addr).map_err(|e| unix_bind_error(path, e))?;
        Ok(UnixListener {
            io: PollEvented::with_interest(sys, Interest::READABLE)?,
        })
    }

    /// Wraps a listening std socket (switching it to non-blocking).
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
    /// # fn demo(l: std::os::unix::net::UnixListener) -> std::io::Result<()> {
    /// let l = eddy_io::net::UnixListener::from_std(l)?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: PollEvented::with_interest(
                mio::net::UnixListener::from_std(listener),
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
    /// Accepting failed (`EMFILE`, ...).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a connection is only taken when this completes.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(l: eddy_io::net::UnixListener) -> std::io::Result<()> {
    /// let (stream, _) = l.accept().await?;
    /// # Ok(()) }
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = self.io.async_io(Interest::READABLE, |l| l.accept()).await?;
        Ok((UnixStream::from_mio(stream)?, addr))
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
    /// # async fn demo(l: eddy_io::net::UnixListener) -> std::io::Result<()> {
    /// let (s, _) = std::future::poll_fn(|cx| l.poll_accept(cx)).await?;
    /// # Ok(()) }
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        match self.io.poll_io(cx, Interest::READABLE, |l| l.accept()) {
            Poll::Ready(Ok((s, a))) => Poll::Ready(UnixStream::from_mio(s).map(|s| (s, a))),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// A `Stream` of accepted connections.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(l: eddy_io::net::UnixListener) {
    /// use futures::StreamExt;
    /// let first = l.incoming().next().await;
    /// # }
    /// ```
    pub fn incoming(&self) -> UnixIncoming<'_> {
        UnixIncoming { listener: self }
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
    /// # fn demo(l: &eddy_io::net::UnixListener) -> std::io::Result<()> {
    /// println!("{:?}", l.local_addr()?.as_pathname());
    /// # Ok(()) }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}

/// Accepted connections as a `Stream`, from [`UnixListener::incoming`].
/// It never ends; errors are items.
///
/// # Example
///
/// ```
/// # async fn demo(l: eddy_io::net::UnixListener) {
/// use futures::StreamExt;
/// let mut incoming = l.incoming();
/// while let Some(Ok(stream)) = incoming.next().await { drop(stream); }
/// # }
/// ```
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct UnixIncoming<'a> {
    listener: &'a UnixListener,
}

impl Stream for UnixIncoming<'_> {
    type Item = io::Result<UnixStream>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|r| Some(r.map(|(s, _)| s)))
    }
}
