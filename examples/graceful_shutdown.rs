//! A TCP server that shuts down gracefully on SIGINT or SIGTERM: it stops
//! accepting, lets the connections in flight finish (within a deadline),
//! then exits 0.
//!
//! ```python
//! server = await asyncio.start_server(handle, "127.0.0.1", port)
//! stop = asyncio.Event()
//! for sig in (signal.SIGINT, signal.SIGTERM):
//!     loop.add_signal_handler(sig, stop.set)
//! await stop.wait()
//! server.close()                      # stop accepting
//! try:
//!     await asyncio.wait_for(server.wait_closed(), DEADLINE)
//! except TimeoutError:
//!     server.abort_clients()
//! ```
//!
//! Run with `cargo run --release --example graceful_shutdown -- 8890`
//! (port optional, default 0 = any free port), talk to it with
//! `nc 127.0.0.1 8890` (each line comes back after 200 ms of "work"), and
//! press Ctrl-C. With `--self-test` it starts a client, then sends itself
//! SIGTERM while the client's request is in flight, and exits by itself.

use std::time::Duration;

use eddy::io::{open_connection, start_server, Server, StreamReader, StreamWriter};
use eddy::signal::unix::{signal, SignalKind};
use futures::future::{select, Either};

/// How long connections in flight may take once shutdown starts.
const DEADLINE: Duration = Duration::from_secs(5);

/// Answers each line after a little "work".
async fn handle(mut reader: StreamReader, mut writer: StreamWriter) -> std::io::Result<()> {
    loop {
        let line = reader.read_line().await?;
        if line.is_empty() {
            return Ok(()); // the client closed
        }
        eddy::sleep(Duration::from_millis(200)).await;
        writer.write(b"done: ")?;
        writer.write(&line)?;
        writer.drain().await?;
    }
}

/// Waits for SIGINT or SIGTERM; returns the signal's name.
async fn shutdown_signal() -> std::io::Result<&'static str> {
    let mut term = signal(SignalKind::terminate())?;
    let ctrl_c = eddy::signal::ctrl_c();
    let term = term.recv();
    futures::pin_mut!(ctrl_c, term);
    Ok(match select(ctrl_c, term).await {
        Either::Left((res, _)) => {
            res?;
            "SIGINT"
        }
        Either::Right(_) => "SIGTERM",
    })
}

/// The `--self-test` client: sends a request, has the server signalled
/// while the request is in flight, and checks the answer still arrives.
async fn self_test(addr: String) -> std::io::Result<()> {
    let (mut reader, mut writer) = open_connection(&addr).await?;
    writer.write(b"in flight\n")?;
    writer.drain().await?;
    eddy::sleep(Duration::from_millis(50)).await;
    let pid = std::process::id().to_string();
    let status = eddy::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await?;
    assert!(status.success(), "kill failed: {status}");
    let answer = reader.read_line().await?;
    assert_eq!(answer, b"done: in flight\n");
    println!(
        "self-test client: got {:?}",
        String::from_utf8_lossy(&answer)
    );
    // Dropping the streams closes the connection, so the server can finish.
    Ok(())
}

async fn drain_connections(server: &Server) {
    server.close();
    match eddy::time::timeout(DEADLINE, server.wait_closed()).await {
        Ok(()) => println!("all connections finished"),
        Err(_) => {
            println!(
                "deadline passed with {} connections left: aborting them",
                server.connection_count()
            );
            server.abort_clients();
            server.wait_closed().await;
        }
    }
}

#[eddy::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let self_testing = args.iter().any(|a| a == "--self-test");
    let port = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or("0", String::as_str);

    let server = start_server(&format!("127.0.0.1:{port}"), handle).await?;
    let addr = server.local_addr().expect("a TCP server").to_string();
    println!("listening on {addr} (Ctrl-C or SIGTERM to stop)");

    // Install the handlers before anything can send the signal.
    let stop = shutdown_signal();
    futures::pin_mut!(stop);
    let client = if self_testing {
        // Let `stop` subscribe first (it does on its first poll).
        assert!(futures::poll!(stop.as_mut()).is_pending());
        Some(eddy::spawn(self_test(addr)))
    } else {
        None
    };

    let name = stop.await?;
    println!("{name}: no longer accepting; waiting up to {DEADLINE:?} for connections");
    drain_connections(&server).await;
    if let Some(client) = client {
        client.await.expect("self-test client panicked")?;
    }
    println!("bye");
    Ok(())
}
