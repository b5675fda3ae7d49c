//! Closing a socket's StreamWriter ends its StreamReader, as asyncio's
//! `transport.close()` does: a reader waiting in another task sees end of
//! stream (after what it already holds) instead of waiting for the peer.
//! Dropping the writer without closing it does not: half-closed streams
//! keep reading. Aborting it closes the socket at once, as asyncio's
//! `transport.abort()` does, reader or no reader. No test waits on time; a
//! hang is a bounded number of loop turns or the guard.

mod common;

use common::stress::{guarded, race_yields, yields};
use eddy_core::JoinHandle;
use eddy_io::io::{
    open_connection, open_unix_connection, start_server, StreamReader, StreamWriter,
};
use eddy_io::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use futures::{AsyncReadExt, AsyncWriteExt};

/// Loop turns a reader gets to see end of stream; far more than needed.
const TURNS: u64 = 10_000;

/// Reads lines until end of stream; the lines read.
async fn lines_to_eof(mut reader: StreamReader) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    loop {
        let line = reader.read_line().await.unwrap();
        if line.is_empty() {
            return lines;
        }
        lines.push(line);
    }
}

/// A client connection to a listener of this test, and the peer's end of
/// it as accepted.
async fn tcp_connection() -> (StreamReader, StreamWriter, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (connected, accepted) = futures::join!(open_connection(&addr), listener.accept());
    let (reader, writer) = connected.unwrap();
    let (peer, _) = accepted.unwrap();
    (reader, writer, peer)
}

/// A task reading `reader` to end of stream, waiting by the time this
/// returns.
async fn reading_to_eof(reader: StreamReader) -> JoinHandle<Vec<Vec<u8>>> {
    let reading = eddy_core::spawn(lines_to_eof(reader));
    yields(100).await; // the reader takes what is there and waits
    reading
}

/// The lines `reading` got, which must see end of stream within `TURNS`
/// loop turns; `waits` says what failed if it does not.
async fn lines_within_turns(reading: JoinHandle<Vec<Vec<u8>>>, waits: &str) -> Vec<Vec<u8>> {
    race_yields(reading, TURNS).await.expect(waits).unwrap()
}

#[test]
fn closing_the_writer_ends_a_reader_waiting_in_another_task() {
    guarded(30, || {
        common::run(async {
            let (reader, mut writer, mut peer) = tcp_connection().await;
            // The peer sends a line, then stays silent and open throughout.
            futures::AsyncWriteExt::write_all(&mut peer, b"before close\n")
                .await
                .unwrap();
            let reading = reading_to_eof(reader).await;
            writer.close();
            writer.wait_closed().await;
            let lines =
                lines_within_turns(reading, "the reader still waits after the writer closed").await;
            assert_eq!(lines, vec![b"before close\n".to_vec()]);
            drop(peer);
        })
    });
}

#[test]
fn after_close_the_reader_returns_what_it_holds_then_end_of_stream() {
    guarded(30, || {
        common::run(async {
            let (mut reader, mut writer, mut peer) = tcp_connection().await;
            // Two lines in one write: the first read_line buffers both.
            futures::AsyncWriteExt::write_all(&mut peer, b"one\ntwo\n")
                .await
                .unwrap();
            assert_eq!(reader.read_line().await.unwrap(), b"one\n");
            writer.close();
            // Sent after the close: not read, as under asyncio.
            futures::AsyncWriteExt::write_all(&mut peer, b"late\n")
                .await
                .unwrap();
            yields(100).await;
            assert_eq!(reader.read_line().await.unwrap(), b"two\n");
            assert_eq!(reader.read_line().await.unwrap(), b"");
            assert!(reader.at_eof());
            writer.wait_closed().await;
            // The peer still sees an orderly end of our side.
            let mut rest = Vec::new();
            futures::AsyncReadExt::read_to_end(&mut peer, &mut rest)
                .await
                .unwrap();
            assert!(rest.is_empty());
        })
    });
}

#[test]
fn aborting_the_writer_ends_the_reader_too() {
    guarded(30, || {
        common::run(async {
            let (reader, mut writer, _peer) = tcp_connection().await;
            let reading = reading_to_eof(reader).await;
            writer.abort();
            let lines =
                lines_within_turns(reading, "the reader still waits after the writer aborted")
                    .await;
            assert!(lines.is_empty());
        })
    });
}

