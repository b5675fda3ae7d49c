//! StreamReader / StreamWriter behaviour over in-memory streams whose
//! chunking and readiness the test controls.

mod common;

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use common::feed::Feed;
use eddy_io::io::{ReadError, StreamReader, StreamWriter, WriteError};
use futures::{AsyncReadExt, AsyncWriteExt, FutureExt, StreamExt};

fn run<F: std::future::Future>(f: F) -> F::Output {
    eddy_core::run(f)
}

#[test]
fn separator_split_across_reads() {
    run(async {
        let feed = Feed::chunks(&[b"ab\r", b"\n", b"x\r\n\r", b"\nrest"]);
        let mut r = StreamReader::new(feed);
        assert_eq!(r.read_until(b"\r\n").await.unwrap(), b"ab\r\n");
        assert_eq!(r.read_until(b"\r\n\r\n").await.unwrap(), b"x\r\n\r\n");
        assert_eq!(r.read_to_end().await.unwrap(), b"rest");
        assert!(r.at_eof());
    });
}

#[test]
fn one_byte_chunks_find_every_separator() {
    run(async {
        let data = b"alpha--beta--gamma";
        let chunks: Vec<&[u8]> = data.chunks(1).collect();
        let mut r = StreamReader::new(Feed::chunks(&chunks));
        assert_eq!(r.read_until(b"--").await.unwrap(), b"alpha--");
        assert_eq!(r.read_until(b"--").await.unwrap(), b"beta--");
        match r.read_until(b"--").await {
            Err(ReadError::IncompleteRead { partial, expected }) => {
                assert_eq!(partial, b"gamma");
                assert_eq!(expected, None);
            }
            other => panic!("expected IncompleteRead, got {other:?}"),
        }
        assert!(r.at_eof());
    });
}

#[test]
fn read_until_any_takes_the_earliest_separator() {
    run(async {
        let mut r = StreamReader::new(Feed::chunks(&[b"k1=v1&k", b"2=v2;end"]));
        assert_eq!(r.read_until_any(&[b";", b"&"]).await.unwrap(), b"k1=v1&");
        assert_eq!(r.read_until_any(&[b";", b"&"]).await.unwrap(), b"k2=v2;");
    });
}

#[test]
fn limit_overrun_without_separator_keeps_data() {
    run(async {
        let mut r =
            StreamReader::with_limit(Feed::chunks(&[b"ab", b"cd", b"ef", b"gh\nnext\n"]), 4);
        match r.read_line().await {
            Err(ReadError::LimitOverrun { consumed, limit }) => {
                assert_eq!(limit, 4);
                assert!(consumed > 4, "consumed {consumed}");
                assert_eq!(consumed, r.buffer().len());
            }
            other => panic!("expected LimitOverrun, got {other:?}"),
        }
        assert!(r.buffer().starts_with(b"abcd"));
        // Nothing was lost: with a larger limit the whole line comes back.
        r.set_limit(100);
        assert_eq!(r.read_line().await.unwrap(), b"abcdefgh\n");
        assert_eq!(r.read_line().await.unwrap(), b"next\n");
    });
}

#[test]
fn discarding_an_overrun_never_cuts_a_separator_split_across_reads() {
    run(async {
        // The block's separator "\r\n\r\n" arrives in two reads; the
        // overrun comes after the first, holding its first half.
        let mut r =
            StreamReader::with_limit(Feed::chunks(&[b"AAAAAAAAAA\r\n", b"\r\nNEXT\r\n\r\n"]), 8);
        match r.read_until(b"\r\n\r\n").await {
            Err(ReadError::LimitOverrun { consumed, limit }) => {
                assert_eq!(limit, 8);
                // 12 buffered, of which the last 3 may start a separator.
                assert_eq!(consumed, 9);
                assert_eq!(r.discard(consumed), 9);
            }
            other => panic!("expected LimitOverrun, got {other:?}"),
        }
        // The oversized block ends where its separator does, and the next
        // block comes whole.
        assert_eq!(r.read_until(b"\r\n\r\n").await.unwrap(), b"A\r\n\r\n");
        assert_eq!(r.read_until(b"\r\n\r\n").await.unwrap(), b"NEXT\r\n\r\n");
    });
}

