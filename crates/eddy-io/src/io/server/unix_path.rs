//! The socket file of a Unix server: clearing a stale one before binding
//! and removing our own (and only our own) on close.
//!
//! asyncio's `create_unix_server` removes whatever socket file is at the
//! path before binding, and (since 3.13) records the file's inode so that
//! closing unlinks the path only if it still is that socket. We do both,
//! with one more check before removing: a socket file on which a server
//! still listens is not stale, and is refused rather than taken over.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// The identity of a socket file: `(device, inode)` of the path itself
/// (not of a symlink's target).
pub(super) type FileId = (u64, u64);

/// Makes `path` free for a new listening socket: nothing there, or a stale
/// socket file (removed here).
///
/// # Errors
///
/// `AddrInUse` when the path is not a socket, when a server listens on it,
/// or when it is a socket that cannot be probed or removed; each message
/// names the path and what to do.
pub(super) fn clear_stale_socket(path: &Path) -> io::Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        // Nothing there (or nothing we can see): bind reports the rest.
        Err(_) => return Ok(()),
    };
    let kind = meta.file_type();
    if !kind.is_socket() {
        let what = if kind.is_file() {
            "a regular file"
        } else if kind.is_dir() {
            "a directory"
        } else if kind.is_symlink() {
            "a symbolic link"
        } else if kind.is_fifo() {
            "a FIFO"
        } else {
            "a device or other special file"
        };
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "cannot start a Unix server at {}: the path exists and is not a socket (it is \
                 {what}); it was left alone: remove it yourself or choose another path",
                path.display()
            ),
        ));
    }
    // A socket file. It is stale if nobody listens on it: a non-blocking
    // connect is refused at once. (One that succeeds or would block is a
    // live server's; it sees a connection that closes at once.)
    match mio::net::UnixStream::connect(path) {
        Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {}
        Ok(_) => return Err(live(path)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(live(path)),
        Err(e) => {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!(
                    "cannot start a Unix server at {}: a socket file is there and checking \
                     whether a server still listens on it failed ({e}); it was left alone: \
                     remove it if nothing uses it, or choose another path",
                    path.display()
                ),
            ))
        }
    }
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        // Someone else removed it meanwhile: just as good.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "cannot start a Unix server at {}: a stale socket file is there and removing it \
                 failed ({e}); remove it yourself (check the directory's permissions) or choose \
                 another path",
                path.display()
            ),
        )),
    }
}

fn live(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::AddrInUse,
        format!(
            "cannot start a Unix server at {}: another server is listening on that socket; stop \
             it or choose another path (a live socket is never taken over)",
            path.display()
        ),
    )
}

/// The identity of the socket file just bound at `path`, or `None` if it
/// cannot be read (then [`remove_own_socket`] leaves the path alone).
pub(super) fn socket_id(path: &Path) -> Option<FileId> {
    if path.as_os_str().as_encoded_bytes().first() == Some(&0) {
        // An abstract name (Linux): no file, nothing to remove on close.
        return None;
    }
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => Some((meta.dev(), meta.ino())),
        Ok(_) => None,
        Err(e) => {
            tracing::debug!(
                "cannot stat the Unix server socket {}: {e}; it will not be removed on close",
                path.display()
            );
            None
        }
    }
}

/// Removes `path` if it still is the socket file identified by `id`; a
/// path that was removed, or replaced by someone else's file, is left
/// alone.
pub(super) fn remove_own_socket(path: &Path, id: Option<FileId>) {
    let Some(id) = id else {
        return;
    };
    match fs::symlink_metadata(path) {
        Ok(meta) if (meta.dev(), meta.ino()) == id => match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(
                "could not remove the Unix server socket {}: {e}; remove it by hand",
                path.display()
            ),
        },
        Ok(_) => tracing::debug!(
            "{} is no longer this server's socket (someone bound or created another file \
             there); left alone",
            path.display()
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(
            "could not check the Unix server socket {} before removing it: {e}; left alone",
            path.display()
        ),
    }
}
