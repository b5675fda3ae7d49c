//! [`StreamReader`]: asyncio's `StreamReader` over any `AsyncRead`.
//!
//! The reader owns one growable buffer. Every read method works in two
//! steps: (1) look at what is buffered, (2) if that is not enough, read more
//! from the stream *into the buffer*. Bytes only leave the buffer when a
//! method returns them, so dropping any of the futures below loses nothing:
//! whatever was read from the stream is still buffered for the next call.

use std::future::poll_fn;
use std::io;
use std::task::{ready, Poll};

use futures_io::AsyncRead;

use super::ReadError;

mod adapters;
mod search;
#[cfg(test)]
mod tests;

pub use adapters::Lines;

/// The read half type behind a socket-backed [`StreamReader`] (what
/// [`open_connection`](super::open_connection) and servers hand out).
/// Box any reader into it to hand a test double, a file or a pipe to code
/// written for socket readers.
///
/// # Example
///
/// ```
/// use eddy_io::io::{BoxedReader, StreamReader};
///
/// eddy_core::run(async {
///     let boxed: BoxedReader = Box::new(&b"PING\r\n"[..]);
///     let mut reader: StreamReader = StreamReader::new(boxed);
///     assert_eq!(reader.read_line().await.unwrap(), b"PING\r\n");
/// });
/// ```
pub type BoxedReader = Box<dyn AsyncRead + Unpin>;

/// The default for [`StreamReader::limit`]: 64 KiB, as in asyncio. A
/// separator read (`read_line`, `read_until`) that meets more than this
/// many bytes before the separator fails with
/// [`ReadError::LimitOverrun`] instead of buffering without end; choose
/// another limit with [`StreamReader::with_limit`].
///
/// # Example
///
/// ```
/// use eddy_io::io::{StreamReader, DEFAULT_LIMIT};
///
/// let reader = StreamReader::new(&b""[..]);
/// assert_eq!(reader.limit(), DEFAULT_LIMIT);
/// let roomy = StreamReader::with_limit(&b""[..], 4 * DEFAULT_LIMIT);
/// assert_eq!(roomy.limit(), 256 * 1024);
/// ```
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// How much free space a fill asks the stream to fill at least.
const MIN_READ: usize = 8 * 1024;

/// The most [`StreamReader::read_exactly`] reserves ahead of the data;
/// beyond it the buffer grows (doubling) as bytes arrive.
const MAX_PRE_RESERVE: usize = DEFAULT_LIMIT;

/// A buffer at most this large is kept as it is; a larger one gives memory
/// back once little of it is in use (see "Memory" on [`StreamReader`]).
/// Reads of messages up to about the default limit stay below it, so the
/// common path never shrinks and regrows.
const SHRINK_ABOVE: usize = 2 * DEFAULT_LIMIT;

/// The smallest size a buffer shrinks to: room for what is left plus a
/// whole [`MIN_READ`], so the next fill does not grow it again at once.
const SHRINK_TO: usize = 2 * MIN_READ;