#[test]
fn separator_beyond_the_limit_is_an_overrun() {
    run(async {
        let mut r = StreamReader::with_limit(Feed::chunks(&[b"abcd\nz\n"]), 3);
        match r.read_until(b"\n").await {
            Err(ReadError::LimitOverrun { consumed, .. }) => assert_eq!(consumed, 5),
            other => panic!("expected LimitOverrun, got {other:?}"),
        }
        assert_eq!(r.discard(5), 5);
        assert_eq!(r.read_until(b"\n").await.unwrap(), b"z\n");
    });
}

#[test]
fn line_exactly_at_the_limit_is_accepted() {
    run(async {
        let mut r = StreamReader::with_limit(Feed::chunks(&[b"abc", b"\n"]), 4);
        assert_eq!(r.read_line().await.unwrap(), b"abc\n");
    });
}

#[test]
fn read_line_at_eof_returns_partial_then_empty() {
    run(async {
        let mut r = StreamReader::new(Feed::chunks(&[b"one\ntw", b"o"]));
        assert_eq!(r.read_line().await.unwrap(), b"one\n");
        assert_eq!(r.read_line().await.unwrap(), b"two");
        assert_eq!(r.read_line().await.unwrap(), b"");
        assert!(r.at_eof());
    });
}

#[test]
fn read_exactly_across_chunks_and_incomplete() {
    run(async {
        let mut r = StreamReader::new(Feed::chunks(&[b"12", b"345", b"67"]));
        assert_eq!(r.read_exactly(4).await.unwrap(), b"1234");
        assert_eq!(r.read_exactly(0).await.unwrap(), b"");
        match r.read_exactly(5).await {
            Err(ReadError::IncompleteRead { partial, expected }) => {
                assert_eq!(partial, b"567");
                assert_eq!(expected, Some(5));
            }
            other => panic!("expected IncompleteRead, got {other:?}"),
        }
    });
}

#[test]
fn read_returns_what_is_available() {
    run(async {
        let mut r = StreamReader::new(Feed::chunks(&[b"abc", b"defg"]));
        assert_eq!(r.read(100).await.unwrap(), b"abc");
        assert_eq!(r.read(2).await.unwrap(), b"de");
        assert_eq!(r.read(100).await.unwrap(), b"fg");
        assert_eq!(r.read(100).await.unwrap(), b"");
        assert_eq!(r.read(0).await.unwrap(), b"");
    });
}

#[test]
fn cancelled_read_line_keeps_partial_data() {
    run(async {
        let feed = Feed::default();
        let mut r = StreamReader::new(feed.clone());
        feed.push(b"par");
        // One poll reads "par" into the buffer, then waits for more.
        assert!(r.read_line().now_or_never().is_none());
        assert_eq!(r.buffer(), b"par");
        feed.push(b"tial\nnext");
        assert_eq!(r.read_line().await.unwrap(), b"partial\n");
        // A cancelled read_exactly consumes nothing either.
        assert!(r.read_exactly(10).now_or_never().is_none());
        feed.push(b"123456");
        feed.end();
        assert_eq!(r.read_exactly(10).await.unwrap(), b"next123456");
    });
}

#[test]
fn lines_stream_strips_terminators() {
    run(async {
        let mut r = StreamReader::new(Feed::chunks(&[b"a\r\nb", b"\n\nlast"]));
        let lines: Vec<Vec<u8>> = r.lines().map(|l| l.unwrap()).collect().await;
        assert_eq!(
            lines,
            vec![b"a".to_vec(), b"b".to_vec(), b"".to_vec(), b"last".to_vec()]
        );
    });
}

#[test]
fn lines_stream_reports_overrun() {
    run(async {
        let mut r = StreamReader::with_limit(Feed::chunks(&[b"way too long\n"]), 4);
        let first = r.lines().next().await.unwrap();
        assert!(matches!(first, Err(ReadError::LimitOverrun { .. })));
        assert_eq!(r.buffer(), b"way too long\n");
    });
}

#[test]
fn futures_io_traits_work() {
    run(async {
        let mut r = StreamReader::new(Feed::chunks(&[b"hdr\n", b"body bytes"]));
        let mut line = String::new();
        futures::AsyncBufReadExt::read_line(&mut r, &mut line)
            .await
            .unwrap();
        assert_eq!(line, "hdr\n");
        let mut rest = Vec::new();
        AsyncReadExt::read_to_end(&mut r, &mut rest).await.unwrap();
        assert_eq!(rest, b"body bytes");
    });
}

