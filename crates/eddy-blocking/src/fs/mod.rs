//! Async file-system functions (feature `fs`, on by default): each call runs
//! the matching `std::fs` call on the current pool ([`Pool::current`]).
//! What they hand back keeps that pool: a [`File`], a [`ReadDir`] and its
//! [`DirEntry`] values run their own calls on it, wherever they are made.
//!
//! The functions are tokio::fs's, each the `std::fs` call of that name
//! (`std::fs::exists` for `try_exists`): [`read`], [`read_to_string`],
//! [`write()`], [`copy`], [`rename`], [`remove_file`], [`create_dir`],
//! [`create_dir_all`], [`remove_dir`], [`remove_dir_all`], [`metadata`],
//! [`symlink_metadata`], [`try_exists`], [`canonicalize`], [`read_dir`],
//! [`hard_link`], [`symlink`], [`read_link`], [`set_permissions`], plus
//! [`File`] and [`OpenOptions`]. For any other `std::fs` call, run it on
//! the pool yourself, e.g. `to_thread(move || std::fs::File::open(p)?
//! .set_modified(t)).await`.
//!
//! A panic inside the std call is re-raised in the awaiting task; a pool
//! that was shut down, or that has no thread and could not start one,
//! gives an [`io::Error`] of kind `Other` that says so (the
//! [`JoinError`] is its inner error).
//!
//! # Panics
//!
//! Every function panics when awaited on a thread with no current pool
//! ("no eddy blocking pool on this thread: ...").
//!
//! # Cancel safety
//!
//! The same for every function here: dropping the future before the pool
//! thread picked the call up means the call never happens; once it started,
//! the std call runs to completion (it cannot be interrupted) and its result
//! is lost. So a dropped `write` or `rename` may or may not have happened.
//!
//! ```
//! use eddy_blocking::{fs, Pool};
//!
//! let pool = Pool::new();
//! let _guard = pool.enter();
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("hello.txt");
//! futures::executor::block_on(async {
//!     fs::write(&path, "hi").await.unwrap();
//!     assert_eq!(fs::read_to_string(&path).await.unwrap(), "hi");
//! });
//! ```

use std::io;
use std::path::{Path, PathBuf};

use crate::{JoinError, Pool};

mod file;
mod links;
mod open_options;
mod read_dir;

pub use file::File;
#[cfg(unix)]
pub use links::symlink;
pub use links::{hard_link, read_link, set_permissions};
pub use open_options::OpenOptions;
pub use read_dir::{read_dir, DirEntry, ReadDir};

/// Turns a job's `JoinError` into the caller's error: panics are re-raised,
/// a job that never ran becomes an `io::Error`.
pub(crate) fn join_to_io(err: JoinError) -> io::Error {
    match err.try_into_panic() {
        Ok(payload) => std::panic::resume_unwind(payload),
        Err(err) => io::Error::other(err),
    }
}

/// Runs `f` on `pool` and awaits it.
pub(crate) async fn run_on<T, F>(pool: &Pool, f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    pool.spawn(f).await.map_err(join_to_io)?
}

/// Runs `f` on the current pool and awaits it.
async fn asyncify<T, F>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    run_on(&Pool::current(), f).await
}

/// Reads a whole file into bytes ([`std::fs::read`] on the pool).
///
/// # Errors
///
/// `std::fs::read`'s: nothing at `path` (`NotFound`), no permission,
/// `path` is a directory; or the pool could not run the call (kind
/// `Other`, see the [module docs](self)).
///
/// # Cancel safety
///
/// Dropping the future may leave the read done or not; nothing is lost but
/// the bytes. See the [module docs](self).
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
/// # std::fs::write(&p, b"abc").unwrap();
/// let bytes = futures::executor::block_on(fs::read(&p)).unwrap();
/// assert_eq!(bytes, b"abc");
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read(path)).await
}

