//! Debug mode: slow polls are reported, and a blocked loop is reported
//! while it is still blocked.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One global subscriber (the watchdog logs from its own thread).
fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let c = Capture::default();
        let writer = c.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        c
    })
}

/// A runtime with debug mode on or off and a slow-step threshold in ms,
/// with the log capture installed.
fn runtime(debug: bool, threshold_ms: u64) -> eddy_core::Runtime {
    capture();
    eddy_core::Builder::new()
        .debug(debug)
        .slow_poll_threshold(Duration::from_millis(threshold_ms))
        .build()
        .unwrap()
}

fn logs() -> String {
    String::from_utf8_lossy(&capture().0.lock().unwrap()).into_owned()
}

#[test]
fn slow_poll_is_reported_with_name_and_location() {
    let rt = runtime(true, 5);
    rt.block_on(async {
        eddy_core::task::Builder::new()
            .name("hog-task")
            .spawn(async { std::thread::sleep(Duration::from_millis(30)) })
            .await
            .unwrap();
    });
    let out = logs();
    assert!(out.contains("slow poll"), "{out}");
    assert!(out.contains("hog-task"), "{out}");
    assert!(out.contains("debug.rs"), "spawn location missing: {out}");
}

#[test]
fn watchdog_reports_while_blocked() {
    let rt = runtime(true, 20);
    rt.block_on(async {
        eddy_core::task::Builder::new()
            .name("stuck-task")
            .spawn(async {
                // Block well past the threshold and watch for the report
                // to appear *before* the poll returns.
                let start = std::time::Instant::now();
                while start.elapsed() < Duration::from_secs(5) {
                    let seen = logs()
                        .lines()
                        .any(|l| l.contains("event loop blocked") && l.contains("stuck-task"));
                    if seen {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                false
            })
            .await
            .map(|seen| assert!(seen, "no watchdog report while blocked: {}", logs()))
            .unwrap();
    });
}

#[test]
fn debug_off_reports_nothing() {
    let rt = runtime(false, 1);
    rt.block_on(async {
        eddy_core::task::Builder::new()
            .name("quiet-task")
            .spawn(async { std::thread::sleep(Duration::from_millis(10)) })
            .await
            .unwrap();
    });
    assert!(!logs().contains("quiet-task"));
}

#[test]
fn a_panicking_main_future_does_not_leave_the_loop_reported_as_blocked() {
    let rt = runtime(true, 10);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // resume_unwind skips the panic hook, whose backtrace printing
        // would itself keep the loop inside the poll past the threshold.
        rt.block_on(async { std::panic::resume_unwind(Box::new("the main future fails")) })
    }));
    assert!(caught.is_err());
    // The loop is idle now (the runtime lives on, as after a caught
    // failure in a server or a test harness): give the watchdog many
    // ticks past the threshold to (wrongly) call it blocked.
    std::thread::sleep(Duration::from_millis(200));
    let out = logs();
    // No other test here blocks inside its block_on future.
    assert!(
        !out.lines()
            .any(|l| l.contains("event loop blocked") && l.contains("<block_on>")),
        "an idle loop was reported blocked after a panicking poll: {out}"
    );
    // And the runtime still works, with debug mode intact.
    assert_eq!(rt.block_on(async { 7 }), 7);
}

#[test]
fn a_slow_callback_is_reported_with_where_it_was_queued() {
    let rt = runtime(true, 5);
    let queued_at = format!("debug.rs:{}", line!() + 2);
    rt.block_on(async {
        eddy_core::call_soon(|| std::thread::sleep(Duration::from_millis(30)));
        eddy_core::yield_now().await;
    });
    let out = logs();
    assert!(
        out.lines().any(|l| l.contains("slow callback")
            && l.contains("<callback>")
            && l.contains(&queued_at)),
        "no slow-callback report naming {queued_at}: {out}"
    );
}

#[test]
fn watchdog_reports_a_callback_that_blocks_the_loop() {
    let rt = runtime(true, 20);
    let queued_at = format!("debug.rs:{}", line!() + 4);
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = seen.clone();
    let needle = queued_at.clone();
    rt.handle().call_soon(move || {
        // Block until the watchdog names this callback, or give up.
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            let reported = logs().lines().any(|l| {
                l.contains("event loop blocked: still inside one callback") && l.contains(&needle)
            });
            if reported {
                s.store(true, std::sync::atomic::Ordering::SeqCst);
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    rt.block_on(eddy_core::yield_now());
    assert!(
        seen.load(std::sync::atomic::Ordering::SeqCst),
        "no watchdog report naming the callback queued at {queued_at}: {}",
        logs()
    );
}
