//! asyncio's StreamReader/StreamWriter in depth, ported to eddy (third
//! pass): readexactly's IncompleteReadError fields, at_eof after each kind
//! of read, read(n) returning what is there, readuntil with a tuple of
//! overlapping separators, the lines stream, drain against a peer that
//! stops reading and resumes, writelines, the buffer limits, a peer that
//! vanished, peername, and handlers that fail or panic.

mod common;

use std::io::ErrorKind;
use std::rc::Rc;

use common::port::{close_server, connect, guard, settle, silent};
use eddy::io::{
    open_connection, open_unix_connection, start_server, start_unix_server, ReadError,
    StreamReader, StreamWriter, WriteError,
};
use eddy::net::{TcpListener, TcpStream};
use eddy::sync::Event;
use futures::StreamExt;

/// A server that sends `reply` and closes.
async fn sends(reply: &'static [u8]) -> eddy::io::Server {
    start_server(
        "127.0.0.1:0",
        move |_r: StreamReader, mut w: StreamWriter| async move {
            w.write(reply)?;
            w.close();
            w.wait_closed().await;
            Ok::<(), WriteError>(())
        },
    )
    .await
    .unwrap()
}

#[test]
fn read_exactly_at_eof_gives_partial_and_expected_and_consumes_them() {
    eddy::run(async {
        let server = sends(b"12345").await;
        let (mut r, _w) = connect(&server).await;
        assert_eq!(guard("3", r.read_exactly(3)).await.unwrap(), b"123");
        match guard("8", r.read_exactly(8)).await {
            Err(ReadError::IncompleteRead { partial, expected }) => {
                assert_eq!(partial, b"45");
                assert_eq!(expected, Some(8));
            }
            other => panic!("want IncompleteRead, got {other:?}"),
        }
        // The partial bytes were consumed: what is left is end of file.
        assert!(r.at_eof());
        assert!(r.buffer().is_empty());
        assert_eq!(r.read(10).await.unwrap(), b"");
        // readexactly(0) is empty even at end of file.
        assert_eq!(r.read_exactly(0).await.unwrap(), b"");
        match r.read_exactly(1).await {
            Err(ReadError::IncompleteRead { partial, expected }) => {
                assert!(partial.is_empty());
                assert_eq!(expected, Some(1));
            }
            other => panic!("want an empty IncompleteRead, got {other:?}"),
        }
        close_server(&server).await;
    });
}

#[test]
fn at_eof_after_each_kind_of_read() {
    eddy::run(async {
        // read(n): false while bytes remain, true once the end was seen and
        // the buffer is empty.
        let mut r = StreamReader::new(&b"abc"[..]);
        assert!(!r.at_eof());
        assert_eq!(r.read(2).await.unwrap(), b"ab");
        assert!(!r.at_eof(), "one byte is still unread");
        assert_eq!(r.read(2).await.unwrap(), b"c");
        assert_eq!(r.read(2).await.unwrap(), b"");
        assert!(r.at_eof());

        // read_line: the last line without '\n' is returned, then at_eof.
        let mut r = StreamReader::new(&b"one\ntwo"[..]);
        assert_eq!(r.read_line().await.unwrap(), b"one\n");
        assert!(!r.at_eof());
        assert_eq!(r.read_line().await.unwrap(), b"two");
        assert!(r.at_eof());

        // read_until: an IncompleteRead at the end leaves the reader at eof.
        let mut r = StreamReader::new(&b"k=v;rest"[..]);
        assert_eq!(r.read_until(b";").await.unwrap(), b"k=v;");
        assert!(!r.at_eof());
        match r.read_until(b";").await {
            Err(ReadError::IncompleteRead { partial, expected }) => {
                assert_eq!(partial, b"rest");
                assert_eq!(expected, None);
            }
            other => panic!("want IncompleteRead, got {other:?}"),
        }
        assert!(r.at_eof());

        // read_exactly of everything but the end: still bytes? no, but the
        // end has not been seen either, so not at eof (asyncio agrees: no
        // feed_eof yet).
        let mut r = StreamReader::new(&b"xyz"[..]);
        assert_eq!(r.read_exactly(3).await.unwrap(), b"xyz");
        assert_eq!(r.read(1).await.unwrap(), b"");
        assert!(r.at_eof());

        // read_to_end always ends at eof.
        let mut r = StreamReader::new(&b"all"[..]);
        assert_eq!(r.read_to_end().await.unwrap(), b"all");
        assert!(r.at_eof());
        assert_eq!(r.read_to_end().await.unwrap(), b"");

        // An empty stream: the first read finds the end.
        let mut r = StreamReader::new(&b""[..]);
        assert_eq!(r.read_line().await.unwrap(), b"");
        assert!(r.at_eof());
    });
}

