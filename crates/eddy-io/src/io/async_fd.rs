//! [`AsyncFd`]: readiness for any file descriptor — asyncio's
//! `add_reader`/`add_writer`, as awaitable futures.

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};

use crate::driver::poll_evented::PollEvented;
use crate::driver::scheduled_io::ReadyEvent;
use crate::driver::{Interest, Ready};

/// A raw descriptor as a mio source (registration only; it owns nothing).
/// The number is the one registered, or [`FdSource::GONE`] once it no
/// longer is the `AsyncFd`'s descriptor (see [`AsyncFd::forget_if_swapped`]).
struct FdSource(AtomicI32);

impl FdSource {
    /// Not a descriptor: deregistering it does nothing.
    const GONE: RawFd = -1;

    fn fd(&self) -> RawFd {
        self.0.load(Ordering::Relaxed)
    }
}

impl mio::event::Source for FdSource {
    fn register(&mut self, r: &mio::Registry, t: mio::Token, i: mio::Interest) -> io::Result<()> {
        mio::unix::SourceFd(&self.fd()).register(r, t, i)
    }
    fn reregister(&mut self, r: &mio::Registry, t: mio::Token, i: mio::Interest) -> io::Result<()> {
        mio::unix::SourceFd(&self.fd()).reregister(r, t, i)
    }
    fn deregister(&mut self, r: &mio::Registry) -> io::Result<()> {
        match self.fd() {
            FdSource::GONE => Ok(()),
            fd => mio::unix::SourceFd(&fd).deregister(r),
        }
    }
}

/// A file descriptor owner (a socket, pipe, eventfd, ... in non-blocking
/// mode) registered with the loop's reactor, so tasks can await its
/// readiness and then do the I/O themselves.
///
/// The descriptor must be non-blocking: readiness is edge-triggered, and a
/// blocking call would stall the loop. It must stay open, and the same,
/// while the `AsyncFd` owns it (do not close or swap it through
/// [`get_mut`](AsyncFd::get_mut)). It is deregistered before `inner` is
/// dropped.
///
/// # Example
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// use std::io::Read;
/// use eddy_io::io::AsyncFd;
///
/// let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
/// a.set_nonblocking(true)?;
/// let fd = AsyncFd::new(a)?;
/// std::io::Write::write_all(&mut b, b"ping")?;
/// let mut buf = [0u8; 4];
/// let n = fd.async_io(eddy_io::driver::Interest::READABLE, |s| (&*s).read(&mut buf)).await?;
/// assert_eq!(&buf[..n], b"ping");
/// # Ok(()) }
/// ```
pub struct AsyncFd<T: AsRawFd> {
    io: PollEvented<FdSource>,
    inner: Option<T>,
}

/// The descriptor was not ready after all: readiness has been cleared;
/// await [`AsyncFd::readable`]/[`AsyncFd::writable`] again. From
/// [`ReadyGuard::try_io`].
///
/// # Example
///
/// ```
/// let e = eddy_io::io::WouldBlock;
/// assert!(e.to_string().contains("await"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WouldBlock;

impl fmt::Display for WouldBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the descriptor would block; its readiness was cleared: await readable()/writable() again")
    }
}

