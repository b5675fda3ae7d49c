//! The reactor path's descriptor, [`StdFd`]: non-blocking I/O on a
//! standard descriptor that is a pipe or a socket, without switching that
//! descriptor's shared open file description to non-blocking mode when
//! there is a way around it (see the module docs of `stdio` for the why).

use std::ffi::CString;
use std::fs::File;
use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use parking_lot::Mutex;

use crate::driver::poll_evented::MAX_IOV;

/// The [`Mode::Shared`] handles' bookkeeping, one entry per open file
/// description they switched, kept in the slot of the standard descriptor
/// whose handle switched it first.
static SHARED: Mutex<[Switched; 3]> = Mutex::new([Switched::NONE; 3]);

/// An open file description that [`Mode::Shared`] handles switched to
/// non-blocking mode.
struct Switched {
    /// The live handles that rely on it: those of the standard descriptor
    /// that switched it, and those of another one that refers to the same
    /// description (descriptors 1 and 2 after a shell's `2>&1`).
    handles: usize,
    /// Whether it was non-blocking before the first handle.
    was_nonblocking: bool,
    /// The pipe it belongs to (device, inode).
    pipe: (u64, u64),
    /// A duplicate, to switch it back through when the last handle drops,
    /// whichever standard descriptor that handle came from.
    fd: Option<OwnedFd>,
}

impl Switched {
    const NONE: Switched = Switched {
        handles: 0,
        was_nonblocking: false,
        pipe: (0, 0),
        fd: None,
    };
}

/// How a [`StdFd`] avoids blocking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// A pipe or FIFO reopened through `/proc/self/fd`: an open file
    /// description of the same pipe that only this handle uses, opened
    /// non-blocking. The standard descriptor's own flags are untouched.
    Private,
    /// A socket: a `dup` whose flags are untouched; every read is
    /// `recv(MSG_DONTWAIT)` and every write `send(MSG_DONTWAIT |
    /// MSG_NOSIGNAL)`, non-blocking on their own.
    Socket,
    /// The fallback for a pipe that could not be reopened: the shared
    /// description is switched to non-blocking mode while a handle lives
    /// (blocking mode restored when the last one on that description
    /// drops, also when two standard descriptors share it as after `2>&1`,
    /// unless it was non-blocking before).
    Shared,
}

impl Mode {
    pub(super) fn name(self) -> &'static str {
        match self {
            Mode::Private => "private pipe description",
            Mode::Socket => "socket, MSG_DONTWAIT",
            Mode::Shared => "shared O_NONBLOCK",
        }
    }
}

/// A standard descriptor's non-blocking form, registered with the reactor
/// by the caller.
pub(super) struct StdFd {
    file: File,
    mode: Mode,
    /// For [`Mode::Shared`]: the slot of [`SHARED`] this handle counts on.
    slot: usize,
}

