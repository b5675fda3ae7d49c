//! Hello, eddy: spawn tasks, join them, cancel one.
//!
//! Run with `cargo run --release --example hello`.

use std::time::Instant;

fn main() {
    let start = Instant::now();
    eddy::run(async {
        // Two tasks run concurrently on one loop; join them in order.
        let greet = eddy::spawn(async {
            eddy::yield_now().await;
            "Hello"
        });
        let name = eddy::task::Builder::new()
            .name("name")
            .spawn(async { "eddy" });
        println!("{}, {}!", greet.await.unwrap(), name.await.unwrap());

        // A task that would never finish is cancelled: its future is
        // dropped at the next scheduling point and the handle says so.
        let forever = eddy::spawn(std::future::pending::<()>());
        forever.cancel();
        match forever.await {
            Err(e) if e.is_cancelled() => println!("cancelled: {e}"),
            other => println!("unexpected: {other:?}"),
        }
    });
    println!("finished in {:.1?}", start.elapsed());
}
