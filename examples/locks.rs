//! asyncio's synchronization primitives, one scene each: a Mutex guarding
//! shared data, a Semaphore limiting concurrency, an Event as a starting
//! gun, a Condition for "wait until the value says so", and a Barrier.
//!
//! Run with `cargo run --release --example locks`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use eddy::sync::{Barrier, Condition, Event, Mutex, Semaphore};

#[eddy::main]
async fn main() {
    // Mutex: 5 tasks append to one Vec; the guard is held across an await,
    // which is what the async mutex is for.
    let log = Rc::new(Mutex::new(Vec::new()));
    let writers = (0..5).map(|i| {
        let log = log.clone();
        eddy::spawn(async move {
            let mut entries = log.lock().await;
            eddy::sleep(Duration::from_millis(5)).await; // still holding the lock
            entries.push(i);
        })
    });
    eddy::gather_all(writers).await;
    println!("Mutex: entries in FIFO lock order {:?}", *log.lock().await);

    // Semaphore: 8 downloads, at most 3 at a time.
    let slots = Rc::new(Semaphore::new(3));
    let running = Rc::new(Cell::new(0));
    let peak = Rc::new(Cell::new(0));
    let downloads = (0..8).map(|_| {
        let (slots, running, peak) = (slots.clone(), running.clone(), peak.clone());
        eddy::spawn(async move {
            let _permit = slots.acquire().await;
            running.set(running.get() + 1);
            peak.set(peak.get().max(running.get()));
            eddy::sleep(Duration::from_millis(20)).await;
            running.set(running.get() - 1);
        })
    });
    eddy::gather_all(downloads).await;
    println!("Semaphore(3): 8 downloads, at most {} at once", peak.get());

    // Event: runners wait for the starting gun; set() releases all of them.
    let gun = Rc::new(Event::new());
    let runners: Vec<_> = (1..=3)
        .map(|n| {
            let gun = gun.clone();
            eddy::spawn(async move {
                gun.wait().await;
                format!("runner {n} off")
            })
        })
        .collect();
    eddy::sleep(Duration::from_millis(10)).await;
    println!("Event: set after 10 ms");
    gun.set();
    for r in runners {
        println!("  {}", r.await.unwrap());
    }

    // Condition: a consumer waits until the stock reaches 3.
    let stock = Rc::new(Condition::new(0u32));
    let consumer = {
        let stock = stock.clone();
        eddy::spawn(async move {
            let guard = stock.wait_for(stock.lock().await, |n| *n >= 3).await;
            *guard
        })
    };
    for _ in 0..3 {
        eddy::sleep(Duration::from_millis(5)).await;
        *stock.lock().await += 1;
        stock.notify_all();
    }
    println!("Condition: consumer saw stock {}", consumer.await.unwrap());

    // Barrier: 3 parties meet; each gets a distinct index, one is "leader".
    let barrier = Rc::new(Barrier::new(3));
    let parties = (0..3).map(|i| {
        let barrier = barrier.clone();
        eddy::spawn(async move {
            eddy::sleep(Duration::from_millis(5 * i)).await;
            barrier.wait().await.expect("nobody aborts this barrier")
        })
    });
    let mut indices: Vec<usize> = eddy::gather_all(parties)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    indices.sort_unstable();
    println!(
        "Barrier(3): indices {indices:?}; barrier broken: {}",
        barrier.is_broken()
    );
}
