//! The child's standard streams as async pipes: the parent's ends, set
//! non-blocking and registered with the loop's reactor.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use mio::unix::pipe::{Receiver, Sender};

use crate::driver::poll_evented::PollEvented;
use crate::driver::Interest;
use crate::io::{StreamReader, StreamWriter};

use super::Stdio;

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the child's stdin was closed")
}

/// The write end of the child's stdin. Implements [`AsyncWrite`];
/// closing it (`close()` or dropping it) sends EOF to the child.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use futures::io::AsyncWriteExt;
/// use eddy_io::process::{Command, Stdio};
///
/// let mut child = Command::new("cat").stdin(Stdio::piped()).spawn()?;
/// let mut stdin = child.stdin.take().unwrap();
/// stdin.write_all(b"hello\n").await?;
/// stdin.close().await?; // EOF for cat
/// child.wait().await?;
/// # Ok(()) }
/// ```
pub struct ChildStdin {
    io: Option<PollEvented<Sender>>,
}

/// The read end of the child's stdout. Implements [`AsyncRead`].
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use futures::io::AsyncReadExt;
/// use eddy_io::process::{Command, Stdio};
///
/// let mut child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn()?;
/// let mut out = String::new();
/// child.stdout.take().unwrap().read_to_string(&mut out).await?;
/// assert_eq!(out, "hi\n");
/// # Ok(()) }
/// ```
pub struct ChildStdout {
    io: PollEvented<Receiver>,
}

/// The read end of the child's stderr. Implements [`AsyncRead`].
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use futures::io::AsyncReadExt;
/// use eddy_io::process::{Command, Stdio};
///
/// let mut child = Command::shell("echo oops >&2").stderr(Stdio::piped()).spawn()?;
/// let mut err = String::new();
/// child.stderr.take().unwrap().read_to_string(&mut err).await?;
/// assert_eq!(err, "oops\n");
/// # Ok(()) }
/// ```
pub struct ChildStderr {
    io: PollEvented<Receiver>,
}

impl ChildStdin {
    pub(crate) fn from_std(s: std::process::ChildStdin) -> io::Result<ChildStdin> {
        let s = Sender::from(s);
        s.set_nonblocking(true)?;
        Ok(ChildStdin {
            io: Some(PollEvented::with_interest(s, Interest::WRITABLE)?),
        })
    }

    /// Wraps the pipe in asyncio's [`StreamWriter`] (buffered writes,
    /// `drain`, `close`).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// use eddy_io::process::{Command, Stdio};
    /// let mut child = Command::new("cat").stdin(Stdio::piped()).spawn()?;
    /// let mut w = child.stdin.take().unwrap().into_stream_writer();
    /// w.write(b"line\n").unwrap();
    /// w.close();
    /// w.wait_closed().await;
    /// # Ok(()) }
    /// ```
    pub fn into_stream_writer(self) -> StreamWriter<ChildStdin> {
        StreamWriter::new(self)
    }

    fn io(&self) -> io::Result<&PollEvented<Sender>> {
        self.io.as_ref().ok_or_else(closed)
    }
}

