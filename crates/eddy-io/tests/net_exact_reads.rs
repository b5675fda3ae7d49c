//! TCP reads that exactly fill their buffer. After such a read the stream
//! asks the kernel how much is still queued (TCP_INQ on Linux) and, when
//! nothing is, waits for the next event instead of reading into EAGAIN.
//! These tests check that the shortcut never loses data, a wake-up or the
//! end of stream, whatever order data, FIN and reads come in.

mod common;

use eddy_io::net::{TcpListener, TcpStream};
use futures::io::{AsyncReadExt, AsyncWriteExt};

/// A connected pair on one loop: (client, server side).
async fn connected() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

fn message(round: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| (round * 7 + i) as u8).collect()
}

#[test]
fn exact_size_messages_round_trip_without_a_lost_wake_up() {
    common::run(async {
        let (mut client, mut server) = connected().await;
        let echo = eddy_core::spawn(async move {
            let mut buf = vec![0u8; 1024];
            loop {
                let n = server.read(&mut buf).await.unwrap();
                if n == 0 {
                    return;
                }
                server.write_all(&buf[..n]).await.unwrap();
            }
        });
        let mut back = vec![0u8; 1024];
        for round in 0..2_000 {
            let msg = message(round, 1024);
            client.write_all(&msg).await.unwrap();
            client.read_exact(&mut back).await.unwrap();
            assert_eq!(back, msg, "round {round}");
        }
        client.close().await.unwrap();
        echo.await.unwrap();
    });
}

#[test]
fn exact_size_reads_then_end_of_stream() {
    common::run(async {
        for chunks in [1usize, 2, 5] {
            let (mut client, mut server) = connected().await;
            let sent: Vec<u8> = (0..chunks).flat_map(|c| message(c, 512)).collect();
            // Data and FIN are both queued before the first read.
            server.write_all(&sent).await.unwrap();
            server.close().await.unwrap();
            drop(server);
            let mut got = Vec::new();
            let mut buf = vec![0u8; 512];
            loop {
                let n = client.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, sent, "{chunks} chunks");
        }
    });
}

#[test]
fn end_of_stream_arriving_after_a_draining_read_is_seen() {
    common::run(async {
        let (mut client, mut server) = connected().await;
        let (go, wait) = futures::channel::oneshot::channel::<()>();
        let writer = eddy_core::spawn(async move {
            server.write_all(&message(0, 256)).await.unwrap();
            server.write_all(&message(1, 256)).await.unwrap();
            // Close only after the reader has drained both messages.
            wait.await.unwrap();
            server.close().await.unwrap();
        });
        let mut buf = vec![0u8; 256];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(buf, message(0, 256));
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(buf, message(1, 256));
        go.send(()).unwrap();
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        writer.await.unwrap();
    });
}

#[test]
fn full_short_and_full_reads_interleaved_lose_nothing() {
    common::run(async {
        let (mut client, mut server) = connected().await;
        // Message sizes chosen so reads of 100 bytes come out full, short,
        // and full again, switching the read policy back and forth.
        let sizes = [100usize, 100, 37, 300, 1, 100, 250, 99, 100, 100];
        let sent: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| message(i, n))
            .collect();
        let all: Vec<u8> = sent.concat();
        let (ack_tx, mut ack_rx) = futures::channel::mpsc::unbounded::<()>();
        let writer = eddy_core::spawn(async move {
            use futures::StreamExt;
            for msg in sent {
                server.write_all(&msg).await.unwrap();
                // One message in flight at a time, so each read sees the
                // socket holding exactly what this message left.
                ack_rx.next().await.unwrap();
            }
            server.close().await.unwrap();
        });
        let mut got = Vec::new();
        let mut buf = vec![0u8; 100];
        let mut expected_len = 0;
        for &n in &sizes {
            expected_len += n;
            while got.len() < expected_len {
                let k = client.read(&mut buf).await.unwrap();
                assert!(k > 0, "early end of stream");
                got.extend_from_slice(&buf[..k]);
            }
            ack_tx.unbounded_send(()).unwrap();
        }
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        assert_eq!(got, all);
        writer.await.unwrap();
    });
}

#[test]
fn large_transfer_in_exact_chunks_arrives_intact() {
    common::run(async {
        let (mut client, mut server) = connected().await;
        let total = 8 * 1024 * 1024;
        let data: Vec<u8> = (0..total).map(|i| (i % 253) as u8).collect();
        let sent = data.clone();
        let writer = eddy_core::spawn(async move {
            for chunk in sent.chunks(4096) {
                server.write_all(chunk).await.unwrap();
            }
            server.close().await.unwrap();
        });
        let mut got = Vec::with_capacity(total);
        let mut buf = vec![0u8; 4096];
        loop {
            let n = client.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert!(got == data, "transfer corrupted");
        writer.await.unwrap();
    });
}
