//! Async stdin, stdout and stderr: [`stdin()`], [`stdout()`], [`stderr()`].
//!
//! Two ways to do the I/O, chosen when the handle is created from what the
//! descriptor (0, 1 or 2) is:
//!
//! - **A pipe or a socket**: the handle owns a `dup` of the descriptor,
//!   switched to non-blocking mode and registered with the loop's reactor;
//!   reads and writes are ordinary readiness-driven I/O. `O_NONBLOCK`
//!   lives on the *open file description*, which is shared with whatever
//!   else holds the same pipe (this process's `std::io::stdout`, a parent
//!   shell, sibling processes in a pipeline). eddy accepts that for pipes
//!   and sockets and restores blocking mode when the last handle for that
//!   descriptor drops. While a handle lives, blocking-style writers on the
//!   same pipe (`println!`) can see `WouldBlock` if the pipe is full: do not
//!   mix them with an async [`Stdout`] under back-pressure.
//! - **Anything else** (a terminal, a regular file, `/dev/null`): the file
//!   description is left alone; each read or write runs as one blocking job
//!   off the loop (one operation in flight per handle, on a buffer owned by
//!   that operation). A read from a terminal cannot be interrupted: if the
//!   handle is dropped while one is in flight, that read completes in the
//!   background and its bytes are lost.

use std::fmt;
use std::fs::File;
use std::future::Future;
use std::io::{self, Read, Write};
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::FileTypeExt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use parking_lot::Mutex;

use super::StreamReader;
use crate::driver::offload::{run_blocking, Offloaded};
use crate::driver::poll_evented::PollEvented;
use crate::driver::{Handle, Interest};

/// How many handles per standard descriptor use non-blocking mode, and
/// whether the descriptor was non-blocking before the first one.
static NONBLOCK: Mutex<[(usize, bool); 3]> = Mutex::new([(0, false); 3]);

fn get_flags(fd: RawFd) -> io::Result<libc::c_int> {
    // SAFETY: fcntl(F_GETFL) takes no pointer; an invalid fd gives EBADF.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(flags)
    }
}

fn set_nonblocking(fd: RawFd, on: bool) -> io::Result<()> {
    let flags = get_flags(fd)?;
    let new = if on {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    if new != flags {
        // SAFETY: fcntl(F_SETFL) with an integer argument; no pointer.
        if unsafe { libc::fcntl(fd, libc::F_SETFL, new) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A private duplicate of descriptor `fd` (close-on-exec).
fn dup(fd: RawFd) -> io::Result<File> {
    // SAFETY: F_DUPFD_CLOEXEC takes an integer; a closed `fd` gives EBADF.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `new` is a fresh descriptor that nothing else owns.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(new) }))
}

/// Our dup of a standard descriptor in non-blocking mode; restores
/// blocking mode when the last one for that descriptor drops.
struct NbFd {
    file: File,
    std_fd: RawFd,
}

impl NbFd {
    fn new(std_fd: RawFd, file: File) -> io::Result<NbFd> {
        let mut table = NONBLOCK.lock();
        let entry = &mut table[std_fd as usize];
        if entry.0 == 0 {
            let was = get_flags(std_fd)? & libc::O_NONBLOCK != 0;
            set_nonblocking(std_fd, true)?;
            entry.1 = was;
        }
        entry.0 += 1;
        Ok(NbFd { file, std_fd })
    }
}

impl Drop for NbFd {
    fn drop(&mut self) {
        let mut table = NONBLOCK.lock();
        let entry = &mut table[self.std_fd as usize];
        entry.0 -= 1;
        if entry.0 == 0 && !entry.1 {
            let _ = set_nonblocking(self.file.as_raw_fd(), false);
        }
    }
}

impl mio::event::Source for NbFd {
    fn register(&mut self, r: &mio::Registry, t: mio::Token, i: mio::Interest) -> io::Result<()> {
        mio::unix::SourceFd(&self.file.as_raw_fd()).register(r, t, i)
    }
    fn reregister(&mut self, r: &mio::Registry, t: mio::Token, i: mio::Interest) -> io::Result<()> {
        mio::unix::SourceFd(&self.file.as_raw_fd()).reregister(r, t, i)
    }
    fn deregister(&mut self, r: &mio::Registry) -> io::Result<()> {
        mio::unix::SourceFd(&self.file.as_raw_fd()).deregister(r)
    }
}

impl Read for &NbFd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.file).read(buf)
    }
}

impl Write for &NbFd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&self.file).write(buf)
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        (&self.file).write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The blocking path: one job in flight, on a buffer it owns.
struct Blocking {
    file: Arc<File>,
    handle: Handle,
    state: State,
    /// A write error to report from the next write or flush.
    error: Option<io::Error>,
}

