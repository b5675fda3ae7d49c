//! Async stdin, stdout and stderr: [`stdin()`], [`stdout()`], [`stderr()`].
//!
//! `O_NONBLOCK` lives on the *open file description*, which a descriptor
//! shares with its `dup`s, with this process's `std::io::stdout`, with a
//! parent shell and with the other processes of a pipeline. Setting it on
//! descriptor 1 makes `println!` on a full pipe fail with `WouldBlock` (and
//! panic) instead of waiting, here and in those other processes. So a
//! handle avoids it: the ways the I/O is done are documented for users on
//! [`stdin()`]; [`fd`] has the pipe and socket forms ([`fd::StdFd`]:
//! a private description of a reopened pipe, a socket used with
//! `MSG_DONTWAIT`, or the shared-flag fallback), [`blocking`] the blocking
//! jobs for terminals and files.

mod blocking;
mod fd;

use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use self::blocking::Blocking;
use self::fd::StdFd;
use super::StreamReader;
use crate::driver::poll_evented::PollEvented;
use crate::driver::{Handle, Interest};

enum Inner {
    Async(PollEvented<StdFd>),
    Blocking(Blocking),
    /// Setting up failed; every operation reports it.
    Broken(io::ErrorKind, String),
}

impl Inner {
    #[track_caller]
    fn new(std_fd: RawFd, interest: Interest) -> Inner {
        let handle = Handle::current();
        match Inner::try_new(std_fd, interest, handle) {
            Ok(inner) => inner,
            Err(e) => Inner::Broken(e.kind(), format!("standard descriptor {std_fd}: {e}")),
        }
    }

    fn try_new(std_fd: RawFd, interest: Interest, handle: Handle) -> io::Result<Inner> {
        let file = fd::dup(std_fd)?;
        let write = interest.is_writable();
        if let Some(nb) = StdFd::open(std_fd, &file, write)? {
            // Not pollable after all: the blocking path (a `Shared` StdFd
            // restored blocking mode as it dropped with the error).
            if let Ok(io) = PollEvented::with_interest(nb, interest) {
                return Ok(Inner::Async(io));
            }
        }
        Ok(Inner::Blocking(Blocking::new(file, handle)))
    }

    fn broken(kind: io::ErrorKind, msg: &str) -> io::Error {
        io::Error::new(kind, msg.to_owned())
    }

    fn is_async(&self) -> bool {
        matches!(self, Inner::Async(_))
    }

    /// The way this handle does its I/O, for `Debug`.
    fn path(&self) -> &'static str {
        match self {
            Inner::Async(io) => io.get_ref().mode().name(),
            Inner::Blocking(_) => "blocking jobs",
            Inner::Broken(..) => "broken",
        }
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match self {
            Inner::Async(io) if io.get_ref().mode() == fd::Mode::Socket => {
                if buf.is_empty() {
                    return Poll::Ready(Ok(0));
                }
                // On a socket, readiness is cleared only by `WouldBlock`,
                // not by a short read: a datagram or seqpacket socket
                // returns one message per read, and more can be queued
                // behind it with no new event to come.
                io.poll_io(cx, Interest::READABLE, |mut fd| loop {
                    match io::Read::read(&mut fd, buf) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        res => break res,
                    }
                })
            }
            Inner::Async(io) => io.poll_read(cx, buf),
            Inner::Blocking(b) => b.poll_read(cx, buf),
            Inner::Broken(k, m) => Poll::Ready(Err(Inner::broken(*k, m))),
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self {
            Inner::Async(io) => io.poll_write(cx, buf),
            Inner::Blocking(b) => b.poll_write(cx, buf),
            Inner::Broken(k, m) => Poll::Ready(Err(Inner::broken(*k, m))),
        }
    }

    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self {
            Inner::Async(io) => io.poll_write_vectored(cx, bufs),
            _ => {
                let first = bufs
                    .iter()
                    .find(|b| !b.is_empty())
                    .map_or(&[][..], |b| &**b);
                self.poll_write(cx, first)
            }
        }
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Inner::Async(_) => Poll::Ready(Ok(())),
            Inner::Blocking(b) => b.poll_flush(cx),
            Inner::Broken(k, m) => Poll::Ready(Err(Inner::broken(*k, m))),
        }
    }
}

