//! Sockets (asyncio's transports, without protocol classes): TCP, UDP and
//! Unix-domain, registered with the loop's reactor.
//!
//! Stream types implement futures' `AsyncRead`/`AsyncWrite`, so
//! `futures::io` combinators (`copy`, `read_to_end`, `BufReader`, ...)
//! work on them. For asyncio's `StreamReader`/`StreamWriter` API use
//! [`crate::io::open_connection`] and [`crate::io::start_server`].
//!
//! Every constructor registers with the reactor of the current runtime
//! and panics outside one. Host names are resolved off the loop.
//!
//! The async methods that take `&self` (`accept`, `recv`, `send_to`,
//! `readable`, ...) may be awaited by any number of tasks on one socket at
//! once, and each is woken by the events it waits for. The `poll_*`
//! methods and the `AsyncRead`/`AsyncWrite` impls keep one waker per
//! direction: one task reading and one writing (e.g. the two halves of a
//! split stream), as with any `poll_*` API.
//!
//! `ready(interest)` waits for either direction and says which is ready,
//! so one task can serve both; `try_io` and `async_io` run an operation of
//! your own on the socket (a `recvmsg` with flags, a socket option that
//! needs readiness) under the same readiness rules as the built-in calls.
//!
//! # Socket options
//!
//! The sockets wrap the options most programs set (`TcpStream::set_nodelay`,
//! `UdpSocket::set_broadcast`, the listener's
//! [`TcpListenerBuilder`]). Every other one — TTL, `SO_LINGER`,
//! keep-alive, buffer sizes, `IP_TOS`, ... — is set on the descriptor, which
//! every socket type lends through `AsFd`: `socket2::SockRef::from(&socket)`
//! (add `socket2` to your dependencies) has them all; tokio's
//! `TcpStream::set_ttl`/`set_linger` and `TcpSocket`'s setters are there
//! under the same names.
//!
//! ```
//! # fn demo(stream: &eddy_io::net::TcpStream) -> std::io::Result<()> {
//! use std::time::Duration;
//! let sock = socket2::SockRef::from(stream);
//! sock.set_ttl_v4(32)?;
//! sock.set_keepalive(true)?;
//! sock.set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(Duration::from_secs(60)))?;
//! sock.set_send_buffer_size(256 * 1024)?;
//! // SO_LINGER with a timeout makes close block the loop thread: use
//! // Some(Duration::ZERO) (reset on close) or leave it off.
//! sock.set_linger(Some(Duration::ZERO))?;
//! # Ok(()) }
//! ```
//!
//! Options that must be set before connecting (tokio's `TcpSocket`: a
//! receive buffer large enough for window scaling, a local address or port
//! to connect from) go on a `socket2::Socket` that you connect yourself,
//! without blocking, and hand over with
//! [`TcpStream::from_std`]; the connect completes when it turns writable.
//!
//! ```
//! # let driver = eddy_io::driver::IoDriver::new()?;
//! # let _io = driver.handle().enter();
//! # let rt = eddy_core::Builder::new().build_with_driver(Box::new(driver))?;
//! # rt.block_on(async {
//! # let listener = eddy_io::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let server = listener.local_addr()?;
//! use socket2::{Domain, SockAddr, SockRef, Socket, Type};
//! let socket = Socket::new(Domain::IPV4, Type::STREAM.nonblocking(), None)?;
//! socket.set_recv_buffer_size(4 << 20)?;
//! socket.bind(&SockAddr::from(std::net::SocketAddr::from(([127, 0, 0, 1], 0))))?;
//! match socket.connect(&SockAddr::from(server)) {
//!     Err(e) if e.raw_os_error() != Some(libc::EINPROGRESS) => return Err(e),
//!     _ => {}
//! }
//! let stream = eddy_io::net::TcpStream::from_std(socket.into())?;
//! stream.writable().await?;
//! if let Some(e) = SockRef::from(&stream).take_error()? {
//!     return Err(e); // refused, unreachable, ...
//! }
//! # let (accepted, from) = listener.accept().await?;
//! # assert_eq!(from, stream.local_addr()?);
//! # Ok::<(), std::io::Error>(())
//! # })?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod addr;
pub(crate) mod sendfile;
pub(crate) mod split;
mod tcp_listener;
mod tcp_stream;
mod udp;
mod unix_datagram;
mod unix_listener;
mod unix_stream;

pub use addr::{lookup_host, ToSocketAddrs};
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, SplitStream, WriteHalf};
pub use tcp_listener::{Incoming, TcpListener, TcpListenerBuilder};
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;
pub use unix_datagram::UnixDatagram;
pub use unix_listener::{UnixIncoming, UnixListener};
pub use unix_stream::UnixStream;

