//! Hello, eddy — the asyncio classic: two tasks each sleep one second and
//! print; because they sleep concurrently on one loop, the program finishes
//! after about one second, not two.
//!
//! ```python
//! async def say_after(delay, what):
//!     await asyncio.sleep(delay)
//!     print(what)
//!
//! async def main():
//!     t1 = asyncio.create_task(say_after(1, "hello"))
//!     t2 = asyncio.create_task(say_after(1, "world"))
//!     await t1
//!     await t2
//! ```
//!
//! Run with `cargo run --release --example hello`.

use std::time::{Duration, Instant};

async fn say_after(delay: Duration, what: &str) {
    eddy::sleep(delay).await;
    println!("{what}");
}

#[eddy::main]
async fn main() {
    let start = Instant::now();
    println!("started");
    let t1 = eddy::spawn(say_after(Duration::from_secs(1), "hello"));
    let t2 = eddy::spawn(say_after(Duration::from_secs(1), "world"));
    t1.await.unwrap();
    t2.await.unwrap();
    println!(
        "finished in {:.2?} (two 1 s sleeps, run concurrently)",
        start.elapsed()
    );
}
