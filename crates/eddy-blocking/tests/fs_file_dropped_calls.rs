//! A whole-file call on a `File` (`set_len`, `sync_all`, `metadata`,
//! `set_permissions`, `try_clone`) dropped while its job runs: the file's
//! later reads, writes, seeks and calls wait for that job, so they land in
//! program order (a late `set_len(0)` used to wipe a write made after it);
//! a dropped change that fails is reported to the next call; dropping the
//! `File` meanwhile neither blocks nor stops the job.
//!
//! A job that has started cannot be held from outside (its closure is std
//! code), so this binary holds its system call instead (`syscall_hold`:
//! it stands in for the libc functions std calls). While a call is held,
//! each test lets the pool's other thread run what was queued and checks
//! that the later operation has not touched the file yet.
#![cfg(all(feature = "fs", target_os = "linux", target_env = "gnu"))]

mod common;
mod syscall_hold;

use std::future::Future;
use std::io::{Seek, SeekFrom};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::task::Poll;

use common::{eventually, open_rw};
use eddy_blocking::fs::File;
use eddy_blocking::Pool;
use futures::executor::block_on;
use futures::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, FutureExt};
use syscall_hold::{Held, Sys};

/// How many threads the pool may start: the held job takes one, and in
/// the old, unordered code a later operation ran on the other meanwhile.
const THREADS: usize = 2;

/// An entered two-thread pool and a temp file.
struct Env {
    pool: Pool,
    path: PathBuf,
}

fn with_file(contents: &[u8], test: impl AsyncFnOnce(&Env)) {
    let pool = Pool::builder().max_threads(THREADS).build().unwrap();
    let _guard = pool.enter();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, contents).unwrap();
    block_on(test(&Env { pool, path }));
}

/// What another operation would change: the file's bytes and its position
/// (read through a duplicate descriptor, which shares it).
fn snapshot(path: &Path, dup: &std::fs::File) -> (Vec<u8>, u64) {
    let mut dup = dup;
    (std::fs::read(path).unwrap(), dup.stream_position().unwrap())
}

/// Polls `call` until the system call armed in `held` is being held (it
/// may take more than one poll to get there, after a seek back over
/// read-ahead say), then drops it there.
fn drop_once_held(held: &Held, call: impl Future) {
    let mut call = pin!(call);
    let reached = eventually(|| {
        let done = call.as_mut().now_or_never().is_some();
        assert!(!done, "the call finished without its held system call");
        held.is_reached()
    });
    assert!(reached, "the armed system call was never made");
}

/// Starts `call` on `f` and drops it while its system call `sys` is held;
/// starts `then`, lets the pool's free thread run whatever that queued,
/// checks that `then` has not touched the file while the call's job still
/// runs; lets the call go (or fail with `fail`) and finishes `then`.
async fn drop_held_then<T>(
    env: &Env,
    f: &mut File,
    sys: Sys,
    fail: Option<libc::c_int>,
    call: impl AsyncFnOnce(&mut File),
    then: impl AsyncFnOnce(&mut File) -> T,
) -> T {
    let held = syscall_hold::arm(f.as_raw_fd(), sys);
    drop_once_held(&held, call(f));
    let dup = std::fs::File::from(f.as_fd().try_clone_to_owned().unwrap());
    let before = snapshot(&env.path, &dup);
    let mut then = pin!(then(f));
    let first = futures::poll!(then.as_mut());
    // One thread is held; the other runs the queue in order, so once this
    // job has run, so has any job `then` queued before it.
    env.pool.spawn(|| ()).await.unwrap();
    assert!(
        snapshot(&env.path, &dup) == before,
        "a later operation ran while the dropped call's job was still running"
    );
    // Returns once the held system call has returned: what it did is in
    // the file before `then` goes on.
    let still_held = match fail {
        Some(errno) => held.fail(errno),
        None => held.release(),
    };
    assert!(
        still_held,
        "the held call gave up waiting: something blocked"
    );
    match first {
        Poll::Ready(out) => out,
        Poll::Pending => then.await,
    }
}