pub(super) fn get_flags(fd: RawFd) -> io::Result<libc::c_int> {
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
pub(super) fn dup(fd: RawFd) -> io::Result<File> {
    // SAFETY: F_DUPFD_CLOEXEC takes an integer; a closed `fd` gives EBADF.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `new` is a fresh descriptor that nothing else owns.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(new) }))
}

/// Opens a new open file description of the pipe that `dup` refers to,
/// read-only or write-only, non-blocking and close-on-exec, through
/// `/proc/self/fd/N` (Linux: opening that link opens the pipe again,
/// unlike a `dup`). Checks that the result is the same pipe and really a
/// description of its own; any error means "use the fallback".
fn reopen_pipe(dup: &File, write: bool) -> io::Result<File> {
    let path = CString::new(format!("/proc/self/fd/{}", dup.as_raw_fd()))
        .expect("no NUL in a formatted number");
    let access = if write {
        libc::O_WRONLY
    } else {
        libc::O_RDONLY
    };
    let was_nonblocking = get_flags(dup.as_raw_fd())? & libc::O_NONBLOCK != 0;
    // SAFETY: `path` is a NUL-terminated string that outlives the call;
    // open takes no other pointer. O_NONBLOCK keeps opening a FIFO from
    // waiting for the other end.
    let fd = unsafe {
        libc::open(
            path.as_ptr(),
            access | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and nothing else owns it.
    let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let (old, new) = (dup.metadata()?, file.metadata()?);
    if !new.file_type().is_fifo() || (old.dev(), old.ino()) != (new.dev(), new.ino()) {
        return Err(io::Error::other("/proc/self/fd gave another file"));
    }
    // A /proc that duplicates instead of reopening (as /dev/fd does on
    // the BSDs) would have switched the shared description: undo that.
    if !was_nonblocking && get_flags(dup.as_raw_fd())? & libc::O_NONBLOCK != 0 {
        set_nonblocking(dup.as_raw_fd(), false)?;
        return Err(io::Error::other("/proc/self/fd shares the description"));
    }
    if get_flags(file.as_raw_fd())? & libc::O_NONBLOCK == 0 {
        return Err(io::Error::other("the reopened pipe is not non-blocking"));
    }
    Ok(file)
}

impl StdFd {
    /// The non-blocking form of standard descriptor `std_fd`, of which
    /// `dup` is a duplicate; `None` if it is neither a pipe nor a socket,
    /// or cannot be used in direction `write` (the blocking path then
    /// reports that on use).
    pub(super) fn open(std_fd: RawFd, dup: &File, write: bool) -> io::Result<Option<StdFd>> {
        let ft = dup.metadata()?.file_type();
        if ft.is_socket() {
            return Ok(Some(StdFd {
                file: dup.try_clone()?,
                mode: Mode::Socket,
                slot: std_fd as usize,
            }));
        }
        if !ft.is_fifo() {
            return Ok(None);
        }
        // Reopening a pipe end for the other direction would make this
        // process a reader (or writer) of a pipe it only writes (reads).
        let usable = match get_flags(dup.as_raw_fd())? & libc::O_ACCMODE {
            libc::O_RDWR => true,
            libc::O_WRONLY => write,
            _ => !write,
        };
        if !usable {
            return Ok(None);
        }
        if let Ok(file) = reopen_pipe(dup, write) {
            return Ok(Some(StdFd {
                file,
                mode: Mode::Private,
                slot: std_fd as usize,
            }));
        }
        let file = dup.try_clone()?;
        let meta = file.metadata()?;
        let pipe = (meta.dev(), meta.ino());
        let mut table = SHARED.lock();
        let nonblocking = get_flags(std_fd)? & libc::O_NONBLOCK != 0;
        // Another standard descriptor's live handle on this pipe, with the
        // flag found set: most likely the same description (descriptors 1
        // and 2 after `2>&1`), switched by that handle. Count on its entry:
        // the flag read here is what that handle set, not the original
        // state, and a drop of either handle would switch the description
        // back under the other. (A distinct description of the pipe that
        // another program made non-blocking is mistaken for it harmlessly:
        // it is non-blocking already, and the entry only ever switches
        // back the description it switched itself.)
        let slot = table
            .iter()
            .position(|e| nonblocking && e.handles > 0 && e.pipe == pipe)
            .unwrap_or(std_fd as usize);
        let entry = &mut table[slot];
        if entry.handles == 0 {
            let keep = file.try_clone()?;
            set_nonblocking(std_fd, true)?;
            *entry = Switched {
                handles: 0,
                was_nonblocking: nonblocking,
                pipe,
                fd: Some(keep.into()),
            };
        }
        entry.handles += 1;
        Ok(Some(StdFd {
            file,
            mode: Mode::Shared,
            slot,
        }))
    }

    pub(super) fn mode(&self) -> Mode {
        self.mode
    }

    fn raw(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

impl Drop for StdFd {
    fn drop(&mut self) {
        if self.mode != Mode::Shared {
            return;
        }
        let mut table = SHARED.lock();
        let entry = &mut table[self.slot];
        entry.handles -= 1;
        if entry.handles == 0 {
            let fd = entry.fd.take();
            if let (Some(fd), false) = (fd, entry.was_nonblocking) {
                let _ = set_nonblocking(fd.as_raw_fd(), false);
            }
        }
    }
}

impl mio::event::Source for StdFd {
    fn register(&mut self, r: &mio::Registry, t: mio::Token, i: mio::Interest) -> io::Result<()> {
        mio::unix::SourceFd(&self.raw()).register(r, t, i)
    }
    fn reregister(&mut self, r: &mio::Registry, t: mio::Token, i: mio::Interest) -> io::Result<()> {
        mio::unix::SourceFd(&self.raw()).reregister(r, t, i)
    }
    fn deregister(&mut self, r: &mio::Registry) -> io::Result<()> {
        mio::unix::SourceFd(&self.raw()).deregister(r)
    }
}

impl AsRawFd for StdFd {
    fn as_raw_fd(&self) -> RawFd {
        self.raw()
    }
}

/// `n` from a send/recv-style call, or the error it reported.
fn check(n: isize) -> io::Result<usize> {
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Flags for every send on the socket path: never wait (the socket's own
/// flags say blocking), and report a closed peer as `EPIPE`, not SIGPIPE.
const SEND_FLAGS: libc::c_int = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;

impl Read for &StdFd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.mode != Mode::Socket {
            return (&self.file).read(buf);
        }
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the
        // duration of the call, and recv writes at most that many.
        check(unsafe {
            libc::recv(
                self.raw(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        })
    }
}

impl Write for &StdFd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.mode != Mode::Socket {
            return (&self.file).write(buf);
        }
        // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the
        // duration of the call.
        check(unsafe { libc::send(self.raw(), buf.as_ptr().cast(), buf.len(), SEND_FLAGS) })
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if self.mode != Mode::Socket {
            return (&self.file).write_vectored(bufs);
        }
        // SAFETY: msghdr is plain data; all-zero is a valid value (null
        // pointers with zero lengths: no address, no control data).
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        // IoSlice is ABI-compatible with iovec on Unix (std documents it);
        // sendmsg only reads through the pointer.
        msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
        msg.msg_iovlen = bufs.len().min(MAX_IOV) as _;
        // SAFETY: `msg` points at `msg_iovlen` iovecs borrowed from `bufs`,
        // each valid for reads of its length for the duration of the call.
        check(unsafe { libc::sendmsg(self.raw(), &msg, SEND_FLAGS) })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
