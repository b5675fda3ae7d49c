//! Putting the owned halves of a stream back together:
//! [`OwnedReadHalf::reunite`], [`OwnedWriteHalf::reunite`], and
//! [`ReuniteError`] for halves of different streams.

use std::fmt;
use std::sync::Arc;

use super::{OwnedReadHalf, OwnedWriteHalf, SplitStream};

impl<S: SplitStream> OwnedReadHalf<S> {
    /// Puts the stream back together from this half and the write half
    /// that the same [`into_split`](crate::net::TcpStream::into_split) call
    /// returned (tokio's `reunite`; asyncio has no split halves).
    ///
    /// The stream comes back as it is: bytes not yet read are still in the
    /// socket, and a write side shut down by closing the write half stays
    /// shut down. Reuniting does not shut anything down (dropping the
    /// write half alone would).
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] when the halves come from different streams; it
    /// holds both halves, unchanged and still usable.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(stream: eddy_io::net::TcpStream) -> std::io::Result<()> {
    /// use futures::io::AsyncWriteExt;
    /// let (r, mut w) = stream.into_split();
    /// w.write_all(b"hello").await?;
    /// let mut stream = r.reunite(w).expect("halves of one stream");
    /// stream.write_all(b" again").await?;
    /// # Ok(()) }
    /// ```
    pub fn reunite(self, other: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(self, other)
    }
}

impl<S: SplitStream> OwnedWriteHalf<S> {
    /// Puts the stream back together from this half and the read half of
    /// the same `into_split()` call; the mirror of
    /// [`OwnedReadHalf::reunite`], with the same rules.
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] when the halves come from different streams; it
    /// holds both halves, unchanged and still usable.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(stream: eddy_io::net::UnixStream) {
    /// let (r, w) = stream.into_split();
    /// let stream = w.reunite(r).expect("halves of one stream");
    /// # }
    /// ```
    pub fn reunite(self, other: OwnedReadHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(other, self)
    }
}

fn reunite<S: SplitStream>(
    read: OwnedReadHalf<S>,
    mut write: OwnedWriteHalf<S>,
) -> Result<S, ReuniteError<S>> {
    if !Arc::ptr_eq(&read.stream, &write.stream) {
        return Err(ReuniteError(read, write));
    }
    // The write half goes, but the stream stays whole: its drop must not
    // shut the write side down.
    write.shut_down = true;
    drop(write);
    // Only the two halves ever hold the `Arc`, and the write half's clone
    // is gone, so this is the last one.
    match Arc::try_unwrap(read.stream) {
        Ok(stream) => Ok(stream),
        Err(_) => unreachable!("a split stream is shared by its two halves only"),
    }
}

/// The error of [`OwnedReadHalf::reunite`] and
/// [`OwnedWriteHalf::reunite`]: the two halves come from different
/// streams. It gives both back, unchanged: `.0` is the read half, `.1` the
/// write half.
///
/// # Example
///
/// ```
/// # fn demo(a: eddy_io::net::UnixStream, b: eddy_io::net::UnixStream) {
/// let (a_read, _a_write) = a.into_split();
/// let (_b_read, b_write) = b.into_split();
/// match a_read.reunite(b_write) {
///     Ok(_) => unreachable!(),
///     Err(e) => {
///         eprintln!("{e}");
///         let (a_read, b_write) = (e.0, e.1); // both still usable
///         # let _ = (a_read, b_write);
///     }
/// }
/// # }
/// ```
pub struct ReuniteError<S: SplitStream>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S: SplitStream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "cannot reunite a read half and a write half of different streams: pass the two \
             halves returned by one into_split() call; both halves are given back in this \
             error (.0 and .1) and still work",
        )
    }
}

impl<S: SplitStream + fmt::Debug> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReuniteError")
            .field(&self.0)
            .field(&self.1)
            .finish()
    }
}

impl<S: SplitStream + fmt::Debug> std::error::Error for ReuniteError<S> {}
