//! The facade wires the blocking pool and the reactor into every runtime:
//! to_thread/spawn_blocking, the pool's shutdown at the end of eddy::run,
//! the paused clock waiting for blocking jobs, fs, and sockets.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};

mod common;

#[test]
fn to_thread_runs_off_the_loop_and_returns_the_result() {
    let loop_thread = std::thread::current().id();
    let (value, job_thread) = eddy::run(async {
        eddy::to_thread(|| (6 * 7, std::thread::current().id()))
            .await
            .unwrap()
    });
    assert_eq!(value, 42);
    assert_ne!(job_thread, loop_thread);
}

#[test]
fn a_panicking_job_is_a_join_error_and_the_loop_goes_on() {
    let err = eddy::run(async { eddy::spawn_blocking(|| panic!("boom")).await.unwrap_err() });
    assert!(err.is_panic());
}

#[test]
fn run_shuts_the_pool_down_after_the_main_future() {
    let pool = eddy::run(async { eddy::blocking::Pool::current() });
    assert!(pool.is_shutdown());
}

#[test]
fn zero_blocking_threads_is_refused_at_build() {
    let err = eddy::Builder::new()
        .max_blocking_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn paused_clock_waits_for_a_blocking_job_instead_of_jumping() {
    let rt = eddy::Builder::new().start_paused(true).build().unwrap();
    let res = rt.block_on(async {
        // Without the hold, the idle paused clock would jump an hour and
        // the timeout would fire before the 30 ms of real work is done.
        eddy::wait_for(
            eddy::to_thread(|| std::thread::sleep(Duration::from_millis(30))),
            Duration::from_secs(3600),
        )
        .await
    });
    assert!(res.is_ok(), "the timeout fired while the job ran");
}

#[test]
fn a_finished_job_nobody_awaits_yet_does_not_hold_the_paused_clock() {
    // With the hold riding on the result until it was read, this hour of
    // paused time never passed: the guard turns that hang into a failure.
    let (slept, value) = common::guarded(60, || {
        let rt = eddy::Builder::new().start_paused(true).build().unwrap();
        rt.block_on(async {
            let (tx, rx) = std::sync::mpsc::channel();
            let job = eddy::spawn_blocking(move || {
                tx.send(()).unwrap();
                7
            });
            // The job has run and nobody awaits it yet.
            rx.recv().unwrap();
            let start = eddy::time::Instant::now();
            eddy::sleep(Duration::from_secs(3600)).await;
            (start.elapsed(), job.await.unwrap())
        })
    });
    assert!(slept >= Duration::from_secs(3600));
    assert_eq!(value, 7);
}

#[test]
fn run_in_executor_uses_the_given_pool() {
    let pool = eddy::blocking::Pool::builder()
        .thread_name("custom-pool")
        .build()
        .unwrap();
    let name = eddy::run(async move {
        eddy::Handle::current()
            .run_in_executor(&pool, || std::thread::current().name().map(str::to_owned))
            .await
            .unwrap()
    });
    assert!(name.unwrap().starts_with("custom-pool"));
}

#[test]
fn dropped_before_start_never_runs() {
    let ran = Arc::new(AtomicUsize::new(0));
    let ran2 = ran.clone();
    let rt = eddy::Builder::new()
        .max_blocking_threads(1)
        .build()
        .unwrap();
    rt.block_on(async move {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let busy = eddy::spawn_blocking(move || rx.recv().ok());
        let queued = eddy::spawn_blocking(move || ran2.fetch_add(1, Ordering::SeqCst));
        drop(queued);
        tx.send(()).unwrap();
        busy.await.unwrap();
    });
    drop(rt);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn fs_round_trip_through_the_facade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("note.txt");
    let text = eddy::run(async move {
        eddy::fs::write(&path, b"hello from the pool")
            .await
            .unwrap();
        eddy::fs::read_to_string(&path).await.unwrap()
    });
    assert_eq!(text, "hello from the pool");
}

#[test]
fn tcp_echo_through_the_facade() {
    eddy::run(async {
        let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = eddy::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 5];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf).await.unwrap();
        });
        // A host name goes through the resolver on the blocking pool.
        let mut c = eddy::net::TcpStream::connect(("localhost", addr.port()))
            .await
            .unwrap();
        c.write_all(b"hello").await.unwrap();
        let mut back = [0u8; 5];
        c.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"hello");
        server.await.unwrap();
    });
}

