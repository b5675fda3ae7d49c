//! Read and write halves of a stream socket ([`TcpStream`](super::TcpStream),
//! [`UnixStream`](super::UnixStream)): borrowed halves from `split()`,
//! owned halves (movable into different tasks) from `into_split()`.
//!
//! Both halves use the one registration of the socket: the reactor keeps
//! a reader and a writer waker per socket, so a task reading and another
//! writing never steal each other's wake-ups.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

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

/// The read half borrowed from a stream by `split()`.
///
/// # Example
///
/// ```
/// # async fn demo(mut stream: eddy_io::net::TcpStream) -> std::io::Result<()> {
/// use futures::io::AsyncReadExt;
/// let (mut r, _w) = stream.split();
/// let mut buf = [0u8; 16];
/// let n = r.read(&mut buf).await?;
/// # Ok(()) }
/// ```
pub struct ReadHalf<'a, S>(pub(crate) &'a S);

/// The write half borrowed from a stream by `split()`. Closing it
/// (`close()` from `AsyncWriteExt`) shuts the stream's write side down, as
/// closing the owned half or the stream does: the peer reads EOF, and a
/// peer already gone is not an error (see [`OwnedWriteHalf`]).
///
/// # Example
///
/// ```
/// # async fn demo(mut stream: eddy_io::net::TcpStream) -> std::io::Result<()> {
/// use futures::io::AsyncWriteExt;
/// let (_r, mut w) = stream.split();
/// w.write_all(b"hello").await?;
/// # Ok(()) }
/// ```
pub struct WriteHalf<'a, S>(pub(crate) &'a S);

/// The read half owned after `into_split()`; can move to another task.
///
/// # Example
///
/// ```
/// # async fn demo(stream: eddy_io::net::TcpStream) -> std::io::Result<()> {
/// use futures::io::AsyncReadExt;
/// let (mut r, _w) = stream.into_split();
/// let reader = eddy_core::spawn(async move {
///     let mut all = Vec::new();
///     r.read_to_end(&mut all).await.map(|_| all)
/// });
/// # Ok(()) }
/// ```
pub struct OwnedReadHalf<S> {
    stream: Arc<S>,
}

/// The write half owned after `into_split()`. Closing it (`close()` from
/// `AsyncWriteExt`, or dropping it) shuts the write side down, so the peer
/// reads EOF while this side can still read.
///
/// `close()` returns `Ok` also when the peer is already gone (it reset the
/// connection, or both sides were shut): the write side is shut either
/// way, and there is nothing the caller could do about it. Closing the
/// stream, `&stream` or a [`WriteHalf`] answers the same; only the
/// explicit `shutdown(Shutdown::Write)` reports that case as
/// `NotConnected`.
///
/// # Example
///
/// ```
/// # async fn demo(stream: eddy_io::net::TcpStream) -> std::io::Result<()> {
/// use futures::io::AsyncWriteExt;
/// let (_r, mut w) = stream.into_split();
/// w.write_all(b"bye").await?;
/// w.close().await?; // the peer now reads EOF
/// # Ok(()) }
/// ```
pub struct OwnedWriteHalf<S: SplitStream> {
    stream: Arc<S>,
    shut_down: bool,
}

pub(crate) fn split_owned<S: SplitStream>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let stream = Arc::new(stream);
    (
        OwnedReadHalf {
            stream: stream.clone(),
        },
        OwnedWriteHalf {
            stream,
            shut_down: false,
        },
    )
}

/// The stream both halves share, e.g. for its addresses.
///
/// ```
/// # fn demo(stream: eddy_io::net::TcpStream) -> std::io::Result<()> {
/// let (r, _w) = stream.into_split();
/// let peer = r.as_ref().peer_addr()?;
/// # Ok(()) }
/// ```
impl<S> AsRef<S> for OwnedReadHalf<S> {
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

impl<S: SplitStream> AsRef<S> for OwnedWriteHalf<S> {
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

impl<S: SplitStream> OwnedReadHalf<S> {
    /// Puts the stream back together from this half and the write half
    /// that the same [`into_split`](super::TcpStream::into_split) call
    /// returned (tokio's `reunite`; asyncio has no split halves).
    ///
    /// The stream comes back as it is: bytes not yet read are still in the
    /// socket, and a write side shut down by closing the write half stays
    /// shut down. Reuniting does not shut anything down (dropping the
    /// write half alone would).
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] when the halves come from different streams; it
    /// holds both halves, unchanged and still usable.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn demo(stream: eddy_io::net::TcpStream) -> std::io::Result<()> {
    /// use futures::io::AsyncWriteExt;
    /// let (r, mut w) = stream.into_split();
    /// w.write_all(b"hello").await?;
    /// let mut stream = r.reunite(w).expect("halves of one stream");
    /// stream.write_all(b" again").await?;
    /// # Ok(()) }
    /// ```
    pub fn reunite(self, other: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(self, other)
    }
}

impl<S: SplitStream> OwnedWriteHalf<S> {
    /// Puts the stream back together from this half and the read half of
    /// the same `into_split()` call; the mirror of
    /// [`OwnedReadHalf::reunite`], with the same rules.
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] when the halves come from different streams; it
    /// holds both halves, unchanged and still usable.
    ///
    /// # Example
    ///
    /// ```
    /// # fn demo(stream: eddy_io::net::UnixStream) {
    /// let (r, w) = stream.into_split();
    /// let stream = w.reunite(r).expect("halves of one stream");
    /// # }
    /// ```
    pub fn reunite(self, other: OwnedReadHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(other, self)
    }
}