/// The process's standard input as an [`AsyncRead`], from [`stdin()`].
///
/// Reads are not buffered beyond one chunk; for lines, wrap it in a
/// [`StreamReader`] ([`into_stream_reader`](Self::into_stream_reader)).
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let mut reader = eddy_io::io::stdin().into_stream_reader();
/// loop {
///     let line = reader.read_line().await.map_err(std::io::Error::other)?;
///     if line.is_empty() {
///         break; // end of input
///     }
///     print!("{}", String::from_utf8_lossy(&line));
/// }
/// # Ok(()) }
/// ```
pub struct Stdin {
    inner: Inner,
}

/// The process's standard output as an [`AsyncWrite`], from [`stdout()`].
///
/// Not buffered: every write is one `write(2)` (`send(2)` on a socket) or
/// one blocking job.
/// On the blocking path a write is accepted once the previous one has
/// finished and completes in the background: await `flush` (or `close`)
/// to learn that it reached the descriptor.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use futures::io::AsyncWriteExt;
/// let mut out = eddy_io::io::stdout();
/// out.write_all(b"hello\n").await?;
/// out.flush().await?;
/// # Ok(()) }
/// ```
pub struct Stdout {
    inner: Inner,
}

/// The process's standard error as an [`AsyncWrite`], from [`stderr()`].
/// Same behaviour as [`Stdout`].
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use futures::io::AsyncWriteExt;
/// let mut err = eddy_io::io::stderr();
/// err.write_all(b"warning\n").await?;
/// err.flush().await?;
/// # Ok(()) }
/// ```
pub struct Stderr {
    inner: Inner,
}

/// A handle to the process's standard input. Errors setting it up (stdin
/// closed) are reported by the first read.
///
/// # How the I/O is done
///
/// Chosen when the handle is created, from what the descriptor is (the
/// same for [`stdout()`] and [`stderr()`]). A handle never switches the
/// descriptor's shared open file description to non-blocking mode when
/// there is a way around it, so `println!`, a parent shell and the other
/// processes of a pipeline keep their blocking I/O:
///
/// - **A pipe or FIFO**: the handle opens the pipe again through
///   `/proc/self/fd/N` (Linux gives a new open file description of the
///   same pipe), non-blocking, and does readiness-driven I/O on it.
/// - **A socket**: the handle uses the socket as it is, with
///   `recv(MSG_DONTWAIT)` and `send(MSG_DONTWAIT | MSG_NOSIGNAL)` (writing
///   to a closed peer is an `EPIPE` error, never a `SIGPIPE`).
/// - **Anything else** (a terminal, a file, `/dev/null`): each read or
///   write is one blocking job off the loop. A read from a terminal cannot
///   be interrupted: if the handle drops while one is in flight, it
///   completes in the background and its bytes are lost.
/// - **Fallback, for a pipe that cannot be opened again** (no `/proc`, not
///   Linux, reopening denied, a named FIFO whose reader is gone): the
///   descriptor's shared description is switched to non-blocking mode
///   while a handle lives, and back when the last one drops (unless it was
///   non-blocking before). Only then can blocking writers on the same pipe (`println!`,
///   other processes) see `WouldBlock` when it is full: do not mix them
///   with an async [`Stdout`] under back-pressure.
///
/// The `Debug` output of a handle names the way it took (`path`).
///
/// On the pipe and socket paths, a read or write that returns `Pending`
/// has moved no bytes: dropping it (cancelling) loses nothing.
///
/// # Panics
///
/// Outside an eddy runtime.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use futures::io::AsyncReadExt;
/// let mut input = String::new();
/// eddy_io::io::stdin().read_to_string(&mut input).await?;
/// # Ok(()) }
/// ```
#[track_caller]
pub fn stdin() -> Stdin {
    Stdin {
        inner: Inner::new(libc::STDIN_FILENO, Interest::READABLE),
    }
}

