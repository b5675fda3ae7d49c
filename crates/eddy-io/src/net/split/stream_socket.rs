//! `stream_socket!`: what makes [`TcpStream`](crate::net::TcpStream) and
//! [`UnixStream`](crate::net::UnixStream) split streams — the shared
//! read/write plumbing, `AsyncRead`/`AsyncWrite` for the stream and for
//! `&stream`, `split`/`into_split`, and the vectored `try_*` calls.

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
