//! The buffer behind [`StreamReader`]: consuming, making room, filling
//! from the stream, and finding separators within the limit.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::AsyncRead;

use super::{StreamReader, MIN_READ, SHRINK_ABOVE, SHRINK_TO};
use crate::io::ReadError;

impl<R: AsyncRead + Unpin> StreamReader<R> {
    pub(super) fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Removes and returns the first `n` buffered bytes.
    pub(super) fn take(&mut self, n: usize) -> Vec<u8> {
        let out = self.buf[self.start..self.start + n].to_vec();
        self.consume_n(n);
        out
    }

    pub(super) fn consume_n(&mut self, n: usize) {
        self.start += n;
        self.scanned = 0;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        self.maybe_shrink();
    }

    /// Gives memory back after a large read: a buffer over
    /// [`SHRINK_ABOVE`] whose unread bytes fill at most a quarter of it is
    /// replaced by one of twice their size (at least [`SHRINK_TO`]), the
    /// unread bytes first, in order. Two compares on the common path.
    fn maybe_shrink(&mut self) {
        let len = self.buf.len();
        if len <= SHRINK_ABOVE || self.buffered() > len / 4 {
            return;
        }
        let unread = self.buffered();
        let mut smaller = vec![0; (unread * 2).max(SHRINK_TO)];
        smaller[..unread].copy_from_slice(&self.buf[self.start..self.end]);
        self.buf = smaller;
        self.start = 0;
        self.end = unread;
    }

    /// Makes room for at least `extra` more bytes after `end`.
    pub(super) fn reserve(&mut self, extra: usize) {
        if self.buf.len() - self.end >= extra {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.buf.len() - self.end >= extra {
                return;
            }
        }
        let want = (self.end + extra).max(self.buf.len() * 2);
        self.buf.resize(want, 0);
    }

    /// One read from the stream into the buffer. `Ready(Ok(()))` means the
    /// buffer grew or end of file was reached.
    pub(super) fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.reserve(MIN_READ);
        let n = ready!(Pin::new(&mut self.io).poll_read(cx, &mut self.buf[self.end..]))?;
        if n == 0 {
            self.eof = true;
        }
        self.end += n;
        Poll::Ready(Ok(()))
    }

    /// Finds the end (exclusive) of the earliest-ending separator in the
    /// buffer, filling as needed. `Ok(None)` means end of file without one.
    pub(super) fn poll_until(
        &mut self,
        cx: &mut Context<'_>,
        separators: &[&[u8]],
    ) -> Poll<Result<Option<usize>, ReadError>> {
        let longest = separators.iter().map(|s| s.len()).max().unwrap_or(1);
        loop {
            let data = &self.buf[self.start..self.end];
            // Resume the scan where the last one stopped, stepping back so
            // a separator split across two reads is still found.
            let from = self.scanned.saturating_sub(longest - 1);
            let found = separators
                .iter()
                .filter_map(|sep| find(&data[from..], sep).map(|i| from + i + sep.len()))
                .min();
            if let Some(end) = found {
                if end > self.limit {
                    return Poll::Ready(Err(ReadError::LimitOverrun {
                        consumed: end,
                        limit: self.limit,
                    }));
                }
                return Poll::Ready(Ok(Some(end)));
            }
            self.scanned = data.len();
            // The last `longest - 1` bytes may be the start of a separator
            // whose rest has not arrived; the bytes before them cannot be
            // part of one. Only those count against the limit and are
            // offered for discarding (asyncio's readuntil does the same),
            // so dropping an overrun never cuts a separator in two.
            let settled = (data.len() + 1).saturating_sub(longest);
            if settled > self.limit {
                return Poll::Ready(Err(ReadError::LimitOverrun {
                    consumed: settled,
                    limit: self.limit,
                }));
            }
            if self.eof {
                return Poll::Ready(Ok(None));
            }
            ready!(self.poll_fill(cx))?;
        }
    }

    pub(super) fn poll_line(&mut self, cx: &mut Context<'_>) -> Poll<Result<Vec<u8>, ReadError>> {
        let end = ready!(self.poll_until(cx, &[b"\n"]))?.unwrap_or(self.buffered());
        Poll::Ready(Ok(self.take(end)))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() == 1 {
        return haystack.iter().position(|&b| b == needle[0]);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}
