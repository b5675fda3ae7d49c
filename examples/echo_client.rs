//! An echo client load generator: opens N connections to an echo server,
//! each sends a message and waits for it to come back, over and over for a
//! fixed duration, then prints round trips per second and exits.
//!
//! Run `cargo run --release --example echo_server -- 8888` first, then
//! `cargo run --release --example echo_client -- 127.0.0.1:8888 [CONNS]
//! [SECONDS] [MSG_BYTES]` (defaults: 50 connections, 3 s, 64 bytes).

use std::time::{Duration, Instant};

use eddy::io::open_connection;

async fn client(addr: String, msg_len: usize, until: Instant) -> std::io::Result<u64> {
    let (mut reader, mut writer) = open_connection(&addr).await?;
    let msg = vec![b'x'; msg_len];
    let mut round_trips = 0;
    while Instant::now() < until {
        writer.write(&msg)?;
        writer.drain().await?;
        let echoed = reader.read_exactly(msg_len).await?;
        assert_eq!(echoed, msg, "the server sent back something else");
        round_trips += 1;
    }
    writer.close();
    writer.wait_closed().await;
    Ok(round_trips)
}

#[eddy::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8888".into());
    let conns: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let msg_len: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);

    let start = Instant::now();
    let until = start + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..conns)
        .map(|_| eddy::spawn(client(addr.clone(), msg_len, until)))
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("client task")?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{conns} connections, {msg_len}-byte messages: {total} round trips in {elapsed:.2} s = {:.0} round trips/s",
        total as f64 / elapsed
    );
    Ok(())
}
