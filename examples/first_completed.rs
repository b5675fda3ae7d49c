//! asyncio.wait(return_when=FIRST_COMPLETED) and asyncio.as_completed:
//! race three mirrors for the same file and take the first answer, leaving
//! the others running (wait never cancels); then consume answers in the
//! order they arrive, giving up on stragglers after a timeout.
//!
//! Run with `cargo run --release --example first_completed`.

use std::time::{Duration, Instant};

use eddy::ReturnWhen;
use futures::StreamExt;

async fn download(mirror: &'static str, ms: u64) -> Result<String, String> {
    eddy::sleep(Duration::from_millis(ms)).await;
    Ok(format!("file from {mirror} after {ms} ms"))
}

#[eddy::main]
async fn main() {
    let start = Instant::now();

    println!("wait(FirstCompleted):");
    let mirrors = vec![
        eddy::spawn(download("eu", 300)),
        eddy::spawn(download("us", 120)),
        eddy::spawn(download("asia", 800)),
    ];
    let (done, pending) = eddy::wait(mirrors, ReturnWhen::FirstCompleted, None)
        .await
        .expect("three tasks given");
    for d in &done {
        println!("  first: task {} -> {:?}", d.index, d.result);
    }
    println!(
        "  still running: {} (wait does not cancel them)",
        pending.len()
    );
    for p in pending {
        p.handle.cancel(); // we only needed one copy
    }

    println!("wait(AllCompleted) with a 500 ms timeout:");
    let mirrors = vec![
        eddy::spawn(download("eu", 100)),
        eddy::spawn(download("mars", 60_000)),
    ];
    let (done, pending) = eddy::wait(
        mirrors,
        ReturnWhen::AllCompleted,
        Some(Duration::from_millis(500)),
    )
    .await
    .expect("two tasks given");
    println!(
        "  done {}, pending {} (a timeout is not an error)",
        done.len(),
        pending.len()
    );
    for p in pending {
        p.handle.cancel();
    }

    println!("as_completed, in arrival order, for at most 1 s:");
    let downloads = [("eu", 400), ("us", 100), ("asia", 250), ("mars", 60_000)]
        .map(|(mirror, ms)| download(mirror, ms));
    let mut arrivals = eddy::as_completed_with_timeout(downloads, Duration::from_secs(1));
    while let Some(item) = arrivals.next().await {
        match item {
            Ok(Ok(file)) => println!("  {file}"),
            Ok(Err(e)) => println!("  failed: {e}"),
            Err(timed_out) => println!("  gave up: {timed_out}"),
        }
    }
    println!("finished in {:.2?}", start.elapsed());
}
