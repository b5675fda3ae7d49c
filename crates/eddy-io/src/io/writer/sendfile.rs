//! [`StreamWriter::sendfile`]: a file after what was written before,
//! straight to the socket when the writer has one, else read and written
//! through the writer (asyncio's `loop.sendfile` and its fallback).

use std::os::fd::{AsFd, BorrowedFd};

use futures_io::AsyncWrite;

use super::StreamWriter;
use super::{FileSource, FALLBACK_BUF};
use crate::io::WriteError;

impl<W: AsyncWrite + Unpin + 'static> StreamWriter<W> {
    /// Sends `count` bytes of `file` starting at `offset` (`None`: up to
    /// the end of the file) after everything written before, and returns
    /// how many bytes of the file were sent: asyncio's
    /// `loop.sendfile(writer.transport, file, offset, count)`. Fewer than
    /// `count` only when the file ends first.
    ///
    /// It first waits until what [`write`](Self::write) buffered has gone
    /// to the stream, so the order of the bytes is kept. Then, for a
    /// writer over a socket (from
    /// [`open_connection`](crate::io::open_connection),
    /// [`start_server`](crate::io::start_server) or their Unix forms), the
    /// kernel copies the file to the socket as
    /// [`TcpStream::sendfile`](crate::net::TcpStream::sendfile) does (zero
    /// copy on Linux, with the same fallback to reading and writing for
    /// files the kernel cannot send); the file's own position is never
    /// moved. For a writer over anything else it reads the file at the
    /// offset into a 64 KiB buffer and writes that through this writer,
    /// with [`drain`](Self::drain)'s back-pressure, as asyncio's fallback
    /// does. Either way it returns once the stream has taken every byte.
    ///
    /// The server's `close_clients` cancels the handlers, and with them a
    /// `sendfile` running in one; for a writer handed to a task of its
    /// own, the close waits until the file is sent, as it waits for
    /// buffered bytes. An abort (also the server's `abort_clients`) stops
    /// the transfer at once.
    ///
    /// The file is read on the loop thread (see
    /// [`TcpStream::sendfile`](crate::net::TcpStream::sendfile), which
    /// also tells of `SIGPIPE`); a file that cannot seek (a pipe) is read
    /// from where it stands, and takes offset 0 only.
    ///
    /// # Errors
    ///
    /// * [`WriteError::Closing`] / [`WriteError::Aborted`] as for
    ///   [`write`](Self::write); `Aborted` also when the writer is aborted
    ///   while the file is on its way.
    /// * [`WriteError::Io`] with the socket's error as the OS reports it
    ///   (`BrokenPipe`, `ConnectionReset`, ...): the writer has failed as
    ///   after a failed write, so the next write or drain reports it too.
    /// * [`WriteError::File`] with the file's error (`EBADF`: the file is
    ///   not open for reading; `EIO`), or `InvalidInput` for an offset
    ///   beyond the largest file offset or other than 0 on a pipe: the
    ///   writer is as it was, ready for more.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropped part way, it has sent a prefix of the file
    /// of unknown length (after all the bytes written before it), and the
    /// peer gets that prefix. To know how far it got, use
    /// [`sendfile_with_progress`](Self::sendfile_with_progress).
    ///
    /// # Example
    ///
    /// ```
    /// use futures::io::AsyncReadExt;
    /// use std::io::Write;
    ///
    /// # let driver = eddy_io::driver::IoDriver::new()?;
    /// # let _io = driver.handle().enter();
    /// # let rt = eddy_core::Builder::new().build_with_driver(Box::new(driver))?;
    /// # rt.block_on(async {
    /// let mut page = tempfile::tempfile()?;
    /// page.write_all(b"<html>hello</html>")?;
    /// let listener = eddy_io::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let (_reader, mut writer) = eddy_io::io::open_connection(listener.local_addr()?).await?;
    /// let (mut peer, _) = listener.accept().await?;
    /// writer.write(b"HTTP/1.0 200 OK\r\n\r\n")?;
    /// writer.sendfile(&page, 0, None).await?;
    /// writer.close();
    /// writer.wait_closed().await;
    /// let mut got = String::new();
    /// peer.read_to_string(&mut got).await?;
    /// assert_eq!(got, "HTTP/1.0 200 OK\r\n\r\n<html>hello</html>");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn sendfile(
        &mut self,
        file: &impl AsFd,
        offset: u64,
        count: Option<u64>,
    ) -> Result<u64, WriteError> {
        let mut sent = 0;
        self.send_file(file.as_fd(), offset, count, &mut sent).await
    }

    /// [`sendfile`](Self::sendfile) that also adds to `*sent`, as it goes,
    /// the bytes of the file handed on: taken by the socket, or (over a
    /// stream that is not a socket) taken into this writer, which sends
    /// them in the background. So after completion, an error or a drop of
    /// the future, exactly `*sent` more bytes of the file follow what was
    /// written before, and the rest can be sent by calling again from
    /// `offset + sent`.
    ///
    /// # Errors
    ///
    /// As [`sendfile`](Self::sendfile); `*sent` counts what went out
    /// before the error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in the sense that matters here: nothing is sent that
    /// `*sent` does not count, so a dropped transfer can be resumed. Not
    /// so for a file that cannot seek (a pipe) on a socket's writer: what
    /// was read from it but not yet sent (up to 64 KiB) is lost.
    ///
    /// # Example
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// # let driver = eddy_io::driver::IoDriver::new()?;
    /// # let _io = driver.handle().enter();
    /// # let rt = eddy_core::Builder::new().build_with_driver(Box::new(driver))?;
    /// # rt.block_on(async {
    /// let mut file = tempfile::tempfile()?;
    /// file.write_all(b"0123456789")?;
    /// let mut writer = eddy_io::io::StreamWriter::new(futures::io::Cursor::new(Vec::new()));
    /// let mut sent = 0;
    /// writer.sendfile_with_progress(&file, 2, Some(5), &mut sent).await?;
    /// assert_eq!(sent, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn sendfile_with_progress(
        &mut self,
        file: &impl AsFd,
        offset: u64,
        count: Option<u64>,
        sent: &mut u64,
    ) -> Result<u64, WriteError> {
        self.send_file(file.as_fd(), offset, count, sent).await
    }

    async fn send_file(
        &mut self,
        file: BorrowedFd<'_>,
        offset: u64,
        count: Option<u64>,
        sent: &mut u64,
    ) -> Result<u64, WriteError> {
        let source = FileSource::new(file, offset, count).map_err(WriteError::File)?;
        self.check_open()?;
        // Everything written before goes first.
        self.flush().await?;
        self.check_open()?;
        #[cfg(feature = "net")]
        if let Some(socket) = self.socket() {
            return self.sendfile_socket(&socket, source, sent).await;
        }
        self.sendfile_through(source, sent).await
    }

    /// The writer takes data: no error, abort or close so far.
    fn check_open(&self) -> Result<(), WriteError> {
        let s = self.shared.borrow();
        if let Some(e) = s.error() {
            return Err(e);
        }
        if s.closing || s.eof || s.done() {
            return Err(WriteError::Closing);
        }
        Ok(())
    }

    /// The file read into a buffer and written through this writer (a
    /// stream that is not a socket).
    async fn sendfile_through(
        &mut self,
        mut source: FileSource<'_>,
        sent: &mut u64,
    ) -> Result<u64, WriteError> {
        let mut buf = vec![0; source.want(FALLBACK_BUF as u64).max(1) as usize];
        let mut total = 0;
        loop {
            let n = source.read(&mut buf).map_err(WriteError::File)?;
            if n == 0 {
                break;
            }
            self.write(&buf[..n])?;
            total += n as u64;
            *sent += n as u64;
            self.drain().await?;
        }
        self.flush().await?;
        Ok(total)
    }
}
