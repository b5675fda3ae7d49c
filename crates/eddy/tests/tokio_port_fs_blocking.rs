//! tokio::fs and tokio::task::spawn_blocking habits, ported to eddy:
//! directory set-up and tear-down, a `File` whose writes, seeks and reads
//! keep their order (read-ahead included), write errors surfacing at
//! `flush`, and the blocking pool's panics, captured state, nesting and
//! shutdown with jobs still running. asyncio_port2_io covers aiofiles-style
//! append/seek, an unflushed drop and read_dir/metadata.

mod common;

use std::io::{ErrorKind, SeekFrom};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::port::{guard, panic_text};
use eddy::fs::{self, File};
use futures::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// The tokio::fs set-up and tear-down a test or tool does: nested
/// directories, write, rename, existence checks, the path resolved, and
/// everything removed again (remove_dir refusing a non-empty directory,
/// remove_dir_all taking the tree), then a file written through `File`
/// and `close()` read back.
#[test]
fn directories_files_and_their_removal_as_tokio_fs_does_them() {
    eddy::run(async {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("work");
        fs::create_dir_all(root.join("a/b")).await.unwrap();
        fs::create_dir(root.join("c")).await.unwrap();
        let err = fs::create_dir(root.join("c")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        fs::write(root.join("a/b/draft.txt"), "v1").await.unwrap();
        fs::rename(root.join("a/b/draft.txt"), root.join("c/final.txt"))
            .await
            .unwrap();
        assert!(!fs::try_exists(root.join("a/b/draft.txt")).await.unwrap());
        assert!(fs::try_exists(root.join("c/final.txt")).await.unwrap());
        assert_eq!(
            fs::read_to_string(root.join("c/final.txt")).await.unwrap(),
            "v1"
        );
        let canon = fs::canonicalize(root.join("a/../c/./final.txt"))
            .await
            .unwrap();
        assert_eq!(
            canon,
            std::fs::canonicalize(root.join("c/final.txt")).unwrap()
        );
        assert!(fs::symlink_metadata(root.join("c")).await.unwrap().is_dir());

        let mut f = File::create(root.join("c/log")).await.unwrap();
        f.write_all(b"closed, then read").await.unwrap();
        f.close().await.unwrap();
        assert_eq!(
            fs::read(root.join("c/log")).await.unwrap(),
            b"closed, then read"
        );

        fs::remove_file(root.join("c/final.txt")).await.unwrap();
        let err = fs::remove_dir(root.join("c")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::DirectoryNotEmpty, "{err}");
        fs::remove_dir(root.join("a/b")).await.unwrap();
        fs::remove_dir_all(&root).await.unwrap();
        assert!(!fs::try_exists(&root).await.unwrap());
    });
}

/// The read-ahead a `File` keeps is invisible: a write after a short read
/// lands right after the bytes handed out (tokio seeks back over its
/// buffer too), and `seek(Current(0))` reports that position.
#[test]
fn a_write_after_a_short_read_lands_where_the_read_stopped() {
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"abcdefghij").await.unwrap();
        let mut f = File::options()
            .read(true)
            .write(true)
            .open(&p)
            .await
            .unwrap();
        let mut head = [0u8; 3];
        f.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"abc");
        assert_eq!(f.seek(SeekFrom::Current(0)).await.unwrap(), 3);
        f.write_all(b"XYZ").await.unwrap();
        let mut rest = Vec::new();
        f.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"ghij");
        f.flush().await.unwrap();
        assert_eq!(fs::read(&p).await.unwrap(), b"abcXYZghij");
    });
}

/// Writes, seeks and reads on one `File` keep their order without a flush
/// in between (tokio's File guarantees that too), `metadata` sees the
/// bytes written, and megabytes go through intact.
#[test]
fn writes_seeks_and_reads_keep_their_order_and_megabytes_arrive_intact() {
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        let data: Vec<u8> = (0..3 * 1024 * 1024 + 17).map(|i| (i % 251) as u8).collect();
        let mut f = File::options()
            .read(true)
            .write(true)
            .create(true)
            .open(&p)
            .await
            .unwrap();
        f.write_all(&data).await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), data.len() as u64);
        assert_eq!(f.seek(SeekFrom::Start(0)).await.unwrap(), 0);
        let mut back = Vec::new();
        f.read_to_end(&mut back).await.unwrap();
        assert!(back == data, "the file lost or reordered bytes");
        assert_eq!(
            f.seek(SeekFrom::End(-17)).await.unwrap(),
            data.len() as u64 - 17
        );
        f.write_all(b"tail").await.unwrap();
        f.set_len(data.len() as u64 - 13).await.unwrap();
        f.seek(SeekFrom::Start(data.len() as u64 - 17))
            .await
            .unwrap();
        let mut end = Vec::new();
        f.read_to_end(&mut end).await.unwrap();
        assert_eq!(end, b"tail");
    });
}