/// Reads a whole UTF-8 file into a `String` ([`std::fs::read_to_string`]).
///
/// # Errors
///
/// As [`read`]; also `InvalidData` if the file is not valid UTF-8 (use
/// [`read`] for bytes).
///
/// # Cancel safety
///
/// Dropping the future may leave the read done or not. See the
/// [module docs](self).
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
/// # std::fs::write(&p, "text").unwrap();
/// let s = futures::executor::block_on(fs::read_to_string(&p)).unwrap();
/// assert_eq!(s, "text");
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_to_string(path)).await
}

/// Writes `contents` as the whole file, creating or truncating it
/// ([`std::fs::write`]).
///
/// # Errors
///
/// The parent directory is missing, no permission, a read-only file
/// system, the disk is full (the file may be left half written); or the
/// pool could not run the call (kind `Other`, see the
/// [module docs](self)).
///
/// # Cancel safety
///
/// Not cancel safe: dropping the future after the pool picked the call up
/// leaves the write done (or half done, if it fails) without telling you.
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
/// futures::executor::block_on(fs::write(&p, b"data")).unwrap();
/// assert_eq!(std::fs::read(&p).unwrap(), b"data");
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    asyncify(move || std::fs::write(path, contents)).await
}

/// Copies a file's contents and permissions; returns the bytes copied
/// ([`std::fs::copy`]).
///
/// # Errors
///
/// `from` is missing or not a regular file; `to` cannot be created or
/// written (no permission, missing directory, disk full: it may be left
/// partly written); or the pool could not run the call (kind `Other`,
/// see the [module docs](self)).
///
/// # Cancel safety
///
/// Not cancel safe: once started, the copy completes even if the future is
/// dropped.
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap();
/// # let (a, b) = (dir.path().join("a"), dir.path().join("b"));
/// # std::fs::write(&a, b"12345").unwrap();
/// let n = futures::executor::block_on(fs::copy(&a, &b)).unwrap();
/// assert_eq!(n, 5);
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::copy(from, to)).await
}

/// Renames a file or directory, replacing `to` if it exists
/// ([`std::fs::rename`]).
///
/// # Errors
///
/// `from` is missing, `to` is on another file system (`CrossesDevices`:
/// copy, then remove), one is a directory and the other is not, `to` is
/// a non-empty directory, no permission; or the pool could not run the
/// call (kind `Other`, see the [module docs](self)).
///
/// # Cancel safety
///
/// Not cancel safe: once started, the rename happens even if the future is
/// dropped.
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap();
/// # let (a, b) = (dir.path().join("a"), dir.path().join("b"));
/// # std::fs::write(&a, b"x").unwrap();
/// futures::executor::block_on(fs::rename(&a, &b)).unwrap();
/// assert!(!a.exists() && b.exists());
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to): (PathBuf, PathBuf) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::rename(from, to)).await
}

/// Removes a file ([`std::fs::remove_file`]).
///
/// # Errors
///
/// Nothing at `path` (`NotFound`), `path` is a directory (use
/// [`remove_dir`]), no permission; or the pool could not run the call
/// (kind `Other`, see the [module docs](self)).
///
/// # Cancel safety
///
/// Not cancel safe: once started, the removal happens even if the future is
/// dropped.
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
/// # std::fs::write(&p, b"x").unwrap();
/// futures::executor::block_on(fs::remove_file(&p)).unwrap();
/// assert!(!p.exists());
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_file(path)).await
}

/// Creates a directory and all missing parents ([`std::fs::create_dir_all`]).
///
/// # Errors
///
/// A part of `path` exists and is not a directory, or no permission
/// (the directories made before that stay); or the pool could not run
/// the call (kind `Other`, see the [module docs](self)). A directory
/// that already exists is not an error.
///
/// # Cancel safety
///
/// Once started, the directories are created even if the future is dropped;
/// calling it again is harmless.
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("a/b/c");
/// futures::executor::block_on(fs::create_dir_all(&p)).unwrap();
/// assert!(p.is_dir());
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir_all(path)).await
}

/// A file's or directory's metadata, following symlinks
/// ([`std::fs::metadata`]).
///
/// # Errors
///
/// Nothing is at `path` (or a symlink there points nowhere), or it
/// cannot be reached; or the pool could not run the call (kind `Other`,
/// see the [module docs](self)).
///
/// # Cancel safety
///
/// Cancel safe: it only reads.
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
/// # std::fs::write(&p, b"four").unwrap();
/// let meta = futures::executor::block_on(fs::metadata(&p)).unwrap();
/// assert_eq!(meta.len(), 4);
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<std::fs::Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::metadata(path)).await
}

