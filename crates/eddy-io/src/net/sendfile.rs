//! `sendfile` for the stream sockets (asyncio's `loop.sendfile` and
//! `loop.sock_sendfile`).
//!
//! On Linux the kernel copies the file to the socket itself
//! (`sendfile(2)`, zero-copy). That works on a non-blocking socket: when
//! the socket's buffer is full the call answers `EAGAIN`, and the transfer
//! waits for write readiness like any other write, on the loop, with no
//! thread involved (as CPython does). The file's own position is never
//! used or moved: every call passes its offset.
//!
//! When the kernel cannot do it for the pair of descriptors — the first
//! call fails with `EINVAL`, `ENOSYS`, `EOPNOTSUPP` or `ESPIPE` (a pipe, a
//! `/proc` file, ...) — the transfer falls back to reading the file at its
//! offset (`pread`) into a buffer and writing that, as asyncio's
//! `fallback=True` does. On other systems the fallback is the only path.

use std::io::{self, Write};
use std::os::fd::{AsRawFd, BorrowedFd};

use crate::driver::poll_evented::PollEvented;
use crate::driver::Interest;
use crate::io::{FileSource, FALLBACK_BUF};

/// The most one `sendfile(2)` call moves on Linux.
#[cfg(any(target_os = "linux", target_os = "android"))]
const MAX_SENDFILE: u64 = 0x7fff_f000;