impl std::error::Error for WouldBlock {}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner` for reading and writing.
    ///
    /// # Errors
    ///
    /// The descriptor cannot be watched by epoll (a regular file, a
    /// directory: `PermissionDenied`), it is already registered with this
    /// loop (`AlreadyExists`: wrap a duplicate instead), or registration
    /// failed; the first two say so and what to do.
    ///
    /// # Panics
    ///
    /// Outside an eddy runtime.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo() -> std::io::Result<()> {
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// a.set_nonblocking(true)?;
    /// let fd = eddy_io::io::AsyncFd::new(a)?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Registers `inner` for `interest` only.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// # Panics
    ///
    /// Outside an eddy runtime.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo() -> std::io::Result<()> {
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// a.set_nonblocking(true)?;
    /// let fd = eddy_io::io::AsyncFd::with_interest(a, eddy_io::driver::Interest::READABLE)?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        let fd = inner.as_raw_fd();
        let io = PollEvented::with_interest(FdSource(AtomicI32::new(fd)), interest)
            .map_err(|e| registration_error(fd, e))?;
        Ok(AsyncFd {
            io,
            inner: Some(inner),
        })
    }

    /// The wrapped value.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(fd: &eddy_io::io::AsyncFd<std::os::unix::net::UnixStream>) {
    /// let stream = fd.get_ref();
    /// # }
    /// ```
    pub fn get_ref(&self) -> &T {
        self.inner.as_ref().expect("present until into_inner")
    }

    /// The wrapped value, mutably: to do I/O that needs `&mut`, not to
    /// swap or close its descriptor. The registration is for the
    /// descriptor this `AsyncFd` was made with: one put in its place gets
    /// no readiness (make a new `AsyncFd` for it), and the old number is
    /// left alone on drop, as the OS may have given it to another socket.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(fd: &mut eddy_io::io::AsyncFd<std::os::unix::net::UnixStream>) {
    /// let stream = fd.get_mut();
    /// # }
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.as_mut().expect("present until into_inner")
    }

    /// Deregisters and returns the wrapped value.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(fd: eddy_io::io::AsyncFd<std::os::unix::net::UnixStream>) {
    /// let stream = fd.into_inner();
    /// # }
    /// ```
    pub fn into_inner(mut self) -> T {
        self.forget_if_swapped();
        let inner = self.inner.take().expect("present until into_inner");
        drop(self);
        inner
    }

    /// Before deregistering: if the wrapped value no longer has the
    /// descriptor this was registered with (swapped through
    /// [`get_mut`](Self::get_mut)), that number is not ours any more: the
    /// OS dropped its registration when it closed, and may have handed
    /// the number to another socket of this loop, whose registration a
    /// deregistration by number would remove. Leave it alone then.
    fn forget_if_swapped(&self) {
        let source = self.io.get_ref();
        if let Some(inner) = &self.inner {
            if inner.as_raw_fd() != source.fd() {
                source.0.store(FdSource::GONE, Ordering::Relaxed);
            }
        }
    }

    /// Waits until the descriptor is readable.
    ///
    /// # Errors
    ///
    /// The runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(fd: eddy_io::io::AsyncFd<std::os::unix::net::UnixStream>) -> std::io::Result<()> {
    /// use std::io::Read;
    /// let mut buf = [0u8; 64];
    /// loop {
    ///     let mut guard = fd.readable().await?;
    ///     match guard.try_io(|fd| (&*fd.get_ref()).read(&mut buf)) {
    ///         Ok(result) => { let n = result?; break; }
    ///         Err(_would_block) => continue,
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn readable(&self) -> io::Result<ReadyGuard<'_, T>> {
        let event = self.io.ready(Interest::READABLE).await?;
        Ok(ReadyGuard { fd: self, event })
    }

    /// Waits until the descriptor is writable.
    ///
    /// # Errors
    ///
    /// The runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(fd: eddy_io::io::AsyncFd<std::os::unix::net::UnixStream>) -> std::io::Result<()> {
    /// let guard = fd.writable().await?;
    /// assert!(guard.ready().is_writable() || guard.ready().is_write_closed() || guard.ready().is_error());
    /// # Ok(()) }
    /// ```
    pub async fn writable(&self) -> io::Result<ReadyGuard<'_, T>> {
        let event = self.io.ready(Interest::WRITABLE).await?;
        Ok(ReadyGuard { fd: self, event })
    }

    /// Runs `op` until it does not return `WouldBlock`, awaiting
    /// `interest` (one direction) in between.
    ///
    /// # Errors
    ///
    /// What `op` returned, or the runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe if `op` is: it completes in one call.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(fd: eddy_io::io::AsyncFd<std::os::unix::net::UnixStream>) -> std::io::Result<()> {
    /// use std::io::Write;
    /// let n = fd.async_io(eddy_io::driver::Interest::WRITABLE, |s| (&*s).write(b"hi")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let inner = self.get_ref();
        self.io.async_io(interest, |_| op(inner)).await
    }
}