enum State {
    /// `buf[start..end]` is data read but not yet returned (reads only).
    Idle {
        buf: Vec<u8>,
        start: usize,
        end: usize,
    },
    Busy(Offloaded<(io::Result<usize>, Vec<u8>)>),
}

const CHUNK: usize = 16 * 1024;

impl Blocking {
    fn poll_read(&mut self, cx: &mut Context<'_>, out: &mut [u8]) -> Poll<io::Result<usize>> {
        if out.is_empty() {
            // A zero-length read returns at once (std's convention): it must
            // not start a background read that consumes input or waits for
            // a terminal.
            return Poll::Ready(Ok(0));
        }
        loop {
            match &mut self.state {
                State::Idle { buf, start, end } => {
                    if start < end {
                        let n = (*end - *start).min(out.len());
                        out[..n].copy_from_slice(&buf[*start..*start + n]);
                        *start += n;
                        return Poll::Ready(Ok(n));
                    }
                    let mut buf = mem::take(buf);
                    buf.resize(CHUNK.max(out.len()), 0);
                    let file = self.file.clone();
                    let job = run_blocking(&self.handle, move || {
                        let res = loop {
                            match (&*file).read(&mut buf) {
                                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                                res => break res,
                            }
                        };
                        (res, buf)
                    })?;
                    self.state = State::Busy(job);
                }
                State::Busy(job) => {
                    let (res, buf) = ready!(Pin::new(job).poll(cx));
                    let end = *res.as_ref().unwrap_or(&0);
                    self.state = State::Idle { buf, start: 0, end };
                    if let Err(e) = res {
                        return Poll::Ready(Err(e));
                    }
                    if end == 0 {
                        return Poll::Ready(Ok(0));
                    }
                }
            }
        }
    }

    /// Waits for the write in flight, if any.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let State::Busy(job) = &mut self.state {
            let (res, buf) = ready!(Pin::new(job).poll(cx));
            self.state = State::Idle {
                buf,
                start: 0,
                end: 0,
            };
            if let Err(e) = res {
                self.error = Some(e);
            }
        }
        match self.error.take() {
            Some(e) => Poll::Ready(Err(e)),
            None => Poll::Ready(Ok(())),
        }
    }

    /// Accepts `data` once the previous write finished, and writes it in
    /// the background.
    fn poll_write(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_flush(cx))?;
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let State::Idle { buf, .. } = &mut self.state else {
            unreachable!("flushed above")
        };
        let mut buf = mem::take(buf);
        buf.clear();
        buf.extend_from_slice(data);
        let file = self.file.clone();
        let job = run_blocking(&self.handle, move || {
            let res = (&*file).write_all(&buf).map(|()| buf.len());
            (res, buf)
        })?;
        self.state = State::Busy(job);
        Poll::Ready(Ok(data.len()))
    }
}

enum Inner {
    Async(PollEvented<NbFd>),
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
        let file = dup(std_fd)?;
        let ft = file.metadata()?.file_type();
        if ft.is_fifo() || ft.is_socket() {
            let async_file = file.try_clone()?;
            let nb = NbFd::new(std_fd, async_file)?;
            // Not pollable after all: the blocking path, in blocking mode
            // again (the NbFd dropped with the error).
            if let Ok(io) = PollEvented::with_interest(nb, interest) {
                return Ok(Inner::Async(io));
            }
        }
        Ok(Inner::Blocking(Blocking {
            file: Arc::new(file),
            handle,
            state: State::Idle {
                buf: Vec::new(),
                start: 0,
                end: 0,
            },
            error: None,
        }))
    }

    fn broken(kind: io::ErrorKind, msg: &str) -> io::Error {
        io::Error::new(kind, msg.to_owned())
    }

    fn is_async(&self) -> bool {
        matches!(self, Inner::Async(_))
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match self {
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
/// Not buffered: every write is one `write(2)` (or one blocking job).
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

/// A handle to the process's standard input (see the module docs for the
/// non-blocking and the blocking path). Errors setting it up (stdin
/// closed) are reported by the first read.
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

/// A handle to the process's standard output (see [`stdin()`]).
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

/// A handle to the process's standard error (see [`stdin()`]).
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

    /// Whether this handle uses the reactor (stdin is a pipe or socket)
    /// rather than blocking jobs.
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
            /// Whether this handle uses the reactor (the descriptor is a
            /// pipe or socket) rather than blocking jobs.
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
            .finish()
    }
}
