//! An async [`File`]: `AsyncRead`/`AsyncWrite`/`AsyncSeek` with each
//! operation on the pool.
//!
//! Like tokio's `fs::File`, a `File` keeps at most one operation in flight
//! with one buffer: a read fetches up to 64 KiB into the buffer and hands it
//! out; a write copies into the buffer, returns at once and writes on the
//! pool (an error shows up on the next write, flush or seek). A call on the
//! whole file (`set_len`, `sync_all`, `metadata`, ...) is such an operation
//! too (see `calls`): dropped while it runs, it stays in flight, and the
//! next operation waits for it.

use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use super::{join_to_io, OpenOptions};

mod calls;
mod poll_io;
use crate::{BlockingHandle, Pool};

/// Largest buffer one operation moves.
const MAX_BUF: usize = 64 * 1024;

/// What the in-flight operation did.
enum Op {
    Read(io::Result<()>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
    /// A call on the whole file (`sync_all`, `set_len`, `try_clone`, ...).
    /// Its result went to the caller; this is the error to report in its
    /// place if the caller has gone (see `calls`).
    Call(Option<io::Error>),
}

/// Bytes read ahead (`data[pos..]` not yet handed out) or waiting to be
/// written (all of `data`).
#[derive(Default)]
struct Buf {
    data: Vec<u8>,
    pos: usize,
}

impl Buf {
    fn unread(&self) -> usize {
        self.data.len() - self.pos
    }

    fn clear(&mut self) {
        self.data.clear();
        self.pos = 0;
    }

    fn read_into(&mut self, dst: &mut [u8]) -> usize {
        let n = self.unread().min(dst.len());
        dst[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == self.data.len() {
            self.clear();
        }
        n
    }

    fn fill_from(&mut self, file: &std::fs::File, max: usize) -> io::Result<()> {
        self.clear();
        self.data.resize(max, 0);
        let res = loop {
            match (&*file).read(&mut self.data) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                res => break res,
            }
        };
        self.data.truncate(*res.as_ref().unwrap_or(&0));
        res.map(drop)
    }
}

enum State {
    Idle(Option<Buf>),
    Busy(BlockingHandle<(Op, Buf)>),
}

/// An open file whose reads, writes and seeks run on the pool; implements
/// `futures_io` [`AsyncRead`](futures_io::AsyncRead),
/// [`AsyncWrite`](futures_io::AsyncWrite) and
/// [`AsyncSeek`](futures_io::AsyncSeek) (use the extension traits of
/// `futures` for `read_to_end`, `write_all`, ...).
///
/// Writes are buffered one at a time: `poll_write` returns once the bytes are
/// copied and the write finishes on the pool. Call `flush` (or `close`)
/// before dropping the file to learn about write errors; a dropped `File`
/// still finishes its last write.
///
/// A `File` runs its calls on the pool it was opened under (the runtime's,
/// or the one [`from_std`](File::from_std) found current), wherever it is
/// used later. Once that pool has shut down — its runtime ended — every
/// call fails with an `io::Error` whose inner [`JoinError`](crate::JoinError)
/// [`is_shutdown`](crate::JoinError::is_shutdown), even under a new
/// runtime. tokio's `File` uses whichever runtime is current instead: here,
/// open the file again under the runtime that uses it.
///
/// # Cancel safety
///
/// Every `poll_*` method is cancel safe in the `futures_io` sense: an
/// operation in flight is kept and finished by the next call, so stopping
/// between polls loses no data (a `read` result stays buffered for the next
/// read). A seek dropped in flight still moves the file; a later seek to
/// another target then seeks again rather than taking its result (one with
/// the very same `SeekFrom` is taken as the same request: a dropped
/// `SeekFrom::Current(n)` followed by a new one moves the file by `n`, not
/// `2n`).
///
/// A call on the whole file — [`sync_all`](File::sync_all),
/// [`sync_data`](File::sync_data), [`set_len`](File::set_len),
/// [`metadata`](File::metadata), [`set_permissions`](File::set_permissions),
/// [`try_clone`](File::try_clone) — is one of these operations too.
/// Dropped before its job started, it never happens and leaves the reading
/// position where it was (bytes read ahead are not skipped). Dropped while
/// its job runs, the job goes on and every later operation on the file
/// (`poll_*`, another call, [`into_std`](File::into_std)) waits for it
/// first, so the file sees its operations in program order. If such a
/// dropped change (`set_len`, a sync, `set_permissions`) fails, the next
/// write, flush, seek or call returns its error, as for a buffered write;
/// a dropped `metadata`'s or `try_clone`'s result goes with it. tokio's
/// `File` keeps only `set_len` in order this way and drops every such
/// error. Dropping the `File` itself waits for nothing: the job in flight
/// finishes on the pool.
///
/// ```
/// use futures::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
/// use std::io::SeekFrom;
/// # use eddy_blocking::{fs::File, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
/// futures::executor::block_on(async {
///     let mut f = File::options().read(true).write(true).create(true).open(&p).await.unwrap();
///     f.write_all(b"hello world").await.unwrap();
///     f.seek(SeekFrom::Start(6)).await.unwrap();
///     let mut s = String::new();
///     f.read_to_string(&mut s).await.unwrap();
///     assert_eq!(s, "world");
/// });
/// ```
pub struct File {
    std: Arc<std::fs::File>,
    pool: Pool,
    state: State,
    /// The error of an operation nobody waits for (a buffered write, a
    /// dropped call) that nobody has seen yet.
    write_err: Option<io::Error>,
    /// The target of the seek in flight, as asked: a later `poll_seek` for
    /// another target must not take its result.
    seeking: Option<SeekFrom>,
}

impl Drop for File {
    fn drop(&mut self) {
        // Dropping the handle would cancel a job still queued: detached, a
        // buffered write still lands, as documented, and a call dropped
        // while it ran goes on. Nothing here waits for it.
        if let State::Busy(handle) = std::mem::replace(&mut self.state, State::Idle(None)) {
            handle.detach();
        }
    }
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File").field("std", &self.std).finish()
    }
}