/// A refused registration of `fd`, with a message that says why and
/// what to do for the two refusals a caller can cause (epoll's bare
/// `EPERM` reads as a permissions problem, `EEXIST` as a file one); the
/// kind stays, other errors pass unchanged.
fn registration_error(fd: RawFd, e: io::Error) -> io::Error {
    let why = match e.raw_os_error() {
        Some(libc::EPERM) => format!(
            "descriptor {fd} cannot be watched for readiness: epoll refuses it ({e}), as it \
             does every regular file, directory and some devices (e.g. /dev/null), which never \
             wait; read and write it directly, or off the loop on the blocking pool \
             (eddy::fs, spawn_blocking)"
        ),
        Some(libc::EEXIST) => format!(
            "descriptor {fd} is already registered with this loop's reactor ({e}), by another \
             AsyncFd or socket: register it once, or wrap a duplicate of it (try_clone / \
             try_clone_to_owned), which is registered apart"
        ),
        _ => return e,
    };
    io::Error::new(e.kind(), why)
}

impl<T: AsRawFd> Drop for AsyncFd<T> {
    fn drop(&mut self) {
        // `io` deregisters when it drops, after this and before `inner`.
        self.forget_if_swapped();
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AsyncFd").field(&self.inner).finish()
    }
}

/// Readiness handed out by [`AsyncFd::readable`]/[`AsyncFd::writable`].
/// If the I/O you then do returns `WouldBlock`, clear it
/// ([`clear_ready`](Self::clear_ready), or use [`try_io`](Self::try_io)
/// which does it for you), or the next wait returns at once.
///
/// # Example
///
/// ```
/// # async fn demo(fd: eddy_io::io::AsyncFd<std::os::unix::net::UnixStream>) -> std::io::Result<()> {
/// let mut guard = fd.readable().await?;
/// println!("{:?}", guard.ready());
/// guard.clear_ready();
/// # Ok(()) }
/// ```
pub struct ReadyGuard<'a, T: AsRawFd> {
    fd: &'a AsyncFd<T>,
    event: ReadyEvent,
}

impl<T: AsRawFd> ReadyGuard<'_, T> {
    /// The readiness seen.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(fd: eddy_io::io::AsyncFd<std::os::unix::net::UnixStream>) -> std::io::Result<()> {
    /// let guard = fd.readable().await?;
    /// if guard.ready().is_read_closed() { println!("EOF"); }
    /// # Ok(()) }
    /// ```
    pub fn ready(&self) -> Ready {
        self.event.ready
    }

    /// Marks the descriptor not ready (unless an event arrived since this
    /// readiness was seen), so the next wait really waits.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(fd: eddy_io::io::AsyncFd<std::os::unix::net::UnixStream>) -> std::io::Result<()> {
    /// fd.readable().await?.clear_ready();
    /// # Ok(()) }
    /// ```
    pub fn clear_ready(&mut self) {
        self.fd.io.clear_readiness(self.event);
    }

    /// Runs `op`; if it returns `WouldBlock`, clears readiness and returns
    /// `Err(WouldBlock)` (await readiness again), otherwise `Ok(result)`.
    ///
    /// # Errors
    ///
    /// [`WouldBlock`] when `op` would block.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(fd: eddy_io::io::AsyncFd<std::os::unix::net::UnixStream>) -> std::io::Result<()> {
    /// use std::io::Read;
    /// let mut buf = [0u8; 16];
    /// let mut guard = fd.readable().await?;
    /// if let Ok(res) = guard.try_io(|fd| (&*fd.get_ref()).read(&mut buf)) {
    ///     let n = res?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn try_io<R>(
        &mut self,
        op: impl FnOnce(&AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, WouldBlock> {
        match op(self.fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(WouldBlock)
            }
            res => Ok(res),
        }
    }
}

impl<T: AsRawFd> fmt::Debug for ReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyGuard")
            .field("ready", &self.event.ready)
            .finish()
    }
}
