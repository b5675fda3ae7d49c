//! An async [`File`]: `AsyncRead`/`AsyncWrite`/`AsyncSeek` with each
//! operation on the pool.
//!
//! Like tokio's `fs::File`, a `File` keeps at most one operation in flight
//! with one buffer: a read fetches up to 64 KiB into the buffer and hands it
//! out; a write copies into the buffer, returns at once and writes on the
//! pool (an error shows up on the next write, flush or seek).

use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use super::{join_to_io, run_on, OpenOptions};

mod poll_io;
use crate::{BlockingHandle, Pool};

/// Largest buffer one operation moves.
const MAX_BUF: usize = 64 * 1024;

/// What the in-flight operation did.
enum Op {
    Read(io::Result<()>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
    /// The seek back over read-ahead that a call on the whole file
    /// (`sync_all`, `set_len`, `try_clone`, ...) makes first; like a write,
    /// nobody awaits it and its error goes to the next call.
    Rewind(io::Result<()>),
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
/// `2n`). A [`sync_all`](File::sync_all), [`sync_data`](File::sync_data),
/// [`set_len`](File::set_len), [`metadata`](File::metadata) or
/// [`try_clone`](File::try_clone) dropped before it ran leaves the reading
/// position where it was: bytes read ahead are not skipped.
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
    /// A write (or rewind) error nobody has seen yet.
    write_err: Option<io::Error>,
    /// The target of the seek in flight, as asked: a later `poll_seek` for
    /// another target must not take its result.
    seeking: Option<SeekFrom>,
}

impl Drop for File {
    fn drop(&mut self) {
        // Dropping the handle would cancel a job still queued: detached, a
        // buffered write still lands, as documented.
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

    /// Waits for the operation in flight, keeping a read-ahead buffer.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let State::Busy(handle) = &mut self.state {
            let res = ready!(Pin::new(handle).poll(cx));
            self.seeking = None;
            let (op, buf) = match res {
                Ok(v) => v,
                Err(e) => {
                    self.state = State::Idle(Some(Buf::default()));
                    return Poll::Ready(Err(join_to_io(e)));
                }
            };
            self.state = State::Idle(Some(buf));
            if let Op::Write(Err(e)) | Op::Rewind(Err(e)) = op {
                self.write_err = Some(e);
            }
        }
        Poll::Ready(match self.write_err.take() {
            Some(e) => Err(e),
            None => Ok(()),
        })
    }

