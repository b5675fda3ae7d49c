//! The halves that `split()` borrows from a stream socket: [`ReadHalf`]
//! and [`WriteHalf`], usable at once in one task but not moved into others.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

#[cfg(doc)]
use super::OwnedWriteHalf;
use super::SplitStream;

/// The read half borrowed from a stream by `split()`.
///
/// # Example
///
/// ```
/// # async fn demo(mut stream: eddy_io::net::TcpStream) -> std::io::Result<()> {
/// use futures::io::AsyncReadExt;
/// let (mut r, _w) = stream.split();
/// let mut buf = [0u8; 16];
/// let n = r.read(&mut buf).await?;
/// # Ok(()) }
/// ```
pub struct ReadHalf<'a, S>(pub(crate) &'a S);

/// The write half borrowed from a stream by `split()`. Closing it
/// (`close()` from `AsyncWriteExt`) shuts the stream's write side down, as
/// closing the owned half or the stream does: the peer reads EOF, and a
/// peer already gone is not an error (see [`OwnedWriteHalf`]).
///
/// # Example
///
/// ```
/// # async fn demo(mut stream: eddy_io::net::TcpStream) -> std::io::Result<()> {
/// use futures::io::AsyncWriteExt;
/// let (_r, mut w) = stream.split();
/// w.write_all(b"hello").await?;
/// # Ok(()) }
/// ```
pub struct WriteHalf<'a, S>(pub(crate) &'a S);

impl<S: SplitStream> AsyncRead for ReadHalf<'_, S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_read_shared(cx, buf)
    }
    /// One `readv` into every buffer in order, as on the stream itself
    /// (see its `poll_read_vectored`). Cancel safe.
    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_read_vectored_shared(cx, bufs)
    }
}

impl<S: SplitStream> AsyncWrite for WriteHalf<'_, S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_shared(cx, buf)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_vectored_shared(cx, bufs)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.0.close_write())
    }
}

impl<S: fmt::Debug> fmt::Debug for ReadHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadHalf").field(self.0).finish()
    }
}

impl<S: fmt::Debug> fmt::Debug for WriteHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WriteHalf").field(self.0).finish()
    }
}
