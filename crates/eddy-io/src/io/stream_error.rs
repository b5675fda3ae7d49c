//! The errors of [`StreamReader`](super::StreamReader) and
//! [`StreamWriter`](super::StreamWriter): one enum per direction.

use std::fmt;
use std::io;

/// Why a [`StreamReader`](super::StreamReader) read did not return what was
/// asked for.
///
/// # Example
///
/// ```
/// use eddy_io::io::{ReadError, StreamReader};
///
/// eddy_core::run(async {
///     let mut reader = StreamReader::new(&b"no newline"[..]);
///     match reader.read_until(b"\n").await {
///         Err(ReadError::IncompleteRead { partial, expected }) => {
///             assert_eq!(partial, b"no newline");
///             assert_eq!(expected, None);
///         }
///         other => panic!("{other:?}"),
///     }
/// });
/// ```
#[derive(Debug)]
pub enum ReadError {
    /// The separator was not found within the reader's limit (or was found
    /// beyond it). Nothing was consumed: the bytes stay buffered, so the
    /// caller can raise the limit with
    /// [`set_limit`](super::StreamReader::set_limit) and retry, or drop them
    /// with [`discard`](super::StreamReader::discard).
    LimitOverrun {
        /// If the separator was found beyond the limit: how many bytes the
        /// read would have consumed, up to and including the separator.
        /// If not: how many buffered bytes cannot be part of a separator —
        /// all of them but the last `separator length - 1`, which may be the
        /// start of one still arriving — so discarding `consumed` never
        /// cuts a separator in two.
        consumed: usize,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The stream ended before the read was complete. `partial` holds the
    /// bytes that were read (they are consumed from the reader).
    IncompleteRead {
        /// The bytes received before end of file.
        partial: Vec<u8>,
        /// How many bytes were asked for (`None` when reading up to a
        /// separator).
        expected: Option<usize>,
    },
    /// The underlying stream failed.
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::LimitOverrun { consumed, limit } => write!(
                f,
                "no separator within the stream limit of {limit} bytes ({consumed} bytes up to it, \
                 or buffered without it); the data is still buffered: raise the limit with set_limit \
                 or drop those bytes with discard"
            ),
            ReadError::IncompleteRead {
                partial,
                expected: Some(n),
            } => write!(
                f,
                "stream ended after {} of {n} expected bytes; the partial data is in the error",
                partial.len()
            ),
            ReadError::IncompleteRead {
                partial,
                expected: None,
            } => write!(
                f,
                "stream ended after {} bytes without the separator; the partial data is in the \
                 error",
                partial.len()
            ),
            ReadError::Io(e) => write!(f, "stream read failed: {e}"),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

impl From<ReadError> for io::Error {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Io(e) => e,
            ReadError::LimitOverrun { .. } => io::Error::new(io::ErrorKind::InvalidData, e),
            ReadError::IncompleteRead { .. } => io::Error::new(io::ErrorKind::UnexpectedEof, e),
        }
    }
}

/// Why a [`StreamWriter`](super::StreamWriter) could not accept or deliver
/// data.
///
/// # Example
///
/// ```
/// use eddy_io::io::{StreamWriter, WriteError};
///
/// eddy_core::run(async {
///     let mut writer = StreamWriter::new(futures::io::sink());
///     writer.close();
///     assert!(matches!(writer.write(b"late"), Err(WriteError::Closing)));
/// });
/// ```
#[derive(Debug)]
pub enum WriteError {
    /// [`close`](super::StreamWriter::close) or
    /// [`write_eof`](super::StreamWriter::write_eof) was called, so the
    /// writer takes no more data. The bytes passed in were not buffered.
    Closing,
    /// The writer was aborted ([`abort`](super::StreamWriter::abort), or
    /// the server's `abort_clients`): the
    /// stream is closed and `discarded` buffered bytes were thrown away
    /// unsent (asyncio raises `ConnectionResetError` here). Nothing more
    /// can be sent on this writer; open a new connection, and resend the
    /// lost data if the protocol needs it.
    Aborted {
        /// How many buffered bytes the abort dropped (0 if the buffer was
        /// empty: everything written before had been handed to the
        /// stream).
        discarded: usize,
    },
    /// Writing to the underlying stream failed (for example the peer reset
    /// the connection). Buffered data that was not sent is discarded; open
    /// a new connection to carry on.
    Io(io::Error),
    /// [`sendfile`](super::StreamWriter::sendfile) could not read the file
    /// (`EBADF`: not open for reading; `EIO`; an offset the file cannot
    /// take). The connection is not affected: what was sent before stands,
    /// nothing buffered was dropped, and the writer still takes data, so
    /// fix the file (or send an error reply) and go on.
    File(io::Error),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Closing => write!(
                f,
                "the stream writer is closing (close or write_eof was called) and takes no more \
                 data; open a new connection to send more"
            ),
            WriteError::Aborted { discarded } => write!(
                f,
                "the stream writer was aborted and its connection closed; {discarded} buffered \
                 bytes were dropped unsent; open a new connection (and resend if needed) to \
                 send more"
            ),
            WriteError::Io(e) => write!(
                f,
                "writing to the stream failed: {e}; unsent data was discarded, reconnect to \
                 carry on"
            ),
            WriteError::File(e) => write!(
                f,
                "reading the file to send failed: {e}; the connection is unaffected and the \
                 writer still takes data"
            ),
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WriteError::Io(e) | WriteError::File(e) => Some(e),
            WriteError::Closing | WriteError::Aborted { .. } => None,
        }
    }
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        WriteError::Io(e)
    }
}

impl From<WriteError> for io::Error {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Io(e) | WriteError::File(e) => e,
            WriteError::Closing => io::Error::new(io::ErrorKind::BrokenPipe, e),
            // asyncio's ConnectionResetError.
            WriteError::Aborted { .. } => io::Error::new(io::ErrorKind::ConnectionReset, e),
        }
    }
}