    /// Finishes pending work, drops read-ahead (seeking back over it) and
    /// runs `f` with the std file on the pool.
    async fn run_settled<T, F>(&mut self, f: F) -> io::Result<T>
    where
        F: FnOnce(&std::fs::File) -> io::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        std::future::poll_fn(|cx| self.poll_idle(cx)).await?;
        if let State::Idle(slot) = &mut self.state {
            let unread = slot.as_ref().map_or(0, Buf::unread);
            if unread > 0 {
                // The read-ahead goes only with the seek back over it, run
                // as the file's own operation (kept in its state, not in
                // this future): a call dropped before its job ran then
                // still leaves the file where the reader had got to.
                let mut buf = slot.take().expect("File state is never left empty");
                let std = self.std.clone();
                self.state = State::Busy(self.pool.spawn(move || {
                    match (&*std).seek(SeekFrom::Current(-(unread as i64))) {
                        Ok(_) => {
                            buf.clear();
                            (Op::Rewind(Ok(())), buf)
                        }
                        // A pipe, FIFO or socket cannot go back: keep the
                        // bytes here for the next read instead of losing
                        // them (the call itself goes on; a clone then
                        // reads what comes after them, as with any pipe).
                        Err(e) if e.kind() == io::ErrorKind::NotSeekable => {
                            (Op::Rewind(Ok(())), buf)
                        }
                        Err(e) => {
                            buf.clear();
                            (Op::Rewind(Err(e)), buf)
                        }
                    }
                }));
                std::future::poll_fn(|cx| self.poll_idle(cx)).await?;
            }
        }
        let std = self.std.clone();
        run_on(&self.pool, move || f(&std)).await
    }

    /// Flushes pending writes and syncs data and metadata to disk
    /// ([`std::fs::File::sync_all`]).
    ///
    /// # Errors
    ///
    /// A pending write failed (that error), the sync failed, or the pool
    /// has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call may or may not have synced.
    ///
    /// ```
    /// use futures::AsyncWriteExt;
    /// # use eddy_blocking::{fs::File, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
    /// futures::executor::block_on(async {
    ///     let mut f = File::create(&p).await.unwrap();
    ///     f.write_all(b"durable").await.unwrap();
    ///     f.sync_all().await.unwrap();
    /// });
    /// ```
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.run_settled(|f| f.sync_all()).await
    }

    /// Truncates or extends the file to `size` bytes
    /// ([`std::fs::File::set_len`]); pending writes land first.
    ///
    /// # Errors
    ///
    /// A pending write failed (that error), the file is not open for
    /// writing, or the pool has shut down.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a dropped call may have changed the length.
    ///
    /// ```
    /// # use eddy_blocking::{fs::File, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
    /// futures::executor::block_on(async {
    ///     let mut f = File::create(&p).await.unwrap();
    ///     f.set_len(10).await.unwrap();
    ///     assert_eq!(f.metadata().await.unwrap().len(), 10);
    /// });
    /// ```
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        self.run_settled(move |f| f.set_len(size)).await
    }

    /// The file's metadata; pending writes land first.
    ///
    /// # Errors
    ///
    /// A pending write failed (that error), the OS could not report it, or
    /// the pool has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    ///
    /// ```
    /// # use eddy_blocking::{fs::File, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
    /// # std::fs::write(&p, b"abc").unwrap();
    /// futures::executor::block_on(async {
    ///     let mut f = File::open(&p).await.unwrap();
    ///     assert_eq!(f.metadata().await.unwrap().len(), 3);
    /// });
    /// ```
    pub async fn metadata(&mut self) -> io::Result<std::fs::Metadata> {
        self.run_settled(|f| f.metadata()).await
    }

    /// Flushes pending writes and syncs the file's data to disk, and of its
    /// metadata only what reading the data back needs (the length), not
    /// times or permissions ([`std::fs::File::sync_data`]): one disk write
    /// fewer than [`sync_all`](File::sync_all) on many file systems.
    ///
    /// # Errors
    ///
    /// A pending write failed (that error), the sync failed, or the pool
    /// has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call may or may not have synced; the
    /// reading position stays where it was.
    ///
    /// ```
    /// use futures::AsyncWriteExt;
    /// # use eddy_blocking::{fs::File, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("log");
    /// futures::executor::block_on(async {
    ///     let mut log = File::options().append(true).create(true).open(&p).await.unwrap();
    ///     log.write_all(b"committed\n").await.unwrap();
    ///     log.sync_data().await.unwrap();
    /// });
    /// assert_eq!(std::fs::read(&p).unwrap(), b"committed\n");
    /// ```
    pub async fn sync_data(&mut self) -> io::Result<()> {
        self.run_settled(|f| f.sync_data()).await
    }

    /// Changes the file's permissions ([`std::fs::File::set_permissions`],
    /// `fchmod`), as [`fs::set_permissions`](std::fs::set_permissions)
    /// does by path. Takes `&self`, as tokio's: it does not touch the
    /// reading position or pending writes.
    ///
    /// # Errors
    ///
    /// The process may not change them (not the owner), the file system is
    /// read-only, or the pool has shut down.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a dropped call may have changed the permissions.
    ///
    /// ```
    /// # use eddy_blocking::{fs::File, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
    /// futures::executor::block_on(async {
    ///     let mut f = File::create(&p).await.unwrap();
    ///     let mut perms = f.metadata().await.unwrap().permissions();
    ///     perms.set_readonly(true);
    ///     f.set_permissions(perms).await.unwrap();
    /// });
    /// assert!(std::fs::metadata(&p).unwrap().permissions().readonly());
    /// ```
    pub async fn set_permissions(&self, perm: std::fs::Permissions) -> io::Result<()> {
        let std = self.std.clone();
        run_on(&self.pool, move || std.set_permissions(perm)).await
    }

    /// A second `File` for the same open file ([`std::fs::File::try_clone`],
    /// `dup`): both share one file position, so a read, write or seek
    /// through either moves the other — as with std, and unlike opening
    /// the path again. The clone runs its calls on the same pool.
    ///
    /// Pending writes land first, and bytes this `File` read ahead are
    /// given back (the file is seeked back over them), so the shared
    /// position is where this `File`'s reader had got to and the clone
    /// reads on from there. On a pipe or FIFO, which cannot seek back,
    /// those bytes stay with this `File` for its next read and the clone
    /// reads what comes after them. Unlike tokio's, it takes `&mut self`:
    /// this `File` keeps its operation in flight without a lock.
    ///
    /// # Errors
    ///
    /// A pending write failed (that error; no clone is made), the OS
    /// refused another descriptor (`EMFILE`: too many open files), or the
    /// pool has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a clone made after the future was dropped is closed
    /// again, and the reading position stays where it was.
    ///
    /// ```
    /// use futures::{AsyncReadExt, AsyncSeekExt};
    /// use std::io::SeekFrom;
    /// # use eddy_blocking::{fs::File, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
    /// # std::fs::write(&p, b"header:body").unwrap();
    /// futures::executor::block_on(async {
    ///     let mut f = File::open(&p).await.unwrap();
    ///     let mut header = [0u8; 7];
    ///     f.read_exact(&mut header).await.unwrap();
    ///     let mut body = f.try_clone().await.unwrap();
    ///     let mut rest = String::new();
    ///     body.read_to_string(&mut rest).await.unwrap();
    ///     assert_eq!(rest, "body");
    ///     // One shared position: the clone's read moved the original too.
    ///     assert_eq!(f.seek(SeekFrom::Current(0)).await.unwrap(), 11);
    /// });
    /// ```
    pub async fn try_clone(&mut self) -> io::Result<File> {
        let std = self.run_settled(|f| f.try_clone()).await?;
        Ok(File::with_pool(std, self.pool.clone()))
    }

    /// Turns this `File` into std's, once the operation in flight has
    /// finished (a buffered write lands first). Bytes read ahead are given
    /// back by seeking the file back over them, so the std file reads on
    /// where this `File`'s reader had got to (on a file that cannot seek,
    /// such as a FIFO, they are lost).
    ///
    /// A write error not reported yet is dropped here, as with tokio:
    /// await `flush` first to learn it.
    ///
    /// # Panics
    ///
    /// Only if a call on this file (`metadata`, `set_permissions`, ...)
    /// that was dropped while its job was running still holds the file,
    /// and the OS refuses to duplicate the descriptor (`EMFILE`). tokio's
    /// panics whenever such a job holds its file; here the std file is
    /// then a duplicate sharing the position.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the `File`, as `drop` would: a write in
    /// flight still lands.
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
    /// flight, no write error waiting to be reported, and no other holder
    /// of the file (a call dropped while its job was running).
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
            // A dropped call's job still holds it: a duplicate shares the
            // position and stays open when that job closes its handle.
            shared.try_clone().unwrap_or_else(|e| {
                panic!(
                    "File::into_std: the file is still held by a dropped call's job and \
                     could not be duplicated: {e}"
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
/// writes through the pool, so keep two things in mind: a write may still
/// be in flight (await `flush` first to see its bytes through the
/// descriptor), and the position is ahead by what was read ahead (calls
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