/// asyncio's `StreamReader`: buffered reads of lines, separators, exact
/// sizes or everything, over any [`AsyncRead`].
///
/// Separator reads (`read_line`, `read_until`, `read_until_any`, `lines`)
/// stop at the reader's [`limit`](Self::limit) (64 KiB unless set), so a
/// peer cannot make the buffer grow without bound; over the limit they
/// return [`ReadError::LimitOverrun`] and leave the data buffered. As in
/// asyncio, the limit counts the bytes before the separator: with a limit
/// of 4, `"abcd\n"` is read whole and `"abcde\n"` overruns.
///
/// It also implements [`AsyncRead`] and
/// [`AsyncBufRead`](futures_io::AsyncBufRead), so `futures::io` combinators
/// work on it. As with `std::io::Read`, a `poll_read` into an empty buffer
/// (like [`read(0)`](Self::read)) returns 0 at once, without waiting for or
/// consuming data.
///
/// # Memory
///
/// The buffer grows to hold what a read needs (a long line under a raised
/// limit, a large [`read_exactly`](Self::read_exactly)). It does not keep
/// that size for the life of the connection: when bytes are consumed and
/// the buffer is over 128 KiB while the bytes still unread fill at most a
/// quarter of it, the unread bytes move to a new buffer of twice their
/// size (at least 16 KiB) and the large one is freed. A buffer of 128 KiB
/// or less is never shrunk, so a stream of ordinary messages reuses one
/// buffer without reallocating.
///
/// # Example
///
/// ```
/// use eddy_io::io::StreamReader;
///
/// eddy_core::run(async {
///     let mut reader = StreamReader::new(&b"HELLO\r\nbody"[..]);
///     assert_eq!(reader.read_line().await.unwrap(), b"HELLO\r\n");
///     assert_eq!(reader.read_exactly(4).await.unwrap(), b"body");
///     assert!(reader.read(100).await.unwrap().is_empty()); // end of file
///     assert!(reader.at_eof());
/// });
/// ```
pub struct StreamReader<R = BoxedReader> {
    io: R,
    /// `buf[start..end]` holds unread bytes; `buf[end..]` is free space.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The stream returned 0 bytes (end of file).
    eof: bool,
    /// Bytes of `buf[start..]` already searched for `search`'s separators
    /// without a match; lets a separator read resume where it stopped,
    /// also when a cancelled read is re-issued. An offset from `start`, so
    /// moving the unread bytes (making room, shrinking) keeps it valid;
    /// reset by every consume and whenever the separators change.
    scanned: usize,
    /// The separators `scanned` counts for (those of the last separator
    /// read), with their searchers.
    search: search::Search,
    limit: usize,
}

impl<R: AsyncRead + Unpin> StreamReader<R> {
    /// Wraps `io` with the default limit (64 KiB).
    ///
    /// # Example
    ///
    /// ```
    /// let reader = eddy_io::io::StreamReader::new(&b""[..]);
    /// assert_eq!(reader.limit(), 64 * 1024);
    /// ```
    pub fn new(io: R) -> StreamReader<R> {
        StreamReader::with_limit(io, DEFAULT_LIMIT)
    }

    /// Wraps `io` with the given separator-read `limit` (at least 1).
    ///
    /// # Example
    ///
    /// ```
    /// let reader = eddy_io::io::StreamReader::with_limit(&b""[..], 1024);
    /// assert_eq!(reader.limit(), 1024);
    /// ```
    pub fn with_limit(io: R, limit: usize) -> StreamReader<R> {
        StreamReader {
            io,
            buf: Vec::new(),
            start: 0,
            end: 0,
            eof: false,
            scanned: 0,
            search: search::Search::EMPTY,
            limit: limit.max(1),
        }
    }