/// `AsRawFd`/`AsFd` for the socket types, so socket options that eddy does
/// not wrap can be set through `socket2::SockRef` or libc.
macro_rules! as_fd {
    ($($ty:ty),*) => {$(
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.io.get_ref().as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.io.get_ref().as_fd()
            }
        }
    )*};
}

as_fd!(
    TcpStream,
    TcpListener,
    UdpSocket,
    UnixStream,
    UnixListener,
    UnixDatagram
);

/// `ready`, `try_io` and `async_io` (tokio's readiness API) for the socket
/// types that read and write, over their registration's readiness.
macro_rules! readiness {
    ($($ty:ident),*) => {$(
        impl $ty {
            /// Waits until the socket is ready for any of `interest`
            /// (`Interest::READABLE | Interest::WRITABLE` waits for
            /// either) and returns the readiness seen: one task can then
            /// serve both directions, reading if it
            /// [`is_readable`](crate::driver::Ready::is_readable),
            /// writing if it [`is_writable`](crate::driver::Ready::is_writable).
            /// A closed or failed socket counts as ready (the next
            /// operation returns the end of stream or the error), and the
            /// readiness returned says so in the terms that dispatch uses:
            /// `is_readable()` also at end of stream or with an error
            /// pending, `is_writable()` also once the write side is closed
            /// or an error is pending, for the directions asked
            /// (`is_read_closed()`, `is_write_closed()` and `is_error()`
            /// tell those cases apart). Readiness
            /// can be stale: the operation may still answer `WouldBlock`,
            /// which clears it, and the next wait then really waits. Any
            /// number of tasks may wait at once; each is woken.
            ///
            /// # Errors
            ///
            /// Only once the runtime has shut down.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: it only waits.
            ///
            /// # Example
            ///
            /// ```
            #[doc = concat!("# async fn demo(s: &eddy_io::net::", stringify!($ty), ") -> std::io::Result<()> {")]
            /// use eddy_io::driver::Interest;
            /// let ready = s.ready(Interest::READABLE | Interest::WRITABLE).await?;
            /// if ready.is_readable() {
            ///     // read without waiting (try_read, try_recv, try_io, ...)
            /// }
            /// if ready.is_writable() {
            ///     // write without waiting
            /// }
            /// # Ok(()) }
            /// ```
            pub async fn ready(
                &self,
                interest: $crate::driver::Interest,
            ) -> std::io::Result<$crate::driver::Ready> {
                let event = self.io.ready(interest).await?;
                Ok(dispatchable(event.ready, interest))
            }

            /// Runs `op` — an operation of your own on this socket,
            /// through its descriptor (`AsFd`, e.g. `socket2::SockRef` or
            /// libc) — if the socket is ready for `interest` now;
            /// `WouldBlock` without running it if not. When `op` returns
            /// `WouldBlock`, the readiness it used is cleared (unless an
            /// event arrived meanwhile), so the next
            /// [`ready`](Self::ready) waits for a new one, as with the
            /// built-in `try_*` calls. Registers no waker.
            ///
            /// `op` must do its I/O on this socket only: a `WouldBlock`
            /// from anything else would clear readiness the socket still
            /// has, and a wait for it could then sleep with data queued.
            ///
            /// # Errors
            ///
            /// `WouldBlock`, or `op`'s error.
            ///
            /// # Example
            ///
            /// ```
            #[doc = concat!("# async fn demo(s: &eddy_io::net::", stringify!($ty), ") -> std::io::Result<()> {")]
            /// use eddy_io::driver::Interest;
            /// use std::mem::MaybeUninit;
            /// let mut buf = [MaybeUninit::<u8>::uninit(); 512];
            /// s.ready(Interest::READABLE).await?;
            /// // A recv with flags of your choice (here none), through socket2.
            /// match s.try_io(Interest::READABLE, || socket2::SockRef::from(s).recv_with_flags(&mut buf, 0)) {
            ///     Ok(n) => println!("{n} bytes"),
            ///     Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {} // wait again
            ///     Err(e) => return Err(e),
            /// }
            /// # Ok(()) }
            /// ```
            pub fn try_io<R>(
                &self,
                interest: $crate::driver::Interest,
                op: impl FnOnce() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.try_io(interest, |_| op())
            }

            /// Runs `op` (an operation of your own on this socket, as for
            /// [`try_io`](Self::try_io)) until it does not return
            /// `WouldBlock`, waiting for `interest` in between; returns its
            /// result. Any number of tasks may run it at once.
            ///
            /// # Errors
            ///
            /// `op`'s error, or the runtime shut down.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe if `op` is: each call of `op` either completes
            /// or returns `WouldBlock` having done nothing, so dropping the
            /// future between calls loses nothing.
            ///
            /// # Example
            ///
            /// ```
            #[doc = concat!("# async fn demo(s: &eddy_io::net::", stringify!($ty), ") -> std::io::Result<()> {")]
            /// use eddy_io::driver::Interest;
            /// use std::mem::MaybeUninit;
            /// let mut buf = [MaybeUninit::<u8>::uninit(); 512];
            /// let sock = socket2::SockRef::from(s);
            /// let n = s
            ///     .async_io(Interest::READABLE, || sock.recv_with_flags(&mut buf, 0))
            ///     .await?;
            /// # let _ = n;
            /// # Ok(()) }
            /// ```
            pub async fn async_io<R>(
                &self,
                interest: $crate::driver::Interest,
                mut op: impl FnMut() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.async_io(interest, |_| op()).await
            }
        }
    )*};
}