/// A write error (a full disk: /dev/full) is not lost: `write_all` returns
/// once the bytes are taken, and `flush` (as in tokio) reports ENOSPC.
#[test]
fn a_write_error_surfaces_at_flush() {
    eddy::run(async {
        let mut f = File::options().write(true).open("/dev/full").await.unwrap();
        let first = f.write_all(b"no room").await;
        let err = match first {
            Err(e) => e,
            Ok(()) => f.flush().await.unwrap_err(),
        };
        assert_eq!(err.raw_os_error(), Some(28), "ENOSPC: {err:?}");
        assert_eq!(err.kind(), ErrorKind::StorageFull);
    });
}

/// A panicking `spawn_blocking` job is a `JoinError` (tokio's
/// `is_panic`/`into_panic`), whose text carries the message; the loop and
/// the pool go on.
#[test]
fn a_panicking_blocking_job_is_a_join_error_with_its_message() {
    eddy::run(async {
        let err = eddy::spawn_blocking(|| -> u32 { panic!("disk on fire") })
            .await
            .unwrap_err();
        assert!(err.is_panic() && !err.is_shutdown());
        assert!(err.to_string().contains("disk on fire"), "{err}");
        assert_eq!(panic_text(&*err.into_panic()), "disk on fire");
        assert_eq!(eddy::spawn_blocking(|| 5).await.unwrap(), 5);
    });
}

/// `to_thread` with moved state (tokio's `spawn_blocking(move || ..)`):
/// shared counters, a buffer moved in and handed back, many at once.
#[test]
fn blocking_jobs_take_moved_state_and_hand_it_back() {
    eddy::run(async {
        let hits = Arc::new(AtomicUsize::new(0));
        let jobs = (0..32).map(|i| {
            let hits = hits.clone();
            let mut buf = vec![i as u8; 4];
            eddy::to_thread(move || {
                hits.fetch_add(1, Ordering::SeqCst);
                buf.push(0xff);
                buf
            })
        });
        let results = guard("jobs", eddy::gather_all(jobs)).await;
        for (i, r) in results.into_iter().enumerate() {
            assert_eq!(r.unwrap(), [i as u8, i as u8, i as u8, i as u8, 0xff]);
        }
        assert_eq!(hits.load(Ordering::SeqCst), 32);
    });
}

/// Inside a blocking job, the pool is still at hand (tokio's blocking
/// threads are inside the runtime too): a nested `spawn_blocking`, and
/// `eddy::fs` driven by `futures::executor::block_on`.
#[test]
fn a_blocking_job_can_use_the_pool_and_fs_itself() {
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("from-a-job");
        let got = eddy::spawn_blocking(move || {
            let inner = futures::executor::block_on(eddy::spawn_blocking(|| 20)).unwrap();
            futures::executor::block_on(fs::write(&p, b"written")).unwrap();
            let text = futures::executor::block_on(fs::read_to_string(&p)).unwrap();
            (inner + 1, text)
        });
        assert_eq!(
            guard("nested", got).await.unwrap(),
            (21, "written".to_owned())
        );
    });
}

/// A dropped handle does not stop a job that started (tokio's blocking
/// tasks cannot be aborted either), and dropping the runtime waits for a
/// job still running, as tokio's runtime drop does.
#[test]
fn a_running_job_outlives_its_handle_and_the_runtime_waits_for_it() {
    let finished = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicBool::new(false));
    let rt = eddy::Runtime::new().unwrap();
    rt.block_on({
        let (finished, started) = (finished.clone(), started.clone());
        async move {
            let job = eddy::spawn_blocking({
                let started = started.clone();
                move || {
                    started.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(100));
                    finished.store(true, Ordering::SeqCst);
                }
            });
            common::port::wait_while("job start", || !started.load(Ordering::SeqCst)).await;
            drop(job);
        }
    });
    assert!(!finished.load(Ordering::SeqCst));
    drop(rt);
    assert!(
        finished.load(Ordering::SeqCst),
        "the runtime's drop returned before a running blocking job ended"
    );
}

