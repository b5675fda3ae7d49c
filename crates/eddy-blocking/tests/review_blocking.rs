//! Defects found by the review of the pool and the `fs` module, one test
//! each (they failed on the code before their fix).

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use common::stress::guarded;
use eddy_blocking::Pool;
use futures::executor::block_on;

/// A waker whose `wake` panics (an executor's bug, or a deliberate one),
/// counting the calls first.
struct PanickingWaker(AtomicUsize);

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("a waker panicked (expected in this test)");
    }
}

#[test]
fn a_panicking_waker_of_a_cancelled_job_does_not_escape_shutdown() {
    guarded(60, || {
        let pool = Pool::builder().max_threads(1).build().unwrap();
        let (release, blocker) = common::occupy(&pool, ());
        // Queued behind the blocker, and waited on by a waker that panics.
        let waker_state = Arc::new(PanickingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(waker_state.clone());
        let mut first = pool.spawn(|| 1);
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut first).poll(&mut cx).is_pending());
        let second = pool.spawn(|| 2);
        // Cancelling the first wakes its waker, which panics: that panic
        // escaped shutdown_timeout, and the second job was left queued.
        let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.shutdown_timeout(Duration::from_millis(20))
        }))
        .expect("a handle's waker panicking escaped shutdown_timeout");
        assert_eq!(report.cancelled, 2, "{report:?}");
        assert_eq!(waker_state.0.load(Ordering::SeqCst), 1);
        assert!(block_on(first).unwrap_err().is_shutdown());
        assert!(block_on(second).unwrap_err().is_shutdown());
        release.send(()).unwrap();
        block_on(blocker).unwrap();
        assert!(common::eventually(|| pool.thread_count() == 0));
    });
}

#[test]
fn a_write_after_read_ahead_on_a_fifo_lands_and_keeps_the_read_ahead() {
    use eddy_blocking::fs::File;
    use futures::{AsyncReadExt, AsyncWriteExt};
    guarded(60, || {
        let pool = Pool::builder().max_threads(1).build().unwrap();
        let _guard = pool.enter();
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        common::mkfifo(&fifo);
        block_on(async {
            // Read and write ends in one descriptor (a FIFO, a tty or a
            // serial device opened read-write: none can seek).
            let mut f = File::options()
                .read(true)
                .write(true)
                .open(&fifo)
                .await
                .unwrap();
            f.write_all(b"0123456789").await.unwrap();
            f.flush().await.unwrap();
            // A read for 10 bytes dropped in flight, then a read for 2: 8
            // bytes wait in the read-ahead.
            let mut big = [0u8; 10];
            common::drop_while_queued(&pool, f.read(&mut big)).await;
            let mut two = [0u8; 2];
            assert_eq!(f.read(&mut two).await.unwrap(), 2);
            assert_eq!(&two, b"01");
            // The write used to seek back over those 8 bytes first, failed
            // with "Illegal seek" (at the flush), and lost both the write
            // and the 8 bytes.
            f.write_all(b"ab").await.unwrap();
            f.flush().await.expect("a write after read-ahead on a FIFO");
            let mut rest = [0u8; 10];
            f.read_exact(&mut rest).await.unwrap();
            assert_eq!(&rest, b"23456789ab");
        });
    });
}

#[test]
fn a_failed_seek_leaves_the_position_and_the_read_ahead_alone() {
    use eddy_blocking::fs::File;
    use futures::{AsyncReadExt, AsyncSeekExt};
    use std::io::SeekFrom;
    guarded(60, || {
        let pool = Pool::builder().max_threads(1).build().unwrap();
        let _guard = pool.enter();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        block_on(async {
            let mut f = File::open(&path).await.unwrap();
            // 8 bytes wait in the read-ahead, the reader is at 2.
            let mut big = [0u8; 10];
            common::drop_while_queued(&pool, f.read(&mut big)).await;
            let mut two = [0u8; 2];
            assert_eq!(f.read(&mut two).await.unwrap(), 2);
            // Before the start: refused, and (as with std) nothing moves.
            let err = f.seek(SeekFrom::Current(-5)).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
            // Was "": the read-ahead was dropped before the seek, which
            // failed and left the file past those bytes.
            let mut rest = String::new();
            f.read_to_string(&mut rest).await.unwrap();
            assert_eq!(rest, "23456789");
        });
    });
}
