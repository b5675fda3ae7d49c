//! asyncio.gather, the seed exercise: fetch_data(1), fetch_data(2) and
//! fetch_data(3) run concurrently — done in ~3 s with the results in
//! argument order — then the same awaited one after another (~6 s).
//!
//! ```python
//! results = await asyncio.gather(fetch_data(1), fetch_data(2), fetch_data(3))
//! ```
//!
//! Run with `cargo run --release --example gather`.

use std::time::{Duration, Instant};

async fn fetch_data(id: u64) -> String {
    println!("  fetch_data({id}): start, takes {id} s");
    eddy::sleep(Duration::from_secs(id)).await;
    println!("  fetch_data({id}): done");
    format!("data {id}")
}

#[eddy::main]
async fn main() {
    println!("concurrently with gather!:");
    let start = Instant::now();
    // Completion order is 1, 2, 3 but would be the same in any order:
    // gather returns results in the order the futures were given.
    let (c, b, a) = eddy::gather!(fetch_data(3), fetch_data(2), fetch_data(1)).await;
    println!("  results {:?} in {:.2?}", [c, b, a], start.elapsed());

    println!("concurrently with gather_all (a list):");
    let start = Instant::now();
    let all = eddy::gather_all((1..=3).map(fetch_data)).await;
    println!("  results {all:?} in {:.2?}", start.elapsed());

    println!("sequentially, for comparison:");
    let start = Instant::now();
    let mut results = Vec::new();
    for id in 1..=3 {
        results.push(fetch_data(id).await);
    }
    println!("  results {results:?} in {:.2?}", start.elapsed());
}
