//! Reads that also say whether the socket is now empty (TCP on Linux).
//!
//! A read that fills the caller's buffer leaves a question open: was that
//! everything the kernel held, or is more queued? The plain answer is to
//! read again and get `EAGAIN`, one system call per exchange that moves no
//! data. Linux answers it for free on TCP sockets: with the `TCP_INQ`
//! option on, `recvmsg` returns, as a control message, the number of bytes
//! still queued after the read. Zero means the read drained the socket and
//! readiness can be cleared at once, as after a short read. After the peer's
//! FIN the kernel reports at least 1, so end of stream still gets read.
//!
//! [`ReadHint`] is a socket's policy, chosen per read:
//!
//! * a TCP stream starts with plain reads ([`ReadHint::IDLE`]): most reads
//!   of request/response traffic come up short, and a short read already
//!   says "drained" without the option;
//! * the first read that fills its buffer turns the option on and
//!   switches to `recvmsg` with the hint ([`ReadHint::ACTIVE`]), since a
//!   full read is the one case that leaves the question open, and full
//!   reads come in runs (bulk transfers, fixed-size messages);
//! * a short read under the hint switches back to plain reads
//!   ([`ReadHint::PAUSED`]), because `recvmsg` with a control buffer costs
//!   more than `recv` and the hint tells nothing a short read does not;
//! * everything else — Unix sockets, pipes, a kernel that refuses the
//!   option — stays [`ReadHint::NONE`] and always reads plainly.
//!
//! Only plain reads (`PollEvented::poll_read`) consult the hint. Vectored
//! reads (`readv`) neither use nor change it: they clear readiness after a
//! short read and otherwise leave the question to the next read.
//!
//! The hint only ever *skips* a read that would have returned `EAGAIN`; it
//! never reads ahead of the caller's buffer, so nothing is held back from a
//! user who later reads the raw descriptor.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU8, Ordering};

/// A socket's read policy (see the module docs). Stored per registration;
/// racing readers of one socket can only make it pick a slower policy for
/// a read, never a wrong answer: "drained" is reported only from the
/// kernel's own count or a short read.
pub(crate) struct ReadHint(AtomicU8);

impl ReadHint {
    /// Plain reads, always (not TCP, or the option was refused).
    pub(crate) const NONE: u8 = 0;
    /// TCP, option not yet on: plain reads until one fills its buffer.
    pub(crate) const IDLE: u8 = 1;
    /// Option on: `recvmsg` with the in-queue count.
    pub(crate) const ACTIVE: u8 = 2;
    /// Option on, last read was short: plain reads until one fills its
    /// buffer again.
    pub(crate) const PAUSED: u8 = 3;

    /// A hint in `mode`.
    pub(crate) const fn new(mode: u8) -> ReadHint {
        ReadHint(AtomicU8::new(mode))
    }

    /// Reads at most `buf.len()` bytes: through `plain` (the source's own
    /// `read`) unless the policy says to ask `fd` for the in-queue count.
    /// Returns the count and whether the socket is known to be drained
    /// afterwards (a short read, or the kernel's count of zero), which
    /// lets the caller clear readiness instead of reading again into
    /// `EAGAIN`.
    #[inline]
    pub(crate) fn read(
        &self,
        fd: RawFd,
        buf: &mut [u8],
        plain: impl FnOnce(&mut [u8]) -> io::Result<usize>,
    ) -> io::Result<(usize, bool)> {
        let len = buf.len();
        let mode = self.0.load(Ordering::Relaxed);
        if mode == ReadHint::ACTIVE {
            let (n, queued) = sys::recv_with_queued(fd, buf)?;
            if n > 0 && n < len {
                self.0.store(ReadHint::PAUSED, Ordering::Relaxed);
            }
            // No count (cannot happen on a kernel that took the option, but
            // cheap to honour): fall back to the short-read rule.
            let drained = n > 0 && (n < len || queued == Some(0));
            return Ok((n, drained));
        }
        let n = plain(buf)?;
        if n == len && mode != ReadHint::NONE {
            self.switch_on(fd, mode);
        }
        Ok((n, n > 0 && n < len))
    }

