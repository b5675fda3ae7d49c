//! A tour of asyncio's concepts in eddy, in the order a course teaches them.
//! Each stop prints what it shows (coroutines, tasks, gather, TaskGroup,
//! timeouts, queues, streams over loopback, a subprocess, to_thread); the
//! whole run takes under a second.
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

async fn streams() {
    stop(7, "streams: a line-echo server and a client over loopback");
    let server = eddy::io::start_server(
        "127.0.0.1:0",
        |mut r: eddy::io::StreamReader, mut w: eddy::io::StreamWriter| async move {
            while let Ok(line) = r.read_line().await {
                if line.is_empty() {
                    break; // the client closed its side
                }
                let _ = w.write(&line.to_ascii_uppercase());
                let _ = w.drain().await;
            }
        },
    )
    .await
    .expect("bind a loopback port");
    let addr = server.local_addr().unwrap();
    let (mut r, mut w) = eddy::io::open_connection(&addr.to_string()).await.unwrap();
    for word in ["ping\n", "asyncio\n"] {
        w.write(word.as_bytes()).unwrap();
        let reply = r.read_line().await.unwrap();
        println!(
            "sent {:?}, the server answered {:?}",
            word.trim(),
            String::from_utf8_lossy(&reply).trim()
        );
    }
    w.write_eof();
    server.close();
    server.wait_closed().await;
    println!("server closed after its last connection ended");
}

async fn subprocess() {
    stop(
        8,
        "subprocess: run a child, feed its stdin, collect its output",
    );
    let mut child = eddy::process::Command::new("sort")
        .stdin(eddy::process::Stdio::piped())
        .stdout(eddy::process::Stdio::piped())
        .spawn()
        .expect("spawn sort");
    let (out, _err) = child
        .communicate(Some(b"pear\napple\nfig\n".to_vec()))
        .await
        .unwrap();
    let status = child.wait().await.unwrap();
    println!(
        "sort printed {:?} and exited with {status}",
        String::from_utf8_lossy(&out).lines().collect::<Vec<_>>()
    );
}

async fn to_thread() {
    stop(
        9,
        "to_thread: blocking calls on the pool, the loop stays free",
    );
    let start = Instant::now();
    let calls = (0..4).map(|i| {
        eddy::to_thread(move || {
            std::thread::sleep(Duration::from_millis(100));
            i
        })
    });
    let done: Vec<u32> = eddy::gather_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    println!(
        "four 100 ms blocking calls {done:?} finished together in {:.2} s",
        start.elapsed().as_secs_f64()
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
    streams().await;
    subprocess().await;
    to_thread().await;
    println!("\ntour finished in {:.2?}", start.elapsed());
}