#[test]
fn read_n_returns_what_has_arrived_without_waiting_for_n() {
    eddy::run(async {
        let go_on = Rc::new(Event::new());
        let go = go_on.clone();
        let server = start_server(
            "127.0.0.1:0",
            move |_r: StreamReader, mut w: StreamWriter| {
                let go = go.clone();
                async move {
                    w.write(b"ab")?;
                    w.flush().await?;
                    go.wait().await;
                    w.write(b"cdef")?;
                    w.close();
                    w.wait_closed().await;
                    Ok::<(), WriteError>(())
                }
            },
        )
        .await
        .unwrap();
        let (mut r, _w) = connect(&server).await;
        // At least one byte, at most n: "ab" without waiting for 100.
        let first = guard("first", r.read(100)).await.unwrap();
        assert!(!first.is_empty() && b"ab".starts_with(&first), "{first:?}");
        let mut got = first;
        while got.len() < 2 {
            got.extend(guard("rest of ab", r.read(100)).await.unwrap());
        }
        assert_eq!(got, b"ab");
        // read(0) returns at once even though nothing is available.
        assert_eq!(r.read(0).await.unwrap(), b"");
        go_on.set();
        // n smaller than what arrived: the rest stays buffered.
        let mut rest = Vec::new();
        loop {
            let part = guard("cdef", r.read(3)).await.unwrap();
            if part.is_empty() {
                break;
            }
            assert!(part.len() <= 3);
            rest.extend(part);
        }
        assert_eq!(rest, b"cdef");
        assert!(r.at_eof());
        assert_eq!(r.read(3).await.unwrap(), b"", "empty again at eof");
        close_server(&server).await;
    });
}

#[test]
fn read_until_any_with_overlapping_separators_takes_the_shortest_match() {
    eddy::run(async {
        // asyncio 3.13: "the shortest possible [data] that has any
        // separator as the suffix".
        let mut r = StreamReader::new(&b"abcd|xbc|q\r\nw\n"[..]);
        // "bc" ends before "abcd" does.
        assert_eq!(r.read_until_any(&[b"abcd", b"bc"]).await.unwrap(), b"abc");
        // Both end at the same byte: the data is the same whichever wins.
        assert_eq!(r.read_until_any(&[b"d|", b"|"]).await.unwrap(), b"d|");
        assert_eq!(r.read_until_any(&[b"xbc|", b"c|"]).await.unwrap(), b"xbc|");
        assert_eq!(r.read_until_any(&[b"\n", b"\r\n"]).await.unwrap(), b"q\r\n");
        assert_eq!(r.read_until_any(&[b"\r\n", b"\n"]).await.unwrap(), b"w\n");
        assert!(matches!(
            r.read_until_any(&[b"\n"]).await,
            Err(ReadError::IncompleteRead { ref partial, expected: None }) if partial.is_empty()
        ));

        // A self-overlapping separator: "aa" in "aaa" matches the first two.
        let mut r = StreamReader::new(&b"aaa"[..]);
        assert_eq!(r.read_until(b"aa").await.unwrap(), b"aa");
        assert!(matches!(
            r.read_until(b"aa").await,
            Err(ReadError::IncompleteRead { ref partial, .. }) if partial == b"a"
        ));
    });
}

#[test]
fn a_separator_arriving_byte_by_byte_over_tcp_is_found() {
    eddy::run(async {
        let server = start_server(
            "127.0.0.1:0",
            |mut r: StreamReader, mut w: StreamWriter| async move {
                // Send one byte per flush, waiting for the client's ack each time.
                for &b in b"head\r\n\r\nbody" {
                    w.write(&[b])?;
                    w.flush().await?;
                    if r.read(1).await?.is_empty() {
                        break;
                    }
                }
                w.close();
                w.wait_closed().await;
                Ok::<(), std::io::Error>(())
            },
        )
        .await
        .unwrap();
        let (mut r, mut w) = connect(&server).await;
        let ack = eddy::spawn(async move {
            for _ in 0..b"head\r\n\r\nbody".len() {
                w.write(b".").unwrap();
                eddy::yield_now().await;
            }
            w
        });
        let head = guard("head", r.read_until_any(&[b"\r\n\r\n", b"\n\n"])).await;
        assert_eq!(head.unwrap(), b"head\r\n\r\n");
        assert_eq!(guard("body", r.read_to_end()).await.unwrap(), b"body");
        drop(guard("acks", ack).await.unwrap());
        close_server(&server).await;
    });
}

