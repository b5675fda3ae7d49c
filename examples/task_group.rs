//! asyncio.TaskGroup: fetch three "pages" concurrently; one fails, so the
//! group cancels the other two and `join` hands back every failure in an
//! `ErrorGroup`.
//!
//! ```python
//! async with asyncio.TaskGroup() as tg:
//!     for url in urls:
//!         tg.create_task(fetch(url))
//! ```
//!
//! Run with `cargo run --release --example task_group`.

use std::fmt;
use std::time::{Duration, Instant};

use eddy::TaskGroup;

/// Why a fetch failed.
#[derive(Debug)]
struct FetchError {
    url: &'static str,
    status: u16,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} answered {}", self.url, self.status)
    }
}

/// Prints on drop, so the output shows which fetches were cancelled.
struct Announce(&'static str, bool);

impl Drop for Announce {
    fn drop(&mut self) {
        if !self.1 {
            println!("  {} cancelled (its future was dropped)", self.0);
        }
    }
}

async fn fetch(url: &'static str, ms: u64, status: u16) -> Result<String, FetchError> {
    let mut announce = Announce(url, false);
    println!("  {url}: fetching ({ms} ms)");
    eddy::sleep(Duration::from_millis(ms)).await;
    announce.1 = true;
    if status == 200 {
        println!("  {url}: done");
        Ok(format!("<html>{url}</html>"))
    } else {
        println!("  {url}: failed with {status}");
        Err(FetchError { url, status })
    }
}

#[eddy::main]
async fn main() {
    let start = Instant::now();

    println!("all pages good:");
    let group = TaskGroup::new();
    let a = group.spawn(fetch("/a", 100, 200)).unwrap();
    let b = group.spawn(fetch("/b", 150, 200)).unwrap();
    group.join().await.expect("nothing failed");
    println!("  got {} and {}", a.await.unwrap(), b.await.unwrap());

    println!("one page fails:");
    let group = TaskGroup::new();
    group.spawn(fetch("/home", 300, 200)).unwrap();
    group.spawn(fetch("/broken", 100, 500)).unwrap();
    group.spawn(fetch("/slow", 1000, 200)).unwrap();
    match group.join().await {
        Ok(()) => println!("  unexpected: every page loaded"),
        Err(errors) => println!(
            "  the group failed with {} error(s): {errors}",
            errors.len()
        ),
    }
    // The failing fetch ended the group at ~100 ms, not after the 1 s fetch.
    println!("finished in {:.2?}", start.elapsed());
}