async fn set_len(f: &mut File, len: u64) {
    let _ = f.set_len(len).await;
}

#[test]
fn a_set_len_dropped_while_it_runs_comes_before_a_later_read_seek_and_write() {
    with_file(b"0123456789", async |env| {
        let mut f = open_rw(&env.path).await;
        let read = drop_held_then(
            env,
            &mut f,
            Sys::Ftruncate,
            None,
            async |f| set_len(f, 4).await,
            async |f| {
                let mut all = Vec::new();
                f.read_to_end(&mut all).await.unwrap();
                all
            },
        )
        .await;
        // The read saw the truncated file (it read all 10 bytes before).
        assert_eq!(read, b"0123");

        let pos = drop_held_then(
            env,
            &mut f,
            Sys::Ftruncate,
            None,
            async |f| set_len(f, 2).await,
            async |f| f.seek(SeekFrom::End(-1)).await.unwrap(),
        )
        .await;
        assert_eq!(pos, 1);

        f.seek(SeekFrom::Start(0)).await.unwrap();
        drop_held_then(
            env,
            &mut f,
            Sys::Ftruncate,
            None,
            async |f| set_len(f, 0).await,
            async |f| f.write_all(b"x").await.unwrap(),
        )
        .await;
        f.flush().await.unwrap();
        // Truncated, then written: the late truncation used to wipe it.
        assert_eq!(std::fs::read(&env.path).unwrap(), b"x");
    });
}

/// Drops `call` (which leaves the bytes alone) while `sys` is held, three
/// times: before a write at 0, a read and a seek, each of which must wait.
async fn dropped_call_before_write_read_and_seek(
    env: &Env,
    sys: Sys,
    call: impl AsyncFn(&mut File),
) {
    let mut f = open_rw(&env.path).await;
    drop_held_then(env, &mut f, sys, None, &call, async |f| {
        f.write_all(b"ab").await.unwrap()
    })
    .await;
    f.flush().await.unwrap();
    assert_eq!(std::fs::read(&env.path).unwrap(), b"ab23456789");

    let read = drop_held_then(env, &mut f, sys, None, &call, async |f| {
        let mut three = [0u8; 3];
        f.read_exact(&mut three).await.unwrap();
        three
    })
    .await;
    assert_eq!(&read, b"234");

    let pos = drop_held_then(env, &mut f, sys, None, &call, async |f| {
        f.seek(SeekFrom::End(-2)).await.unwrap()
    })
    .await;
    assert_eq!(pos, 8);
    let mut rest = String::new();
    f.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "89");
}

#[test]
fn a_sync_all_dropped_while_it_runs_comes_before_a_later_write_read_and_seek() {
    with_file(b"0123456789", async |env| {
        dropped_call_before_write_read_and_seek(env, Sys::Fsync, async |f| {
            let _ = f.sync_all().await;
        })
        .await;
    });
}

#[test]
fn a_metadata_dropped_while_it_runs_comes_before_a_later_write_read_and_seek() {
    with_file(b"0123456789", async |env| {
        dropped_call_before_write_read_and_seek(env, Sys::Statx, async |f| {
            let _ = f.metadata().await;
        })
        .await;
    });
}

#[test]
fn a_set_permissions_dropped_while_it_runs_comes_before_a_later_one() {
    with_file(b"", async |env| {
        let mut f = open_rw(&env.path).await;
        drop_held_then(
            env,
            &mut f,
            Sys::Fchmod,
            None,
            async |f| {
                let _ = f
                    .set_permissions(std::fs::Permissions::from_mode(0o600))
                    .await;
            },
            async |f| {
                f.set_permissions(std::fs::Permissions::from_mode(0o640))
                    .await
                    .unwrap()
            },
        )
        .await;
        let mode = std::fs::metadata(&env.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640, "the dropped call's mode landed last");
    });
}