/// A `File` keeps the pool of the runtime it was opened under (tokio's
/// uses whichever runtime is current): under a second runtime its calls
/// fail, with the pool's shutdown as the inner error, and nothing hangs.
#[test]
fn a_file_from_an_ended_runtime_fails_with_the_pools_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f");
    let rt = eddy::Runtime::new().unwrap();
    let mut f = rt.block_on(File::create(&p)).unwrap();
    drop(rt);
    eddy::run(async move {
        let err = guard("write", async {
            f.write_all(b"late").await?;
            f.flush().await
        })
        .await
        .unwrap_err();
        let inner = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<eddy::blocking::JoinError>())
            .expect("a JoinError inside");
        assert!(inner.is_shutdown(), "{err}");
        // Opened again here, it works.
        let mut f = File::create(&p).await.unwrap();
        f.write_all(b"now").await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(fs::read(&p).await.unwrap(), b"now");
    });
}

/// `read_dir` as tokio users walk it (eddy's is a `Stream` where tokio has
/// `next_entry()`), with each entry's name, type and metadata; then
/// `create_new` refusing an existing file and `append` adding to one.
#[test]
fn read_dir_entries_and_open_options_create_new_and_append() {
    use futures::TryStreamExt;
    eddy::run(async {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir(tmp.path().join("sub")).await.unwrap();
        fs::write(tmp.path().join("a.txt"), b"12345").await.unwrap();
        let mut seen = Vec::new();
        let mut entries = fs::read_dir(tmp.path()).await.unwrap();
        while let Some(entry) = entries.try_next().await.unwrap() {
            let name = entry.file_name().into_string().unwrap();
            let is_dir = entry.file_type().unwrap().is_dir();
            let len = entry.metadata().await.unwrap().len();
            assert_eq!(entry.path(), tmp.path().join(&name));
            seen.push((name, is_dir, if is_dir { 0 } else { len }));
        }
        seen.sort();
        assert_eq!(
            seen,
            [("a.txt".to_owned(), false, 5), ("sub".to_owned(), true, 0)]
        );

        let p = tmp.path().join("a.txt");
        let err = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        let mut f = fs::OpenOptions::new().append(true).open(&p).await.unwrap();
        f.write_all(b"678").await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(fs::read(&p).await.unwrap(), b"12345678");
    });
}

/// With one blocking thread (tokio's `max_blocking_threads(1)`), jobs
/// queue instead of failing, never overlap, and all finish; a job
/// submitted from another thread through the runtime's `Handle` runs on
/// the same pool.
#[test]
fn one_blocking_thread_queues_jobs_and_a_handle_submits_from_other_threads() {
    let rt = eddy::Builder::new()
        .max_blocking_threads(1)
        .build()
        .unwrap();
    rt.block_on(async {
        let running = Arc::new(AtomicUsize::new(0));
        let jobs = (0..6).map(|i| {
            let running = running.clone();
            eddy::spawn_blocking(move || {
                assert_eq!(running.fetch_add(1, Ordering::SeqCst), 0, "jobs overlapped");
                std::thread::sleep(Duration::from_millis(5));
                running.fetch_sub(1, Ordering::SeqCst);
                (i, std::thread::current().name().map(str::to_owned))
            })
        });
        let done = guard("queued jobs", eddy::gather_all(jobs)).await;
        let names: Vec<_> = done.into_iter().map(|r| r.unwrap().1).collect();
        assert!(names.windows(2).all(|w| w[0] == w[1]), "{names:?}");

        let handle = eddy::Handle::current();
        let from_thread = std::thread::spawn(move || {
            let job = handle.spawn_blocking(|| std::thread::current().name().map(str::to_owned));
            futures::executor::block_on(job).unwrap()
        });
        // Wait without taking the pool's one thread, which the job needs.
        common::port::wait_while("thread", || !from_thread.is_finished()).await;
        let name = from_thread.join().unwrap();
        assert_eq!(name, names[0]);
    });
}