/// What the peer reads once we aborted while its bytes sat unread on our
/// side: a reset, not an orderly end of stream that would pass the abort
/// off as a complete reply.
async fn peer_read_after_abort<P: futures::AsyncRead + Unpin>(
    peer: &mut P,
) -> std::io::Result<usize> {
    let mut buf = [0u8; 16];
    peer.read(&mut buf).await
}

/// The peer sends bytes we never read, we abort: the peer must see a
/// reset, not an orderly end of stream.
async fn abort_with_unread_data_resets<P>(writer: &mut StreamWriter, peer: &mut P)
where
    P: futures::AsyncRead + futures::AsyncWrite + Unpin,
{
    peer.write_all(b"never read\n").await.unwrap();
    yields(10).await;
    writer.abort();
    let got = peer_read_after_abort(peer).await;
    assert_eq!(
        got.map_err(|e| e.kind()),
        Err(std::io::ErrorKind::ConnectionReset),
        "the abort looked like an orderly close"
    );
}

#[test]
fn aborting_with_unread_data_resets_the_peer_even_while_the_reader_is_kept() {
    guarded(30, || {
        common::run(async {
            let (reader, mut writer, mut peer) = tcp_connection().await;
            abort_with_unread_data_resets(&mut writer, &mut peer).await;
            drop(reader);
        })
    });
}

#[test]
fn aborting_a_unix_writer_with_unread_data_resets_the_peer() {
    guarded(30, || {
        common::run(async {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("s");
            let listener = UnixListener::bind(&path).unwrap();
            let (connected, accepted) =
                futures::join!(open_unix_connection(&path), listener.accept());
            let (reader, mut writer) = connected.unwrap();
            let (mut peer, _): (UnixStream, _) = accepted.unwrap();
            abort_with_unread_data_resets(&mut writer, &mut peer).await;
            drop(reader);
        })
    });
}

/// Writes to `peer` until the write fails (the other end is closed), a
/// bounded number of loop turns; panics with `still_open` otherwise.
async fn assert_refused<P: futures::AsyncWrite + Unpin>(peer: &mut P, still_open: &str) {
    for _ in 0..100 {
        if peer.write_all(b"x").await.is_err() {
            return;
        }
        yields(10).await;
    }
    panic!("{still_open}");
}

#[test]
fn aborting_closes_the_socket_even_while_the_reader_is_kept() {
    guarded(30, || {
        common::run(async {
            let (reader, mut writer, mut peer) = tcp_connection().await;
            writer.abort();
            // Nothing was unread: an end of stream, as after asyncio's abort.
            assert_eq!(peer_read_after_abort(&mut peer).await.unwrap(), 0);
            // And the socket is gone, not merely shut for writing: what the
            // peer sends now is refused (a reset, then a broken pipe).
            assert_refused(&mut peer, "the aborted socket still takes data").await;
            drop(reader);
        })
    });
}

#[test]
fn closing_a_unix_writer_ends_its_reader() {
    guarded(30, || {
        common::run(async {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("s");
            let listener = UnixListener::bind(&path).unwrap();
            let (connected, accepted) =
                futures::join!(open_unix_connection(&path), listener.accept());
            let (reader, mut writer) = connected.unwrap();
            let _peer = accepted.unwrap();
            let reading = reading_to_eof(reader).await;
            writer.close();
            writer.wait_closed().await;
            let lines = lines_within_turns(
                reading,
                "the Unix reader still waits after the writer closed",
            )
            .await;
            assert!(lines.is_empty());
        })
    });
}

#[test]
fn a_writer_dropped_after_write_eof_leaves_the_reader_reading() {
    guarded(30, || {
        common::run(async {
            let (mut reader, mut writer, mut peer) = tcp_connection().await;
            // Half-close: only the write side goes; the peer answers after.
            writer.write(b"request\n").unwrap();
            writer.write_eof();
            drop(writer);
            let mut got = Vec::new();
            futures::AsyncReadExt::read_to_end(&mut peer, &mut got)
                .await
                .unwrap();
            assert_eq!(got, b"request\n");
            futures::AsyncWriteExt::write_all(&mut peer, b"reply\n")
                .await
                .unwrap();
            drop(peer);
            assert_eq!(reader.read_line().await.unwrap(), b"reply\n");
            assert_eq!(reader.read_line().await.unwrap(), b"");
        })
    });
}

