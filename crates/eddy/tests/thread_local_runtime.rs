//! A runtime kept in a `thread_local!` (one loop per thread, built on
//! first use) is dropped while the thread exits, possibly after the
//! drivers' own thread-locals are gone. That must not abort the process.
//! (Its own test binary: the old behaviour was an abort, which takes every
//! test of the binary down with it.)

use std::time::Duration;

thread_local! {
    static LOOP: eddy::Runtime = eddy::Runtime::new().unwrap();
}

#[test]
fn a_runtime_in_a_thread_local_is_dropped_at_thread_exit_without_aborting() {
    let worker = std::thread::spawn(|| {
        LOOP.with(|rt| {
            rt.block_on(async {
                eddy::sleep(Duration::from_millis(1)).await;
                eddy::to_thread(|| ()).await.unwrap();
                // Still alive when the thread exits.
                drop(eddy::spawn(async {
                    eddy::sleep(Duration::from_secs(3600)).await;
                }));
                eddy::yield_now().await;
            })
        });
    });
    // Joining at all is the test: an abort never gets here.
    let _ = worker.join();
}
