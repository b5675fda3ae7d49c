//! Regression tests from the review of today's eddy-io additions
//! (`sendfile` and the writer's socket).

mod common;

use std::io::Write;

use common::run;
use eddy_io::io::{open_connection, WriteError};
use eddy_io::net::TcpListener;
use futures::io::AsyncReadExt;

fn file_with(data: &[u8]) -> std::fs::File {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(data).unwrap();
    file
}

/// A peer that resets the connection while a writer's `sendfile` runs:
/// the writer fails as it would after a failed write, so what the handler
/// does next (drain, write, flush) reports the lost connection instead of
/// `Ok`, as the `sendfile` docs promise.
#[test]
fn a_socket_failing_under_sendfile_fails_the_writer() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (_r, mut w) = open_connection(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (peer, _) = listener.accept().await.unwrap();
        let peer = peer.into_std();
        socket2::SockRef::from(&peer)
            .set_linger(Some(std::time::Duration::ZERO))
            .unwrap();
        drop(peer); // a reset
        let file = file_with(&vec![1u8; 4 << 20]);
        match w.sendfile(&file, 0, None).await {
            Err(WriteError::Io(_)) => {}
            other => panic!("sendfile to a reset connection: {other:?}"),
        }
        assert!(
            matches!(w.drain().await, Err(WriteError::Io(_))),
            "drain after the failed sendfile did not report the lost connection"
        );
        assert!(matches!(w.write(b"more"), Err(WriteError::Io(_))));
    });
}

/// An error of the file (here: not open for reading) leaves the
/// connection alone: what is written next still arrives, in order.
#[test]
fn a_file_failing_under_sendfile_leaves_the_writer_working() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (_r, mut w) = open_connection(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut peer, _) = listener.accept().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w");
        std::fs::write(&path, b"data").unwrap();
        let write_only = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        w.write(b"before ").unwrap();
        match w.sendfile(&write_only, 0, None).await {
            Err(err @ WriteError::File(_)) => {
                // It says the connection is fine, not "reconnect".
                assert!(
                    err.to_string().contains("connection is unaffected"),
                    "{err}"
                );
                let WriteError::File(e) = err else {
                    unreachable!()
                };
                assert_eq!(e.raw_os_error(), Some(libc::EBADF), "{e}");
            }
            other => panic!("sendfile of a write-only file: {other:?}"),
        }
        w.write(b"after").unwrap();
        w.drain().await.unwrap();
        w.close();
        w.wait_closed().await;
        let mut got = String::new();
        peer.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "before after");
    });
}

/// An offset past the end of the file sends nothing, however far past:
/// `Ok(0)` both when the offset fits the file system (the kernel reads
/// nothing there) and when it is beyond what the file system can hold,
/// where `sendfile(2)` and `pread` answered `EOVERFLOW` ("Value too large
/// for defined data type") or `EINVAL`, which said nothing of the offset.
#[test]
fn an_offset_past_the_end_of_the_file_sends_nothing_however_far() {
    run(async {
        let file = file_with(b"hello");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (tx, _rx) = common::stress::tcp_pair(&listener).await;
        let mut through = eddy_io::io::StreamWriter::new(futures::io::Cursor::new(Vec::new()));
        for offset in [6, 1 << 40, 1 << 62, i64::MAX as u64 - 1, i64::MAX as u64] {
            for count in [None, Some(3)] {
                let sent = tx.sendfile(&file, offset, count).await;
                assert!(
                    matches!(sent, Ok(0)),
                    "socket, offset {offset} count {count:?}: {sent:?}"
                );
                let sent = through.sendfile(&file, offset, count).await;
                assert!(
                    matches!(sent, Ok(0)),
                    "writer, offset {offset} count {count:?}: {sent:?}"
                );
            }
        }
        // Beyond the largest file offset is still refused, saying so.
        let e = tx
            .sendfile(&file, i64::MAX as u64 + 1, None)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("largest file offset"), "{e}");
    });
}
