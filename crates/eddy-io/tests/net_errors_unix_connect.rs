//! `UnixStream::connect` hands back the OS error itself: callers can match
//! its kind and its errno (`raw_os_error()`), which a re-wrapped error
//! (`io::Error::new(kind, message)`) no longer answers.

mod common;

use std::io::ErrorKind;

use eddy_io::net::UnixStream;

#[test]
fn connecting_to_a_missing_path_gives_enoent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nobody-here.sock");
    let err = common::run(UnixStream::connect(&path)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT), "{err:?}");
}

#[test]
fn connecting_to_a_socket_nobody_listens_on_gives_econnrefused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("closed.sock");
    // Bound, then closed without being unlinked: the file stays, nobody
    // listens behind it.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let err = common::run(UnixStream::connect(&path)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    assert_eq!(err.raw_os_error(), Some(libc::ECONNREFUSED), "{err:?}");
}

#[test]
fn connecting_to_a_file_that_is_not_a_socket_keeps_the_errno() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain-file");
    std::fs::write(&path, b"not a socket").unwrap();
    let err = common::run(UnixStream::connect(&path)).unwrap_err();
    // Linux answers ECONNREFUSED for a non-socket file; what matters is
    // that the errno is there to match on.
    assert!(err.raw_os_error().is_some(), "{err:?}");
}