/// A handle to the process's standard output (see [`stdin()`] for how the
/// I/O is done).
///
/// # Panics
///
/// Outside an eddy runtime.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use futures::io::AsyncWriteExt;
/// eddy_io::io::stdout().write_all(b"hi\n").await?;
/// # Ok(()) }
/// ```
#[track_caller]
pub fn stdout() -> Stdout {
    Stdout {
        inner: Inner::new(libc::STDOUT_FILENO, Interest::WRITABLE),
    }
}

/// A handle to the process's standard error (see [`stdin()`] for how the
/// I/O is done).
///
/// # Panics
///
/// Outside an eddy runtime.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use futures::io::AsyncWriteExt;
/// eddy_io::io::stderr().write_all(b"oops\n").await?;
/// # Ok(()) }
/// ```
#[track_caller]
pub fn stderr() -> Stderr {
    Stderr {
        inner: Inner::new(libc::STDERR_FILENO, Interest::WRITABLE),
    }
}

impl Stdin {
    /// Wraps stdin in asyncio's [`StreamReader`] (`read_line`, `lines`, ...).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() {
    /// use futures::StreamExt;
    /// let mut reader = eddy_io::io::stdin().into_stream_reader();
    /// let mut lines = reader.lines();
    /// while let Some(Ok(line)) = lines.next().await {
    ///     println!("{} bytes", line.len());
    /// }
    /// # }
    /// ```
    pub fn into_stream_reader(self) -> StreamReader<Stdin> {
        StreamReader::new(self)
    }

    /// Whether this handle reads through the reactor with non-blocking
    /// system calls (stdin is a pipe or socket) rather than as blocking
    /// jobs off the loop (a terminal, a file, ...).
    ///
    /// It says nothing of descriptor 0's own `O_NONBLOCK` flag: that is
    /// left as it was, except on the fallback path for a pipe that could
    /// not be opened again (see [`stdin()`]), which sets it while a handle
    /// lives.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # fn demo() {
    /// println!("non-blocking stdin: {}", eddy_io::io::stdin().is_nonblocking());
    /// # }
    /// ```
    pub fn is_nonblocking(&self) -> bool {
        self.inner.is_async()
    }
}

impl AsyncRead for Stdin {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_read(cx, buf)
    }
}

macro_rules! writer_impl {
    ($name:ident) => {
        impl $name {
            /// Whether this handle writes through the reactor with
            /// non-blocking system calls (the descriptor is a pipe or
            /// socket) rather than as blocking jobs off the loop (a
            /// terminal, a file, ...).
            ///
            /// It says nothing of the descriptor's own `O_NONBLOCK` flag:
            /// that is left as it was, except on the fallback path for a
            /// pipe that could not be opened again (see [`stdin()`]),
            /// which sets it while a handle lives.
            ///
            /// # Example
            ///
            /// ```no_run
            /// # fn demo() {
            #[doc = concat!("let h: &eddy_io::io::", stringify!($name), " = todo!();")]
            /// println!("non-blocking: {}", h.is_nonblocking());
            /// # }
            /// ```
            pub fn is_nonblocking(&self) -> bool {
                self.inner.is_async()
            }
        }

        impl AsyncWrite for $name {
            fn poll_write(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.inner.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.inner.poll_write_vectored(cx, bufs)
            }

            fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.inner.poll_flush(cx)
            }

            fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.inner.poll_flush(cx)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("nonblocking", &self.inner.is_async())
                    .field("path", &self.inner.path())
                    .finish()
            }
        }
    };
}

writer_impl!(Stdout);
writer_impl!(Stderr);

impl fmt::Debug for Stdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stdin")
            .field("nonblocking", &self.inner.is_async())
            .field("path", &self.inner.path())
            .finish()
    }
}