#[test]
fn streams_server_through_the_facade() {
    eddy::run(async {
        let server = eddy::io::start_server(
            "127.0.0.1:0",
            |mut r: eddy::io::StreamReader, mut w: eddy::io::StreamWriter| async move {
                let line = r.read_line().await.map_err(std::io::Error::other)?;
                w.write(&line)?;
                w.drain().await
            },
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let (mut r, mut w) = eddy::io::open_connection(&addr).await.unwrap();
        w.write(b"ping\n").unwrap();
        assert_eq!(r.read_line().await.unwrap(), b"ping\n");
        server.close();
        drop((r, w));
        server.wait_closed().await;
    });
}

#[test]
fn the_loop_name_names_the_blocking_threads() {
    let rt = eddy::Builder::new().thread_name("ingest").build().unwrap();
    let name = rt
        .block_on(async {
            eddy::to_thread(|| std::thread::current().name().map(str::to_owned)).await
        })
        .unwrap()
        .unwrap_or_default();
    assert!(
        name.starts_with("ingest-"),
        "Builder::thread_name should name the runtime's helper threads, got {name:?}"
    );
}

#[test]
fn a_loop_name_no_thread_can_take_is_refused_at_build() {
    let err = eddy::Builder::new()
        .thread_name("bad\0name")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn paused_clock_waits_for_a_name_lookup_instead_of_jumping() {
    common::guarded(60, || {
        let rt = eddy::Builder::new().start_paused(true).build().unwrap();
        rt.block_on(async {
            let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let _accepting = eddy::spawn(async move {
                loop {
                    let _ = listener.accept().await;
                }
            });
            // The lookup runs on the blocking pool while the loop has
            // nothing else to do: a paused clock must wait for it rather
            // than jump to the timeout's deadline.
            for _ in 0..20 {
                let connect = eddy::net::TcpStream::connect(format!("localhost:{port}"));
                let outcome = eddy::time::timeout(Duration::from_secs(3600), connect).await;
                assert!(
                    outcome.is_ok(),
                    "a paused clock jumped an hour ahead while a host name was being looked up"
                );
            }
        });
    });
}

/// Runs `body` on a start-paused runtime, with a hang guard: a paused
/// clock held forever never reaches a deadline.
fn on_paused_runtime<T: Send + 'static>(
    body: impl std::future::Future<Output = T> + 'static,
) -> impl FnOnce() -> T {
    move || {
        let rt = eddy::Builder::new().start_paused(true).build().unwrap();
        rt.block_on(body)
    }
}

/// A temporary directory with a few small files in it.
fn dir_with_files() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.txt", "b.txt", "c.txt"] {
        std::fs::write(dir.path().join(name), b"some bytes").unwrap();
    }
    dir
}

#[test]
fn paused_clock_waits_for_fs_read_instead_of_jumping() {
    let dir = dir_with_files();
    let path = dir.path().join("a.txt");
    common::guarded(60, || {
        let body = async move {
            // Without a hold, the idle paused clock jumps an hour as soon
            // as the loop waits for the pool, and the timeout fires first.
            for _ in 0..20 {
                let read = eddy::fs::read(path.clone());
                let outcome = eddy::time::timeout(Duration::from_secs(3600), read).await;
                let bytes = outcome.expect("a paused clock jumped an hour during fs::read");
                assert_eq!(bytes.unwrap(), b"some bytes");
            }
        };
        on_paused_runtime(body)()
    });
}

