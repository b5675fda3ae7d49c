//! Links and permissions by path: [`hard_link`], [`symlink`],
//! [`read_link`], [`set_permissions`] (tokio::fs's names, each the
//! `std::fs` call of that name run on the current pool).

use std::io;
use std::path::{Path, PathBuf};

use super::asyncify;

/// Makes `link` a new name for the file at `original`
/// ([`std::fs::hard_link`]).
///
/// # Errors
///
/// `original` is missing or a directory, `link` exists (`AlreadyExists`),
/// the two are on different file systems, no permission; or the pool could
/// not run the call (kind `Other`, see the [module docs](super)).
///
/// # Cancel safety
///
/// Not cancel safe: once started, the link is made even if the future is
/// dropped.
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap();
/// let (a, b) = (dir.path().join("a"), dir.path().join("b"));
/// std::fs::write(&a, "shared").unwrap();
/// futures::executor::block_on(fs::hard_link(&a, &b)).unwrap();
/// assert_eq!(std::fs::read_to_string(&b).unwrap(), "shared");
/// ```
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let original = original.as_ref().to_owned();
    let link = link.as_ref().to_owned();
    asyncify(move || std::fs::hard_link(original, link)).await
}

/// Makes `link` a symbolic link pointing at `original`, which need not
/// exist ([`std::os::unix::fs::symlink`]; tokio's `fs::symlink`).
///
/// # Errors
///
/// `link` exists (`AlreadyExists`), its directory is missing, no
/// permission; or the pool could not run the call (kind `Other`).
///
/// # Cancel safety
///
/// Not cancel safe: once started, the link is made even if the future is
/// dropped.
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap();
/// let link = dir.path().join("current");
/// futures::executor::block_on(fs::symlink("releases/v2", &link)).unwrap();
/// assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
/// ```
#[cfg(unix)]
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let original = original.as_ref().to_owned();
    let link = link.as_ref().to_owned();
    asyncify(move || std::os::unix::fs::symlink(original, link)).await
}

/// Where the symbolic link at `path` points, as stored (not resolved)
/// ([`std::fs::read_link`]).
///
/// # Errors
///
/// Nothing is at `path`, or it is not a symbolic link (`InvalidInput`); or
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
/// let link = dir.path().join("current");
/// std::os::unix::fs::symlink("releases/v2", &link).unwrap();
/// let target = futures::executor::block_on(fs::read_link(&link)).unwrap();
/// assert_eq!(target, std::path::Path::new("releases/v2"));
/// ```
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_link(path)).await
}

/// Sets the permissions of the file or directory at `path`, following a
/// symbolic link ([`std::fs::set_permissions`]). For an open file, see
/// [`File::set_permissions`](super::File::set_permissions).
///
/// # Errors
///
/// Nothing is at `path`, the caller does not own it (`PermissionDenied`),
/// a read-only file system; or the pool could not run the call (kind
/// `Other`).
///
/// # Cancel safety
///
/// Not cancel safe: once started, the change is made even if the future is
/// dropped.
///
/// ```
/// # use eddy_blocking::{fs, Pool};
/// use std::os::unix::fs::PermissionsExt;
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("run.sh");
/// # std::fs::write(&p, "#!/bin/sh\n").unwrap();
/// let perm = std::fs::Permissions::from_mode(0o750);
/// futures::executor::block_on(fs::set_permissions(&p, perm)).unwrap();
/// assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o750);
/// ```
pub async fn set_permissions(path: impl AsRef<Path>, perm: std::fs::Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::set_permissions(path, perm)).await
}
