//! fs round trip in a temp dir, on a pool entered on the test thread.
#![cfg(feature = "fs")]

mod common;

use std::io::SeekFrom;
use std::os::unix::fs::FileTypeExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::drop_while_queued;
use eddy_blocking::fs::{self, File, OpenOptions};
use eddy_blocking::Pool;
use futures::executor::block_on;
use futures::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, StreamExt};

#[test]
fn fs_round_trip() {
    let pool = Pool::new();
    let _guard = pool.enter();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    block_on(async move {
        let sub = root.join("a/b");
        fs::create_dir_all(&sub).await.unwrap();
        let one = sub.join("one.txt");
        fs::write(&one, "first file").await.unwrap();
        assert_eq!(fs::read(&one).await.unwrap(), b"first file");
        assert_eq!(fs::read_to_string(&one).await.unwrap(), "first file");

        let two = sub.join("two.txt");
        assert_eq!(fs::copy(&one, &two).await.unwrap(), 10);
        let three = sub.join("three.txt");
        fs::rename(&two, &three).await.unwrap();
        assert!(fs::metadata(&two).await.is_err());
        let meta = fs::metadata(&three).await.unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.len(), 10);

        let mut names: Vec<String> = fs::read_dir(&sub)
            .await
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
            .await;
        names.sort();
        assert_eq!(names, ["one.txt", "three.txt"]);

        fs::remove_file(&one).await.unwrap();
        fs::remove_file(&three).await.unwrap();
        assert_eq!(fs::read_dir(&sub).await.unwrap().count().await, 0);
        let err = fs::read(&one).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    });
}

#[test]
fn read_dir_streams_many_entries_in_batches() {
    let pool = Pool::new();
    let _guard = pool.enter();
    let dir = tempfile::tempdir().unwrap();
    for i in 0..100 {
        std::fs::write(dir.path().join(format!("f{i:03}")), b"").unwrap();
    }
    let mut names: Vec<_> = block_on(async {
        let entries = fs::read_dir(dir.path()).await.unwrap();
        let mut names = Vec::new();
        futures::pin_mut!(entries);
        while let Some(e) = entries.next().await {
            let e = e.unwrap();
            assert!(e.file_type().unwrap().is_file());
            assert_eq!(e.metadata().await.unwrap().len(), 0);
            assert_eq!(e.path(), dir.path().join(e.file_name()));
            names.push(e.file_name());
        }
        names
    });
    names.sort();
    assert_eq!(names.len(), 100);
    assert_eq!(names[0], "f000");
    assert_eq!(names[99], "f099");
}

#[test]
fn file_write_seek_read() {
    let pool = Pool::new();
    let _guard = pool.enter();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.bin");
    block_on(async {
        let mut f = File::options()
            .read(true)
            .write(true)
            .create(true)
            .open(&path)
            .await
            .unwrap();
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        f.write_all(&big).await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), big.len() as u64);

        assert_eq!(f.seek(SeekFrom::Start(0)).await.unwrap(), 0);
        let mut back = Vec::new();
        f.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, big);

        // Read a little (the file reads ahead), then seek relative to the
        // logical position, not the OS one.
        f.seek(SeekFrom::Start(10)).await.unwrap();
        let mut four = [0u8; 4];
        f.read_exact(&mut four).await.unwrap();
        assert_eq!(four, [10, 11, 12, 13]);
        assert_eq!(f.seek(SeekFrom::Current(2)).await.unwrap(), 16);
        f.read_exact(&mut four).await.unwrap();
        assert_eq!(four, [16, 17, 18, 19]);

        // A write after a read lands at the logical position.
        f.write_all(b"XY").await.unwrap();
        f.seek(SeekFrom::Start(18)).await.unwrap();
        f.read_exact(&mut four).await.unwrap();
        assert_eq!(&four, &[18, 19, b'X', b'Y']);

        f.set_len(5).await.unwrap();
        f.sync_all().await.unwrap();
        f.close().await.unwrap();
    });
    assert_eq!(std::fs::read(&path).unwrap(), [0, 1, 2, 3, 4]);

    // Append mode and from_std.
    block_on(async {
        let mut f = OpenOptions::new().append(true).open(&path).await.unwrap();
        f.write_all(b"!").await.unwrap();
        f.flush().await.unwrap();
        let mut f = File::from_std(std::fs::File::open(&path).unwrap());
        let mut all = Vec::new();
        f.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, [0, 1, 2, 3, 4, b'!']);
    });
}

#[test]
fn fs_without_a_pool_panics_with_the_message() {
    let err = std::panic::catch_unwind(|| block_on(fs::read("/nonexistent"))).unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("no eddy blocking pool on this thread"),
        "{msg}"
    );
}

#[test]
fn fs_on_a_shut_down_pool_is_an_io_error_naming_the_shutdown() {
    let pool = Pool::new();
    let _guard = pool.enter();
    pool.shutdown_timeout(std::time::Duration::from_secs(1));
    let err = block_on(fs::read("/etc/hostname")).unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");
}