/// Creates one directory; its parent must exist ([`std::fs::create_dir`]).
///
/// # Errors
///
/// `AlreadyExists` if something is at `path`; `NotFound` if the parent
/// is missing (use [`create_dir_all`] to make it too); or the pool could
/// not run the call (kind `Other`, see the [module docs](self)).
///
/// # Cancel safety
///
/// Not cancel safe: once started, the directory is created even if the
/// future is dropped.
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("logs");
/// futures::executor::block_on(fs::create_dir(&p)).unwrap();
/// assert!(p.is_dir());
/// ```
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir(path)).await
}

/// Removes an empty directory ([`std::fs::remove_dir`]).
///
/// # Errors
///
/// The directory is not empty (use [`remove_dir_all`]), missing, or not a
/// directory; or the pool could not run the call (kind `Other`).
///
/// # Cancel safety
///
/// Not cancel safe: once started, the removal happens even if the future
/// is dropped.
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("empty");
/// # std::fs::create_dir(&p).unwrap();
/// futures::executor::block_on(fs::remove_dir(&p)).unwrap();
/// assert!(!p.exists());
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir(path)).await
}

/// Removes a directory and everything in it, without following symlinks
/// ([`std::fs::remove_dir_all`]).
///
/// # Errors
///
/// `path` is missing or not a directory, or an entry could not be
/// removed (what was removed before that stays removed); or the pool
/// could not run the call (kind `Other`).
///
/// # Cancel safety
///
/// Not cancel safe: once started, the removal runs to its end even if the
/// future is dropped.
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("tree");
/// # std::fs::create_dir_all(p.join("a/b")).unwrap();
/// # std::fs::write(p.join("a/b/f"), b"x").unwrap();
/// futures::executor::block_on(fs::remove_dir_all(&p)).unwrap();
/// assert!(!p.exists());
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir_all(path)).await
}

/// A file's or directory's metadata without following a symlink at
/// `path` ([`std::fs::symlink_metadata`]).
///
/// # Errors
///
/// Nothing is at `path`, or it cannot be reached; or the pool could not
/// run the call (kind `Other`).
///
/// # Cancel safety
///
/// Cancel safe: it only reads.
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("link");
/// # std::os::unix::fs::symlink("/nowhere", &p).unwrap();
/// let meta = futures::executor::block_on(fs::symlink_metadata(&p)).unwrap();
/// assert!(meta.file_type().is_symlink());
/// ```
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<std::fs::Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::symlink_metadata(path)).await
}

/// Whether something exists at `path` (following symlinks), telling "no"
/// apart from "could not find out" ([`std::fs::exists`], tokio's
/// `try_exists`).
///
/// # Errors
///
/// Whether it exists could not be determined (e.g. a directory on the way
/// may not be searched): unlike `Path::exists`, that is not a `false`. Or
/// the pool could not run the call (kind `Other`).
///
/// # Cancel safety
///
/// Cancel safe: it only reads.
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap();
/// let there = futures::executor::block_on(fs::try_exists(dir.path())).unwrap();
/// let gone = futures::executor::block_on(fs::try_exists(dir.path().join("no"))).unwrap();
/// assert!(there && !gone);
/// ```
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::exists(path)).await
}

/// The absolute path with every symlink, `.` and `..` resolved
/// ([`std::fs::canonicalize`]).
///
/// # Errors
///
/// `path` (or a part of it) does not exist; or the pool could not run the
/// call (kind `Other`).
///
/// # Cancel safety
///
/// Cancel safe: it only reads.
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::create_dir(dir.path().join("a")).unwrap();
/// let p = futures::executor::block_on(fs::canonicalize(dir.path().join("a/../a/."))).unwrap();
/// assert!(p.is_absolute() && p.ends_with("a"));
/// ```
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::canonicalize(path)).await
}
