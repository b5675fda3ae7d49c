//! `compare` workloads for the io area (eddy vs tokio).
//!
//! * `tcp_echo`: 50 loopback connections, each sending a 1 KiB message and
//!   reading the echo back, a fixed number of times. Server and clients run
//!   on the one loop under test (eddy's loop, tokio's current-thread
//!   runtime), with the same client and server logic on both; the figure
//!   is ns per round trip, connection setup not included.

use std::time::{Duration, Instant};

use crate::Workload;

/// Concurrent connections.
pub const CONNECTIONS: usize = 50;
/// Message size in bytes.
pub const MESSAGE: usize = 1024;

/// The io workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    vec![Workload {
        name: "tcp_echo",
        run: tcp_echo,
    }]
}

fn tcp_echo(quick: bool) -> Option<(f64, f64)> {
    let rounds = if quick { 200 } else { 1000 };
    let samples = if quick { 5 } else { 15 };
    let mut e = Vec::new();
    let mut t = Vec::new();
    // One warm-up each, then interleaved samples so noise hits both alike.
    eddy_echo(rounds);
    tokio_echo(rounds);
    for _ in 0..samples {
        e.push(eddy_echo(rounds));
        t.push(tokio_echo(rounds));
    }
    e.sort();
    t.sort();
    let per = (CONNECTIONS * rounds) as f64;
    Some((
        e[e.len() / 2].as_nanos() as f64 / per,
        t[t.len() / 2].as_nanos() as f64 / per,
    ))
}

/// Runs the echo exchange on eddy and returns the time of the exchange.
pub fn eddy_echo(rounds: usize) -> Duration {
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    let rt = eddy::Runtime::new().expect("eddy runtime");
    rt.block_on(async move {
        let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = eddy::spawn(async move {
            for _ in 0..CONNECTIONS {
                let (mut s, _) = listener.accept().await.unwrap();
                s.set_nodelay(true).unwrap();
                eddy::spawn(async move {
                    let mut buf = vec![0u8; MESSAGE];
                    loop {
                        let n = s.read(&mut buf).await.unwrap();
                        if n == 0 {
                            return;
                        }
                        s.write_all(&buf[..n]).await.unwrap();
                    }
                });
            }
        });
        let mut clients = Vec::new();
        for _ in 0..CONNECTIONS {
            let c = eddy::net::TcpStream::connect(addr).await.unwrap();
            c.set_nodelay(true).unwrap();
            clients.push(c);
        }
        server.await.unwrap();
        let start = Instant::now();
        let tasks: Vec<_> = clients
            .into_iter()
            .map(|mut c| {
                eddy::spawn(async move {
                    let msg = vec![7u8; MESSAGE];
                    let mut back = vec![0u8; MESSAGE];
                    for _ in 0..rounds {
                        c.write_all(&msg).await.unwrap();
                        c.read_exact(&mut back).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        start.elapsed()
    })
}

/// Runs the echo exchange on tokio and returns the time of the exchange.
pub fn tokio_echo(rounds: usize) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            for _ in 0..CONNECTIONS {
                let (mut s, _) = listener.accept().await.unwrap();
                s.set_nodelay(true).unwrap();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; MESSAGE];
                    loop {
                        let n = s.read(&mut buf).await.unwrap();
                        if n == 0 {
                            return;
                        }
                        s.write_all(&buf[..n]).await.unwrap();
                    }
                });
            }
        });
        let mut clients = Vec::new();
        for _ in 0..CONNECTIONS {
            let c = tokio::net::TcpStream::connect(addr).await.unwrap();
            c.set_nodelay(true).unwrap();
            clients.push(c);
        }
        server.await.unwrap();
        let start = Instant::now();
        let tasks: Vec<_> = clients
            .into_iter()
            .map(|mut c| {
                tokio::spawn(async move {
                    let msg = vec![7u8; MESSAGE];
                    let mut back = vec![0u8; MESSAGE];
                    for _ in 0..rounds {
                        c.write_all(&msg).await.unwrap();
                        c.read_exact(&mut back).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        start.elapsed()
    })
}
