//! The facade wires the time driver into every runtime: `eddy::run`,
//! `Runtime::new`, builders and `#[eddy::test]`; tasks holding timers are
//! dropped cleanly at shutdown; timeouts compose with the task toolkit.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use eddy::time::{self, Instant};
use eddy::{ReturnWhen, TaskGroup};

#[test]
fn sleep_works_under_run_and_runtime_new() {
    let out = eddy::run(async {
        eddy::sleep(Duration::from_millis(2)).await;
        1
    });
    assert_eq!(out, 1);
    let rt = eddy::Runtime::new().unwrap();
    let start = Instant::now();
    rt.block_on(async { eddy::sleep(Duration::from_millis(2)).await });
    assert!(start.elapsed() >= Duration::from_millis(2));
}

#[test]
fn a_runtime_dropped_with_sleeping_tasks_drops_them_inside_the_driver() {
    let dropped = Arc::new(AtomicUsize::new(0));
    struct Count(Arc<AtomicUsize>);
    impl Drop for Count {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let rt = eddy::Runtime::new().unwrap();
    for _ in 0..10 {
        let guard = Count(dropped.clone());
        rt.block_on(async move {
            eddy::spawn(async move {
                let _guard = guard;
                eddy::sleep(Duration::from_secs(3600)).await;
            });
        });
    }
    rt.block_on(eddy::yield_now());
    drop(rt); // cancels the sleeps: their timers are removed without a panic
    assert_eq!(dropped.load(Ordering::SeqCst), 10);
}

#[test]
fn start_paused_runs_an_hour_of_timers_at_once() {
    let rt = eddy::Builder::new().start_paused(true).build().unwrap();
    let virtual_elapsed = rt.block_on(async {
        let start = Instant::now();
        let hour = eddy::wait_for(
            eddy::sleep(Duration::from_secs(7200)),
            Duration::from_secs(3600),
        );
        assert!(hour.await.is_err());
        start.elapsed()
    });
    assert_eq!(virtual_elapsed, Duration::from_secs(3600));
}

#[eddy::test(start_paused = true)]
async fn the_test_macro_can_start_paused() {
    let start = Instant::now();
    time::advance(Duration::from_secs(5)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

#[eddy::test(start_paused = true)]
async fn wait_for_a_task_group_cancels_every_child_on_expiry() {
    let cancelled = Rc::new(Cell::new(0));
    struct OnDrop(Rc<Cell<u32>>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let group = TaskGroup::<()>::new();
    for _ in 0..3 {
        let guard = OnDrop(cancelled.clone());
        group
            .spawn(async move {
                let _guard = guard;
                eddy::sleep(Duration::from_secs(60)).await;
                Ok(())
            })
            .unwrap();
    }
    let outcome = eddy::wait_for(group.join(), Duration::from_secs(1)).await;
    assert!(outcome.is_err(), "the group outlived the timeout");
    assert_eq!(
        cancelled.get(),
        3,
        "every child is dropped when wait_for gives up"
    );
}

#[eddy::test(start_paused = true)]
async fn wait_with_a_timeout_neither_errors_nor_cancels() {
    let fast = eddy::spawn(async {
        eddy::sleep(Duration::from_secs(1)).await;
        Ok::<_, ()>(1)
    });
    let slow = eddy::spawn(async {
        eddy::sleep(Duration::from_secs(10)).await;
        Ok::<_, ()>(2)
    });
    let (done, mut pending) = eddy::wait(
        vec![fast, slow],
        ReturnWhen::AllCompleted,
        Some(Duration::from_secs(5)),
    )
    .await
    .unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].index, 0);
    assert_eq!(pending.len(), 1);
    let slow = pending.pop().unwrap().handle;
    assert_eq!(
        slow.await.unwrap(),
        Ok(2),
        "the timed-out task kept running"
    );
}

#[eddy::test]
async fn wait_on_nothing_is_an_error() {
    let none: Vec<eddy::JoinHandle<Result<(), ()>>> = Vec::new();
    assert!(eddy::wait(none, ReturnWhen::FirstCompleted, None)
        .await
        .is_err());
}

#[eddy::test(start_paused = true)]
async fn as_completed_with_timeout_yields_in_order_then_times_out() {
    use futures::StreamExt;
    let futures = [300u64, 100, 200, 5000].map(|ms| async move {
        eddy::sleep(Duration::from_millis(ms)).await;
        ms
    });
    let items: Vec<_> = eddy::as_completed_with_timeout(futures, Duration::from_secs(1))
        .collect()
        .await;
    assert_eq!(items[..3], [Ok(100), Ok(200), Ok(300)]);
    assert_eq!(items[3].unwrap_err().remaining(), 1);
    assert_eq!(items.len(), 4);
}

#[test]
fn handle_call_later_from_another_thread_runs_on_the_loop() {
    let rt = eddy::Runtime::new().unwrap();
    let handle = rt.handle();
    let (tx, rx) = std::sync::mpsc::channel();
    let loop_thread = std::thread::current().id();
    std::thread::spawn(move || {
        handle.call_later(Duration::from_millis(1), move || {
            tx.send(std::thread::current().id()).unwrap();
        });
    })
    .join()
    .unwrap();
    rt.block_on(async { eddy::sleep(Duration::from_millis(20)).await });
    assert_eq!(rx.try_recv().unwrap(), loop_thread);
}

#[test]
fn handle_current_outside_a_runtime_says_what_to_do() {
    let err = std::panic::catch_unwind(eddy::Handle::current).unwrap_err();
    let msg = err
        .downcast_ref::<&str>()
        .copied()
        .unwrap_or_default()
        .to_owned()
        + err
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
    assert!(msg.contains("no eddy runtime on this thread"), "{msg}");
}

/// Under the paused clock, a server and its client in one loop: the data
/// the client wrote is already in the kernel when the loop goes idle, so
/// the clock must not jump to the server's read timeout first (it jumped,
/// and the read came back only at the deadline, 10 virtual seconds later).
#[test]
fn the_paused_clock_does_not_jump_over_io_already_waiting_in_this_loop() {
    use eddy::io::StreamReader;
    use eddy::net::{TcpListener, TcpStream};
    use futures::AsyncWriteExt;

    let rt = eddy::Builder::new().start_paused(true).build().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
        let (mut client, (server, _)) = (client.unwrap(), accepted.unwrap());
        let start = Instant::now();
        let reading = eddy::spawn(async move {
            let mut reader = StreamReader::new(server);
            let mut lines = Vec::new();
            for _ in 0..3 {
                let line = eddy::wait_for(reader.read_line(), Duration::from_secs(10)).await;
                lines.push((line.unwrap().unwrap(), start.elapsed()));
            }
            lines
        });
        for (i, line) in [&b"one\n"[..], b"two\n", b"three\n"]
            .into_iter()
            .enumerate()
        {
            eddy::yield_now().await; // the reader waits on the socket
            client.write_all(line).await.unwrap();
            if i == 1 {
                // A real wait in between: virtual time passes, exactly.
                eddy::sleep(Duration::from_millis(250)).await;
            }
        }
        let lines = reading.await.unwrap();
        let ms = Duration::from_millis;
        assert_eq!(
            lines,
            [
                (b"one\n".to_vec(), ms(0)),
                (b"two\n".to_vec(), ms(0)),
                (b"three\n".to_vec(), ms(250)),
            ]
        );
    });
}