macro_rules! reader_impl {
    ($name:ident, $std:ty, $spawn:literal, $field:literal) => {
        impl $name {
            pub(crate) fn from_std(s: $std) -> io::Result<$name> {
                let r = Receiver::from(s);
                r.set_nonblocking(true)?;
                Ok($name {
                    io: PollEvented::with_interest(r, Interest::READABLE)?,
                })
            }

            /// Wraps the pipe in asyncio's [`StreamReader`] (`read_line`,
            /// `lines`, `read_until`, ...).
            ///
            /// # Example
            ///
            /// ```no_run
            #[doc = concat!("# async fn demo(pipe: eddy_io::process::", stringify!($name), ") {")]
            /// let mut reader = pipe.into_stream_reader();
            /// while let Ok(line) = reader.read_line().await {
            ///     if line.is_empty() { break; }
            /// }
            /// # }
            /// ```
            pub fn into_stream_reader(self) -> StreamReader<$name> {
                StreamReader::new(self)
            }
        }

        impl AsyncRead for $name {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                // A short read drained the pipe and clears readiness, so
                // the next read waits for the writer instead of making a
                // read that returns EAGAIN.
                self.io.poll_read(cx, buf)
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                self.io.poll_read_vectored(cx, bufs)
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.io.get_ref().as_raw_fd()
            }
        }

        /// Hands the pipe to another child as one of its standard streams
        /// (a shell pipeline: `a | b`). The pipe leaves this loop and is
        /// made blocking again: a child handed our non-blocking pipe would
        /// fail its reads with `EAGAIN` ("Resource temporarily
        /// unavailable") whenever it got ahead of the writer.
        ///
        /// The [`Command`](crate::process::Command) given the `Stdio`
        /// keeps its copy of the pipe after spawning (it can spawn again,
        /// as std's builder can), so drop the builder once the child runs,
        /// or build and spawn it in one expression as below: while it
        /// lives, this end of the pipe stays open in your process, and the
        /// child writing into it never sees a broken pipe (a `yes | head`
        /// pipeline's `yes` never ends).
        ///
        /// # Errors
        ///
        /// Clearing `O_NONBLOCK` or duplicating the descriptor failed.
        ///
        /// # Example
        ///
        /// ```no_run
        /// # async fn demo() -> std::io::Result<()> {
        /// use eddy_io::process::{Command, Stdio};
        ///
        #[doc = concat!("let mut a = ", $spawn)]
        #[doc = concat!("let pipe = a.", $field, ".take().unwrap();")]
        /// let out = Command::new("cat").stdin(Stdio::try_from(pipe)?).output().await?;
        /// assert_eq!(out.stdout, b"hi\n");
        /// a.wait().await?;
        /// # Ok(()) }
        /// ```
        impl TryFrom<$name> for Stdio {
            type Error = io::Error;

            fn try_from(pipe: $name) -> io::Result<Stdio> {
                // O_NONBLOCK belongs to the open file description, which
                // the duplicate shares. Dropping `pipe` deregisters and
                // closes the original descriptor.
                pipe.io.get_ref().set_nonblocking(false)?;
                let fd = pipe.io.get_ref().as_fd().try_clone_to_owned()?;
                drop(pipe);
                Ok(Stdio::from(fd))
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.io.get_ref().as_fd()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("fd", &self.as_raw_fd())
                    .finish()
            }
        }
    };
}

reader_impl!(
    ChildStdout,
    std::process::ChildStdout,
    r#"Command::shell("echo hi").stdout(Stdio::piped()).spawn()?;"#,
    "stdout"
);
reader_impl!(
    ChildStderr,
    std::process::ChildStderr,
    r#"Command::shell("echo hi >&2").stderr(Stdio::piped()).spawn()?;"#,
    "stderr"
);

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        match self.io() {
            // A short write filled the pipe and clears readiness.
            Ok(io) => io.poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.io() {
            Ok(io) => io.poll_write_vectored(cx, bufs),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io = None;
        Poll::Ready(Ok(()))
    }
}

impl AsRawFd for ChildStdin {
    /// The descriptor, or -1 once closed.
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_ref().map_or(-1, |io| io.get_ref().as_raw_fd())
    }
}

/// Hands the pipe to another child as its stdin, made blocking again
/// (see the conversion from [`ChildStdout`]): the other child then writes
/// into our child's stdin. As there, drop the [`Command`](crate::process::Command)
/// once the other child runs: while it keeps its copy of the pipe, our
/// child never reads end of file.
///
/// # Errors
///
/// `BrokenPipe` if the pipe was closed; otherwise clearing `O_NONBLOCK` or
/// duplicating the descriptor failed.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use eddy_io::process::{Command, Stdio};
///
/// let mut b = Command::new("wc").arg("-c").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
/// let stdin = b.stdin.take().unwrap();
/// Command::new("echo").arg("four").stdout(Stdio::try_from(stdin)?).status().await?;
/// assert_eq!(b.output().await?.stdout, b"5\n");
/// # Ok(()) }
/// ```
impl TryFrom<ChildStdin> for Stdio {
    type Error = io::Error;

    fn try_from(pipe: ChildStdin) -> io::Result<Stdio> {
        let io = pipe.io()?;
        // O_NONBLOCK belongs to the open file description, which the
        // duplicate shares. Dropping `pipe` deregisters and closes the
        // original descriptor.
        io.get_ref().set_nonblocking(false)?;
        let fd = io.get_ref().as_fd().try_clone_to_owned()?;
        drop(pipe);
        Ok(Stdio::from(fd))
    }
}

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStdin")
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
