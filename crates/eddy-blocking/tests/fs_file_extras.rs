//! The `File` calls a tokio port expects besides reading and writing:
//! `sync_data`, `set_permissions`, `try_clone` (one shared position, no
//! buffered write or read-ahead lost), `into_std` and `try_into_std`.
#![cfg(feature = "fs")]

mod common;

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use eddy_blocking::fs::File;
use eddy_blocking::Pool;
use futures::executor::block_on;
use futures::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// Runs `test` on an entered one-thread pool with a temp file holding
/// `contents`.
fn with_file(contents: &[u8], test: impl AsyncFnOnce(&Pool, &Path)) {
    let pool = Pool::builder().max_threads(1).build().unwrap();
    let _guard = pool.enter();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, contents).unwrap();
    block_on(test(&pool, &path));
}

#[test]
fn try_clone_lands_the_buffered_write_and_shares_the_position() {
    with_file(b"", async |_pool, path| {
        let mut f = common::open_rw(path).await;
        f.write_all(b"hello world").await.unwrap(); // in flight
        let mut clone = f.try_clone().await.unwrap();
        assert_eq!(clone.seek(SeekFrom::Current(0)).await.unwrap(), 11);
        clone.seek(SeekFrom::Start(6)).await.unwrap();
        // The clone's seek moved the original: it writes at 6.
        f.write_all(b"WORLD").await.unwrap();
        f.flush().await.unwrap();
        clone.seek(SeekFrom::Start(0)).await.unwrap();
        let mut all = String::new();
        clone.read_to_string(&mut all).await.unwrap();
        assert_eq!(all, "hello WORLD");
    });
}

#[test]
fn try_clone_gives_back_the_read_ahead() {
    with_file(b"0123456789", async |pool, path| {
        let mut f = File::open(path).await.unwrap();
        assert_eq!(
            common::read_leaving_read_ahead(pool, 1, &mut f, 2).await,
            b"01"
        );
        let mut clone = f.try_clone().await.unwrap();
        let mut rest = String::new();
        clone.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "23456789");
        // One position: the clone read to the end for both.
        let mut more = Vec::new();
        f.read_to_end(&mut more).await.unwrap();
        assert!(more.is_empty(), "{more:?}");
    });
}

#[test]
fn into_std_lands_the_write_and_reads_on_where_the_reader_was() {
    with_file(b"", async |pool, path| {
        let mut f = common::open_rw(path).await;
        f.write_all(b"0123456789").await.unwrap(); // in flight
        let std_file = f.into_std().await;
        assert_eq!(std_file.metadata().unwrap().len(), 10);

        let mut f = File::open(path).await.unwrap();
        assert_eq!(
            common::read_leaving_read_ahead(pool, 1, &mut f, 3).await,
            b"012"
        );
        let mut std_file = f.into_std().await;
        let mut rest = String::new();
        std_file.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "3456789");
    });
}

#[test]
fn try_into_std_hands_back_a_busy_file_then_succeeds_once_flushed() {
    with_file(b"abcdef", async |pool, path| {
        let mut f = common::open_rw(path).await;
        f.write_all(b"AB").await.unwrap(); // in flight
        let mut f = f.try_into_std().expect_err("a write is in flight");
        f.flush().await.unwrap();
        // Reads "c" with "def" read ahead.
        assert_eq!(
            common::read_leaving_read_ahead(pool, 1, &mut f, 1).await,
            b"c"
        );
        let mut std_file = f.try_into_std().expect("idle after the flush");
        assert_eq!(std_file.stream_position().unwrap(), 3);
        let mut rest = String::new();
        std_file.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "def");
    });
}

#[test]
fn sync_data_lands_the_write_and_set_permissions_changes_them() {
    with_file(b"", async |_pool, path| {
        let mut f = common::open_rw(path).await;
        f.write_all(b"durable").await.unwrap(); // in flight
        f.sync_data().await.unwrap();
        assert_eq!(std::fs::read(path).unwrap(), b"durable");

        let mut f = File::open(path).await.unwrap();
        let mut perms = std::fs::metadata(path).unwrap().permissions();
        assert!(!perms.readonly());
        perms.set_readonly(true);
        f.set_permissions(perms).await.unwrap();
        assert!(std::fs::metadata(path).unwrap().permissions().readonly());
    });
}
