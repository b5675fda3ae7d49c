//! Timeouts three ways, as asyncio teaches them:
//!
//! 1. `wait_for(fut, d)` — give up on one operation (the operation is
//!    cancelled before `Elapsed` comes back);
//! 2. a deadline scope (`asyncio.timeout()`), rescheduled while it runs
//!    because the work turned out to need longer;
//! 3. an `interval` ticking at a fixed period, with a scope ending it.
//!
//! Run with `cargo run --release --example timeouts`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use eddy::time::{deadline, interval, Instant};

/// Stands in for a slow network call.
async fn fetch(ms: u64) -> String {
    eddy::sleep(Duration::from_millis(ms)).await;
    format!("response after {ms} ms")
}

#[eddy::main]
async fn main() {
    let start = Instant::now();

    // 1. wait_for: the fast call makes it, the slow one is cancelled.
    match eddy::wait_for(fetch(50), Duration::from_millis(200)).await {
        Ok(body) => println!("wait_for(fetch(50), 200 ms)  -> Ok({body:?})"),
        Err(e) => println!("wait_for(fetch(50), 200 ms)  -> Err({e})"),
    }
    match eddy::wait_for(fetch(500), Duration::from_millis(200)).await {
        Ok(body) => println!("wait_for(fetch(500), 200 ms) -> Ok({body:?})"),
        Err(e) => println!("wait_for(fetch(500), 200 ms) -> Err({e})"),
    }

    // 2. A deadline scope of 100 ms; halfway through, the body learns it
    //    needs more time and pushes the deadline out by 300 ms.
    let result = deadline(Duration::from_millis(100), |scope| async move {
        let first = fetch(60).await;
        println!(
            "scope: first part done ({first}), deadline in {:?}",
            until(scope.when())
        );
        scope.reschedule(Some(Instant::now() + Duration::from_millis(300)));
        println!(
            "scope: rescheduled, deadline now in {:?}",
            until(scope.when())
        );
        let second = fetch(150).await; // would have missed the original deadline
        format!("both parts: {first}; {second}")
    })
    .await;
    println!("deadline scope -> {result:?}");

    // 3. An interval of 50 ms, inside a scope that ends it after ~275 ms.
    let ticks = Rc::new(Cell::new(0u32));
    let counted = ticks.clone();
    let outcome = deadline(Duration::from_millis(275), |_scope| async move {
        let mut every = interval(Duration::from_millis(50));
        loop {
            let at = every.tick().await;
            counted.set(counted.get() + 1);
            println!("tick {} at +{:?}", counted.get(), at.duration_since(start));
        }
    })
    .await;
    println!(
        "interval scope -> {outcome:?} after {} ticks; total {:.2?}",
        ticks.get(),
        start.elapsed()
    );
}

/// Time left until `when`, for printing.
fn until(when: Option<Instant>) -> Option<Duration> {
    when.map(|w| w.duration_since(Instant::now()))
}
