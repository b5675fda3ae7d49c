//! [`File`]'s calls on the whole file (`sync_all`, `set_len`,
//! `metadata`, ...). Each runs as the file's own operation, kept in its
//! state as a read or a write is, so a call dropped while its job runs
//! still comes before whatever the file does next: a `set_len(0)` dropped
//! on a timeout cannot land after a later write and wipe it. Its result
//! goes to the caller through a slot the job holds weakly, which also
//! tells the job whether anybody is still there.

use std::io::{self, Seek, SeekFrom};
use std::sync::Arc;

use parking_lot::Mutex;

use super::{Buf, File, Op, State};

/// Seeks back over the bytes `buf` read ahead and drops them, so that the
/// file position is where the reader had got to (a clone reads on from
/// there). A pipe, FIFO or tty cannot go back: the bytes stay for the next
/// read and the call goes on (a clone then reads what comes after them, as
/// with any pipe). Another error drops them: the position is unknown then.
fn give_back(std: &std::fs::File, buf: &mut Buf) -> io::Result<()> {
    let unread = buf.unread();
    if unread == 0 {
        return Ok(());
    }
    let mut file = std;
    match file.seek(SeekFrom::Current(-(unread as i64))) {
        Ok(_) => {
            buf.clear();
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotSeekable => Ok(()),
        Err(e) => {
            buf.clear();
            Err(e)
        }
    }
}

/// The error that the next operation reports for a call that failed after
/// its future was dropped: the original's kind, and a message that names
/// the call and says what the failure means.
fn failed_unawaited(what: &str, e: &io::Error, means: &str) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("{what}, whose future was dropped while it ran, failed: {e}; {means}"),
    )
}

