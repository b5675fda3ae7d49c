//! [`FileSource`]: the bytes a `sendfile` sends, read at an offset so the
//! file's own position never moves. Shared by the sockets' `sendfile`
//! (its read-and-write fallback) and `StreamWriter::sendfile` over a
//! stream that is not a socket.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The buffer of the read-and-write fallback.
pub(crate) const FALLBACK_BUF: usize = 64 * 1024;

/// `count` bytes of a file from `offset` (or up to its end), consumed in
/// order.
///
/// Reads go through `pread`, so the descriptor's position is never used
/// or moved. A descriptor that cannot seek (a pipe, FIFO, terminal, ...)
/// answers `ESPIPE`: it is then read where it stands with `read`, which
/// is allowed only for offset 0 (there is no other way to "start at an
/// offset" of a pipe); what is read is consumed from it.
pub(crate) struct FileSource<'f> {
    fd: BorrowedFd<'f>,
    /// The next byte to send.
    offset: u64,
    /// Bytes still to send; `None`: up to the end of the file.
    left: Option<u64>,
    /// `false` once `pread` answered `ESPIPE` (reads use `read`).
    seekable: bool,
    /// Something was sent already (sendfile(2) may no longer be dropped
    /// for the fallback: its first error decides, see `net::sendfile`).
    started: bool,
}

// Without `net` only `StreamWriter`'s read-and-write path uses it.
#[cfg_attr(not(feature = "net"), allow(dead_code))]
impl<'f> FileSource<'f> {
    /// The range `offset..offset + count` of `fd` (`count` `None`: to the
    /// end).
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `offset` is beyond the largest file offset.
    pub(crate) fn new(fd: BorrowedFd<'f>, offset: u64, count: Option<u64>) -> io::Result<Self> {
        if libc::off_t::try_from(offset).is_err() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "sendfile offset {offset} is beyond the largest file offset ({}); pass an \
                     offset inside the file",
                    libc::off_t::MAX
                ),
            ));
        }
        Ok(FileSource {
            fd,
            offset,
            left: count,
            seekable: true,
            started: false,
        })
    }

    pub(crate) fn raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }

    /// The offset of the next byte.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether any byte was taken yet.
    pub(crate) fn started(&self) -> bool {
        self.started
    }

    /// The whole count was taken (never true with no count).
    pub(crate) fn finished(&self) -> bool {
        self.left == Some(0)
    }

    /// How much to ask for next, at most `cap`.
    pub(crate) fn want(&self, cap: u64) -> u64 {
        self.left.map_or(cap, |left| left.min(cap))
    }

    /// Whether the next offset is at or past the end of a regular file.
    /// There `pread` and `sendfile(2)` answer `EINVAL` or `EOVERFLOW`
    /// instead of end of file when the offset is beyond what the file
    /// system can hold (16 TiB on ext4), though a smaller one past the end
    /// just reads nothing.
    pub(crate) fn beyond_end(&self) -> bool {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: `st` is valid for writes of a `stat` for the whole call;
        // the descriptor is open while `self.fd` borrows it.
        if unsafe { libc::fstat(self.raw_fd(), st.as_mut_ptr()) } != 0 {
            return false;
        }
        // SAFETY: fstat succeeded, so it filled in `st`.
        let st = unsafe { st.assume_init() };
        st.st_mode & libc::S_IFMT == libc::S_IFREG && self.offset >= st.st_size as u64
    }

    /// Records `n` bytes taken (sent by sendfile(2), or read).
    pub(crate) fn advance(&mut self, n: u64) {
        self.offset += n;
        if let Some(left) = &mut self.left {
            *left -= n;
        }
        self.started = true;
    }

    /// Reads the next bytes into `buf`; 0 at the end of the file or of
    /// the count. Blocks while the descriptor waits for data (a blocking
    /// pipe whose writer has not written yet).
    ///
    /// # Errors
    ///
    /// The read's error; `InvalidInput` for a descriptor that cannot seek
    /// with an offset other than 0, or for a non-blocking one that has no
    /// data now (it cannot be waited for here).
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = self.want(buf.len() as u64) as usize;
        if want == 0 {
            return Ok(0);
        }
        let buf = &mut buf[..want];
        loop {
            let n = if self.seekable {
                let offset = self.offset as libc::off_t; // checked in `new`, and only grows to the file's end
                                                         // SAFETY: `buf` is valid for writes of `buf.len()` bytes for
                                                         // the whole call and pread writes at most that many; the
                                                         // descriptor is open while `self.fd` borrows it.
                unsafe { libc::pread(self.raw_fd(), buf.as_mut_ptr().cast(), buf.len(), offset) }
            } else {
                // SAFETY: as above, for read.
                unsafe { libc::read(self.raw_fd(), buf.as_mut_ptr().cast(), buf.len()) }
            };
            // Negative (-1) only on failure, with the cause in errno.
            let Ok(n) = usize::try_from(n) else {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::EINVAL | libc::EOVERFLOW) if self.seekable && self.beyond_end() => {
                        return Ok(0)
                    }
                    Some(libc::ESPIPE) if self.seekable => {
                        if self.offset != 0 {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidInput,
                                format!(
                                    "sendfile offset {} given for a file that cannot seek (a \
                                     pipe, FIFO, socket or terminal); such a file is sent from \
                                     where it stands: pass offset 0",
                                    self.offset
                                ),
                            ));
                        }
                        self.seekable = false;
                        continue;
                    }
                    Some(libc::EAGAIN) => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidInput,
                            "the file to send is in non-blocking mode and has no data now; \
                             sendfile reads it without waiting for readiness: pass a blocking \
                             descriptor or a regular file",
                        ))
                    }
                    _ => return Err(e),
                }
            };
            if n > 0 {
                self.advance(n as u64);
            }
            return Ok(n);
        }
    }
}