    /// Reads up to `n` bytes: what is buffered, or else one read from the
    /// stream. Returns at least one byte unless `n == 0` or the stream is at
    /// end of file (then the result is empty). `read(0)` returns at once,
    /// whether or not data is available.
    ///
    /// # Errors
    ///
    /// The stream's read failed (its error, unchanged). Buffered bytes are
    /// kept, so a retry after a transient error (`Interrupted`) loses
    /// nothing.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: bytes read from the stream before the future is dropped
    /// stay buffered for the next call.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut reader = eddy_io::io::StreamReader::new(&b"abc"[..]);
    ///     assert_eq!(reader.read(2).await.unwrap(), b"ab");
    ///     assert_eq!(reader.read(10).await.unwrap(), b"c");
    ///     assert!(reader.read(10).await.unwrap().is_empty());
    /// });
    /// ```
    pub async fn read(&mut self, n: usize) -> io::Result<Vec<u8>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        poll_fn(|cx| {
            if self.buffered() == 0 && !self.eof {
                ready!(self.poll_fill(cx))?;
            }
            let take = n.min(self.buffered());
            Poll::Ready(Ok(self.take(take)))
        })
        .await
    }

    /// Reads until end of file and returns everything (including what was
    /// already buffered). Not bounded by the limit.
    ///
    /// # Errors
    ///
    /// The stream's read failed (its error, unchanged). What was read
    /// before the failure stays buffered for the next call.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: everything read so far stays buffered.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut reader = eddy_io::io::StreamReader::new(&b"all of it"[..]);
    ///     assert_eq!(reader.read_to_end().await.unwrap(), b"all of it");
    ///     assert!(reader.at_eof());
    /// });
    /// ```
    pub async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        poll_fn(|cx| {
            while !self.eof {
                ready!(self.poll_fill(cx))?;
            }
            let all = self.buffered();
            Poll::Ready(Ok(self.take(all)))
        })
        .await
    }

    /// Reads exactly `n` bytes. At end of file before `n` bytes, returns
    /// [`ReadError::IncompleteRead`] with the bytes that did arrive (they
    /// are consumed). Memory grows with the bytes received, not with `n`,
    /// so a length taken from the peer cannot make it allocate up front
    /// (check such lengths anyway: the bytes themselves are not bounded
    /// by the limit).
    ///
    /// # Errors
    ///
    /// * [`ReadError::IncompleteRead`] (with `expected: Some(n)`) at end of
    ///   file before `n` bytes; the bytes that did arrive are in the error
    ///   (consumed from the reader).
    /// * [`ReadError::Io`] when the stream's read fails; nothing is consumed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed until all `n` bytes are buffered.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_io::io::{ReadError, StreamReader};
    ///
    /// eddy_core::run(async {
    ///     let mut reader = StreamReader::new(&b"abcde"[..]);
    ///     assert_eq!(reader.read_exactly(3).await.unwrap(), b"abc");
    ///     let err = reader.read_exactly(3).await.unwrap_err();
    ///     assert!(matches!(err, ReadError::IncompleteRead { ref partial, expected: Some(3) } if partial == b"de"));
    /// });
    /// ```
    pub async fn read_exactly(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        poll_fn(|cx| {
            while self.buffered() < n {
                if self.eof {
                    let partial = self.take(self.buffered());
                    return Poll::Ready(Err(ReadError::IncompleteRead {
                        partial,
                        expected: Some(n),
                    }));
                }
                // Room for the rest, but not more than MAX_PRE_RESERVE at
                // once: `n` often comes from the peer (a length prefix),
                // and the buffer should grow with the bytes that arrive,
                // not with what a header claims (a 4 GiB claim must not
                // allocate 4 GiB, and usize::MAX must not panic).
                self.reserve((n - self.buffered()).min(MAX_PRE_RESERVE));
                ready!(self.poll_fill(cx))?;
            }
            Poll::Ready(Ok(self.take(n)))
        })
        .await
    }

    /// Reads one line, up to and including `\n`. At end of file returns the
    /// last partial line (without `\n`), or an empty vector when nothing is
    /// left.
    ///
    /// # Errors
    ///
    /// [`ReadError::LimitOverrun`] when more than `limit` bytes come before
    /// the `\n` (found or not yet); the data stays buffered. [`ReadError::Io`]
    /// when the stream's read fails; nothing is consumed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a partially received line stays buffered and the next
    /// call returns it whole. The next call also resumes the search for
    /// `\n` where the dropped one stopped, so re-issuing a read_line in a
    /// loop (with a timeout, in a `select!`) does not rescan a long line
    /// from its start each time.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut reader = eddy_io::io::StreamReader::new(&b"one\ntwo"[..]);
    ///     assert_eq!(reader.read_line().await.unwrap(), b"one\n");
    ///     assert_eq!(reader.read_line().await.unwrap(), b"two");
    ///     assert_eq!(reader.read_line().await.unwrap(), b"");
    /// });
    /// ```
    pub async fn read_line(&mut self) -> Result<Vec<u8>, ReadError> {
        poll_fn(|cx| self.poll_line(cx)).await
    }

    /// Reads up to and including the first occurrence of `separator`
    /// (which may be several bytes long).
    ///
    /// # Errors
    ///
    /// * [`ReadError::LimitOverrun`] when more than `limit` bytes come
    ///   before the separator (found or not yet); the data stays buffered.
    /// * [`ReadError::IncompleteRead`] (with `expected: None`) at end of
    ///   file without the separator; the remaining bytes are in the error.
    /// * [`ReadError::Io`] when the stream's read fails; nothing is consumed.
    ///
    /// # Panics
    ///
    /// If `separator` is empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed until the separator is found.
    /// Re-issuing the same read after a cancellation resumes the search
    /// where the dropped one stopped; a read with another separator
    /// searches the buffer from its start.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut reader = eddy_io::io::StreamReader::new(&b"k=v\r\n\r\nrest"[..]);
    ///     assert_eq!(reader.read_until(b"\r\n\r\n").await.unwrap(), b"k=v\r\n\r\n");
    /// });
    /// ```
    pub async fn read_until(&mut self, separator: &[u8]) -> Result<Vec<u8>, ReadError> {
        self.read_until_any(&[separator]).await
    }

    /// Reads up to and including whichever of `separators` ends first in the
    /// stream (asyncio's `readuntil` with a tuple of separators).
    ///
    /// # Errors
    ///
    /// As [`read_until`](Self::read_until).
    ///
    /// # Panics
    ///
    /// If `separators` is empty or contains an empty separator.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed until a separator is found.
    /// Re-issuing the read with the same separators (in the same order)
    /// after a cancellation resumes the search where the dropped one
    /// stopped; other separators search the buffer from its start.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut reader = eddy_io::io::StreamReader::new(&b"a;b,c"[..]);
    ///     assert_eq!(reader.read_until_any(&[b",", b";"]).await.unwrap(), b"a;");
    ///     assert_eq!(reader.read_until_any(&[b",", b";"]).await.unwrap(), b"b,");
    /// });
    /// ```
    pub async fn read_until_any(&mut self, separators: &[&[u8]]) -> Result<Vec<u8>, ReadError> {
        assert!(
            !separators.is_empty() && separators.iter().all(|s| !s.is_empty()),
            "read_until_any needs at least one non-empty separator"
        );
        poll_fn(|cx| match ready!(self.poll_until(cx, separators)) {
            Ok(Some(n)) => Poll::Ready(Ok(self.take(n))),
            Ok(None) => {
                let partial = self.take(self.buffered());
                Poll::Ready(Err(ReadError::IncompleteRead {
                    partial,
                    expected: None,
                }))
            }
            Err(e) => Poll::Ready(Err(e)),
        })
        .await
    }

    /// A [`Stream`](futures_core::Stream) of lines, each without its `\n` (or `\r\n`); it ends at
    /// end of file, after yielding a final unterminated line if there is
    /// one. A line over the limit yields [`ReadError::LimitOverrun`] and
    /// leaves the data buffered (so the stream keeps yielding that error
    /// until the caller [`discard`](StreamReader::discard)s or raises the
    /// limit).
    ///
    /// With `futures::AsyncBufReadExt` in scope, its by-value `lines`
    /// shadows this one; call `StreamReader::lines(&mut reader)` then.
    ///
    /// # Example
    ///
    /// ```
    /// use futures::StreamExt;
    ///
    /// eddy_core::run(async {
    ///     let mut reader = eddy_io::io::StreamReader::new(&b"a\r\nb\nc"[..]);
    ///     let lines: Vec<_> = reader.lines().map(|l| l.unwrap()).collect().await;
    ///     assert_eq!(lines, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    /// });
    /// ```
    pub fn lines(&mut self) -> Lines<'_, R> {
        Lines { reader: self }
    }

    /// Reads from the stream once more, appending to the buffer, and
    /// returns how many bytes arrived (0 at end of file). With
    /// [`buffer`](Self::buffer) and [`discard`](Self::discard) this is the
    /// building block for protocol parsers that need "more bytes" even
    /// when some are buffered. Not bounded by the limit: the parser decides
    /// how much it accepts.
    ///
    /// # Errors
    ///
    /// The stream's read failed (its error, unchanged); the buffer is as it
    /// was.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: bytes are only ever added to the buffer.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut reader = eddy_io::io::StreamReader::new(&b"*1\r\n"[..]);
    ///     assert_eq!(reader.fill().await.unwrap(), 4);
    ///     assert_eq!(reader.buffer(), b"*1\r\n");
    ///     assert_eq!(reader.fill().await.unwrap(), 0);
    /// });
    /// ```
    pub async fn fill(&mut self) -> io::Result<usize> {
        poll_fn(|cx| {
            if self.eof {
                return Poll::Ready(Ok(0));
            }
            // Counted in unread bytes, not by `end`: making room moves
            // the unread bytes to the front of the buffer first.
            let before = self.buffered();
            ready!(self.poll_fill(cx))?;
            Poll::Ready(Ok(self.buffered() - before))
        })
        .await
    }

    /// True when the stream reached end of file and nothing is buffered.
    ///
    /// The reader learns of end of file only by reading: unlike asyncio's,
    /// which the loop feeds in the background, it is not set by the peer
    /// closing while nobody reads. To check an idle pooled connection
    /// before reusing it, poll [`fill`](Self::fill) once
    /// (`futures::FutureExt::now_or_never`): `Some(Ok(0))` means the peer
    /// has closed, once the loop has seen its FIN (as asyncio's `at_eof`
    /// needs the loop to have run); bytes it reads stay buffered.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut reader = eddy_io::io::StreamReader::new(&b"x"[..]);
    ///     assert!(!reader.at_eof());
    ///     reader.read_to_end().await.unwrap();
    ///     assert!(reader.at_eof());
    /// });
    /// ```
    pub fn at_eof(&self) -> bool {
        self.eof && self.buffered() == 0
    }

    /// The separator-read limit in bytes.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(eddy_io::io::StreamReader::new(&b""[..]).limit(), 65536);
    /// ```
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Sets the separator-read limit (at least 1 byte).
    ///
    /// # Example
    ///
    /// ```
    /// let mut reader = eddy_io::io::StreamReader::new(&b""[..]);
    /// reader.set_limit(10);
    /// assert_eq!(reader.limit(), 10);
    /// ```
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.max(1);
    }

    /// The bytes read from the stream but not yet consumed.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut reader = eddy_io::io::StreamReader::with_limit(&b"abcdef"[..], 2);
    ///     assert!(reader.read_line().await.is_err());
    ///     assert_eq!(reader.buffer(), b"abcdef");
    /// });
    /// ```
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Drops up to `n` buffered bytes (for example after a
    /// [`ReadError::LimitOverrun`]) and returns how many were dropped.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut reader = eddy_io::io::StreamReader::with_limit(&b"too long\nok\n"[..], 4);
    ///     if let Err(eddy_io::io::ReadError::LimitOverrun { consumed, .. }) = reader.read_line().await {
    ///         reader.discard(consumed);
    ///     }
    ///     reader.set_limit(100);
    ///     assert_eq!(reader.read_line().await.unwrap(), b"ok\n");
    /// });
    /// ```
    pub fn discard(&mut self, n: usize) -> usize {
        let n = n.min(self.buffered());
        self.consume_n(n);
        n
    }

    /// The wrapped stream.
    ///
    /// # Example
    ///
    /// ```
    /// let reader = eddy_io::io::StreamReader::new(&b"abc"[..]);
    /// assert_eq!(*reader.get_ref(), b"abc");
    /// ```
    pub fn get_ref(&self) -> &R {
        &self.io
    }

    /// Unwraps the stream. Buffered bytes are returned alongside it so
    /// nothing is lost.
    ///
    /// # Example
    ///
    /// ```
    /// eddy_core::run(async {
    ///     let mut reader = eddy_io::io::StreamReader::new(&b"ab\ncd"[..]);
    ///     reader.read_line().await.unwrap();
    ///     let (_io, rest) = reader.into_parts();
    ///     assert_eq!(rest, b"cd");
    /// });
    /// ```
    pub fn into_parts(self) -> (R, Vec<u8>) {
        let rest = self.buf[self.start..self.end].to_vec();
        (self.io, rest)
    }
}

impl<R> std::fmt::Debug for StreamReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamReader")
            .field("buffered", &(self.end - self.start))
            .field("eof", &self.eof)
            .field("limit", &self.limit)
            .finish()
    }
}