#[test]
fn lines_stream_over_tcp_strips_endings_and_yields_the_last_partial_line() {
    eddy::run(async {
        let server = sends(b"first\r\nsecond\n\nlast").await;
        let (mut r, _w) = connect(&server).await;
        let lines: Vec<Vec<u8>> = guard(
            "lines",
            StreamReader::lines(&mut r).map(|l| l.unwrap()).collect(),
        )
        .await;
        assert_eq!(
            lines,
            vec![
                b"first".to_vec(),
                b"second".to_vec(),
                b"".to_vec(),
                b"last".to_vec()
            ]
        );
        assert!(r.at_eof());
        // The stream is over: a new one yields nothing.
        assert!(r.lines().next().await.is_none());
        close_server(&server).await;
    });
}

#[test]
fn drain_waits_for_a_stopped_reader_and_resumes_at_the_low_water_mark() {
    const TOTAL: usize = 32 * 1024 * 1024;
    eddy::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
        let (peer, _) = accepted.unwrap();
        let (r, mut w) = open_pair(client.unwrap());
        assert_eq!(w.write_buffer_limits(), (16 * 1024, 64 * 1024));

        // The peer does not read: the kernel buffers fill, then ours.
        let data: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
        w.write(&data).unwrap();
        assert!(
            w.buffered_len() > 64 * 1024,
            "{} buffered",
            w.buffered_len()
        );
        let (done_tx, done_rx) = eddy::sync::oneshot::channel();
        let writer = eddy::spawn(async move {
            w.drain().await.unwrap();
            let left = w.buffered_len();
            done_tx.send(()).unwrap();
            (w, left)
        });
        settle().await;
        assert!(!writer.is_finished(), "drain returned though nobody reads");

        // The peer resumes: drain returns once at most 16 KiB are left.
        let mut peer_r = StreamReader::new(peer);
        let reading = eddy::spawn(async move { peer_r.read_exactly(TOTAL).await.unwrap() });
        guard("drain", done_rx).await.unwrap();
        let (mut w, left) = guard("writer", writer).await.unwrap();
        assert!(left <= 16 * 1024, "drain returned with {left} buffered");
        guard("flush", w.flush()).await.unwrap();
        assert_eq!(w.buffered_len(), 0);
        let got = guard("peer read", reading).await.unwrap();
        assert!(got == data, "the bytes arrived changed");
        w.close();
        guard("closed", w.wait_closed()).await;
        drop(r);
    });
}

/// The reader and writer of a connected TCP stream, as open_connection
/// makes them.
fn open_pair(s: TcpStream) -> (StreamReader, StreamWriter) {
    let peer = s.peer_addr().unwrap();
    let (r, w) = s.into_split();
    (
        StreamReader::new(Box::new(r) as Box<dyn futures::AsyncRead + Unpin>),
        StreamWriter::new(Box::new(w) as Box<dyn futures::AsyncWrite + Unpin>).with_peer_addr(peer),
    )
}

#[test]
fn set_write_buffer_limits_moves_the_water_marks() {
    eddy::run(async {
        let server = start_server("127.0.0.1:0", silent).await.unwrap();
        let (_r, mut w) = connect(&server).await;
        w.set_write_buffer_limits(1000, None).unwrap();
        assert_eq!(w.write_buffer_limits(), (250, 1000));
        w.set_write_buffer_limits(4096, Some(0)).unwrap();
        assert_eq!(w.write_buffer_limits(), (0, 4096));
        let err = w.set_write_buffer_limits(10, Some(20)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            w.write_buffer_limits(),
            (0, 4096),
            "unchanged after a refusal"
        );
        // high = 0: any byte buffered makes drain wait (asyncio's "drain
        // waits for everything" setting); a tiny write goes out at once.
        w.set_write_buffer_limits(0, None).unwrap();
        assert_eq!(w.write_buffer_limits(), (0, 0));
        w.write(b"x").unwrap();
        guard("drain tiny", w.drain()).await.unwrap();
        assert_eq!(w.buffered_len(), 0);
        server.close();
        server.abort_clients();
        guard("server", server.wait_closed()).await;
    });
}

#[test]
fn write_all_parts_sends_the_parts_in_order_as_one_stream() {
    eddy::run(async {
        let server = start_server(
            "127.0.0.1:0",
            |mut r: StreamReader, _w: StreamWriter| async move {
                let all = r.read_to_end().await.unwrap();
                assert_eq!(all, b"GET / HTTP/1.0\r\nHost: x\r\n\r\n");
            },
        )
        .await
        .unwrap();
        let (_r, mut w) = connect(&server).await;
        w.write_all_parts(&[b"GET / HTTP/1.0\r\n", b"", b"Host: x\r\n", b"\r\n"])
            .unwrap();
        w.write_eof();
        assert!(matches!(
            w.write_all_parts(&[b"late"]),
            Err(WriteError::Closing)
        ));
        w.close();
        guard("closed", w.wait_closed()).await;
        close_server(&server).await;
    });
}

