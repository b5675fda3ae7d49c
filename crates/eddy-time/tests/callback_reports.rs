//! Debug mode names a slow `call_later`/`call_at` callback as it names a
//! slow `call_soon` one (asyncio times every handle, timer handles
//! included): "slow callback", at the place the callback was scheduled —
//! for the loop-thread form and for the thread-safe `Handle` form — and a
//! callback's panic is logged with that place too.
//!
//! The log is captured by a small `tracing` subscriber (common/capture.rs,
//! one global subscriber for the file: the watchdog logs from its own
//! thread); each test uses a threshold of its own to pick out its
//! runtime's reports.

#[path = "common/capture.rs"]
mod capture;

use std::time::Duration;

use capture::{capture, lines_with};

/// Runs `f` on a debug-mode loop with a time driver and the given slow-step
/// threshold (distinct per test), then shuts it down.
fn debug_block_on<F: std::future::Future>(threshold_ms: u64, f: F) -> F::Output {
    capture();
    let driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
    let handle = driver.handle();
    let rt = eddy_core::Builder::new()
        .debug(true)
        .slow_poll_threshold(Duration::from_millis(threshold_ms))
        .build_with_driver(Box::new(driver))
        .unwrap();
    let _g = handle.enter();
    let out = rt.block_on(f);
    drop(rt);
    out
}

/// A blocking stretch well past `threshold_ms`.
fn block(threshold_ms: u64) {
    std::thread::sleep(Duration::from_millis(threshold_ms * 4));
}

/// Asserts that the runtime with `threshold_ms` reported exactly one slow
/// callback scheduled at line `line` of this file.
#[track_caller]
fn assert_one_slow_callback_at(threshold_ms: u64, line: u32) {
    let threshold = format!("threshold_ms={threshold_ms}.0");
    let place = format!("callback_reports.rs:{line}");
    let slow = lines_with(&["slow callback", &threshold, &place]);
    assert_eq!(slow.len(), 1, "{:#?}", lines_with(&[&threshold]));
}

#[test]
fn a_slow_loop_thread_callback_is_reported_as_a_callback_where_it_was_scheduled() {
    let line = line!() + 3;
    debug_block_on(13, async {
        let at = eddy_time::Instant::now() + Duration::from_millis(1);
        eddy_time::call_at(at, || block(13));
        eddy_time::call_later(Duration::from_millis(1), || block(13));
        eddy_time::sleep(Duration::from_millis(5)).await;
        eddy_core::yield_now().await;
    });
    for at in [line, line + 1] {
        assert_one_slow_callback_at(13, at);
    }
}

#[test]
fn a_slow_thread_safe_callback_is_reported_where_it_was_scheduled() {
    let line = line!() + 4;
    debug_block_on(17, async {
        let handle = eddy_time::Handle::current();
        std::thread::spawn(move || {
            handle.call_later(Duration::from_millis(1), || block(17));
        })
        .join()
        .unwrap();
        eddy_time::sleep(Duration::from_millis(5)).await;
        eddy_core::yield_now().await;
    });
    assert_one_slow_callback_at(17, line);
}

#[test]
fn a_panicking_callback_is_logged_with_where_it_was_scheduled() {
    let line = line!() + 2;
    debug_block_on(1000, async {
        eddy_time::call_later(Duration::from_millis(1), || panic!("boom (expected)"));
        eddy_time::sleep(Duration::from_millis(5)).await;
    });
    let place = format!("callback_reports.rs:{line}");
    let logged = lines_with(&["callback panicked", "boom (expected)", &place]);
    assert_eq!(logged.len(), 1, "{:#?}", lines_with(&["panicked"]));
}