#[test]
fn large_read_to_end_is_intact() {
    run(async {
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let chunks: Vec<&[u8]> = data.chunks(7919).collect();
        let mut r = StreamReader::new(Feed::chunks(&chunks));
        assert_eq!(r.read_to_end().await.unwrap(), data);
    });
}

/// A writer whose capacity the test controls: it accepts up to `room`
/// bytes, then returns `Pending` until the test adds room.
#[derive(Clone, Default)]
struct Sink(Rc<RefCell<SinkState>>);

#[derive(Default)]
struct SinkState {
    got: Vec<u8>,
    room: usize,
    waker: Option<Waker>,
    closed: bool,
    fail: bool,
    writes: usize,
}

impl Sink {
    fn with_room(room: usize) -> Sink {
        let s = Sink::default();
        s.0.borrow_mut().room = room;
        s
    }
    fn add_room(&self, n: usize) {
        let mut s = self.0.borrow_mut();
        s.room += n;
        if let Some(w) = s.waker.take() {
            w.wake();
        }
    }
    fn got(&self) -> Vec<u8> {
        self.0.borrow().got.clone()
    }
}

impl futures::AsyncWrite for Sink {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut s = self.0.borrow_mut();
        if s.fail {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        if s.room == 0 {
            s.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = data.len().min(s.room);
        s.room -= n;
        s.got.extend_from_slice(&data[..n]);
        s.writes += 1;
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.borrow_mut().closed = true;
        Poll::Ready(Ok(()))
    }
}

async fn settle() {
    for _ in 0..10 {
        eddy_core::yield_now().await;
    }
}

#[test]
fn a_write_to_an_idle_stream_goes_out_at_once() {
    run(async {
        // asyncio's transports try the socket inside write(): nothing is
        // left for the flusher when the stream takes it all.
        let sink = Sink::with_room(usize::MAX);
        let mut w = StreamWriter::new(sink.clone());
        w.write(b"a").unwrap();
        assert_eq!(w.buffered_len(), 0);
        assert_eq!(sink.got(), b"a");
    });
}

#[test]
fn writes_queued_behind_a_full_stream_leave_in_one_batch() {
    run(async {
        let sink = Sink::with_room(0);
        let mut w = StreamWriter::new(sink.clone());
        w.write(b"a").unwrap();
        w.write(b"b").unwrap();
        w.write(b"c").unwrap();
        assert_eq!(w.buffered_len(), 3);
        sink.add_room(usize::MAX / 2);
        settle().await;
        assert_eq!(sink.got(), b"abc");
        assert_eq!(
            sink.0.borrow().writes,
            1,
            "three writes queued behind a full stream leave together"
        );
        assert_eq!(w.buffered_len(), 0);
    });
}

#[test]
fn drain_applies_back_pressure_until_low_water() {
    run(async {
        // A peer that does not read: the sink takes nothing.
        let sink = Sink::with_room(0);
        let mut w = StreamWriter::new(sink.clone());
        w.set_write_buffer_limits(1000, Some(100)).unwrap();
        w.write(&[7; 900]).unwrap();
        // At most the high-water mark buffered: drain does not wait.
        assert!(w.drain().now_or_never().is_some());
        w.write(&[7; 200]).unwrap();
        // Above it: drain waits, and waiting changes nothing.
        {
            let mut drain = std::pin::pin!(w.drain());
            assert!(futures::poll!(drain.as_mut()).is_pending());
            settle().await;
            assert!(futures::poll!(drain.as_mut()).is_pending());
            // The peer reads a little: 200 bytes are left, under the high
            // mark but above the low one, so the same drain keeps waiting.
            sink.add_room(900);
            settle().await;
            assert!(futures::poll!(drain.as_mut()).is_pending());
            // Enough: the drain completes once at most 100 bytes are left.
            sink.add_room(150);
            drain.await.unwrap();
        }
        assert_eq!(w.buffered_len(), 50);
        sink.add_room(usize::MAX / 2);
        w.flush().await.unwrap();
        assert_eq!(sink.got().len(), 1100);
    });
}

#[test]
fn cancelled_drain_loses_nothing() {
    run(async {
        let sink = Sink::with_room(0);
        let mut w = StreamWriter::new(sink.clone());
        w.set_write_buffer_limits(10, None).unwrap();
        w.write(b"0123456789abcdef").unwrap();
        assert!(w.drain().now_or_never().is_none());
        sink.add_room(1 << 20);
        settle().await;
        assert_eq!(sink.got(), b"0123456789abcdef");
    });
}

#[test]
fn close_sends_buffer_then_shuts_down() {
    run(async {
        let sink = Sink::with_room(3);
        let mut w = StreamWriter::new(sink.clone());
        w.write(b"goodbye").unwrap();
        w.close();
        assert!(w.is_closing());
        assert!(matches!(w.write(b"more"), Err(WriteError::Closing)));
        let waiter = eddy_core::spawn({
            let sink = sink.clone();
            async move {
                settle().await;
                assert!(
                    !sink.0.borrow().closed,
                    "must not shut down before the buffer is sent"
                );
                sink.add_room(100);
            }
        });
        w.wait_closed().await;
        waiter.await.unwrap();
        assert_eq!(sink.got(), b"goodbye");
        assert!(sink.0.borrow().closed);
    });
}

#[test]
fn dropped_writer_still_delivers() {
    run(async {
        let sink = Sink::with_room(usize::MAX);
        {
            let mut w = StreamWriter::new(sink.clone());
            w.write(b"last words").unwrap();
        }
        settle().await;
        assert_eq!(sink.got(), b"last words");
        assert!(sink.0.borrow().closed);
    });
}

#[test]
fn write_error_is_sticky_and_reported() {
    run(async {
        let sink = Sink::with_room(usize::MAX);
        sink.0.borrow_mut().fail = true;
        let mut w = StreamWriter::new(sink.clone());
        w.write(b"x").unwrap();
        let err = w.flush().await.unwrap_err();
        assert!(matches!(&err, WriteError::Io(e) if e.kind() == io::ErrorKind::ConnectionReset));
        assert!(err.to_string().contains("reconnect"));
        assert!(matches!(w.write(b"y"), Err(WriteError::Io(_))));
        assert!(w.is_closing());
        w.wait_closed().await;
    });
}

#[test]
fn write_eof_shuts_down_after_the_buffer() {
    run(async {
        let sink = Sink::with_room(usize::MAX);
        let mut w = StreamWriter::new(sink.clone());
        w.write(b"req").unwrap();
        w.write_eof();
        assert!(w.write(b"more").is_err());
        settle().await;
        assert_eq!(sink.got(), b"req");
        assert!(sink.0.borrow().closed);
    });
}

#[test]
fn async_write_trait_works() {
    run(async {
        let sink = Sink::with_room(usize::MAX);
        let mut w = StreamWriter::new(sink.clone());
        AsyncWriteExt::write_all(&mut w, b"via trait")
            .await
            .unwrap();
        AsyncWriteExt::flush(&mut w).await.unwrap();
        assert_eq!(sink.got(), b"via trait");
        AsyncWriteExt::close(&mut w).await.unwrap();
        assert!(sink.0.borrow().closed);
    });
}

#[test]
fn error_messages_say_what_to_do() {
    let e = ReadError::LimitOverrun {
        consumed: 10,
        limit: 4,
    };
    assert!(e.to_string().contains("set_limit"));
    let e = ReadError::IncompleteRead {
        partial: vec![1],
        expected: Some(3),
    };
    assert!(e.to_string().contains("1 of 3"));
    assert!(WriteError::Closing.to_string().contains("new connection"));
    let io: io::Error = ReadError::IncompleteRead {
        partial: vec![],
        expected: None,
    }
    .into();
    assert_eq!(io.kind(), io::ErrorKind::UnexpectedEof);
}

#[test]
fn abort_while_the_peer_is_stuck_ends_the_flusher() {
    run(async {
        let tasks_before = eddy_core::task::all().len();
        let sink = Sink::with_room(0);
        let mut w = StreamWriter::new(sink.clone());
        w.write(b"stuck").unwrap();
        settle().await;
        assert_eq!(
            eddy_core::task::all().len(),
            tasks_before + 1,
            "the flusher waits on the stream"
        );
        w.abort();
        assert_eq!(w.buffered_len(), 0);
        assert!(matches!(
            w.write(b"x"),
            Err(WriteError::Aborted { discarded: 5 })
        ));
        w.wait_closed().await;
        settle().await;
        assert_eq!(
            eddy_core::task::all().len(),
            tasks_before,
            "the flusher exited"
        );
        assert!(sink.got().is_empty());
    });
}

/// asyncio's `drain` raises ConnectionResetError once the transport was
/// aborted: the caller must learn that what it wrote was thrown away.
/// Writes, flushes and `AsyncWrite::close` say the same.
#[test]
fn drain_after_abort_reports_the_dropped_data() {
    run(async {
        let sink = Sink::with_room(0);
        let mut w = StreamWriter::new(sink.clone());
        w.write(b"stuck").unwrap();
        w.abort();
        let err = w.drain().await.unwrap_err();
        assert!(
            matches!(err, WriteError::Aborted { discarded: 5 }),
            "{err:?}"
        );
        assert!(err.to_string().contains("5 buffered bytes were dropped"));
        assert!(err.to_string().contains("new connection"));
        assert!(matches!(
            w.flush().await,
            Err(WriteError::Aborted { discarded: 5 })
        ));
        assert!(matches!(
            w.write(b"late"),
            Err(WriteError::Aborted { discarded: 5 })
        ));
        // Through the futures traits: asyncio's ConnectionResetError.
        let e = AsyncWriteExt::flush(&mut w).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
        let e = AsyncWriteExt::close(&mut w).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
        assert!(sink.got().is_empty());

        // With nothing buffered the connection is still gone.
        let mut w = StreamWriter::new(Sink::with_room(usize::MAX));
        w.write(b"sent").unwrap();
        w.abort();
        assert!(matches!(
            w.drain().await,
            Err(WriteError::Aborted { discarded: 0 })
        ));

        // A graceful close delivered everything: drain stays Ok, and a
        // late abort changes nothing.
        let sink = Sink::with_room(usize::MAX);
        let mut w = StreamWriter::new(sink.clone());
        w.write(b"all of it").unwrap();
        w.close();
        w.wait_closed().await;
        w.abort();
        w.drain().await.unwrap();
        assert!(matches!(w.write(b"x"), Err(WriteError::Closing)));
        assert_eq!(sink.got(), b"all of it");
    });
}

/// A zero-length read returns `Ok(0)` at once (the std / futures
/// convention), whether or not data is buffered or the stream has any,
/// and it neither consumes nor reads from the stream.
#[test]
fn zero_length_read_returns_at_once() {
    run(async {
        // Nothing buffered and the stream has nothing yet.
        let feed = Feed::default();
        let mut r = StreamReader::new(feed.clone());
        let got = AsyncReadExt::read(&mut r, &mut []).now_or_never();
        assert!(
            matches!(got, Some(Ok(0))),
            "a zero-length read must not wait for data"
        );
        assert!(r.read(0).now_or_never().unwrap().unwrap().is_empty());
        assert_eq!(feed.reads(), 0, "nothing asked of the stream");

        // With data buffered: still 0, and the data stays.
        feed.push(b"abc");
        assert_eq!(r.fill().await.unwrap(), 3);
        let got = AsyncReadExt::read(&mut r, &mut []).now_or_never();
        assert!(matches!(got, Some(Ok(0))));
        assert_eq!(r.buffer(), b"abc");

        // At end of file too; and the data is still all there.
        feed.end();
        assert_eq!(r.read_to_end().await.unwrap(), b"abc");
        let got = AsyncReadExt::read(&mut r, &mut []).now_or_never();
        assert!(matches!(got, Some(Ok(0))));
    });
}

/// `fill` reports the bytes that arrived even when it first had to make
/// room by moving the unread bytes to the front of the buffer.
#[test]
fn fill_counts_new_bytes_after_making_room() {
    run(async {
        let feed = Feed::default();
        let mut r = StreamReader::new(feed.clone());
        feed.push(&[b'a'; 8192]);
        assert_eq!(r.fill().await.unwrap(), 8192);
        assert_eq!(r.read(4000).await.unwrap(), vec![b'a'; 4000]);
        // The buffer is full: this fill moves the 4192 unread bytes to
        // the front (and grows) before reading.
        feed.push(&[b'b'; 100]);
        assert_eq!(r.fill().await.unwrap(), 100);
        let mut want = vec![b'a'; 4192];
        want.extend_from_slice(&[b'b'; 100]);
        assert_eq!(r.buffer(), &want[..]);
        feed.end();
        assert_eq!(r.fill().await.unwrap(), 0);
        assert_eq!(r.read_to_end().await.unwrap(), want);
    });
}