impl<S: SplitStream> OwnedWriteHalf<S> {
    /// A link to the stream that does not keep it open (a socket's
    /// `StreamWriter` finds its socket through it).
    pub(crate) fn downgrade(&self) -> std::sync::Weak<S> {
        Arc::downgrade(&self.stream)
    }
}

fn reunite<S: SplitStream>(
    read: OwnedReadHalf<S>,
    mut write: OwnedWriteHalf<S>,
) -> Result<S, ReuniteError<S>> {
    if !Arc::ptr_eq(&read.stream, &write.stream) {
        return Err(ReuniteError(read, write));
    }
    // The write half goes, but the stream stays whole: its drop must not
    // shut the write side down.
    write.shut_down = true;
    drop(write);
    // Only the two halves ever hold the `Arc`, and the write half's clone
    // is gone, so this is the last one.
    match Arc::try_unwrap(read.stream) {
        Ok(stream) => Ok(stream),
        Err(_) => unreachable!("a split stream is shared by its two halves only"),
    }
}

/// The error of [`OwnedReadHalf::reunite`] and
/// [`OwnedWriteHalf::reunite`]: the two halves come from different
/// streams. It gives both back, unchanged: `.0` is the read half, `.1` the
/// write half.
///
/// # Example
///
/// ```
/// # fn demo(a: eddy_io::net::UnixStream, b: eddy_io::net::UnixStream) {
/// let (a_read, _a_write) = a.into_split();
/// let (_b_read, b_write) = b.into_split();
/// match a_read.reunite(b_write) {
///     Ok(_) => unreachable!(),
///     Err(e) => {
///         eprintln!("{e}");
///         let (a_read, b_write) = (e.0, e.1); // both still usable
///         # let _ = (a_read, b_write);
///     }
/// }
/// # }
/// ```
pub struct ReuniteError<S: SplitStream>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S: SplitStream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "cannot reunite a read half and a write half of different streams: pass the two \
             halves returned by one into_split() call; both halves are given back in this \
             error (.0 and .1) and still work",
        )
    }
}

impl<S: SplitStream + fmt::Debug> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReuniteError")
            .field(&self.0)
            .field(&self.1)
            .finish()
    }
}

impl<S: SplitStream + fmt::Debug> std::error::Error for ReuniteError<S> {}

impl<S: SplitStream> AsyncRead for ReadHalf<'_, S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_read_shared(cx, buf)
    }
    /// One `readv` into every buffer in order, as on the stream itself
    /// (see its `poll_read_vectored`). Cancel safe.
    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_read_vectored_shared(cx, bufs)
    }
}

impl<S: SplitStream> AsyncRead for OwnedReadHalf<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_shared(cx, buf)
    }
    /// One `readv` into every buffer in order, as on the stream itself
    /// (see its `poll_read_vectored`). Cancel safe.
    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_vectored_shared(cx, bufs)
    }
}

impl<S: SplitStream> AsyncWrite for WriteHalf<'_, S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_shared(cx, buf)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_vectored_shared(cx, bufs)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.0.close_write())
    }
}

impl<S: SplitStream> AsyncWrite for OwnedWriteHalf<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_shared(cx, buf)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_vectored_shared(cx, bufs)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.shut_down {
            return Poll::Ready(Ok(()));
        }
        self.shut_down = true;
        Poll::Ready(self.stream.close_write())
    }
}

/// A `StreamWriter`'s abort closes the socket without the orderly
/// shutdown of this half's `Drop` (see `io::read_end`).
impl<S: SplitStream> crate::io::read_end::SkipShutdown for OwnedWriteHalf<S> {
    fn skip_shutdown(&mut self) {
        self.shut_down = true;
    }
}

