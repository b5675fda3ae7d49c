//! A tour of asyncio's concepts in eddy, in the order a course teaches them.
//! Each stop prints what it shows; the whole run takes a few seconds.
//!
//! Run with `cargo run --release --example tour`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use eddy::sync::Queue;
use eddy::TaskGroup;

fn stop(n: u32, title: &str) {
    println!("\n== {n}. {title}");
}

/// 1. A coroutine: an `async fn` does nothing until awaited or spawned.
async fn greet(name: &str, delay_ms: u64) -> String {
    eddy::sleep(Duration::from_millis(delay_ms)).await;
    format!("hello, {name}")
}

async fn coroutines() {
    stop(1, "coroutines: an async fn is inert until awaited");
    let pending = greet("lazy", 10); // nothing has run yet
    println!("created the future; awaiting it now...");
    println!("got {:?}", pending.await);
}

async fn tasks() {
    stop(2, "tasks: spawn runs futures concurrently on the one loop");
    let start = Instant::now();
    let a = eddy::spawn(greet("task a", 200));
    let b = eddy::spawn(greet("task b", 200));
    println!("{} / {}", a.await.unwrap(), b.await.unwrap());
    println!("two 200 ms tasks took {:.0?} together", start.elapsed());

    let doomed = eddy::spawn(eddy::sleep(Duration::from_secs(3600)));
    doomed.cancel();
    println!("a cancelled task reports: {}", doomed.await.unwrap_err());
}

async fn gather() {
    stop(
        3,
        "gather: results in argument order, whatever the finishing order",
    );
    let start = Instant::now();
    let (slow, fast) = eddy::gather!(greet("slow", 150), greet("fast", 50)).await;
    println!("[{slow:?}, {fast:?}] in {:.0?}", start.elapsed());
}

async fn task_group() {
    stop(4, "TaskGroup: the first failure cancels the siblings");
    let log = Rc::new(RefCell::new(Vec::new()));
    let group = TaskGroup::new();
    for (name, ms, fail) in [
        ("fetch a", 100, false),
        ("fetch b", 30, true),
        ("fetch c", 500, false),
    ] {
        let log = log.clone();
        group
            .spawn(async move {
                eddy::sleep(Duration::from_millis(ms)).await;
                log.borrow_mut().push(name);
                if fail {
                    Err(format!("{name} failed"))
                } else {
                    Ok(())
                }
            })
            .unwrap();
    }
    let errors = group.join().await.unwrap_err();
    println!("finished: {:?}; errors: {errors}", log.borrow());
}

async fn timeouts() {
    stop(
        5,
        "timeouts: wait_for cancels what runs too long; deadlines move",
    );
    let r = eddy::wait_for(greet("too slow", 500), Duration::from_millis(50)).await;
    println!("wait_for(500 ms work, 50 ms) -> {r:?}");
    let r = eddy::time::deadline(Duration::from_millis(50), |scope| async move {
        scope.reschedule(Some(
            eddy::time::Instant::now() + Duration::from_millis(300),
        ));
        greet("rescheduled", 100).await
    })
    .await;
    println!("deadline 50 ms, rescheduled to 300 ms, 100 ms work -> {r:?}");
}

async fn queues() {
    stop(6, "queues: producers and consumers with task_done/join");
    let q = Rc::new(Queue::new(2));
    let consumer = {
        let q = q.clone();
        eddy::spawn(async move {
            let mut total = 0;
            while let Ok(n) = q.get().await {
                total += n;
                q.task_done().unwrap();
            }
            total
        })
    };
    for n in 1..=10 {
        q.put(n).await.unwrap();
    }
    q.join().await;
    q.shutdown(false);
    println!(
        "consumer summed {} (1..=10) through a queue of 2",
        consumer.await.unwrap()
    );
}

#[eddy::main]
async fn main() {
    let start = Instant::now();
    coroutines().await;
    tasks().await;
    gather().await;
    task_group().await;
    timeouts().await;
    queues().await;
    println!("\ntour finished in {:.2?}", start.elapsed());
}
