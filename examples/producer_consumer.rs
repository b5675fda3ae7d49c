//! asyncio.Queue with task_done/join and shutdown: two producers put jobs
//! into a bounded queue, three workers take them; `join` waits until every
//! job was marked done, then `shutdown` ends the workers' `get` loops.
//!
//! ```python
//! queue = asyncio.Queue(maxsize=4)
//! ...
//! await queue.join()      # every item processed
//! queue.shutdown()        # workers' get() raises QueueShutDown
//! ```
//!
//! Run with `cargo run --release --example producer_consumer`.

use std::rc::Rc;
use std::time::{Duration, Instant};

use eddy::sync::{Queue, TryPutError};

async fn producer(name: &'static str, queue: Rc<Queue<(String, u64)>>, jobs: u64) {
    for n in 1..=jobs {
        let job = (format!("{name}-{n}"), 20 + 10 * (n % 3));
        // put waits while the queue holds maxsize items (back-pressure).
        queue
            .put(job)
            .await
            .expect("the queue is shut down only after join");
    }
    println!("{name}: put {jobs} jobs");
}

async fn worker(id: u32, queue: Rc<Queue<(String, u64)>>) -> u32 {
    let mut done = 0;
    // get() fails with QueueShutDown once the queue is shut down and empty.
    while let Ok((job, ms)) = queue.get().await {
        eddy::sleep(Duration::from_millis(ms)).await; // the work
        println!("  worker {id}: {job} took {ms} ms");
        done += 1;
        queue.task_done().expect("one task_done per item got");
    }
    println!("  worker {id}: queue shut down, stopping after {done} jobs");
    done
}

#[eddy::main]
async fn main() {
    let start = Instant::now();
    let queue = Rc::new(Queue::new(4));

    let workers: Vec<_> = (1..=3)
        .map(|id| eddy::spawn(worker(id, queue.clone())))
        .collect();
    let producers = [
        eddy::spawn(producer("alpha", queue.clone(), 6)),
        eddy::spawn(producer("beta", queue.clone(), 6)),
    ];
    for p in producers {
        p.await.unwrap();
    }

    queue.join().await; // until every put item was task_done()
    println!(
        "join: all {} jobs processed after {:.2?}",
        12,
        start.elapsed()
    );

    queue.shutdown(false); // wake the idle workers: their get() now fails
    let per_worker = eddy::gather_all(workers).await;
    let total: u32 = per_worker.into_iter().map(Result::unwrap).sum();
    println!("workers processed {total} jobs in all");

    // The non-waiting forms report QueueFull / QueueShutDown right away.
    let small = Queue::new(1);
    small.try_put("first").unwrap();
    if let Err(TryPutError::QueueFull(item)) = small.try_put("second") {
        println!("try_put on a full queue: QueueFull, {item:?} handed back");
    }
    small.shutdown(true); // immediate: drops the queued item and counts it done
    println!(
        "after shutdown(immediate): len {}, try_get -> {:?}",
        small.len(),
        small.try_get()
    );
}