#[test]
fn a_try_clone_dropped_while_it_gives_back_the_read_ahead_comes_before_a_later_read() {
    with_file(b"0123456789", async |env| {
        let mut f = open_rw(&env.path).await;
        let got = common::read_leaving_read_ahead(&env.pool, THREADS, &mut f, 2).await;
        assert_eq!(got, b"01");
        // Held in its seek back over the 8 bytes read ahead.
        let rest = drop_held_then(
            env,
            &mut f,
            Sys::Lseek,
            None,
            async |f| drop(f.try_clone().await),
            async |f| {
                let mut rest = String::new();
                f.read_to_string(&mut rest).await.unwrap();
                rest
            },
        )
        .await;
        assert_eq!(rest, "23456789");
    });
}

#[test]
fn a_metadata_dropped_after_seeking_back_over_the_read_ahead_keeps_the_reader_in_place() {
    with_file(b"0123456789", async |env| {
        let mut f = open_rw(&env.path).await;
        let got = common::read_leaving_read_ahead(&env.pool, THREADS, &mut f, 3).await;
        assert_eq!(got, b"012");
        let rest = drop_held_then(
            env,
            &mut f,
            Sys::Statx,
            None,
            async |f| drop(f.metadata().await),
            async |f| {
                let mut rest = String::new();
                f.read_to_string(&mut rest).await.unwrap();
                rest
            },
        )
        .await;
        assert_eq!(rest, "3456789");
    });
}

#[test]
fn a_dropped_change_that_fails_is_reported_to_the_next_call_a_dropped_query_is_not() {
    with_file(b"0123456789", async |env| {
        let mut f = open_rw(&env.path).await;
        let err = drop_held_then(
            env,
            &mut f,
            Sys::Ftruncate,
            Some(libc::EIO),
            async |f| set_len(f, 0).await,
            async |f| f.write_all(b"x").await.unwrap_err(),
        )
        .await;
        assert!(err.to_string().contains("set_len"), "{err}");
        // Reported once; the length is as it was.
        f.write_all(b"x").await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(std::fs::read(&env.path).unwrap(), b"x123456789");

        let err = drop_held_then(
            env,
            &mut f,
            Sys::Fsync,
            Some(libc::EIO),
            async |f| {
                let _ = f.sync_all().await;
            },
            async |f| f.flush().await.unwrap_err(),
        )
        .await;
        assert!(err.to_string().contains("sync_all"), "{err}");

        // A metadata that fails once nobody waits for it is no news.
        drop_held_then(
            env,
            &mut f,
            Sys::Statx,
            Some(libc::EIO),
            async |f| drop(f.metadata().await),
            async |f| f.flush().await.unwrap(),
        )
        .await;
        // While its caller waits, a failure is the call's own.
        let held = syscall_hold::arm(f.as_raw_fd(), Sys::Ftruncate);
        let failer = std::thread::spawn(move || {
            assert!(eventually(|| held.is_reached()));
            held.fail(libc::EFBIG)
        });
        let res = f.set_len(0).await;
        assert!(failer.join().unwrap());
        assert_eq!(res.unwrap_err().raw_os_error(), Some(libc::EFBIG));
        f.flush().await.unwrap();
    });
}

#[test]
fn dropping_the_file_while_a_dropped_call_runs_neither_blocks_nor_stops_it() {
    with_file(b"0123456789", async |env| {
        let mut f = open_rw(&env.path).await;
        let held = syscall_hold::arm(f.as_raw_fd(), Sys::Ftruncate);
        drop_once_held(&held, f.set_len(3));
        // Returns at once: had it waited for the held job, the release
        // below would never come (`release` then reports the hang guard).
        drop(f);
        assert!(held.release());
        // The job still ran to its end.
        assert_eq!(std::fs::read(&env.path).unwrap(), b"012");
    });
}

#[test]
fn a_set_len_dropped_before_its_job_started_never_happens() {
    with_file(b"0123456789", async |env| {
        let mut f = open_rw(&env.path).await;
        common::drop_while_all_held(&env.pool, THREADS, f.set_len(0)).await;
        f.write_all(b"ab").await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(std::fs::read(&env.path).unwrap(), b"ab23456789");
    });
}