#[test]
fn fs_on_a_pool_that_cannot_start_a_thread_is_an_io_error_saying_so() {
    // A stack no system can map: every spawn fails.
    let pool = Pool::builder().stack_size(1 << 62).build().unwrap();
    let _guard = pool.enter();
    let err = block_on(fs::read("/nonexistent")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Other);
    assert!(err.to_string().contains("could not start"), "{err}");
}

#[test]
fn a_seek_dropped_in_flight_does_not_answer_the_next_one() {
    // One thread, held busy: the first seek stays queued while dropped.
    with_one_thread_and_file(b"0123456789", async |pool, path| {
        let mut f = File::open(path).await.unwrap();
        drop_while_queued(pool, f.seek(SeekFrom::Start(8))).await; // dropped in flight: it still happens
                                                                   // Another position: answered by its own seek, not the dropped one.
        assert_eq!(f.seek(SeekFrom::Start(2)).await.unwrap(), 2);
        let mut rest = String::new();
        f.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "23456789");
        // The same target again is simply that position.
        assert_eq!(f.seek(SeekFrom::End(-3)).await.unwrap(), 7);
    });
}

#[test]
fn a_dropped_file_still_finishes_its_queued_write() {
    // One thread, held busy: the write is still queued when the file goes.
    let pool = Pool::builder().max_threads(1).build().unwrap();
    let _guard = pool.enter();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    block_on(async {
        let mut f = File::create(&path).await.unwrap();
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let blocker = pool.spawn(move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        });
        started_rx.recv().unwrap();
        f.write_all(b"last words").await.unwrap(); // buffered, queued
        drop(f);
        release_tx.send(()).unwrap();
        blocker.await.unwrap();
        // A job queued after the write runs after it on the one thread.
        pool.spawn(|| ()).await.unwrap();
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"last words");
}

#[test]
fn read_dir_ends_after_the_error_of_a_batch_that_could_not_run() {
    let pool = Pool::new();
    let _guard = pool.enter();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a"), b"").unwrap();
    let mut entries = block_on(fs::read_dir(dir.path())).unwrap();
    pool.shutdown_timeout(std::time::Duration::from_secs(10));
    let err = block_on(entries.next()).unwrap().unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");
    // The listing went with the job: the stream ends. It panicked with
    // "ReadDir state is never left empty" before.
    assert!(block_on(entries.next()).is_none());
    assert!(block_on(entries.next()).is_none());
}

#[test]
fn dir_entries_run_on_the_pool_of_their_listing() {
    // Each pool counts the jobs queued on it.
    let counted = || {
        let queued = Arc::new(AtomicUsize::new(0));
        let q = queued.clone();
        let pool = Pool::builder()
            .on_submit(move || {
                q.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        (pool, queued)
    };
    let (listing, on_listing) = counted();
    let (other, on_other) = counted();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a"), b"12").unwrap();
    let (mut entries, entry) = {
        let _guard = listing.enter();
        block_on(async {
            let mut entries = fs::read_dir(dir.path()).await.unwrap();
            let entry = entries.next().await.unwrap().unwrap();
            (entries, entry)
        })
    };
    let before = on_listing.load(Ordering::SeqCst);

    // No pool current: the entry still has its listing's pool (this
    // panicked with "no eddy blocking pool on this thread").
    let meta =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| block_on(entry.metadata())))
            .expect("DirEntry::metadata looked for a current pool");
    assert_eq!(meta.unwrap().len(), 2);
    assert_eq!(on_listing.load(Ordering::SeqCst), before + 1);

    // Another pool current: the calls still go to the listing's pool.
    let _guard = other.enter();
    assert_eq!(block_on(entry.metadata()).unwrap().len(), 2);
    assert!(block_on(entries.next()).is_none());
    assert_eq!(on_listing.load(Ordering::SeqCst), before + 2);
    assert_eq!(on_other.load(Ordering::SeqCst), 0);
}

#[test]
fn a_file_call_dropped_while_queued_keeps_the_read_ahead() {
    // One thread, held busy while the calls below are queued and dropped.
    with_one_thread_and_file(b"0123456789", async |pool, path| {
        let mut f = File::open(path).await.unwrap();
        // A read for 10 bytes dropped in flight, then a read for 2: the
        // file has read all 10, and 8 wait in the read-ahead.
        let mut big = [0u8; 10];
        drop_while_queued(pool, f.read(&mut big)).await;
        let mut two = [0u8; 2];
        assert_eq!(f.read(&mut two).await.unwrap(), 2);
        assert_eq!(&two, b"01");

        // Dropped while its job is still queued: the call never happens,
        // and the 8 bytes must still be there.
        drop_while_queued(pool, f.metadata()).await;
        let mut rest = String::new();
        f.read_to_string(&mut rest).await.unwrap();
        // Was "": the read-ahead was dropped with the call, and the seek
        // back over it was cancelled with the call's job.
        assert_eq!(rest, "23456789");

        // The same with a sync_all dropped while queued, after a write.
        let mut f = File::options()
            .read(true)
            .write(true)
            .open(path)
            .await
            .unwrap();
        let mut big = [0u8; 10];
        drop_while_queued(pool, f.read(&mut big)).await;
        assert_eq!(f.read(&mut two).await.unwrap(), 2);
        drop_while_queued(pool, f.sync_all()).await;
        // The write lands right after the two bytes read.
        f.write_all(b"ab").await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(std::fs::read(path).unwrap(), b"01ab456789");
    });
}

