//! Timers used away from where they were made: awaited on another
//! runtime, or kept, reset, rescheduled and dropped on another thread
//! after their runtime is gone.

mod common;

use std::time::Duration;

use common::stress::guarded;
use common::{block_on, runtime};
use eddy_time::{deadline, interval, sleep, timeout, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn a_sleep_made_on_one_runtime_completes_awaited_on_another() {
    guarded(60, || {
        let (made_tx, made_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        // Runtime A (real clock) runs on a thread of its own and owns the
        // timer; runtime B (paused clock) awaits it.
        let a = std::thread::spawn(move || {
            block_on(false, async move {
                made_tx.send(sleep(ms(5))).unwrap();
                while done_rx.try_recv().is_err() {
                    sleep(ms(1)).await;
                }
            })
        });
        let s = made_rx.recv().unwrap();
        block_on(true, s);
        done_tx.send(()).unwrap();
        a.join().unwrap();
    });
}

#[test]
fn timers_outliving_their_runtime_can_be_reset_and_dropped_anywhere() {
    let (rt, handle) = runtime(false);
    let g = handle.enter();
    let (t, scope, iv, s) = rt.block_on(async {
        let mut t = Box::pin(timeout(ms(60_000), std::future::pending::<()>()));
        assert!(futures::poll!(t.as_mut()).is_pending());
        let mut scope = Box::pin(deadline(ms(60_000), |_| std::future::pending::<()>()));
        assert!(futures::poll!(scope.as_mut()).is_pending());
        let mut iv = interval(ms(1));
        iv.tick().await;
        let mut s = Box::pin(sleep(ms(5_000)));
        assert!(futures::poll!(s.as_mut()).is_pending());
        (t, scope, iv, s)
    });
    assert!(handle.timer_count() >= 3);
    drop(rt);
    drop(g);
    assert_eq!(handle.timer_count(), 0, "shutdown empties the wheel");
    std::thread::spawn(move || {
        scope.handle().reschedule(Some(Instant::now()));
        let mut iv = iv;
        iv.reset();
        let mut s = s;
        s.as_mut().reset(Instant::now());
        assert!(!s.is_elapsed());
        drop((t, scope, iv, s));
    })
    .join()
    .unwrap();
}