    /// A full plain read under `IDLE` or `PAUSED`: use the hint from the
    /// next read on, turning the option on first if it is not.
    #[cold]
    fn switch_on(&self, fd: RawFd, mode: u8) {
        let next = if mode == ReadHint::PAUSED || sys::enable(fd) {
            ReadHint::ACTIVE
        } else {
            ReadHint::NONE
        };
        self.0.store(next, Ordering::Relaxed);
    }
}

#[cfg(target_os = "linux")]
mod sys {
    use std::io;
    use std::mem::{self, MaybeUninit};
    use std::os::fd::RawFd;

    /// Turns `TCP_INQ` on; false if the kernel refuses it (before 4.18).
    pub(super) fn enable(fd: RawFd) -> bool {
        let on: libc::c_int = 1;
        // SAFETY: `fd` is a live socket owned by the caller's registration;
        // the option value points at a c_int that outlives the call and its
        // length is passed with it.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_INQ,
                (&on as *const libc::c_int).cast(),
                mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        rc == 0
    }

    /// Room for one `int` control message, aligned as `cmsghdr` needs.
    #[repr(C)]
    struct Control {
        _align: [libc::cmsghdr; 0],
        bytes: [u8; 32],
    }

    /// `recvmsg` into `buf`, returning the count and the bytes still
    /// queued (the `TCP_CM_INQ` control message), if the kernel sent it.
    pub(super) fn recv_with_queued(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<i32>)> {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut control = Control {
            _align: [],
            bytes: [0; 32],
        };
        // SAFETY: an all-zero msghdr is a valid empty header (null name,
        // no iovecs, no control buffer); the fields that matter are set
        // below.
        let mut msg: libc::msghdr = unsafe { MaybeUninit::zeroed().assume_init() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.bytes.as_mut_ptr().cast();
        msg.msg_controllen = control.bytes.len() as _;
        // SAFETY: `msg` points at one iovec covering `buf` (valid for
        // writes of its length) and at `control.bytes` (valid for writes of
        // `msg_controllen` bytes, aligned for cmsghdr); all outlive the call.
        let n = unsafe { libc::recvmsg(fd, &mut msg, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut queued = None;
        // SAFETY: the kernel filled `msg_controllen` bytes of the control
        // buffer with well-formed cmsghdrs; CMSG_FIRSTHDR/CMSG_NXTHDR stay
        // within that length and return null past it, and CMSG_DATA of a
        // TCP_CM_INQ message points at the int the kernel wrote (read
        // unaligned, as the data offset need not be aligned for i32).
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_TCP && (*c).cmsg_type == libc::TCP_CM_INQ {
                    queued = Some(std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<i32>()));
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        Ok((n as usize, queued))
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::io;
    use std::os::fd::RawFd;

    /// No `TCP_INQ` outside Linux: sockets stay on plain reads.
    pub(super) fn enable(_fd: RawFd) -> bool {
        false
    }

    /// Never called: `enable` never succeeds here, so no socket gets to
    /// `ACTIVE`. Reports an error rather than guessing.
    pub(super) fn recv_with_queued(
        _fd: RawFd,
        _buf: &mut [u8],
    ) -> io::Result<(usize, Option<i32>)> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

#[cfg(all(test, target_os = "linux", not(loom)))]
mod tests {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    use super::ReadHint;

    /// A connected loopback pair: (writer, non-blocking reader).
    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let writer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (reader, _) = listener.accept().unwrap();
        reader.set_nonblocking(true).unwrap();
        (writer, reader)
    }

    /// Reads through the hint the way `PollEvented::poll_read` does.
    fn read(hint: &ReadHint, s: &TcpStream, buf: &mut [u8]) -> std::io::Result<(usize, bool)> {
        hint.read(s.as_raw_fd(), buf, |b| (&mut &*s).read(b))
    }

    /// Waits (blocking, bounded by the data the test sent) until `n` bytes
    /// are queued on `s`, so a read sees them all at once.
    fn await_queued(s: &TcpStream, n: usize) {
        let mut peek = vec![0u8; n];
        for _ in 0..10_000 {
            if matches!(s.peek(&mut peek), Ok(k) if k >= n) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        panic!("{n} bytes never arrived");
    }

    fn mode(hint: &ReadHint) -> u8 {
        hint.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    #[test]
    fn a_full_read_switches_to_the_hint_and_the_count_says_when_drained() {
        let (mut w, r) = pair();
        let hint = ReadHint::new(ReadHint::IDLE);
        let mut buf = [0u8; 8];

        w.write_all(&[1; 24]).unwrap();
        await_queued(&r, 24);
        // Plain and full: undecided, and the hint is switched on.
        assert_eq!(read(&hint, &r, &mut buf).unwrap(), (8, false));
        assert_eq!(mode(&hint), ReadHint::ACTIVE);
        // Full with 8 more queued: not drained.
        assert_eq!(read(&hint, &r, &mut buf).unwrap(), (8, false));
        // Full and the last of it: drained, no EAGAIN read needed.
        assert_eq!(read(&hint, &r, &mut buf).unwrap(), (8, true));
        let e = read(&hint, &r, &mut buf).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
    }

    #[test]
    fn a_short_read_under_the_hint_goes_back_to_plain_reads() {
        let (mut w, r) = pair();
        let hint = ReadHint::new(ReadHint::ACTIVE);
        crate::driver::in_queue::sys::enable(r.as_raw_fd());
        let mut buf = [0u8; 8];
        w.write_all(&[2; 3]).unwrap();
        await_queued(&r, 3);
        assert_eq!(read(&hint, &r, &mut buf).unwrap(), (3, true));
        assert_eq!(mode(&hint), ReadHint::PAUSED);
        // The next full read switches back without setting the option again.
        w.write_all(&[3; 8]).unwrap();
        await_queued(&r, 8);
        assert_eq!(read(&hint, &r, &mut buf).unwrap(), (8, false));
        assert_eq!(mode(&hint), ReadHint::ACTIVE);
    }

    /// Waits until the peer's FIN has reached `s` (POLLRDHUP).
    fn await_fin(s: &TcpStream) {
        let mut pfd = libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLRDHUP,
            revents: 0,
        };
        // SAFETY: one valid pollfd, count 1; blocks at most 10 s.
        let rc = unsafe { libc::poll(&mut pfd, 1, 10_000) };
        assert!(
            rc == 1 && pfd.revents & libc::POLLRDHUP != 0,
            "FIN never arrived"
        );
    }

    #[test]
    fn end_of_stream_behind_the_last_bytes_keeps_the_socket_readable() {
        let (mut w, r) = pair();
        let hint = ReadHint::new(ReadHint::IDLE);
        let mut buf = [0u8; 8];
        w.write_all(&[4; 16]).unwrap();
        w.shutdown(Shutdown::Write).unwrap();
        await_fin(&r);
        assert_eq!(read(&hint, &r, &mut buf).unwrap(), (8, false));
        // The last data bytes, FIN queued behind them: the kernel counts
        // the FIN, so this is not "drained" and the reader goes on to see
        // end of stream instead of waiting for an event that already came.
        assert_eq!(read(&hint, &r, &mut buf).unwrap(), (8, false));
        assert_eq!(read(&hint, &r, &mut buf).unwrap(), (0, false));
    }

    #[test]
    fn sockets_without_the_hint_never_touch_the_option() {
        let (mut w, r) = pair();
        let hint = ReadHint::new(ReadHint::NONE);
        let mut buf = [0u8; 4];
        w.write_all(&[5; 8]).unwrap();
        await_queued(&r, 8);
        assert_eq!(read(&hint, &r, &mut buf).unwrap(), (4, false));
        assert_eq!(mode(&hint), ReadHint::NONE);
    }
}
