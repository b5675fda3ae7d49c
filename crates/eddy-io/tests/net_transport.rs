//! Transport-level features of the sockets and stream writers: `sendfile`
//! (asyncio's `loop.sendfile`/`sock_sendfile`), the writer's socket and
//! addresses (`get_extra_info("socket")`/`"sockname"`), and what
//! `into_std` hands back.

mod common;

use std::io::{Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;

use common::run;
use common::stress::{race_yields, tcp_pair, yields};
use eddy_io::io::{open_connection, open_unix_connection, start_server, start_unix_server};
use eddy_io::io::{StreamWriter, WriteError};
use eddy_io::net::{TcpListener, TcpStream, UnixStream};
use futures::io::{AsyncRead, AsyncReadExt};

const MIB: usize = 1 << 20;

/// `len` bytes that differ from position to position (a byte that went
/// missing or came twice shows).
fn pattern(len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len.next_multiple_of(8)];
    for (i, word) in out.chunks_exact_mut(8).enumerate() {
        word.copy_from_slice(&(i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A temporary file holding `data`, its position left at the end.
fn file_with(data: &[u8]) -> std::fs::File {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(data).unwrap();
    file
}

/// Everything `r` sends until end of stream.
async fn read_all(mut r: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut all = Vec::new();
    r.read_to_end(&mut all).await.unwrap();
    all
}

async fn tcp() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    tcp_pair(&listener).await
}

#[test]
fn a_16_mib_file_arrives_intact() {
    run(async {
        let data = pattern(16 * MIB);
        let file = file_with(&data);
        let (tx, rx) = tcp().await;
        let reader = eddy_core::spawn(read_all(rx));
        assert_eq!(
            tx.sendfile(&file, 0, None).await.unwrap(),
            data.len() as u64
        );
        drop(tx);
        assert!(reader.await.unwrap() == data, "the bytes differ");
    });
}

#[test]
fn offset_and_count_select_the_range_and_a_count_past_the_end_sends_what_there_is() {
    run(async {
        let data = pattern(1000);
        let file = file_with(&data);
        let (tx, rx) = UnixStream::pair().unwrap();
        let reader = eddy_core::spawn(read_all(rx));
        assert_eq!(tx.sendfile(&file, 100, Some(300)).await.unwrap(), 300);
        assert_eq!(tx.sendfile(&file, 900, Some(500)).await.unwrap(), 100);
        assert_eq!(tx.sendfile(&file, 5000, None).await.unwrap(), 0);
        assert_eq!(tx.sendfile(&file, 0, Some(0)).await.unwrap(), 0);
        drop(tx);
        let got = reader.await.unwrap();
        assert_eq!(got.len(), 400);
        assert_eq!(&got[..300], &data[100..400]);
        assert_eq!(&got[300..], &data[900..]);
    });
}

#[test]
fn the_file_position_is_neither_used_nor_moved() {
    run(async {
        let data = pattern(10_000);
        let mut file = file_with(&data);
        file.seek(SeekFrom::Start(1234)).unwrap();
        let (tx, rx) = tcp().await;
        let reader = eddy_core::spawn(read_all(rx));
        assert_eq!(tx.sendfile(&file, 0, None).await.unwrap(), 10_000);
        assert_eq!(file.stream_position().unwrap(), 1234);
        drop(tx);
        assert_eq!(reader.await.unwrap(), data);
    });
}

#[test]
fn a_peer_that_reads_only_later_still_gets_everything() {
    run(async {
        let data = pattern(8 * MIB);
        let file = file_with(&data);
        // A Unix socket buffers a few hundred KiB: the sender must wait.
        let (tx, rx) = UnixStream::pair().unwrap();
        let sender = eddy_core::spawn(async move { tx.sendfile(&file, 0, None).await });
        yields(50).await;
        assert!(!sender.is_finished(), "8 MiB went out with nobody reading");
        let got = read_all(rx).await;
        assert_eq!(sender.await.unwrap().unwrap(), data.len() as u64);
        assert!(got == data, "the bytes differ");
    });
}

#[test]
fn a_dropped_transfer_says_how_far_it_got_and_resumes_from_there() {
    run(async {
        let data = pattern(4 * MIB);
        let file = file_with(&data);
        let (tx, rx) = UnixStream::pair().unwrap();
        let mut sent = 0;
        let first = race_yields(tx.sendfile_with_progress(&file, 0, None, &mut sent), 200).await;
        assert!(first.is_none(), "4 MiB went out with nobody reading");
        assert!(sent > 0 && sent < data.len() as u64, "sent {sent}");
        let reader = eddy_core::spawn(read_all(rx));
        let rest = tx
            .sendfile_with_progress(&file, sent, None, &mut sent)
            .await
            .unwrap();
        assert_eq!(sent, data.len() as u64);
        assert_eq!(rest + (data.len() as u64 - rest), sent);
        drop(tx);
        assert!(reader.await.unwrap() == data, "the bytes differ");
    });
}

#[test]
fn a_pipe_as_the_source_goes_through_the_fallback() {
    run(async {
        let data = pattern(300_000); // more than a pipe holds
        let (pipe_rx, mut pipe_tx) = std::io::pipe().unwrap();
        let feeder = {
            let data = data.clone();
            std::thread::spawn(move || pipe_tx.write_all(&data))
        };
        let (tx, rx) = tcp().await;
        let reader = eddy_core::spawn(read_all(rx));
        // An offset cannot be honoured on a pipe.
        let e = tx.sendfile(&pipe_rx, 10, None).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
        assert_eq!(
            tx.sendfile(&pipe_rx, 0, None).await.unwrap(),
            data.len() as u64
        );
        feeder.join().unwrap().unwrap();
        drop(tx);
        assert!(reader.await.unwrap() == data, "the bytes differ");
    });
}

#[test]
fn a_proc_file_the_kernel_cannot_send_goes_through_the_fallback() {
    run(async {
        // sendfile(2) answers EINVAL for this one; pread works.
        let path = "/proc/self/cmdline";
        let expected = std::fs::read(path).unwrap();
        let file = std::fs::File::open(path).unwrap();
        let (tx, rx) = UnixStream::pair().unwrap();
        let reader = eddy_core::spawn(read_all(rx));
        let n = tx.sendfile(&file, 1, None).await.unwrap();
        assert_eq!(n, expected.len() as u64 - 1);
        drop(tx);
        assert_eq!(reader.await.unwrap(), expected[1..]);
    });
}

#[test]
fn a_file_not_open_for_reading_is_an_error() {
    run(async {
        let dir = tempfile::tempdir().unwrap();
        let file = std::fs::File::create(dir.path().join("w")).unwrap();
        let (tx, _rx) = UnixStream::pair().unwrap();
        let e = tx.sendfile(&file, 0, None).await.unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EBADF), "{e}");
    });
}

#[test]
fn a_stream_writer_sends_what_it_buffered_before_the_file() {
    run(async {
        let head = pattern(3 * MIB);
        let body = pattern(2 * MIB + 7);
        let file = file_with(&body);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (_r, mut w) = open_connection(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (peer, _) = listener.accept().await.unwrap();
        // Small socket buffers, so that most of `head` stays in the writer.
        let socket = w.socket().unwrap();
        socket2::SockRef::from(&socket)
            .set_send_buffer_size(64 * 1024)
            .unwrap();
        drop(socket);
        w.write(&head).unwrap();
        assert!(w.buffered_len() > 0, "nothing left buffered");
        let reader = eddy_core::spawn(read_all(peer));
        assert_eq!(w.sendfile(&file, 0, None).await.unwrap(), body.len() as u64);
        w.write(b"tail").unwrap();
        w.close();
        w.wait_closed().await;
        let got = reader.await.unwrap();
        assert_eq!(got.len(), head.len() + body.len() + 4);
        assert!(got[..head.len()] == head[..], "the buffered bytes differ");
        assert!(
            got[head.len()..head.len() + body.len()] == body[..],
            "the file differs"
        );
        assert_eq!(&got[head.len() + body.len()..], b"tail");
    });
}

#[test]
fn a_stream_writer_over_something_else_reads_and_writes_the_file() {
    run(async {
        let body = pattern(300_000);
        let mut file = file_with(&body);
        file.seek(SeekFrom::Start(17)).unwrap();
        let (a, b) = UnixStream::pair().unwrap();
        // A writer made by hand over a socket knows no socket: the fallback.
        let mut w = StreamWriter::new(a);
        assert!(w.socket().is_none());
        let reader = eddy_core::spawn(read_all(b));
        w.write(b"head").unwrap();
        let mut sent = 0;
        let n = w
            .sendfile_with_progress(&file, 10, Some(200_000), &mut sent)
            .await
            .unwrap();
        assert_eq!((n, sent), (200_000, 200_000));
        assert_eq!(file.stream_position().unwrap(), 17);
        w.close();
        w.wait_closed().await;
        let got = reader.await.unwrap();
        assert_eq!(&got[..4], b"head");
        assert!(got[4..] == body[10..200_010], "the file differs");
    });
}

#[test]
fn a_stream_writer_refuses_sendfile_once_closing() {
    run(async {
        let file = file_with(b"abc");
        let mut w = StreamWriter::new(futures::io::sink());
        w.close();
        assert!(matches!(
            w.sendfile(&file, 0, None).await,
            Err(WriteError::Closing)
        ));
    });
}

/// A server whose handler hands its writer to a task of its own (which
/// `close_clients`/`abort_clients` do not cancel) that sends `data` as a
/// file and reports how that ended through the returned channel; its
/// client connection, not read yet.
async fn file_server(
    data: Vec<u8>,
) -> (
    eddy_io::io::Server,
    futures::channel::oneshot::Receiver<Result<u64, WriteError>>,
    eddy_io::io::StreamReader,
    StreamWriter,
) {
    let (done_tx, done_rx) = futures::channel::oneshot::channel();
    let done_tx = std::cell::Cell::new(Some(done_tx));
    let file = std::rc::Rc::new(file_with(&data));
    let server = start_server("127.0.0.1:0", move |_r, mut w| {
        let file = file.clone();
        let done = done_tx.take();
        async move {
            drop(eddy_core::spawn(async move {
                let res = w.sendfile(&*file, 0, None).await;
                let _ = done.unwrap().send(res);
            }));
        }
    })
    .await
    .unwrap();
    let (r, w) = open_connection(server.local_addr().unwrap()).await.unwrap();
    (server, done_rx, r, w)
}

#[test]
fn a_server_close_waits_for_the_file_being_sent() {
    run(async {
        let data = pattern(16 * MIB);
        let (server, done, mut r, _w) = file_server(data.clone()).await;
        yields(200).await; // the file is on its way, stuck on a full socket
        server.close_clients();
        yields(200).await;
        let got = r.read(MIB).await.unwrap();
        let mut all = got;
        loop {
            let more = r.read(MIB).await.unwrap();
            if more.is_empty() {
                break;
            }
            all.extend_from_slice(&more);
        }
        assert_eq!(done.await.unwrap().unwrap(), data.len() as u64);
        assert!(
            all == data,
            "the bytes differ ({} of {})",
            all.len(),
            data.len()
        );
    });
}

#[test]
fn a_server_abort_stops_the_file_being_sent() {
    run(async {
        let data = pattern(16 * MIB);
        let (server, done, mut r, _w) = file_server(data.clone()).await;
        yields(200).await;
        server.abort_clients();
        match done.await.unwrap() {
            Err(WriteError::Aborted { .. }) => {}
            other => panic!("{other:?}"),
        }
        // The socket is closed: the client reads what was in flight, then
        // a reset or the end, never the whole file.
        let mut total = 0;
        while let Ok(more) = r.read(MIB).await {
            if more.is_empty() {
                break;
            }
            total += more.len();
        }
        assert!(total < data.len(), "the whole file arrived after the abort");
    });
}

#[test]
fn the_writer_lends_its_tcp_socket_and_knows_its_local_address() {
    run(async {
        let (peer_tx, peer_rx) = futures::channel::oneshot::channel();
        let peer_tx = std::cell::Cell::new(Some(peer_tx));
        let server = start_server("127.0.0.1:0", move |_r, w| {
            let tx = peer_tx.take();
            async move {
                if let Some(tx) = tx {
                    let _ = tx.send((w.peer_addr(), w.local_addr()));
                }
            }
        })
        .await
        .unwrap();
        let server_addr = server.local_addr().unwrap();
        let (_r, mut w) = open_connection(server_addr).await.unwrap();
        let (seen_peer, seen_local) = peer_rx.await.unwrap();
        assert_eq!(w.local_addr(), seen_peer);
        assert_eq!(seen_local, Some(server_addr));
        assert_eq!(w.peer_addr(), Some(server_addr));

        let socket = w.socket().expect("a TCP writer's socket");
        assert!(socket.is_tcp());
        let sock = socket2::SockRef::from(&socket);
        assert!(sock.tcp_nodelay().unwrap()); // open_connection's default
        sock.set_tcp_nodelay(false).unwrap();
        sock.set_keepalive(true).unwrap();
        assert!(!sock.tcp_nodelay().unwrap());
        assert!(sock.keepalive().unwrap());
        assert_eq!(
            sock.local_addr().unwrap().as_socket(),
            w.local_addr(),
            "the handle is the writer's own socket"
        );
        drop(socket);

        // Aborted: the socket is closed and no longer lent; the address
        // asked for before is kept.
        w.abort();
        assert!(w.socket().is_none());
        assert_eq!(w.local_addr(), seen_peer);
    });
}

#[test]
fn the_writer_lends_its_unix_socket() {
    run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let _server = start_unix_server(&path, |_r, _w| async {}).await.unwrap();
        let (_r, w) = open_unix_connection(&path).await.unwrap();
        let socket = w.socket().expect("a Unix writer's socket");
        assert!(!socket.is_tcp());
        let sock = socket2::SockRef::from(&socket);
        sock.set_send_buffer_size(64 * 1024).unwrap();
        assert!(sock.send_buffer_size().unwrap() >= 64 * 1024);
        assert_eq!(w.local_addr(), None);
        assert!(StreamWriter::new(futures::io::sink()).socket().is_none());
        assert_eq!(StreamWriter::new(futures::io::sink()).local_addr(), None);
    });
}

/// `getsockopt(TCP_INQ)`.
fn tcp_inq(fd: &impl AsRawFd) -> libc::c_int {
    let mut on: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the socket is open while borrowed; `on` and `len` are valid
    // for writes and outlive the call, and `len` gives `on`'s size.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INQ,
            (&mut on as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
    on
}

#[test]
fn into_std_turns_tcp_inq_back_off() {
    run(async {
        use futures::io::AsyncWriteExt;
        let (mut a, mut b) = tcp().await;
        a.write_all(&[9; 64]).await.unwrap();
        // All 64 bytes queued, then one read that fills its buffer: eddy
        // turns TCP_INQ on to learn whether more is queued.
        let mut peek = [0u8; 64];
        while b.peek(&mut peek).await.unwrap() < 64 {
            eddy_core::yield_now().await;
        }
        let mut buf = [0u8; 64];
        assert_eq!(b.read(&mut buf).await.unwrap(), 64);
        assert_eq!(tcp_inq(&b), 1, "the read did not turn TCP_INQ on");
        let std_socket = b.into_std();
        assert_eq!(tcp_inq(&std_socket), 0);
    });
}