impl File {
    /// Opens a file read-only.
    ///
    /// # Errors
    ///
    /// `std::fs::File::open`'s: no such file (`NotFound`), no permission,
    /// a directory component missing; or the pool has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe; if the open completes after the future is dropped the
    /// file is closed again.
    ///
    /// ```
    /// # use eddy_blocking::{fs::File, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
    /// # std::fs::write(&p, b"").unwrap();
    /// let f = futures::executor::block_on(File::open(&p)).unwrap();
    /// # drop(f);
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens a file write-only, creating or truncating it.
    ///
    /// # Errors
    ///
    /// `std::fs::File::create`'s: the directory does not exist, no
    /// permission, a read-only file system; or the pool has shut down.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if the future is dropped after the call started, the
    /// file may have been created or truncated.
    ///
    /// ```
    /// # use eddy_blocking::{fs::File, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
    /// let f = futures::executor::block_on(File::create(&p)).unwrap();
    /// assert!(p.exists());
    /// # drop(f);
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Creates a new file for reading and writing, failing if anything is
    /// already at `path` (tokio's and std's `File::create_new`: the check
    /// and the creation are one atomic `open(2)` with `O_EXCL`, so two
    /// racing creators cannot both succeed).
    ///
    /// # Errors
    ///
    /// `AlreadyExists` if something is at `path` (a symbolic link too,
    /// even a dangling one); a missing directory, no permission; or the
    /// pool could not run the call (kind `Other`).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if the future is dropped after the call started,
    /// the file may have been created (and a later `create_new` fails).
    ///
    /// ```
    /// # use eddy_blocking::{fs::File, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("lock");
    /// let first = futures::executor::block_on(File::create_new(&p));
    /// let second = futures::executor::block_on(File::create_new(&p));
    /// assert!(first.is_ok());
    /// assert_eq!(second.unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
    /// ```
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .await
    }

    /// An [`OpenOptions`] to choose how to open a file.
    ///
    /// ```
    /// # use eddy_blocking::fs::File;
    /// let mut opts = File::options();
    /// opts.append(true).create(true);
    /// ```
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open std file; its operations run on the current pool.
    ///
    /// # Panics
    ///
    /// If no pool is current on this thread.
    ///
    /// ```
    /// # use eddy_blocking::{fs::File, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// let std_file = tempfile::tempfile().unwrap();
    /// let f = File::from_std(std_file);
    /// # drop(f);
    /// ```
    #[track_caller]
    pub fn from_std(std: std::fs::File) -> File {
        File::with_pool(std, Pool::current())
    }

    pub(crate) fn with_pool(std: std::fs::File, pool: Pool) -> File {
        File {
            std: Arc::new(std),
            pool,
            state: State::Idle(Some(Buf::default())),
            write_err: None,
            seeking: None,
        }
    }

    /// Waits for the job in flight, if any, and puts its buffer back: once
    /// this is ready the file is idle. Gives what the job did (`None` if
    /// nothing was in flight); a job that never ran or panicked is the
    /// error (the panic is re-raised), with an empty buffer.
    fn poll_job(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Op>>> {
        let State::Busy(handle) = &mut self.state else {
            return Poll::Ready(Ok(None));
        };
        let res = ready!(Pin::new(handle).poll(cx));
        self.seeking = None;
        Poll::Ready(match res {
            Ok((op, buf)) => {
                self.state = State::Idle(Some(buf));
                Ok(Some(op))
            }
            Err(e) => {
                self.state = State::Idle(Some(Buf::default()));
                Err(join_to_io(e))
            }
        })
    }

    /// Keeps the error of an operation nobody waits for any more (a
    /// buffered write, a dropped call) for the next write, flush, seek or
    /// call. Errors of dropped reads and seeks go: they changed nothing.
    fn keep_unclaimed(&mut self, op: Op) {
        if let Op::Write(Err(e)) | Op::Call(Some(e)) = op {
            // Only reads start between an error and its report, so there
            // is none waiting here; if there were, the first would stay.
            self.write_err.get_or_insert(e);
        }
    }

    /// The buffer of an idle file.
    fn idle_buf(&mut self) -> &mut Buf {
        match &mut self.state {
            State::Idle(Some(buf)) => buf,
            _ => unreachable!("File state is never left empty, and idle here"),
        }
    }

    /// Waits for the operation in flight (keeping a read-ahead buffer),
    /// then reports the error nobody has seen yet.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(op) = ready!(self.poll_job(cx))? {
            self.keep_unclaimed(op);
        }
        Poll::Ready(match self.write_err.take() {
            Some(e) => Err(e),
            None => Ok(()),
        })
    }

    /// Turns this `File` into std's, once the operation in flight has
    /// finished (a buffered write lands first). Bytes read ahead are given
    /// back by seeking the file back over them, so the std file reads on
    /// where this `File`'s reader had got to (on a file that cannot seek,
    /// such as a FIFO, they are lost).
    ///
    /// A call dropped while its job ran (`set_len`, say) finishes first
    /// too. A write error, or the error of such a call, not reported yet
    /// is dropped here, as with tokio: await `flush` first to learn it.
    ///
    /// # Panics
    ///
    /// Only if the pool is shutting down and cancelling this file's last
    /// job at that very moment, so that the job still holds the file, and
    /// the OS refuses to duplicate the descriptor (`EMFILE`); otherwise the
    /// std file is then a duplicate sharing the position. tokio's panics
    /// whenever a call dropped while its job ran still holds the file;
    /// here that job is waited for.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the `File`, as `drop` would: a write in
    /// flight still lands. So does a call dropped while its job ran.
    ///
    /// ```
    /// use futures::{AsyncReadExt, AsyncWriteExt};
    /// use std::io::Read;
    /// # use eddy_blocking::{fs::File, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
    /// futures::executor::block_on(async {
    ///     let mut f = File::options().read(true).write(true).create(true).open(&p).await.unwrap();
    ///     f.write_all(b"written").await.unwrap(); // still in flight
    ///     let mut std_file = f.into_std().await;
    ///     assert_eq!(std_file.metadata().unwrap().len(), 7);
    /// });
    /// ```
    pub async fn into_std(mut self) -> std::fs::File {
        // Its error is dropped, as documented; the file is idle either way.
        let _ = std::future::poll_fn(|cx| self.poll_idle(cx)).await;
        self.take_std()
    }

    /// Turns this `File` into std's at once if it can be: nothing in
    /// flight (not even a call dropped while its job ran), no error of a
    /// write or of such a call waiting to be reported, and no other holder
    /// of the file (a job the shutting-down pool is cancelling).
    /// Else hands the `File` back: await `flush` (which lands the write
    /// and reports its error) and try again, or use
    /// [`into_std`](File::into_std). Bytes read ahead are given back as
    /// `into_std` gives them back.
    ///
    /// # Errors
    ///
    /// `Err(self)` in the cases above.
    ///
    /// ```
    /// use futures::AsyncWriteExt;
    /// # use eddy_blocking::{fs::File, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
    /// futures::executor::block_on(async {
    ///     let mut f = File::create(&p).await.unwrap();
    ///     f.write_all(b"data").await.unwrap(); // the write is in flight
    ///     let mut f = f.try_into_std().unwrap_err();
    ///     f.flush().await.unwrap();
    ///     let std_file = f.try_into_std().unwrap();
    ///     # drop(std_file);
    /// });
    /// ```
    pub fn try_into_std(self) -> Result<std::fs::File, File> {
        if matches!(self.state, State::Busy(_))
            || self.write_err.is_some()
            || Arc::strong_count(&self.std) > 1
        {
            return Err(self);
        }
        Ok(self.take_std())
    }

    /// The std file of an idle `File`, seeked back over its read-ahead.
    fn take_std(self) -> std::fs::File {
        let unread = match &self.state {
            State::Idle(Some(buf)) => buf.unread(),
            _ => 0,
        };
        let shared = self.std.clone();
        // Idle: dropping it detaches nothing.
        drop(self);
        let std = Arc::try_unwrap(shared).unwrap_or_else(|shared| {
            // A job being cancelled by the pool's shutdown still holds it:
            // a duplicate shares the position and stays open when that
            // job's closure lets go of it.
            shared.try_clone().unwrap_or_else(|e| {
                panic!(
                    "File::into_std: the file is still held by a job the shutting-down pool \
                     is cancelling, and could not be duplicated: {e}"
                )
            })
        });
        if unread > 0 {
            // lseek does no I/O: fine on the caller's thread. A file that
            // cannot seek has lost those bytes anyway.
            let _ = (&std).seek(SeekFrom::Current(-(unread as i64)));
        }
        std
    }
}