#[test]
fn close_clients_ends_a_handler_reader_moved_to_another_task() {
    guarded(30, || {
        common::run(async {
            let ended = std::rc::Rc::new(std::cell::Cell::new(false));
            let seen = ended.clone();
            let server = start_server("127.0.0.1:0", move |reader, writer| {
                let seen = seen.clone();
                async move {
                    // The reader lives on in its own task; the handler
                    // keeps the writer until the server closes it.
                    drop(eddy_core::spawn(async move {
                        lines_to_eof(reader).await;
                        seen.set(true);
                    }));
                    let _keep = writer;
                    futures::future::pending::<std::io::Result<()>>().await
                }
            })
            .await
            .unwrap();
            let addr = server.local_addr().unwrap().to_string();
            // The client neither sends nor closes.
            let (_client_reader, _client_writer) = open_connection(&addr).await.unwrap();
            yields(100).await;
            server.close();
            server.close_clients();
            let mut turns = 0;
            while !ended.get() {
                turns += 1;
                assert!(turns < TURNS, "the handler's reader still waits");
                eddy_core::yield_now().await;
            }
        })
    });
}

/// A `stream_pair` over one end of a Unix socket pair (standing in for a
/// TLS stream eddy did not make), and the raw other end.
fn pair_over_unix_stream() -> (StreamReader, StreamWriter, UnixStream) {
    let (ours, peer) = UnixStream::pair().unwrap();
    let (reader, writer) = eddy_io::io::stream_pair(ours);
    (reader, writer, peer)
}

#[test]
fn a_stream_pair_writer_close_ends_its_reader_and_closes_the_stream() {
    guarded(30, || {
        common::run(async {
            let (mut reader, mut writer, mut peer) = pair_over_unix_stream();
            peer.write_all(b"one\ntwo\n").await.unwrap();
            assert_eq!(reader.read_line().await.unwrap(), b"one\n");
            let reading = reading_to_eof(reader).await;
            writer.write(b"bye\n").unwrap();
            writer.close();
            writer.wait_closed().await;
            // What the reader held, then end of stream, although the peer
            // is still open and silent.
            let lines =
                lines_within_turns(reading, "the pair's reader still waits after close").await;
            assert_eq!(lines, vec![b"two\n".to_vec()]);
            // The writer closed the stream (poll_close): the peer gets the
            // bytes and then end of stream.
            let mut got = Vec::new();
            peer.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"bye\n");
        })
    });
}

#[test]
fn a_stream_pair_writer_abort_drops_the_stream_at_once() {
    guarded(30, || {
        common::run(async {
            let (reader, mut writer, mut peer) = pair_over_unix_stream();
            let reading = reading_to_eof(reader).await;
            writer.write(b"never flushed? maybe").unwrap();
            writer.abort();
            let lines =
                lines_within_turns(reading, "the pair's reader still waits after abort").await;
            assert!(lines.is_empty());
            // Both halves are gone, so the stream is dropped: the peer's
            // writes are refused, although our reader task object lives on.
            assert_refused(&mut peer, "the aborted pair's stream is still open").await;
        })
    });
}

#[test]
fn a_stream_pair_writer_dropped_without_close_leaves_the_reader_reading() {
    guarded(30, || {
        common::run(async {
            let (mut reader, mut writer, mut peer) = pair_over_unix_stream();
            writer.write(b"request\n").unwrap();
            writer.drain().await.unwrap();
            drop(writer);
            let mut line = [0u8; 8];
            peer.read_exact(&mut line).await.unwrap();
            assert_eq!(&line, b"request\n");
            peer.write_all(b"reply\n").await.unwrap();
            drop(peer);
            assert_eq!(reader.read_line().await.unwrap(), b"reply\n");
            assert_eq!(reader.read_line().await.unwrap(), b"");
        })
    });
}
