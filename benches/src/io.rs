//! `compare` workloads for the io area (eddy vs tokio).
//!
//! * `tcp_echo`: 50 loopback connections, each sending a 1 KiB message and
//!   reading the echo back, a fixed number of times. Server and clients run
//!   on the one loop under test (eddy's loop, tokio's current-thread
//!   runtime), with the same client and server logic on both; the figure
//!   is ns per round trip, connection setup not included.
//! * `sendfile`: an 8 MiB file (in the page cache) sent over one loopback
//!   connection to a task that reads it all, a few times over; ns per MiB,
//!   connection setup not included, opening the file included. The
//!   workload is the same on both sides (file to socket, the way each
//!   runtime would serve it) but the mechanisms differ: eddy's
//!   `TcpStream::sendfile` has the kernel copy the file to the socket
//!   (`sendfile(2)`, no copy through user space), while tokio, which has
//!   no sendfile, does it the idiomatic way, `tokio::fs::File` read on the
//!   blocking pool and `tokio::io::copy` into the `TcpStream`.

use std::time::{Duration, Instant};

use crate::Workload;

/// Concurrent connections.
pub const CONNECTIONS: usize = 50;
/// Message size in bytes.
pub const MESSAGE: usize = 1024;

/// The io workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "tcp_echo",
            run: tcp_echo,
        },
        Workload {
            name: "sendfile",
            run: sendfile,
        },
    ]
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

/// Size of the `sendfile` workload's file.
pub const SENDFILE_LEN: usize = 8 << 20;

/// The `sendfile` workload's file, removed when dropped.
pub struct BenchFile(std::path::PathBuf);

impl BenchFile {
    /// Writes [`SENDFILE_LEN`] bytes to a new file in the temporary
    /// directory.
    pub fn new() -> BenchFile {
        let path = std::env::temp_dir().join(format!(
            "eddy-bench-sendfile-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let data: Vec<u8> = (0..SENDFILE_LEN).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, data).expect("write the sendfile bench file");
        BenchFile(path)
    }

    /// Where the file is.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Default for BenchFile {
    fn default() -> Self {
        BenchFile::new()
    }
}

impl Drop for BenchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn sendfile(quick: bool) -> Option<(f64, f64)> {
    let rounds = if quick { 4 } else { 8 };
    let samples = if quick { 5 } else { 15 };
    let file = BenchFile::new();
    let mut e = Vec::new();
    let mut t = Vec::new();
    eddy_sendfile(file.path(), rounds);
    tokio_sendfile(file.path(), rounds);
    for _ in 0..samples {
        e.push(eddy_sendfile(file.path(), rounds));
        t.push(tokio_sendfile(file.path(), rounds));
    }
    e.sort();
    t.sort();
    let mib = (rounds * SENDFILE_LEN / (1 << 20)) as f64;
    Some((
        e[e.len() / 2].as_nanos() as f64 / mib,
        t[t.len() / 2].as_nanos() as f64 / mib,
    ))
}

/// Sends the file at `path` `rounds` times over one loopback connection
/// with eddy's `TcpStream::sendfile` (opening it each time, as a server
/// does per request) to a task that reads it all; returns the time of the
/// transfers.
pub fn eddy_sendfile(path: &std::path::Path, rounds: usize) -> Duration {
    use futures::io::AsyncReadExt;
    let path = path.to_owned();
    let rt = eddy::Runtime::new().expect("eddy runtime");
    rt.block_on(async move {
        let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) =
            futures::join!(eddy::net::TcpStream::connect(addr), listener.accept());
        let (client, (mut server, _)) = (client.unwrap(), accepted.unwrap());
        let start = Instant::now();
        let reader = eddy::spawn(async move {
            let mut buf = vec![0u8; 256 * 1024];
            let mut left = rounds * SENDFILE_LEN;
            while left > 0 {
                let n = server.read(&mut buf).await.unwrap();
                assert!(n > 0, "the sender stopped early");
                left -= n;
            }
        });
        for _ in 0..rounds {
            let file = std::fs::File::open(&path).unwrap();
            let sent = client.sendfile(&file, 0, None).await.unwrap();
            assert_eq!(sent, SENDFILE_LEN as u64);
        }
        reader.await.unwrap();
        start.elapsed()
    })
}

/// The same transfers on tokio, which has no sendfile: `tokio::fs::File`
/// and `tokio::io::copy` into the `TcpStream`.
pub fn tokio_sendfile(path: &std::path::Path, rounds: usize) -> Duration {
    use tokio::io::AsyncReadExt;
    let path = path.to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) =
            tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
        let (mut client, (mut server, _)) = (client.unwrap(), accepted.unwrap());
        let start = Instant::now();
        let reader = tokio::spawn(async move {
            let mut buf = vec![0u8; 256 * 1024];
            let mut left = rounds * SENDFILE_LEN;
            while left > 0 {
                let n = server.read(&mut buf).await.unwrap();
                assert!(n > 0, "the sender stopped early");
                left -= n;
            }
        });
        for _ in 0..rounds {
            let mut file = tokio::fs::File::open(&path).await.unwrap();
            let sent = tokio::io::copy(&mut file, &mut client).await.unwrap();
            assert_eq!(sent, SENDFILE_LEN as u64);
        }
        reader.await.unwrap();
        start.elapsed()
    })
}