/// The descriptor, for calls that take one, such as
/// `eddy::net::TcpStream::sendfile` or `StreamWriter::sendfile` (tokio's
/// `File` has the same impls). It is the file this `File` reads and
/// writes through the pool, so keep two things in mind: a write, or a call
/// dropped while it ran (a `set_len`, say), may still be in flight (await
/// `flush` first to see its effect through the descriptor), and the position is ahead by what was read ahead (calls
/// that take an offset, as `sendfile` does, do not mind).
///
/// ```
/// use std::os::fd::AsFd;
/// # use eddy_blocking::{fs::File, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
/// # std::fs::write(&p, b"abc").unwrap();
/// let f = futures::executor::block_on(File::open(&p)).unwrap();
/// let dup = std::fs::File::from(f.as_fd().try_clone_to_owned().unwrap());
/// assert_eq!(dup.metadata().unwrap().len(), 3);
/// ```
#[cfg(unix)]
impl std::os::fd::AsFd for File {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.std.as_fd()
    }
}

/// The raw descriptor (see the [`AsFd`](std::os::fd::AsFd) impl).
///
/// ```
/// use std::os::fd::AsRawFd;
/// # use eddy_blocking::{fs::File, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
/// # std::fs::write(&p, b"").unwrap();
/// let f = futures::executor::block_on(File::open(&p)).unwrap();
/// assert!(f.as_raw_fd() >= 0);
/// ```
#[cfg(unix)]
impl std::os::fd::AsRawFd for File {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.std.as_raw_fd()
    }
}