/// One transfer of a file range to a socket, a step (one system call that
/// moved bytes) at a time.
pub(crate) struct Transfer<'f> {
    src: FileSource<'f>,
    /// Still on `sendfile(2)` (not switched to the fallback).
    native: bool,
    /// The fallback's buffer: `buf[start..end]` is read and not yet sent.
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl<'f> Transfer<'f> {
    /// `count` bytes of `file` from `offset` (`None`: to its end).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an offset beyond the largest file offset.
    pub(crate) fn new(file: BorrowedFd<'f>, offset: u64, count: Option<u64>) -> io::Result<Self> {
        Ok(Transfer::from_source(FileSource::new(file, offset, count)?))
    }

    /// The transfer of what `src` has left.
    pub(crate) fn from_source(src: FileSource<'f>) -> Self {
        Transfer {
            src,
            native: cfg!(any(target_os = "linux", target_os = "android")),
            buf: Vec::new(),
            start: 0,
            end: 0,
        }
    }

    /// Waits for room in the socket and moves some bytes: `Some(n)` with
    /// how many the socket took, `None` once the range is sent (or the
    /// file ended). Each step takes one unit of the task's cooperative
    /// budget, as a write does.
    ///
    /// Cancel safe: a step dropped before it completes sent nothing (its
    /// only wait is for readiness, and the counts are updated only after a
    /// system call that moved bytes).
    pub(crate) async fn step<E>(&mut self, io: &PollEvented<E>) -> io::Result<Option<u64>>
    where
        E: mio::event::Source + AsRawFd,
        for<'a> &'a E: Write,
    {
        loop {
            if self.native {
                match self.native_step(io).await {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    // An offset past the end of the file, beyond what its
                    // file system can hold: the end, as for a smaller one.
                    // (`EINVAL` there goes to the fallback, whose read
                    // tells; a `/proc` file, sized 0, answers it too.)
                    Err(e)
                        if e.raw_os_error() == Some(libc::EOVERFLOW) && self.src.beyond_end() =>
                    {
                        return Ok(None)
                    }
                    Err(e) if !self.src.started() && unsupported(&e) => {
                        self.native = false;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            if self.start == self.end {
                if self.buf.is_empty() {
                    let size = self.src.want(FALLBACK_BUF as u64) as usize;
                    self.buf = vec![0; size.max(1)];
                }
                let n = self.src.read(&mut self.buf)?;
                if n == 0 {
                    return Ok(None);
                }
                (self.start, self.end) = (0, n);
            }
            let chunk = &self.buf[self.start..self.end];
            match io
                .async_io(Interest::WRITABLE, |s| (&*s).write(chunk))
                .await
            {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.start += n;
                    return Ok(Some(n as u64));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    async fn native_step<E>(&mut self, io: &PollEvented<E>) -> io::Result<Option<u64>>
    where
        E: mio::event::Source + AsRawFd,
    {
        if self.src.finished() {
            return Ok(None);
        }
        let len = self.src.want(MAX_SENDFILE) as usize;
        let (file, offset) = (self.src.raw_fd(), self.src.offset());
        let n = io
            .async_io(Interest::WRITABLE, |s| {
                sendfile(s.as_raw_fd(), file, offset, len)
            })
            .await?;
        if n == 0 {
            return Ok(None);
        }
        self.src.advance(n as u64);
        Ok(Some(n as u64))
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    async fn native_step<E>(&mut self, _io: &PollEvented<E>) -> io::Result<Option<u64>>
    where
        E: mio::event::Source + AsRawFd,
    {
        unreachable!("sendfile(2) is used on Linux only")
    }
}

/// Sends the whole range through `io`, adding to `sent` as the socket
/// takes bytes; returns how many this call sent.
pub(crate) async fn send_all<E>(
    io: &PollEvented<E>,
    file: BorrowedFd<'_>,
    offset: u64,
    count: Option<u64>,
    sent: &mut u64,
) -> io::Result<u64>
where
    E: mio::event::Source + AsRawFd,
    for<'a> &'a E: Write,
{
    let mut transfer = Transfer::new(file, offset, count)?;
    let mut total = 0;
    while let Some(n) = transfer.step(io).await? {
        total += n;
        *sent += n;
    }
    Ok(total)
}

/// The errors of a first `sendfile(2)` call that mean "not for these
/// descriptors": the fallback will do.
fn unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP | libc::ESPIPE)
    )
}

/// One `sendfile(2)` call: up to `len` bytes of `file` from `offset` to
/// the socket `out`, leaving `file`'s position alone.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn sendfile(
    out: std::os::fd::RawFd,
    file: std::os::fd::RawFd,
    offset: u64,
    len: usize,
) -> io::Result<usize> {
    // Checked by `FileSource::new`, and only grows up to the file's size.
    let mut off = offset as libc::off_t;
    // SAFETY: both descriptors are open for the call (the socket is owned
    // by the registration borrowed by the caller, the file by the caller's
    // `BorrowedFd`); `off` is a valid, writable off_t that outlives the
    // call. The kernel writes only to `off`.
    let n = unsafe { libc::sendfile(out, file, &mut off, len) };
    // Negative (-1) only on failure, with the cause in errno.
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// `sendfile` and `sendfile_with_progress` for a stream socket type whose
/// field `io` is a `PollEvented`; `$pair` is a hidden doc-test line that
/// makes a connected `(sender, receiver)` of that type.
macro_rules! sendfile_methods {
    ($($ty:ident => $pair:literal),*) => {$(
        impl $ty {
            /// Sends `count` bytes of `file` starting at `offset` (`None`:
            /// up to the end of the file) and returns how many were sent:
            /// asyncio's `loop.sendfile(transport, file, offset, count)` /
            /// `loop.sock_sendfile`. Fewer than `count` only when the file
            /// ends first; none for an offset at or past its end.
            ///
            /// On Linux the kernel copies the file to the socket
            /// (`sendfile(2)`, no copy through user space). The socket is
            /// non-blocking: when its buffer is full the transfer waits for
            /// room on the loop like any write, so other tasks go on, and
            /// every call that moves bytes takes one unit of the task's
            /// cooperative budget. The file's own position is neither used
            /// nor moved (every call passes its offset), so one open file
            /// can be sent to many sockets at once.
            ///
            /// When the kernel cannot send that file this way — the first
            /// call fails with `EINVAL`, `ENOSYS`, `EOPNOTSUPP` or `ESPIPE`,
            /// as for a pipe or most `/proc` files — it falls back to
            /// reading the file at the offset (`pread`) into a 64 KiB
            /// buffer and writing that, as asyncio's `fallback=True` does
            /// (eddy has no `SendfileNotAvailableError`: the fallback is
            /// always on). On other systems the fallback is the only path.
            /// A file that cannot seek (pipe, FIFO) is read from where it
            /// stands, which consumes it; it takes offset 0 only.
            ///
            /// The file is read on the loop thread, by the kernel or by the
            /// fallback, as asyncio's native path does: a regular file not
            /// in the page cache holds the loop while the disk reads, and a
            /// blocking pipe holds it until its writer writes.
            ///
            /// Unlike a write, `sendfile(2)` cannot be told not to raise
            /// `SIGPIPE`: sending to a peer that is gone raises it (as
            /// CPython's `os.sendfile` and std's `io::copy` do). Rust
            /// programs ignore `SIGPIPE` by default, and the call fails
            /// with `BrokenPipe`; a program that restores its default
            /// action is killed, and one that listens for it through
            /// `signal::unix` gets the signal too.
            ///
            /// The write halves reach it through `as_ref()`.
            ///
            /// # Errors
            ///
            /// The socket's error (`BrokenPipe`, `ConnectionReset`, ...) or
            /// the file's (`EBADF`: not open for reading, `EIO`, ...) as
            /// the OS reports it; `InvalidInput` for an offset beyond the
            /// largest file offset, an offset other than 0 on a file that
            /// cannot seek, or a non-blocking pipe with no data. Bytes sent
            /// before the error have reached the socket:
            /// [`sendfile_with_progress`](Self::sendfile_with_progress)
            /// says how many.
            ///
            /// # Cancel safety
            ///
            /// Not cancel safe: dropped part way, it has sent a prefix of
            /// the range of unknown length, and the peer has received that
            /// prefix. To know how far it got (to resume, or to report),
            /// use [`sendfile_with_progress`](Self::sendfile_with_progress),
            /// whose counter is exact after a drop.
            ///
            /// # Example
            ///
            /// ```
            /// # let driver = eddy_io::driver::IoDriver::new()?;
            /// # let _io = driver.handle().enter();
            /// # let rt = eddy_core::Builder::new().build_with_driver(Box::new(driver))?;
            /// # rt.block_on(async {
            /// use futures::io::AsyncReadExt;
            /// use std::io::Write;
            ///
            /// let mut file = tempfile::tempfile()?;
            /// file.write_all(b"header|body of the file")?;
            #[doc = $pair]
            /// // Skip the 7-byte header, send the rest.
            /// let sent = sender.sendfile(&file, 7, None).await?;
            /// assert_eq!(sent, 16);
            /// drop(sender);
            /// let mut got = String::new();
            /// receiver.read_to_string(&mut got).await?;
            /// assert_eq!(got, "body of the file");
            /// # Ok::<(), std::io::Error>(())
            /// # })?;
            /// # Ok::<(), std::io::Error>(())
            /// ```
            pub async fn sendfile(
                &self,
                file: &impl std::os::fd::AsFd,
                offset: u64,
                count: Option<u64>,
            ) -> std::io::Result<u64> {
                let mut sent = 0;
                $crate::net::sendfile::send_all(&self.io, file.as_fd(), offset, count, &mut sent)
                    .await
            }

            /// [`sendfile`](Self::sendfile) that also adds to `*sent`, as
            /// it goes, every byte the socket takes, so the count is known
            /// whatever ends the transfer: completion, an error, or the
            /// future being dropped (a timeout, a `select!`). After a drop
            /// the socket has taken exactly `*sent` more bytes (added up
            /// from the value it had), and the rest of the range can be
            /// sent by calling again from `offset + sent`.
            ///
            /// # Errors
            ///
            /// As [`sendfile`](Self::sendfile); `*sent` counts what went
            /// out before the error.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe in the sense that matters here: nothing is
            /// sent that `*sent` does not count, so a dropped transfer can
            /// be resumed exactly. Not so for a file that cannot seek (a
            /// pipe): it takes offset 0 only, and what the fallback had
            /// read from it but not yet sent (up to 64 KiB) is lost.
            ///
            /// # Example
            ///
            /// ```
            /// # let driver = eddy_io::driver::IoDriver::new()?;
            /// # let _io = driver.handle().enter();
            /// # let rt = eddy_core::Builder::new().build_with_driver(Box::new(driver))?;
            /// # rt.block_on(async {
            /// use futures::future::{select, Either};
            /// use futures::io::AsyncReadExt;
            /// use std::io::Write;
            /// use std::pin::pin;
            ///
            /// let mut file = tempfile::tempfile()?;
            /// file.write_all(&vec![7u8; 4 << 20])?;
            #[doc = $pair]
            /// let mut sent = 0;
            /// {
            ///     // Nobody reads yet, so the socket fills up and the
            ///     // transfer waits; something else finishes first, and the
            ///     // transfer is dropped at the end of this block.
            ///     let transfer = pin!(sender.sendfile_with_progress(&file, 0, None, &mut sent));
            ///     if let Either::Left((res, _)) = select(transfer, pin!(eddy_core::yield_now())).await {
            ///         res?;
            ///     }
            /// }
            /// // Exactly `sent` bytes went out: go on from there.
            /// let reader = eddy_core::spawn(async move {
            ///     let mut all = Vec::new();
            ///     receiver.read_to_end(&mut all).await.map(|_| all.len())
            /// });
            /// sender.sendfile_with_progress(&file, sent, None, &mut sent).await?;
            /// assert_eq!(sent, 4 << 20);
            /// drop(sender);
            /// assert_eq!(reader.await.unwrap()?, 4 << 20);
            /// # Ok::<(), std::io::Error>(())
            /// # })?;
            /// # Ok::<(), std::io::Error>(())
            /// ```
            pub async fn sendfile_with_progress(
                &self,
                file: &impl std::os::fd::AsFd,
                offset: u64,
                count: Option<u64>,
                sent: &mut u64,
            ) -> std::io::Result<u64> {
                $crate::net::sendfile::send_all(&self.io, file.as_fd(), offset, count, sent).await
            }
        }
    )*};
}

pub(crate) use sendfile_methods;
