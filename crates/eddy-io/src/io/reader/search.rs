//! The buffer behind [`StreamReader`]: consuming, making room, filling
//! from the stream, and finding separators within the limit.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::AsyncRead;
use memchr::memmem;

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
    ///
    /// The scan resumes where the last one stopped, also across calls (a
    /// cancelled read re-issued in a loop does not rescan the whole
    /// buffer), as long as the separators are the ones that scan looked
    /// for: bytes already searched for `"AB"` may still hold an `"X"`.
    pub(super) fn poll_until(
        &mut self,
        cx: &mut Context<'_>,
        separators: &[&[u8]],
    ) -> Poll<Result<Option<usize>, ReadError>> {
        if !self.search.is_for(separators) {
            self.search.set(separators);
            self.scanned = 0;
        }
        let longest = self.search.longest;
        loop {
            let data = &self.buf[self.start..self.end];
            debug_assert!(self.scanned <= data.len(), "scan offset past the buffer");
            // Step back from where the last scan stopped so a separator
            // split across two reads is still found.
            let from = self.scanned.saturating_sub(longest - 1);
            if let Some((end, sep_len)) = self
                .search
                .earliest_end(&data[from..])
                .map(|(e, len)| (from + e, len))
            {
                // As asyncio's readuntil: only the bytes before the
                // separator count against the limit.
                if end - sep_len > self.limit {
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

/// The separator set of the last separator read, ready to search with:
/// what `StreamReader::scanned` counts bytes searched for.
pub(super) struct Search {
    /// The separators, in the caller's order.
    seps: Vec<Sep>,
    /// The longest separator's length (0 before the first search).
    longest: usize,
}

/// One separator: a byte (searched with `memchr`) or a longer needle with
/// its `memmem` searcher, built once per separator set (boxed: a searcher
/// is a few hundred bytes).
enum Sep {
    Byte(u8),
    Bytes(Box<memmem::Finder<'static>>),
}

impl Sep {
    fn needle(&self) -> &[u8] {
        match self {
            Sep::Byte(b) => std::slice::from_ref(b),
            Sep::Bytes(f) => f.needle(),
        }
    }

    /// Where the first match in `hay` starts.
    fn find(&self, hay: &[u8]) -> Option<usize> {
        match self {
            Sep::Byte(b) => memchr::memchr(*b, hay),
            Sep::Bytes(f) => f.find(hay),
        }
    }
}

impl Search {
    /// No separators yet: matches no call, so the first one sets it.
    pub(super) const EMPTY: Search = Search {
        seps: Vec::new(),
        longest: 0,
    };

    /// Whether this is the search for exactly `separators` (same ones, same
    /// order): a comparison of a few short slices.
    fn is_for(&self, separators: &[&[u8]]) -> bool {
        self.seps.len() == separators.len()
            && self
                .seps
                .iter()
                .zip(separators)
                .all(|(s, sep)| s.needle() == *sep)
    }

    /// Makes this the search for `separators`, keeping the list's memory
    /// (switching between one-byte separators allocates nothing).
    fn set(&mut self, separators: &[&[u8]]) {
        self.seps.clear();
        self.seps.extend(separators.iter().map(|sep| match sep {
            [b] => Sep::Byte(*b),
            _ => Sep::Bytes(Box::new(memmem::Finder::new(sep).into_owned())),
        }));
        self.longest = separators.iter().map(|s| s.len()).max().unwrap_or(1);
    }

    /// The end (exclusive) of the earliest-ending separator in `hay`.
    fn earliest_end(&self, hay: &[u8]) -> Option<(usize, usize)> {
        match self.seps.as_slice() {
            [one] => {
                let len = one.needle().len();
                return one.find(hay).map(|i| (i + len, len));
            }
            [Sep::Byte(a), Sep::Byte(b)] => {
                return memchr::memchr2(*a, *b, hay).map(|i| (i + 1, 1))
            }
            [Sep::Byte(a), Sep::Byte(b), Sep::Byte(c)] => {
                return memchr::memchr3(*a, *b, *c, hay).map(|i| (i + 1, 1))
            }
            _ => {}
        }
        // A separator can only win by ending before the best end so far,
        // so each search looks no further than that. On a tie the one
        // listed first keeps it, as in asyncio's readuntil; its length
        // says where the data before it ends (what the limit counts).
        let mut best: Option<(usize, usize)> = None;
        for sep in &self.seps {
            let bound = best.map_or(hay.len(), |(end, _)| end);
            if let Some(i) = sep.find(&hay[..bound]) {
                let len = sep.needle().len();
                let end = i + len;
                if best.is_none_or(|(b, _)| end < b) {
                    best = Some((end, len));
                }
            }
        }
        best
    }
}