impl File {
    /// Finishes what is in flight, then runs `f` with the std file on the
    /// pool as this file's operation, after seeking back over read-ahead.
    /// `name` is the call's; `if_failed` is what its failure means when
    /// the call changes the file or makes it durable, `None` for a call
    /// that only looks. Once the caller has gone, the failure of a change
    /// (or of the seek back) goes to the next write, flush, seek or call,
    /// as a buffered write's does; a look's goes with it.
    ///
    /// Dropped before its job started, the call never happens and the
    /// read-ahead stays.
    async fn run_settled<T, F>(
        &mut self,
        name: &'static str,
        if_failed: Option<&'static str>,
        f: F,
    ) -> io::Result<T>
    where
        F: FnOnce(&std::fs::File) -> io::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        std::future::poll_fn(|cx| self.poll_idle(cx)).await?;
        let State::Idle(slot) = &mut self.state else {
            unreachable!("poll_idle leaves the file idle")
        };
        let mut buf = slot.take().expect("File state is never left empty");
        let result = Arc::new(Mutex::new(None));
        let caller = Arc::downgrade(&result);
        let std = self.std.clone();
        self.state = State::Busy(self.pool.spawn(move || {
            let Some(result) = caller.upgrade() else {
                return (Op::Call(None), buf);
            };
            let (out, unawaited_err) = match give_back(&std, &mut buf) {
                Ok(()) => {
                    let out = f(&std);
                    let unawaited_err = match (&out, if_failed) {
                        (Err(e), Some(means)) => Some(failed_unawaited(name, e, means)),
                        _ => None,
                    };
                    (out, unawaited_err)
                }
                Err(e) => {
                    let what = format!("seeking back over the bytes read ahead before {name}");
                    let means = "the file position is unknown: seek before reading or writing";
                    let unawaited_err = failed_unawaited(&what, &e, means);
                    (Err(e), Some(unawaited_err))
                }
            };
            *result.lock() = Some(out);
            (Op::Call(unawaited_err), buf)
        }));
        // Ours: nothing else runs on this file while this call holds it,
        // and the caller is here, so the result is in the slot.
        std::future::poll_fn(|cx| self.poll_job(cx)).await?;
        let out = result.lock().take();
        out.expect("the job of a call still awaited stores its result")
    }

    /// Flushes pending writes and syncs data and metadata to disk
    /// ([`std::fs::File::sync_all`]).
    ///
    /// # Errors
    ///
    /// A pending write or a dropped earlier call failed (that error), the
    /// sync failed, or the pool has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call may or may not have synced. Dropped
    /// before its job started, it never happens; dropped while it runs, it
    /// goes on, and the file's next operation (read, write, seek, flush or
    /// call) waits for it. A sync that then fails is not lost: the next
    /// write, flush, seek or call returns its error (the data written
    /// before may not be on disk, and a later sync can succeed without
    /// it).
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
        let means = "data written before it may not be on disk, even if a later sync succeeds";
        self.run_settled("File::sync_all", Some(means), |f| f.sync_all())
            .await
    }

    /// Truncates or extends the file to `size` bytes
    /// ([`std::fs::File::set_len`]); pending writes land first.
    ///
    /// # Errors
    ///
    /// A pending write or a dropped earlier call failed (that error), the
    /// file is not open for writing, or the pool has shut down.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a dropped call may have changed the length.
    /// Dropped before its job started, it never happens; dropped while it
    /// runs, it goes on, and the file's next operation (read, write, seek,
    /// flush or call) waits for it, so a later write is never wiped by a
    /// late truncation. If it then fails, the next write, flush, seek or
    /// call returns that error.
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
        let means = "the file's length may not be the one asked for";
        self.run_settled("File::set_len", Some(means), move |f| f.set_len(size))
            .await
    }

    /// The file's metadata; pending writes land first.
    ///
    /// # Errors
    ///
    /// A pending write or a dropped earlier call failed (that error), the
    /// OS could not report it, or the pool has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads. Dropped while its job runs, the file's
    /// next operation waits for that job, and its result (an error too)
    /// is dropped.
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
        self.run_settled("File::metadata", None, |f| f.metadata())
            .await
    }

    /// Flushes pending writes and syncs the file's data to disk, and of its
    /// metadata only what reading the data back needs (the length), not
    /// times or permissions ([`std::fs::File::sync_data`]): one disk write
    /// fewer than [`sync_all`](File::sync_all) on many file systems.
    ///
    /// # Errors
    ///
    /// A pending write or a dropped earlier call failed (that error), the
    /// sync failed, or the pool has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call may or may not have synced; the
    /// reading position stays where it was. As with
    /// [`sync_all`](File::sync_all), a call dropped while it runs goes on,
    /// the file's next operation waits for it, and if it fails the next
    /// write, flush, seek or call returns its error.
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
        let means = "data written before it may not be on disk, even if a later sync succeeds";
        self.run_settled("File::sync_data", Some(means), |f| f.sync_data())
            .await
    }

    /// Changes the file's permissions ([`std::fs::File::set_permissions`],
    /// `fchmod`), as [`fs::set_permissions`](std::fs::set_permissions)
    /// does by path; pending writes land first. Unlike tokio's, it takes
    /// `&mut self`: it is one of this file's operations, in order with the
    /// others (a call dropped earlier cannot land after it).
    ///
    /// # Errors
    ///
    /// A pending write or a dropped earlier call failed (that error), the
    /// process may not change them (not the owner), the file system is
    /// read-only, or the pool has shut down.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a dropped call may have changed the permissions.
    /// Dropped before its job started, it never happens; dropped while it
    /// runs, it goes on, and the file's next operation waits for it; if it
    /// then fails, the next write, flush, seek or call returns that error.
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
    pub async fn set_permissions(&mut self, perm: std::fs::Permissions) -> io::Result<()> {
        let means = "the permissions may not have changed";
        self.run_settled("File::set_permissions", Some(means), move |f| {
            f.set_permissions(perm)
        })
        .await
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
    /// A pending write or a dropped earlier call failed (that error; no
    /// clone is made), the OS refused another descriptor (`EMFILE`: too
    /// many open files), or the pool has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a clone made after the future was dropped is closed
    /// again, and the reading position stays where it was. Dropped while
    /// its job runs, the file's next operation waits for that job.
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
        let std = self
            .run_settled("File::try_clone", None, |f| f.try_clone())
            .await?;
        Ok(File::with_pool(std, self.pool.clone()))
    }
}
