//! How [`StreamReader`] plugs into futures: the [`Lines`] stream and the
//! `AsyncRead` / `AsyncBufRead` impls.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use futures_io::{AsyncBufRead, AsyncRead};

use super::{StreamReader, MIN_READ};
use crate::io::ReadError;

/// The [`Stream`] returned by [`StreamReader::lines`].
///
/// # Example
///
/// ```
/// use futures::StreamExt;
///
/// eddy_core::run(async {
///     let mut reader = eddy_io::io::StreamReader::new(&b"x\ny\n"[..]);
///     let mut lines = reader.lines();
///     assert_eq!(lines.next().await.unwrap().unwrap(), b"x");
/// });
/// ```
#[derive(Debug)]
pub struct Lines<'a, R> {
    pub(super) reader: &'a mut StreamReader<R>,
}

impl<R: AsyncRead + Unpin> Stream for Lines<'_, R> {
    type Item = Result<Vec<u8>, ReadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let reader = &mut *self.get_mut().reader;
        let mut line = match ready!(reader.poll_line(cx)) {
            Ok(line) => line,
            Err(e) => return Poll::Ready(Some(Err(e))),
        };
        if line.is_empty() {
            return Poll::Ready(None);
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        Poll::Ready(Some(Ok(line)))
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for StreamReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if out.is_empty() {
            // The std / futures convention: a zero-length read returns 0 at
            // once. Waiting for data it has no room for would hang a caller
            // that computed an empty buffer, and it could not tell that 0
            // from end of file anyway.
            return Poll::Ready(Ok(0));
        }
        if this.buffered() == 0 && !this.eof {
            if out.len() >= MIN_READ {
                // Large reads skip the buffer.
                let n = ready!(Pin::new(&mut this.io).poll_read(cx, out))?;
                if n == 0 {
                    this.eof = true;
                }
                return Poll::Ready(Ok(n));
            }
            ready!(this.poll_fill(cx))?;
        }
        let n = out.len().min(this.buffered());
        out[..n].copy_from_slice(&this.buf[this.start..this.start + n]);
        this.consume_n(n);
        Poll::Ready(Ok(n))
    }
}

impl<R: AsyncRead + Unpin> AsyncBufRead for StreamReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.buffered() == 0 && !this.eof {
            ready!(this.poll_fill(cx))?;
        }
        Poll::Ready(Ok(&this.buf[this.start..this.end]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        let n = amt.min(this.buffered());
        this.consume_n(n);
    }
}
