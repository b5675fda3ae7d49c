//! Back-pressure on a [`StreamWriter`]: waiting for the buffer to drain
//! (`drain`, `flush`), how much is buffered, and the water marks.

use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use futures_io::AsyncWrite;

use super::{kick, Flusher, StreamWriter};
use crate::io::WriteError;

impl<W: AsyncWrite + Unpin + 'static> StreamWriter<W> {
    /// Waits for the write buffer to drain enough: returns at once while at
    /// most the high-water mark is buffered; above it, waits until the
    /// buffer falls to the low-water mark.
    ///
    /// # Errors
    ///
    /// * [`WriteError::Io`] if writing failed (the connection is unusable).
    /// * [`WriteError::Aborted`] if the writer was aborted, before or
    ///   while waiting ([`abort`](Self::abort), or the server's
    ///   `abort_clients`): what was buffered was thrown away, as asyncio's
    ///   `drain` raises `ConnectionResetError` then.
    ///
    /// After a graceful [`close`](Self::close) has finished, everything
    /// written was sent, so `drain` returns `Ok` (asyncio would raise
    /// `ConnectionResetError` even then).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it loses no data; the flusher keeps sending
    /// the buffer in the background.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut writer = eddy_io::io::StreamWriter::new(futures::io::Cursor::new(Vec::new()));
    ///     writer.write(&[0; 100_000]).unwrap();
    ///     writer.drain().await.unwrap();
    ///     assert!(writer.buffered_len() <= 16 * 1024);
    /// });
    /// ```
    pub async fn drain(&mut self) -> Result<(), WriteError> {
        let mut waiting = false;
        poll_fn(|cx| self.poll_drain(cx, &mut waiting, false)).await
    }

    /// Like [`drain`](Self::drain) but waits for an empty buffer
    /// (everything handed to the stream).
    ///
    /// # Errors
    ///
    /// As [`drain`](Self::drain): [`WriteError::Io`] if writing failed,
    /// [`WriteError::Aborted`] if the writer was aborted.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as `drain`.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut writer = eddy_io::io::StreamWriter::new(futures::io::sink());
    ///     writer.write(b"x").unwrap();
    ///     writer.flush().await.unwrap();
    ///     assert_eq!(writer.buffered_len(), 0);
    /// });
    /// ```
    pub async fn flush(&mut self) -> Result<(), WriteError> {
        let mut waiting = true;
        poll_fn(|cx| self.poll_drain(cx, &mut waiting, true)).await
    }

    pub(super) fn poll_drain(
        &mut self,
        cx: &mut Context<'_>,
        waiting: &mut bool,
        to_empty: bool,
    ) -> Poll<Result<(), WriteError>> {
        let mut s = self.shared.borrow_mut();
        if let Some(e) = s.error() {
            return Poll::Ready(Err(e));
        }
        let direct = matches!(s.flusher, Flusher::Idle | Flusher::NotSpawned);
        if direct && !s.settled() && s.poll_write_buf(cx).is_pending() {
            // The stream is full: hand over to the flusher, which
            // re-registers its own waker with the stream.
            drop(s);
            kick(&self.shared);
            s = self.shared.borrow_mut();
        }
        if let Some(e) = s.error() {
            return Poll::Ready(Err(e));
        }
        if !*waiting && s.buffered() <= s.high {
            return Poll::Ready(Ok(()));
        }
        *waiting = true;
        let enough = if to_empty {
            s.settled()
        } else {
            s.buffered() <= s.low
        };
        if enough || s.done() {
            return Poll::Ready(Ok(()));
        }
        s.waiter = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Bytes buffered and not yet handed to the stream (asyncio's
    /// `transport.get_write_buffer_size()`).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(eddy_io::io::StreamWriter::new(futures::io::sink()).buffered_len(), 0);
    /// ```
    pub fn buffered_len(&self) -> usize {
        self.shared.borrow().buffered()
    }

    /// Sets the water marks: `drain` waits while more than `high` bytes are
    /// buffered, until at most `low` are (default `high / 4`).
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `low > high`; the marks are unchanged.
    ///
    /// # Example
    ///
    /// ```
    /// let mut writer = eddy_io::io::StreamWriter::new(futures::io::sink());
    /// writer.set_write_buffer_limits(1000, None).unwrap();
    /// assert_eq!(writer.write_buffer_limits(), (250, 1000));
    /// assert!(writer.set_write_buffer_limits(10, Some(20)).is_err());
    /// ```
    pub fn set_write_buffer_limits(&mut self, high: usize, low: Option<usize>) -> io::Result<()> {
        let low = low.unwrap_or(high / 4);
        if low > high {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("low-water mark {low} is above high-water mark {high}; pass low <= high"),
            ));
        }
        let mut s = self.shared.borrow_mut();
        s.high = high;
        s.low = low;
        Ok(())
    }

    /// The `(low, high)` water marks (asyncio's
    /// `get_write_buffer_limits()`).
    ///
    /// # Example
    ///
    /// ```
    /// let writer = eddy_io::io::StreamWriter::new(futures::io::sink());
    /// assert_eq!(writer.write_buffer_limits(), (16384, 65536));
    /// ```
    pub fn write_buffer_limits(&self) -> (usize, usize) {
        let s = self.shared.borrow();
        (s.low, s.high)
    }
}