impl<S: SplitStream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if !self.shut_down {
            let _ = self.stream.close_write();
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for ReadHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadHalf").field(self.0).finish()
    }
}

impl<S: fmt::Debug> fmt::Debug for WriteHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WriteHalf").field(self.0).finish()
    }
}

impl<S: fmt::Debug> fmt::Debug for OwnedReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedReadHalf").field(&self.stream).finish()
    }
}

impl<S: SplitStream + fmt::Debug> fmt::Debug for OwnedWriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf").field(&self.stream).finish()
    }
}

/// Implements the shared read/write plumbing, `AsyncRead`/`AsyncWrite`
/// (for the stream and for `&stream`), `split`/`into_split` and
/// `try_read_vectored`/`try_write_vectored` for a stream socket type whose
/// field `io` is a `PollEvented`.
macro_rules! stream_socket {
    ($ty:ident) => {
        impl $crate::net::split::sealed::Sealed for $ty {
            fn poll_read_shared(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read(cx, buf)
            }
            fn poll_read_vectored_shared(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read_vectored(cx, bufs)
            }
            fn poll_write_shared(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write(cx, buf)
            }
            fn poll_write_vectored_shared(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write_vectored(cx, bufs)
            }
            fn close_write(&self) -> std::io::Result<()> {
                match self.io.get_ref().shutdown(std::net::Shutdown::Write) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotConnected => Ok(()),
                    res => res,
                }
            }
        }

        impl $crate::net::SplitStream for $ty {}

        impl $ty {
            /// Borrowed read and write halves, usable at once (e.g. in
            /// `join!`) but not moved into other tasks. With
            /// `futures::AsyncReadExt` in scope, `s.split()` picks that
            /// trait's by-value `split` instead; write
            #[doc = concat!("`", stringify!($ty), "::split(&mut s)` to get these halves.")]
            ///
            /// # Example
            ///
            /// ```
            #[doc = concat!("# async fn demo(mut s: eddy_io::net::", stringify!($ty), ") -> std::io::Result<()> {")]
            /// let (mut reader, mut writer) = s.split();
            /// futures::io::copy(&mut reader, &mut writer).await?; // echo
            /// # Ok(()) }
            /// ```
            pub fn split(&mut self) -> ($crate::net::ReadHalf<'_, $ty>, $crate::net::WriteHalf<'_, $ty>) {
                ($crate::net::ReadHalf(self), $crate::net::WriteHalf(self))
            }

            /// Owned read and write halves that can move to different
            /// tasks. Dropping or closing the write half shuts down the
            /// write side (the peer reads EOF).
            /// [`OwnedReadHalf::reunite`](crate::net::OwnedReadHalf::reunite)
            /// puts the two halves back together.
            ///
            /// # Example
            ///
            /// ```
            #[doc = concat!("# async fn demo(s: eddy_io::net::", stringify!($ty), ") -> std::io::Result<()> {")]
            /// let (reader, writer) = s.into_split();
            /// # let _ = (reader, writer);
            /// # Ok(()) }
            /// ```
            pub fn into_split(self) -> ($crate::net::OwnedReadHalf<$ty>, $crate::net::OwnedWriteHalf<$ty>) {
                $crate::net::split::split_owned(self)
            }

            /// Reads what is queued now into `bufs`, in order, with one
            /// `readv` (each buffer filled before the next), without
            /// waiting: the vectored form of
            #[doc = concat!("[`try_read`](", stringify!($ty), "::try_read).")]
            /// Returns how many bytes were read: 0 once the peer shut its
            /// write side and everything before was read (or when `bufs`
            /// hold no room at all). Only the first 1024 buffers are used,
            /// the most one system call takes.
            ///
            /// Readiness is kept as `try_read` keeps it: only a read that
            /// returns `WouldBlock` clears it, and the waker of a task
            /// parked in a read of this socket is left in place. The read
            /// halves reach it through `as_ref()`.
            ///
            /// # Errors
            ///
            /// `WouldBlock` when nothing can be read yet, or the read's
            /// error (e.g. `ConnectionReset`). Readiness comes from the
            /// reactor, so a socket that has not yet been through a turn
            /// of the loop (just connected, accepted or created) answers
            /// `WouldBlock` even if it could proceed: await
            #[doc = concat!("[`readable`](", stringify!($ty), "::readable) first.")]
            ///
            /// # Example
            ///
            /// ```
            #[doc = concat!("# async fn demo(s: &eddy_io::net::", stringify!($ty), ") -> std::io::Result<()> {")]
            /// use std::io::IoSliceMut;
            /// let (mut header, mut body) = ([0u8; 4], [0u8; 64]);
            /// let n = loop {
            ///     s.readable().await?;
            ///     let mut bufs = [IoSliceMut::new(&mut header), IoSliceMut::new(&mut body)];
            ///     match s.try_read_vectored(&mut bufs) {
            ///         Ok(n) => break n,
            ///         // The readiness was stale: wait again.
            ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            ///         Err(e) => return Err(e),
            ///     }
            /// };
            /// // `n` bytes: the first 4 in `header`, the rest in `body`.
            /// # let _ = n;
            /// # Ok(()) }
            /// ```
            pub fn try_read_vectored(&self, bufs: &mut [std::io::IoSliceMut<'_>]) -> std::io::Result<usize> {
                use std::io::Read;
                self.io.try_io($crate::driver::Interest::READABLE, |s| (&*s).read_vectored(bufs))
            }

            /// Writes as much of `bufs` as the socket takes now, in order,
            /// with one `writev`, without waiting: the vectored form of
            #[doc = concat!("[`try_write`](", stringify!($ty), "::try_write).")]
            /// Returns how many bytes were written, counted across the
            /// buffers (a buffer may be sent in part). Only the first 1024
            /// buffers are used, the most one system call takes.
            ///
            /// Readiness is kept as `try_write` keeps it: only a write
            /// that returns `WouldBlock` clears it, and the waker of a task
            /// parked in a write of this socket is left in place. The
            /// write halves reach it through `as_ref()`.
            ///
            /// # Errors
            ///
            /// `WouldBlock` when there is no room yet, or the write's error
            /// (e.g. `BrokenPipe` once the peer is gone). Readiness comes
            /// from the reactor, so a socket that has not yet been through
            /// a turn of the loop (just connected, accepted or created)
            /// answers `WouldBlock` even if it could proceed: await
            #[doc = concat!("[`writable`](", stringify!($ty), "::writable) first.")]
            ///
            /// # Example
            ///
            /// ```
            #[doc = concat!("# async fn demo(s: &eddy_io::net::", stringify!($ty), ") -> std::io::Result<()> {")]
            /// use std::io::IoSlice;
            /// let (header, body) = (b"LEN5", b"hello");
            /// s.writable().await?;
            /// match s.try_write_vectored(&[IoSlice::new(header), IoSlice::new(body)]) {
            ///     Ok(n) => println!("{n} of 9 bytes sent"),
            ///     Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => println!("no room yet"),
            ///     Err(e) => return Err(e),
            /// }
            /// # Ok(()) }
            /// ```
            pub fn try_write_vectored(&self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                use std::io::Write;
                self.io.try_io($crate::driver::Interest::WRITABLE, |s| (&*s).write_vectored(bufs))
            }
        }

        $crate::net::split::stream_socket!(@io [$ty] $ty);
        $crate::net::split::stream_socket!(@io [&$ty] $ty);
    };
    // `AsyncRead`/`AsyncWrite` for the stream `$ty` or for `&$ty`, written
    // once so that the two cannot drift apart (`&$ty` once lacked
    // `poll_write_vectored`, so futures' default sent only the first
    // non-empty buffer per call; reads lacked `poll_read_vectored` the
    // same way, filling only the first non-empty buffer).
    (@io [$($io:tt)+] $ty:ident) => {
        impl futures_io::AsyncRead for $($io)+ {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read(cx, buf)
            }
            /// Reads into `bufs` in order with one `readv`, filling each
            /// before the next (futures' default would fill only the first
            /// non-empty one). Returns 0 at end of stream, or when the
            /// buffers hold no room at all. Only the first 1024 buffers are
            /// used, the most one system call takes. The same holds for
            /// the borrowed and owned read halves.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: `read_vectored(..)` dropped before it completes
            /// has taken no bytes off the socket.
            ///
            /// # Example
            ///
            /// ```
            #[doc = concat!("# async fn demo(mut s: eddy_io::net::", stringify!($ty), ") -> std::io::Result<()> {")]
            /// use futures::io::AsyncReadExt;
            /// use std::io::IoSliceMut;
            /// let (mut header, mut body) = ([0u8; 4], [0u8; 64]);
            /// let n = s
            ///     .read_vectored(&mut [IoSliceMut::new(&mut header), IoSliceMut::new(&mut body)])
            ///     .await?;
            /// // `n` bytes: the first 4 in `header`, the rest in `body`.
            /// # let _ = n;
            /// # Ok(()) }
            /// ```
            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read_vectored(cx, bufs)
            }
        }

        impl futures_io::AsyncWrite for $($io)+ {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write(cx, buf)
            }
            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write_vectored(cx, bufs)
            }
            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(
                    <$ty as $crate::net::split::sealed::Sealed>::close_write(&self),
                )
            }
        }
    };
}

pub(crate) use stream_socket;
