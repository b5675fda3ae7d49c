//! The halves that `into_split()` makes of a stream socket:
//! [`OwnedReadHalf`] and [`OwnedWriteHalf`], which share the stream
//! through an `Arc` and can move to different tasks. Dropping or closing
//! the write half shuts the stream's write side down.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::SplitStream;
#[cfg(doc)]
use super::WriteHalf;

/// The read half owned after `into_split()`; can move to another task.
///
/// # Example
///
/// ```
/// # async fn demo(stream: eddy_io::net::TcpStream) -> std::io::Result<()> {
/// use futures::io::AsyncReadExt;
/// let (mut r, _w) = stream.into_split();
/// let reader = eddy_core::spawn(async move {
///     let mut all = Vec::new();
///     r.read_to_end(&mut all).await.map(|_| all)
/// });
/// # Ok(()) }
/// ```
pub struct OwnedReadHalf<S> {
    pub(super) stream: Arc<S>,
}

/// The write half owned after `into_split()`. Closing it (`close()` from
/// `AsyncWriteExt`, or dropping it) shuts the write side down, so the peer
/// reads EOF while this side can still read.
///
/// `close()` returns `Ok` also when the peer is already gone (it reset the
/// connection, or both sides were shut): the write side is shut either
/// way, and there is nothing the caller could do about it. Closing the
/// stream, `&stream` or a [`WriteHalf`] answers the same; only the
/// explicit `shutdown(Shutdown::Write)` reports that case as
/// `NotConnected`.
///
/// # Example
///
/// ```
/// # async fn demo(stream: eddy_io::net::TcpStream) -> std::io::Result<()> {
/// use futures::io::AsyncWriteExt;
/// let (_r, mut w) = stream.into_split();
/// w.write_all(b"bye").await?;
/// w.close().await?; // the peer now reads EOF
/// # Ok(()) }
/// ```
pub struct OwnedWriteHalf<S: SplitStream> {
    pub(super) stream: Arc<S>,
    pub(super) shut_down: bool,
}

pub(crate) fn split_owned<S: SplitStream>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let stream = Arc::new(stream);
    (
        OwnedReadHalf {
            stream: stream.clone(),
        },
        OwnedWriteHalf {
            stream,
            shut_down: false,
        },
    )
}

/// The stream both halves share, e.g. for its addresses.
///
/// ```
/// # fn demo(stream: eddy_io::net::TcpStream) -> std::io::Result<()> {
/// let (r, _w) = stream.into_split();
/// let peer = r.as_ref().peer_addr()?;
/// # Ok(()) }
/// ```
impl<S> AsRef<S> for OwnedReadHalf<S> {
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

impl<S: SplitStream> AsRef<S> for OwnedWriteHalf<S> {
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

impl<S: SplitStream> OwnedWriteHalf<S> {
    /// A link to the stream that does not keep it open (a socket's
    /// `StreamWriter` finds its socket through it).
    pub(crate) fn downgrade(&self) -> std::sync::Weak<S> {
        Arc::downgrade(&self.stream)
    }
}

impl<S: SplitStream> AsyncRead for OwnedReadHalf<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_shared(cx, buf)
    }
    /// One `readv` into every buffer in order, as on the stream itself
    /// (see its `poll_read_vectored`). Cancel safe.
    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_vectored_shared(cx, bufs)
    }
}

impl<S: SplitStream> AsyncWrite for OwnedWriteHalf<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_shared(cx, buf)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_vectored_shared(cx, bufs)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.shut_down {
            return Poll::Ready(Ok(()));
        }
        self.shut_down = true;
        Poll::Ready(self.stream.close_write())
    }
}

/// A `StreamWriter`'s abort closes the socket without the orderly
/// shutdown of this half's `Drop` (see `io::read_end`).
impl<S: SplitStream> crate::io::read_end::SkipShutdown for OwnedWriteHalf<S> {
    fn skip_shutdown(&mut self) {
        self.shut_down = true;
    }
}

impl<S: SplitStream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if !self.shut_down {
            let _ = self.stream.close_write();
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for OwnedReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedReadHalf").field(&self.stream).finish()
    }
}

impl<S: SplitStream + fmt::Debug> fmt::Debug for OwnedWriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf").field(&self.stream).finish()
    }
}
