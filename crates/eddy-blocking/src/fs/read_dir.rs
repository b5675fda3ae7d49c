//! [`read_dir`]: a directory's entries as a `Stream`, fetched in batches on
//! the pool.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;

use super::{join_to_io, run_on};
use crate::{BlockingHandle, Pool};

/// Entries fetched per trip to the pool.
const BATCH: usize = 32;

/// Opens a directory for listing ([`std::fs::read_dir`] on the pool).
///
/// # Errors
///
/// `path` is missing (`NotFound`), not a directory, or may not be read;
/// or the pool could not run the call (kind `Other`, see the
/// [module docs](super)). Errors for single entries come from the stream.
///
/// # Cancel safety
///
/// Cancel safe: opening only reads. See [`ReadDir`] for the stream.
///
/// ```
/// use futures::StreamExt;
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::write(dir.path().join("a"), b"").unwrap();
/// let names = futures::executor::block_on(async {
///     let mut entries = fs::read_dir(dir.path()).await.unwrap();
///     let mut names = Vec::new();
///     while let Some(entry) = entries.next().await {
///         names.push(entry.unwrap().file_name());
///     }
///     names
/// });
/// assert_eq!(names, ["a"]);
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let pool = Pool::current();
    let std = run_on(&pool, move || std::fs::read_dir(path)).await?;
    Ok(ReadDir {
        pool,
        state: State::Idle(Some(Batch {
            std,
            buf: VecDeque::new(),
            done: false,
        })),
    })
}

struct Batch {
    std: std::fs::ReadDir,
    /// Entries fetched but not handed out yet; they get the listing's pool
    /// as they are (on the polling side, so the job holds no `Pool`).
    buf: VecDeque<io::Result<std::fs::DirEntry>>,
    done: bool,
}

enum State {
    Idle(Option<Batch>),
    Busy(BlockingHandle<Batch>),
    /// The listing is over (or was lost with a batch that failed): every
    /// poll gives `None`.
    Ended,
}

/// The entries of a directory, made by [`read_dir`]: a
/// `Stream<Item = io::Result<DirEntry>>` that fetches up to 32 entries per
/// trip to the pool. Order is whatever the OS gives; `.` and `..` are
/// skipped. After it gave `None`, or an error for a batch that could not
/// be fetched (the pool was shut down), it gives `None` for good.
///
/// # Cancel safety
///
/// Polling `next` is cancel safe: a batch being fetched when you stop
/// polling is kept and handed out by the next poll.
///
/// ```
/// use futures::StreamExt;
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap();
/// let count = futures::executor::block_on(async {
///     fs::read_dir(dir.path()).await.unwrap().count().await
/// });
/// assert_eq!(count, 0);
/// ```
pub struct ReadDir {
    pool: Pool,
    state: State,
}

impl std::fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadDir").finish_non_exhaustive()
    }
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Idle(batch) => {
                    let mut b = batch.take().expect("ReadDir state is never left empty");
                    if let Some(entry) = b.buf.pop_front() {
                        this.state = State::Idle(Some(b));
                        let pool = &this.pool;
                        return Poll::Ready(Some(entry.map(|std| DirEntry {
                            std,
                            pool: pool.clone(),
                        })));
                    }
                    if b.done {
                        // Closes the directory now rather than with the stream.
                        this.state = State::Ended;
                        return Poll::Ready(None);
                    }
                    this.state = State::Busy(this.pool.spawn(move || {
                        for _ in 0..BATCH {
                            match b.std.next() {
                                Some(entry) => b.buf.push_back(entry),
                                None => {
                                    b.done = true;
                                    break;
                                }
                            }
                        }
                        b
                    }));
                }
                State::Ended => return Poll::Ready(None),
                State::Busy(handle) => {
                    let res = ready!(Pin::new(handle).poll(cx));
                    match res {
                        Ok(b) => this.state = State::Idle(Some(b)),
                        Err(e) => {
                            // The listing is lost with the job; end the
                            // stream (before a panic is re-raised, too).
                            this.state = State::Ended;
                            return Poll::Ready(Some(Err(join_to_io(e))));
                        }
                    }
                }
            }
        }
    }
}

/// One entry of a [`ReadDir`]. Its calls that do I/O run on the pool the
/// listing was started on ([`read_dir`]'s current pool), whichever pool is
/// current (if any) where they are made.
///
/// ```
/// use futures::StreamExt;
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::write(dir.path().join("a"), b"12").unwrap();
/// futures::executor::block_on(async {
///     let mut entries = fs::read_dir(dir.path()).await.unwrap();
///     let entry = entries.next().await.unwrap().unwrap();
///     assert_eq!(entry.file_name(), "a");
///     assert_eq!(entry.metadata().await.unwrap().len(), 2);
/// });
/// ```
pub struct DirEntry {
    std: std::fs::DirEntry,
    /// The listing's pool, as `File` keeps the pool it was opened on.
    pool: Pool,
}

impl std::fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DirEntry").field(&self.std).finish()
    }
}

impl DirEntry {
    /// The full path: the directory passed to [`read_dir`] joined with the
    /// file name.
    ///
    /// ```
    /// # use futures::StreamExt;
    /// # use eddy_blocking::{fs, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap();
    /// # std::fs::write(dir.path().join("a"), b"").unwrap();
    /// # futures::executor::block_on(async {
    /// let entry = fs::read_dir(dir.path()).await.unwrap().next().await.unwrap().unwrap();
    /// assert_eq!(entry.path(), dir.path().join("a"));
    /// # });
    /// ```
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The bare file name.
    ///
    /// ```
    /// # use futures::StreamExt;
    /// # use eddy_blocking::{fs, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap();
    /// # std::fs::write(dir.path().join("a"), b"").unwrap();
    /// # futures::executor::block_on(async {
    /// let entry = fs::read_dir(dir.path()).await.unwrap().next().await.unwrap().unwrap();
    /// assert_eq!(entry.file_name(), "a");
    /// # });
    /// ```
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's metadata, without following a symlink
    /// ([`std::fs::DirEntry::metadata`] on the listing's pool, not the
    /// current one).
    ///
    /// # Errors
    ///
    /// The entry was removed or renamed since it was listed (`NotFound`),
    /// or the listing's pool could not run the call (kind `Other`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    ///
    /// ```
    /// # use futures::StreamExt;
    /// # use eddy_blocking::{fs, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap();
    /// # std::fs::create_dir(dir.path().join("sub")).unwrap();
    /// # futures::executor::block_on(async {
    /// let entry = fs::read_dir(dir.path()).await.unwrap().next().await.unwrap().unwrap();
    /// assert!(entry.metadata().await.unwrap().is_dir());
    /// # });
    /// ```
    pub async fn metadata(&self) -> io::Result<std::fs::Metadata> {
        let path = self.std.path();
        run_on(&self.pool, move || std::fs::symlink_metadata(path)).await
    }

    /// The entry's file type (usually answered without a system call).
    ///
    /// # Errors
    ///
    /// Only when the listing did not say and the system call made to find
    /// out fails (the entry was removed since it was listed); it runs on
    /// the calling thread, not the pool.
    ///
    /// ```
    /// # use futures::StreamExt;
    /// # use eddy_blocking::{fs, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap();
    /// # std::fs::write(dir.path().join("a"), b"").unwrap();
    /// # futures::executor::block_on(async {
    /// let entry = fs::read_dir(dir.path()).await.unwrap().next().await.unwrap().unwrap();
    /// assert!(entry.file_type().unwrap().is_file());
    /// # });
    /// ```
    pub fn file_type(&self) -> io::Result<std::fs::FileType> {
        self.std.file_type()
    }
}
