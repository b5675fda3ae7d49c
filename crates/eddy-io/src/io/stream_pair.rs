//! [`stream_pair`]: asyncio's reader/writer pair over any duplex byte
//! stream (a TLS stream, a `UnixStream` pair, an in-memory pipe), linked
//! the way `open_connection`'s pair is.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::io::{AsyncReadExt, WriteHalf};

use super::read_end::{end_on_close, SkipShutdown};
use super::{BoxedReader, BoxedWriter, StreamReader, StreamWriter};

/// Splits a duplex stream into a [`StreamReader`] and a [`StreamWriter`]
/// that behave like the pair [`open_connection`](crate::io::open_connection)
/// returns: the writer's [`close`](StreamWriter::close) makes the reader
/// report end of stream at once and wakes a task waiting on it (the writer
/// goes on to send its buffer and close the stream), and
/// [`abort`](StreamWriter::abort) drops the
/// read half at once, so the stream itself is dropped as soon as the writer
/// lets go of it (for TLS: no close_notify, the socket closes). What the
/// reader had buffered stays readable. Dropping the writer without closing
/// it ends nothing (a half-close).
///
/// Use it for streams eddy does not make itself, where boxing the halves
/// by hand (`StreamReader::new(Box::new(r))`) would leave the two
/// unconnected: a reader then waits until the peer closes, even after
/// this side closed its writer. The halves share the stream through
/// futures' `split` (a lock that is never contended on one loop thread).
/// No peer address is known: add one with
/// [`with_peer_addr`](StreamWriter::with_peer_addr).
///
/// # Example
///
/// ```
/// # let driver = eddy_io::driver::IoDriver::new()?;
/// # let _io = driver.handle().enter();
/// # let rt = eddy_core::Builder::new().build_with_driver(Box::new(driver))?;
/// # rt.block_on(async {
/// let (ours, theirs) = eddy_io::net::UnixStream::pair()?;
/// // As if `ours` were a TLS stream wrapped around a socket.
/// let (mut reader, mut writer) = eddy_io::io::stream_pair(ours);
/// let (_their_reader, mut their_writer) = eddy_io::io::stream_pair(theirs);
/// their_writer.write(b"hello\n")?;
/// assert_eq!(reader.read_line().await?, b"hello\n");
/// // Closing our writer ends our reader too, although the peer is still open.
/// writer.close();
/// writer.wait_closed().await;
/// assert!(reader.read(100).await?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn stream_pair<S>(stream: S) -> (StreamReader, StreamWriter)
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let (read, write) = stream.split();
    linked_pair(read, Unshared(write))
}

/// The stream pair over halves of one stream: the writer ends the reader
/// (see `io::read_end`). Used by [`stream_pair`] and the socket forms.
pub(crate) fn linked_pair<R, W>(read: R, write: W) -> (StreamReader, StreamWriter)
where
    R: AsyncRead + Unpin + 'static,
    W: AsyncWrite + SkipShutdown + Unpin + 'static,
{
    let (read, write, end) = end_on_close(read, write);
    let mut writer = StreamWriter::new(Box::new(write) as BoxedWriter);
    writer.set_read_end(end);
    (StreamReader::new(Box::new(read) as BoxedReader), writer)
}

/// The write half of a `split` stream. Dropping it shuts nothing down
/// (the stream goes when both halves are gone), so an abort has nothing
/// to skip.
struct Unshared<S>(WriteHalf<S>);

impl<S> SkipShutdown for Unshared<S> {
    fn skip_shutdown(&mut self) {}
}

impl<S: AsyncWrite> AsyncWrite for Unshared<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}