/// Runs `test` on a one-thread pool (entered) with a temp file holding
/// `contents`: the set-up of the tests that hold the only thread busy
/// while a file call is queued.
fn with_one_thread_and_file(contents: &[u8], test: impl AsyncFnOnce(&Pool, &std::path::Path)) {
    let pool = Pool::builder().max_threads(1).build().unwrap();
    let _guard = pool.enter();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, contents).unwrap();
    block_on(test(&pool, &path));
}

#[test]
fn links_permissions_and_exclusive_creation() {
    use std::io::ErrorKind;
    use std::os::unix::fs::PermissionsExt;
    let pool = Pool::new();
    let _guard = pool.enter();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    block_on(async move {
        let data = root.join("data");
        fs::write(&data, "v1").await.unwrap();

        // A hard link is the same file under a second name.
        let alias = root.join("alias");
        fs::hard_link(&data, &alias).await.unwrap();
        fs::write(&data, "v2").await.unwrap();
        assert_eq!(fs::read_to_string(&alias).await.unwrap(), "v2");
        let again = fs::hard_link(&data, &alias).await.unwrap_err();
        assert_eq!(again.kind(), ErrorKind::AlreadyExists);

        // A symbolic link keeps its target text; reading through it follows it.
        let link = root.join("link");
        fs::symlink("data", &link).await.unwrap();
        assert_eq!(
            fs::read_link(&link).await.unwrap(),
            std::path::Path::new("data")
        );
        assert_eq!(fs::read_to_string(&link).await.unwrap(), "v2");
        let not_a_link = fs::read_link(&data).await.unwrap_err();
        assert_eq!(not_a_link.kind(), ErrorKind::InvalidInput);

        // Permissions by path, through the link to its target.
        fs::set_permissions(&link, std::fs::Permissions::from_mode(0o640))
            .await
            .unwrap();
        let mode = fs::metadata(&data).await.unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        let missing =
            fs::set_permissions(root.join("nope"), std::fs::Permissions::from_mode(0o600));
        assert_eq!(missing.await.unwrap_err().kind(), ErrorKind::NotFound);

        // create_new: of eight racing creators exactly one wins, and a
        // dangling symbolic link counts as taken.
        let lock = root.join("lock");
        let racers = (0..8).map(|_| File::create_new(lock.clone()));
        let results = futures::future::join_all(racers).await;
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1);
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(r.kind(), ErrorKind::AlreadyExists);
        }
        let dangling = root.join("dangling");
        fs::symlink("nowhere", &dangling).await.unwrap();
        let taken = File::create_new(&dangling).await.unwrap_err();
        assert_eq!(taken.kind(), ErrorKind::AlreadyExists);

        // mode() applies at creation (under the umask, so check bits it keeps).
        let secret = root.join("secret");
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&secret)
            .await
            .unwrap();
        drop(f);
        let mode = fs::metadata(&secret).await.unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    });
}

#[test]
fn whole_file_calls_on_a_fifo_keep_the_read_ahead() {
    let pool = Pool::builder().max_threads(1).build().unwrap();
    let _guard = pool.enter();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    common::mkfifo(&fifo);
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut w = std::fs::OpenOptions::new()
            .write(true)
            .open(writer_path)
            .unwrap();
        w.write_all(b"0123456789").unwrap();
    });
    block_on(async {
        let mut f = File::open(&fifo).await.unwrap();
        writer.join().unwrap();
        // A read for 10 bytes dropped in flight, then a read for 2: 8 bytes
        // wait in the read-ahead, which a pipe cannot seek back over.
        let mut big = [0u8; 10];
        drop_while_queued(&pool, f.read(&mut big)).await;
        let mut two = [0u8; 2];
        assert_eq!(f.read(&mut two).await.unwrap(), 2);
        assert_eq!(&two, b"01");
        // metadata and try_clone used to fail with "Illegal seek" and drop
        // those 8 bytes.
        assert!(f.metadata().await.unwrap().file_type().is_fifo());
        drop(f.try_clone().await.unwrap());
        let mut rest = String::new();
        f.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "23456789");
    });
}

#[test]
fn a_relative_seek_too_far_back_over_read_ahead_is_an_error_not_a_panic() {
    with_one_thread_and_file(b"0123456789", async |pool, path| {
        let mut f = File::open(path).await.unwrap();
        let got = common::read_leaving_read_ahead(pool, 1, &mut f, 2).await;
        assert_eq!(got, b"01");
        // Taking the 8 bytes read ahead off the offset overflowed (a panic
        // in debug builds, a seek far forward in release ones).
        let err = f.seek(SeekFrom::Current(i64::MIN)).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        // Nothing moved: the reader is still after "01".
        let mut rest = String::new();
        f.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "23456789");
    });
}