#[test]
fn a_vanished_peer_fails_the_writer_and_wait_closed_returns() {
    eddy::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (connected, accepted) = futures::join!(open_connection(addr), listener.accept());
        let (_r, mut w) = connected.unwrap();
        // The peer goes away (closing with nothing read, then gone).
        drop(accepted.unwrap());
        drop(listener);
        // Writing on goes wrong sooner or later (EPIPE / ECONNRESET).
        let err = guard("write error", async {
            let chunk = vec![7u8; 64 * 1024];
            loop {
                if let Err(e) = w.write(&chunk) {
                    break e;
                }
                if let Err(e) = w.drain().await {
                    break e;
                }
            }
        })
        .await;
        assert!(matches!(err, WriteError::Io(_)), "{err:?}");
        guard("wait_closed", w.wait_closed()).await;
        // Later writes are refused too.
        assert!(w.write(b"more").is_err());
    });
}

#[test]
fn peer_addr_on_both_sides_is_the_other_end() {
    eddy::run(async {
        let server = start_server(
            "127.0.0.1:0",
            |_r: StreamReader, mut w: StreamWriter| async move {
                let peer = w.peer_addr().map(|a| a.to_string()).unwrap_or_default();
                w.write(format!("{peer}\n").as_bytes())?;
                w.close();
                w.wait_closed().await;
                Ok::<(), WriteError>(())
            },
        )
        .await
        .unwrap();
        let stream = TcpStream::connect(server.local_addr().unwrap())
            .await
            .unwrap();
        let me = stream.local_addr().unwrap();
        let (mut r, w) = open_pair(stream);
        assert_eq!(w.peer_addr(), server.local_addr());
        let line = guard("peer line", r.read_line()).await.unwrap();
        assert_eq!(String::from_utf8(line).unwrap(), format!("{me}\n"));
        // Unix streams have no peer address of this kind.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let userver = start_unix_server(&path, silent).await.unwrap();
        let (_ur, uw) = open_unix_connection(&path).await.unwrap();
        assert_eq!(uw.peer_addr(), None);
        userver.close();
        userver.abort_clients();
        guard("unix server", userver.wait_closed()).await;
        close_server(&server).await;
    });
}

#[test]
fn a_handler_that_panics_after_writing_closes_only_its_connection() {
    eddy::run(async {
        let server = start_server(
            "127.0.0.1:0",
            |mut r: StreamReader, mut w: StreamWriter| async move {
                let line = r.read_line().await.unwrap();
                w.write(b"partial answer\n").unwrap();
                if line == b"boom\n" {
                    panic!("handler panicked on purpose");
                }
                w.write(b"done\n").unwrap();
                w.close();
                w.wait_closed().await;
            },
        )
        .await
        .unwrap();
        for _ in 0..3 {
            let (mut r, mut w) = connect(&server).await;
            w.write(b"boom\n").unwrap();
            // What the handler wrote before panicking may or may not have
            // been sent; either way the connection ends.
            let rest = guard("panicked connection", r.read_to_end()).await.unwrap();
            assert!(rest.is_empty() || rest == b"partial answer\n", "{rest:?}");
        }
        assert!(server.is_serving());
        let (mut r, mut w) = connect(&server).await;
        w.write(b"fine\n").unwrap();
        assert_eq!(
            guard("fine", r.read_to_end()).await.unwrap(),
            b"partial answer\ndone\n"
        );
        close_server(&server).await;
        assert_eq!(server.connection_count(), 0);
    });
}

#[test]
fn closing_a_unix_writer_ends_a_read_exactly_waiting_in_another_task() {
    eddy::run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("echoless.sock");
        let server = start_unix_server(&path, silent).await.unwrap();
        let (mut r, mut w) = open_unix_connection(&path).await.unwrap();
        let reader = eddy::spawn(async move {
            match r.read_exactly(10).await {
                Err(ReadError::IncompleteRead { partial, expected }) => (partial, expected),
                other => panic!("want IncompleteRead, got {other:?}"),
            }
        });
        settle().await;
        assert!(!reader.is_finished());
        w.close();
        let (partial, expected) = guard("reader task", reader).await.unwrap();
        assert!(partial.is_empty());
        assert_eq!(expected, Some(10));
        guard("wait_closed", w.wait_closed()).await;
        assert!(w.is_closing());
        server.close();
        server.abort_clients();
        guard("server", server.wait_closed()).await;
    });
}
