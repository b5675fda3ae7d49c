//! blocking: five 200 ms blocking calls, done wrongly and rightly.
//!
//! Wrongly: called straight from tasks. Each call holds the event loop, so
//! the five run one after another (~1 s) and nothing else runs meanwhile;
//! debug mode reports every one of them as a slow poll.
//!
//! Rightly: each goes through `eddy::to_thread` (asyncio's `to_thread`),
//! runs on the blocking pool, and the five finish together (~200 ms) while
//! the loop stays free — a ticker task keeps ticking through it.
//!
//! Run with `cargo run --release --example blocking`.

use std::time::{Duration, Instant};

/// Stands in for a synchronous library call (a database driver, a
/// compression routine, a DNS lookup through libc).
fn blocking_call(i: u32) -> u32 {
    std::thread::sleep(Duration::from_millis(200));
    i * 10
}

/// Runs `work` with a 50 ms ticker alongside and returns how many ticks
/// the ticker got in while it ran.
async fn with_ticker<F: std::future::Future>(work: F) -> (F::Output, u32) {
    let ticks = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let counter = ticks.clone();
    let ticker = eddy::spawn(async move {
        loop {
            eddy::sleep(Duration::from_millis(50)).await;
            counter.set(counter.get() + 1);
        }
    });
    let out = work.await;
    ticker.cancel();
    (out, ticks.get())
}

fn main() {
    // Debug mode's slow-poll reports go through `tracing`; print them.
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();
    let rt = eddy::Builder::new().debug(true).build().expect("runtime");

    rt.block_on(async {
        println!("-- wrongly: blocking calls inside tasks (debug mode reports each one)");
        let start = Instant::now();
        let tasks: Vec<_> = (0..5)
            .map(|i| eddy::spawn(async move { blocking_call(i) }))
            .collect();
        let results: Vec<u32> = eddy::gather_all(tasks)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        println!("results {results:?} after {:.2} s", start.elapsed().as_secs_f64());

        println!("-- rightly: the same calls through eddy::to_thread");
        let start = Instant::now();
        let ((results, elapsed), ticks) = with_ticker(async {
            let calls = (0..5).map(|i| eddy::to_thread(move || blocking_call(i)));
            let results: Vec<u32> = eddy::gather_all(calls)
                .await
                .into_iter()
                .map(|r| r.unwrap())
                .collect();
            (results, start.elapsed())
        })
        .await;
        println!(
            "results {results:?} after {:.2} s; a 50 ms ticker ticked {ticks} times meanwhile (the loop stayed free)",
            elapsed.as_secs_f64()
        );
    });
}
