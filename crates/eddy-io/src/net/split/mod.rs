//! Read and write halves of a stream socket ([`TcpStream`](super::TcpStream),
//! [`UnixStream`](super::UnixStream)): borrowed halves from `split()`,
//! owned halves (movable into different tasks) from `into_split()`.
//!
//! Both halves use the one registration of the socket: the reactor keeps
//! a reader and a writer waker per socket, so a task reading and another
//! writing never steal each other's wake-ups.
//!
//! The borrowed halves are in `borrowed.rs`, the owned ones in `owned.rs`,
//! putting owned halves back together in `reunite.rs`, and the
//! `stream_socket!` macro that gives the stream types their side of it in
//! `stream_socket.rs`.

mod borrowed;
mod owned;
mod reunite;
mod stream_socket;

pub use borrowed::{ReadHalf, WriteHalf};
pub(crate) use owned::split_owned;
pub use owned::{OwnedReadHalf, OwnedWriteHalf};
pub use reunite::ReuniteError;
pub(crate) use stream_socket::stream_socket;

pub(crate) mod sealed {
    use std::io::{self, IoSlice, IoSliceMut};
    use std::task::{Context, Poll};

    /// The operations the halves need from their socket.
    pub trait Sealed {
        fn poll_read_shared(&self, cx: &mut Context<'_>, buf: &mut [u8])
            -> Poll<io::Result<usize>>;
        fn poll_read_vectored_shared(
            &self,
            cx: &mut Context<'_>,
            bufs: &mut [IoSliceMut<'_>],
        ) -> Poll<io::Result<usize>>;
        fn poll_write_shared(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
        fn poll_write_vectored_shared(
            &self,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>>;
        /// Shuts the write side down (what `close()` does). The peer
        /// being gone already (`NotConnected`: it reset the connection, or
        /// both sides are shut) is `Ok`: the write side is shut either way,
        /// and the caller has nothing to act on.
        fn close_write(&self) -> io::Result<()>;
    }
}

/// A stream socket that can be split: [`TcpStream`](super::TcpStream) and
/// [`UnixStream`](super::UnixStream). Sealed.
///
/// # Example
///
/// ```
/// fn takes_splittable<S: eddy_io::net::SplitStream>(_: &S) {}
/// ```
pub trait SplitStream: sealed::Sealed + Send + Sync + 'static {}
