//! asyncio's streams topics, ported to eddy the way an asyncio user would
//! write them: a TCP echo client and server, a line protocol that limits
//! line length, reading in pieces, back-pressure and closing a writer.
//! Servers' lifecycle and Unix sockets are in asyncio_port_servers.rs.

mod common;

use std::io::ErrorKind;
use std::rc::Rc;
use std::time::Duration;

use common::port::{close_server, connect, echo, guard, silent};
use eddy::io::{open_connection, start_server, ReadError, StreamReader, StreamWriter, WriteError};
use eddy::sync::Event;

#[test]
fn tcp_echo_client_and_server() {
    eddy::run(async {
        let server = start_server("127.0.0.1:0", echo).await.unwrap();
        assert!(server.is_serving());
        let addr = server.local_addr().unwrap().to_string();

        let (mut reader, mut writer) = open_connection(&addr).await.unwrap();
        assert_eq!(writer.peer_addr(), server.local_addr());
        for msg in ["hello\n", "world\n", "a longer line with spaces\n"] {
            writer.write(msg.as_bytes()).unwrap();
            writer.drain().await.unwrap();
            let back = guard("echo", reader.read_line()).await.unwrap();
            assert_eq!(back, msg.as_bytes());
        }
        // Several writes before one drain arrive in order.
        writer
            .write_all_parts(&[b"one\n", b"two\n", b"three\n"])
            .unwrap();
        writer.drain().await.unwrap();
        for want in ["one\n", "two\n", "three\n"] {
            assert_eq!(reader.read_line().await.unwrap(), want.as_bytes());
        }
        // Half-close: the server sees end of file, finishes and closes.
        writer.write_eof();
        assert_eq!(guard("eof", reader.read_line()).await.unwrap(), b"");
        assert!(reader.at_eof());
        writer.close();
        guard("client wait_closed", writer.wait_closed()).await;
        assert!(writer.is_closing());

        server.close();
        assert!(!server.is_serving());
        guard("server wait_closed", server.wait_closed()).await;
        assert_eq!(server.connection_count(), 0);
        // The port is free again: connecting is refused.
        let err = open_connection(&addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn many_clients_at_once_each_get_their_own_answers() {
    eddy::run(async {
        let server = start_server("127.0.0.1:0", echo).await.unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let clients = (0..20).map(|i| {
            let addr = addr.clone();
            async move {
                let (mut r, mut w) = open_connection(&addr).await.unwrap();
                let mut got = Vec::new();
                for j in 0..5 {
                    w.write(format!("client {i} message {j}\n").as_bytes())
                        .unwrap();
                    w.drain().await.unwrap();
                    got.push(String::from_utf8(r.read_line().await.unwrap()).unwrap());
                }
                w.close();
                w.wait_closed().await;
                got
            }
        });
        let all = guard("clients", eddy::gather_all(clients)).await;
        for (i, got) in all.iter().enumerate() {
            let want: Vec<_> = (0..5)
                .map(|j| format!("client {i} message {j}\n"))
                .collect();
            assert_eq!(got, &want);
        }
        close_server(&server).await;
    });
}

#[test]
fn reading_a_reply_in_pieces_with_read_exactly_and_read_until() {
    eddy::run(async {
        // A tiny length-prefixed protocol: "LEN <n>\r\n" then n bytes.
        let server = start_server(
            "127.0.0.1:0",
            |mut r: StreamReader, mut w: StreamWriter| async move {
                let name = r.read_until(b"\r\n").await.unwrap();
                let body = format!(
                    "hello, {}",
                    String::from_utf8_lossy(&name[..name.len() - 2])
                );
                w.write(format!("LEN {}\r\n", body.len()).as_bytes())
                    .unwrap();
                // The body in two writes with a pause between them.
                let (a, b) = body.as_bytes().split_at(3);
                w.write(a).unwrap();
                w.drain().await.unwrap();
                eddy::sleep(Duration::from_millis(5)).await;
                w.write(b).unwrap();
                // Returning drops the writer: what is buffered is still sent.
            },
        )
        .await
        .unwrap();
        let (mut r, mut w) = connect(&server).await;
        w.write(b"eddy\r\n").unwrap();
        let header = guard("header", r.read_until(b"\r\n")).await.unwrap();
        let n: usize = std::str::from_utf8(&header[4..header.len() - 2])
            .unwrap()
            .parse()
            .unwrap();
        let body = guard("body", r.read_exactly(n)).await.unwrap();
        assert_eq!(body, b"hello, eddy");
        // Asking for more than the server sends: IncompleteRead with nothing.
        match guard("incomplete", r.read_exactly(4)).await {
            Err(ReadError::IncompleteRead { partial, expected }) => {
                assert!(partial.is_empty());
                assert_eq!(expected, Some(4));
            }
            other => panic!("expected IncompleteRead, got {other:?}"),
        }
        close_server(&server).await;
    });
}

/// A line server that refuses lines over 16 bytes: it answers `ERR` for a
/// long line, skips the rest of that line, and carries on.
async fn limited_lines(mut r: StreamReader, mut w: StreamWriter) -> std::io::Result<()> {
    r.set_limit(16);
    // True while dropping the tail of a line that was too long.
    let mut skipping = false;
    loop {
        match r.read_line().await {
            Ok(line) if line.is_empty() => break,
            Ok(line) => {
                if skipping {
                    // The end of the long line: not a request of its own.
                    skipping = false;
                    continue;
                }
                w.write(b"OK ")?;
                w.write(&line)?;
            }
            Err(ReadError::LimitOverrun { consumed, .. }) => {
                // `consumed` ends with the separator if it was found past
                // the limit; otherwise the line goes on in later data.
                let found = r.buffer()[..consumed].ends_with(b"\n");
                r.discard(consumed);
                if !skipping {
                    w.write(b"ERR line too long\n")?;
                }
                skipping = !found;
            }
            Err(e) => return Err(e.into()),
        }
        w.drain().await?;
    }
    Ok(())
}

#[test]
fn line_server_rejects_long_lines_and_recovers() {
    eddy::run(async {
        let server = start_server("127.0.0.1:0", limited_lines).await.unwrap();
        let (mut r, mut w) = connect(&server).await;

        // A long line sent whole: the separator is already buffered.
        w.write(b"short\n").unwrap();
        w.write(&[b'x'; 100]).unwrap();
        w.write(b"\nafter\n").unwrap();
        w.drain().await.unwrap();
        assert_eq!(guard("1", r.read_line()).await.unwrap(), b"OK short\n");
        assert_eq!(
            guard("2", r.read_line()).await.unwrap(),
            b"ERR line too long\n"
        );
        assert_eq!(guard("3", r.read_line()).await.unwrap(), b"OK after\n");

        // A long line that arrives in pieces: the server has to skip data
        // it has not seen yet, and still answers only once.
        w.write(&[b'y'; 40]).unwrap();
        w.flush().await.unwrap();
        assert_eq!(
            guard("4", r.read_line()).await.unwrap(),
            b"ERR line too long\n"
        );
        w.write(&[b'y'; 40]).unwrap();
        w.flush().await.unwrap();
        eddy::sleep(Duration::from_millis(5)).await;
        w.write(b"yyy\nfine\n").unwrap();
        w.flush().await.unwrap();
        assert_eq!(guard("5", r.read_line()).await.unwrap(), b"OK fine\n");

        w.write_eof();
        assert_eq!(guard("eof", r.read_line()).await.unwrap(), b"");
        close_server(&server).await;
    });
}

#[test]
fn line_reader_lines_stream_reports_overrun_until_discarded() {
    use futures::StreamExt;
    eddy::run(async {
        let data = b"ok\nthis one is far too long\nlast";
        let mut reader = StreamReader::with_limit(&data[..], 8);
        {
            let mut lines = reader.lines();
            assert_eq!(lines.next().await.unwrap().unwrap(), b"ok");
            assert!(matches!(
                lines.next().await,
                Some(Err(ReadError::LimitOverrun { limit: 8, .. }))
            ));
        }
        // Recover: drop the rest of that line, as the server above does.
        let consumed = match reader.read_line().await {
            Err(ReadError::LimitOverrun { consumed, .. }) => consumed,
            other => panic!("{other:?}"),
        };
        assert_eq!(&reader.buffer()[..consumed], b"this one is far too long\n");
        reader.discard(consumed);
        let rest: Vec<_> = reader.lines().map(|l| l.unwrap()).collect().await;
        assert_eq!(rest, vec![b"last".to_vec()]);
    });
}

#[test]
fn drain_waits_while_the_peer_does_not_read() {
    eddy::run(async {
        let start_reading = Rc::new(Event::new());
        let s = start_reading.clone();
        let server = start_server(
            "127.0.0.1:0",
            move |mut r: StreamReader, mut w: StreamWriter| {
                let s = s.clone();
                async move {
                    s.wait().await;
                    let all = r.read_to_end().await.unwrap();
                    w.write(format!("{}\n", all.len()).as_bytes()).unwrap();
                }
            },
        )
        .await
        .unwrap();
        let (mut r, mut w) = connect(&server).await;
        let size = 32 << 20;
        w.write(&vec![b'd'; size]).unwrap();
        assert!(w.buffered_len() > w.write_buffer_limits().0);
        // The peer reads nothing yet, so drain cannot finish.
        assert!(eddy::wait_for(w.drain(), Duration::from_millis(50))
            .await
            .is_err());
        start_reading.set();
        guard("drain", w.drain()).await.unwrap();
        assert!(w.buffered_len() <= w.write_buffer_limits().1);
        w.write_eof();
        let reply = guard("reply", r.read_line()).await.unwrap();
        assert_eq!(reply, format!("{size}\n").as_bytes());
        close_server(&server).await;
    });
}

#[test]
fn writing_after_close_is_refused() {
    eddy::run(async {
        let server = start_server("127.0.0.1:0", echo).await.unwrap();
        let (mut r, mut w) = connect(&server).await;
        w.write(b"last\n").unwrap();
        w.close();
        assert!(w.is_closing());
        assert!(matches!(w.write(b"more\n"), Err(WriteError::Closing)));
        guard("wait_closed", w.wait_closed()).await;
        // close ends the reader too, as asyncio's transport.close() does.
        assert_eq!(guard("reader", r.read_line()).await.unwrap(), b"");
        close_server(&server).await;
    });
}

#[test]
fn a_read_line_timed_out_halfway_loses_nothing() {
    eddy::run(async {
        let go_on = Rc::new(Event::new());
        let g = go_on.clone();
        let server = start_server(
            "127.0.0.1:0",
            move |_r: StreamReader, mut w: StreamWriter| {
                let g = g.clone();
                async move {
                    w.write(b"first half, ").unwrap();
                    w.flush().await.unwrap();
                    g.wait().await;
                    w.write(b"second half\n").unwrap();
                }
            },
        )
        .await
        .unwrap();
        let (mut r, _w) = connect(&server).await;
        // Wait until the first half is here, then time a read_line out.
        guard("first half", async {
            while r.buffer().is_empty() {
                r.fill().await.unwrap();
            }
        })
        .await;
        let timed_out = eddy::wait_for(r.read_line(), Duration::from_millis(10)).await;
        assert!(timed_out.is_err());
        go_on.set();
        assert_eq!(
            guard("whole line", r.read_line()).await.unwrap(),
            b"first half, second half\n"
        );
        close_server(&server).await;
    });
}

#[test]
fn closing_the_writer_ends_a_read_waiting_in_another_task() {
    eddy::run(async {
        // A server that never answers and never closes.
        let server = start_server("127.0.0.1:0", silent).await.unwrap();
        let (mut r, mut w) = connect(&server).await;
        let listener = eddy::spawn(async move { r.read_line().await.map_err(|e| e.to_string()) });
        eddy::yield_now().await;
        w.close();
        let got = guard("reader task", listener).await.unwrap();
        assert_eq!(got, Ok(Vec::new()));
        guard("wait_closed", w.wait_closed()).await;
        server.close();
        server.abort_clients();
        guard("server", server.wait_closed()).await;
    });
}

/// asyncio's `readline()` drops an over-long line (up to its `\n` when it
/// is already buffered, else the whole buffer) and raises `ValueError`,
/// so the usual handler logs it and reads on. eddy's `read_line` leaves
/// the data buffered (the contract, like asyncio's `readuntil`),
/// so the port discards what the error says (`consumed`) and reads on;
/// asyncio-map.md says so on the `readline()` row.
#[test]
fn a_ported_readline_error_loop_makes_progress() {
    eddy::run(async {
        let server = start_server(
            "127.0.0.1:0",
            |mut r: StreamReader, mut w: StreamWriter| async move {
                r.set_limit(16);
                let mut errors = 0;
                loop {
                    match r.read_line().await {
                        Ok(line) if line.is_empty() => break,
                        Ok(line) => {
                            w.write(b"OK ").unwrap();
                            w.write(&line).unwrap();
                        }
                        Err(ReadError::LimitOverrun { consumed, .. }) => {
                            // `except ValueError: writer.write(b"too long\n")`,
                            // plus the discard asyncio's readline does itself.
                            r.discard(consumed);
                            errors += 1;
                            if errors > 100 {
                                w.write(b"SPINNING\n").unwrap();
                                break;
                            }
                            w.write(b"ERR too long\n").unwrap();
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            },
        )
        .await
        .unwrap();
        let (mut r, mut w) = connect(&server).await;
        // One write: the long line and its newline arrive together.
        let mut msg = vec![b'x'; 40];
        msg.extend_from_slice(b"\nafter\n");
        w.write(&msg).unwrap();
        w.write_eof();
        assert_eq!(guard("1", r.read_line()).await.unwrap(), b"ERR too long\n");
        assert_eq!(guard("2", r.read_line()).await.unwrap(), b"OK after\n");
        close_server(&server).await;
    });
}