readiness!(TcpStream, UnixStream, UdpSocket, UnixDatagram);

/// What `ready(interest)` returns for the readiness `ready` that ended
/// its wait: a direction asked for whose operation will not block — at end
/// of stream (read-closed), with the write side closed, or with an error
/// pending, all of which complete the wait — gets its readable or writable
/// bit too. Without it, a short read that cleared the readable bit with
/// the end of stream already seen, or an ICMP error on a connected UDP
/// socket, came back as neither readable nor writable: a task dispatching
/// on `is_readable()`/`is_writable()` (as the doc shows) did nothing, and
/// its next wait returned at once, for ever.
fn dispatchable(
    ready: crate::driver::Ready,
    interest: crate::driver::Interest,
) -> crate::driver::Ready {
    use crate::driver::Ready;
    let mut out = ready;
    if interest.is_readable() && !(ready & (Ready::READ_CLOSED | Ready::ERROR)).is_empty() {
        out = out | Ready::READABLE;
    }
    if interest.is_writable() && !(ready & (Ready::WRITE_CLOSED | Ready::ERROR)).is_empty() {
        out = out | Ready::WRITABLE;
    }
    out
}

sendfile::sendfile_methods!(
    TcpStream => "# let (sender, mut receiver) = { \
        let l = eddy_io::net::TcpListener::bind(\"127.0.0.1:0\").await?; \
        let c = eddy_io::net::TcpStream::connect(l.local_addr()?).await?; \
        (c, l.accept().await?.0) };",
    UnixStream => "# let (sender, mut receiver) = eddy_io::net::UnixStream::pair()?;"
);

/// `into_std` for every socket type: deregister, hand back std's socket
/// (after `$reset`, which undoes what eddy set on it, and `$note`, which
/// documents that).
macro_rules! into_std {
    ($($ty:ident => $std:ty $(, reset $reset:path, $($note:literal)*)?);*) => {$(
        impl $ty {
            /// Takes the socket off this loop's reactor and returns it as
            #[doc = concat!("std's [`", stringify!($std), "`], still in non-blocking mode")]
            /// (as tokio's `into_std`). Hand it to another loop's `from_std`
            /// — accept on one loop, serve on another — or to blocking code
            /// after `set_nonblocking(false)`. Nothing is lost: bytes or
            /// datagrams not yet read stay queued in the socket.
            ///
            /// A socket used on a loop other than its own otherwise keeps
            /// depending on the loop it was made on: its readiness comes
            /// from that loop's reactor, and it fails once that runtime
            /// has shut down.
            ///
            $($(#[doc = $note])*)?
            ///
            /// # Example
            ///
            /// ```
            #[doc = concat!("# fn demo(socket: eddy_io::net::", stringify!($ty), ") {")]
            /// let std_socket = socket.into_std();
            /// std::thread::spawn(move || {
            ///     // On this thread's own eddy loop:
            #[doc = concat!("    // let socket = eddy_io::net::", stringify!($ty), "::from_std(std_socket)?;")]
            ///     # drop(std_socket);
            /// });
            /// # }
            /// ```
            pub fn into_std(self) -> $std {
                let socket: $std = self.io.into_inner().into();
                $($reset(&socket);)?
                socket
            }
        }
    )*};
}

into_std!(
    TcpStream => std::net::TcpStream, reset tcp_stream::plain_reads,
        "The socket comes back as a fresh one would be: the `TCP_INQ` option,"
        "which eddy's reads may have turned on (on Linux, to learn from"
        "`recvmsg` how much is still queued), is off again, so code that calls"
        "`recvmsg` itself gets no control message it did not ask for.";
    TcpListener => std::net::TcpListener;
    UdpSocket => std::net::UdpSocket;
    UnixStream => std::os::unix::net::UnixStream;
    UnixListener => std::os::unix::net::UnixListener;
    UnixDatagram => std::os::unix::net::UnixDatagram
);