#[test]
fn paused_clock_waits_for_file_reads_instead_of_jumping() {
    use futures::io::{AsyncReadExt, AsyncSeekExt};
    let dir = dir_with_files();
    let path = dir.path().join("b.txt");
    common::guarded(60, || {
        let body = async move {
            let hour = Duration::from_secs(3600);
            // Opened without the pool, so that the reads are what is tested.
            let mut file = eddy::fs::File::from_std(std::fs::File::open(path).unwrap());
            for _ in 0..20 {
                let mut buf = Vec::new();
                eddy::time::timeout(hour, file.read_to_end(&mut buf))
                    .await
                    .expect("a paused clock jumped an hour during a File read")
                    .unwrap();
                assert_eq!(buf, b"some bytes");
                eddy::time::timeout(hour, file.seek(std::io::SeekFrom::Start(0)))
                    .await
                    .expect("a paused clock jumped an hour during a File seek")
                    .unwrap();
            }
        };
        on_paused_runtime(body)()
    });
}

#[test]
fn paused_clock_waits_for_read_dir_instead_of_jumping() {
    use futures::StreamExt;
    let dir = dir_with_files();
    let path = dir.path().to_owned();
    common::guarded(60, || {
        let body = async move {
            let hour = Duration::from_secs(3600);
            for _ in 0..10 {
                let mut entries = eddy::time::timeout(hour, eddy::fs::read_dir(path.clone()))
                    .await
                    .expect("a paused clock jumped an hour during read_dir")
                    .unwrap();
                let mut names = Vec::new();
                while let Some(entry) = eddy::time::timeout(hour, entries.next())
                    .await
                    .expect("a paused clock jumped an hour while reading a directory")
                {
                    names.push(entry.unwrap().file_name());
                }
                names.sort();
                assert_eq!(names, ["a.txt", "b.txt", "c.txt"]);
            }
        };
        on_paused_runtime(body)()
    });
}

#[test]
fn paused_clock_waits_for_jobs_queued_on_the_pool_directly() {
    common::guarded(60, || {
        let body = async {
            let hour = Duration::from_secs(3600);
            for _ in 0..20 {
                // Straight to the runtime's pool, as eddy-blocking's own
                // helpers do.
                let job = eddy::blocking::Pool::current().spawn(|| 2);
                let n = eddy::time::timeout(hour, job)
                    .await
                    .expect("a paused clock jumped an hour during a pool job");
                assert_eq!(n.unwrap(), 2);
            }
        };
        on_paused_runtime(body)()
    });
}

#[test]
fn paused_clock_reaches_a_sleep_deadline_once_blocking_jobs_are_done() {
    use futures::StreamExt;
    // No hold outlives its job: after fs calls (awaited, dropped in
    // flight, detached) the paused clock still jumps to a deadline. A
    // leaked hold turns this into a hang, which the guard reports.
    let dir = dir_with_files();
    let path = dir.path().to_owned();
    let slept = common::guarded(60, || {
        let body = async move {
            let hour = Duration::from_secs(3600);
            eddy::fs::read(path.join("a.txt")).await.unwrap();
            let mut entries = eddy::fs::read_dir(path.clone()).await.unwrap();
            while entries.next().await.is_some() {}
            // Started, then dropped while in flight.
            let _ = eddy::time::timeout(Duration::ZERO, eddy::fs::read(path.join("b.txt"))).await;
            eddy::blocking::Pool::current().spawn(|| ()).detach();
            let mut file = eddy::fs::File::create(path.join("new.txt")).await.unwrap();
            futures::io::AsyncWriteExt::write_all(&mut file, b"x")
                .await
                .unwrap();
            // A write still in flight when the file is dropped.
            futures::io::AsyncWriteExt::write_all(&mut file, b"y")
                .await
                .unwrap();
            drop(file);
            let start = eddy::time::Instant::now();
            eddy::sleep(hour).await;
            start.elapsed()
        };
        on_paused_runtime(body)()
    });
    assert!(slept >= Duration::from_secs(3600));
}
