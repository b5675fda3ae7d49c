//! StreamReader's separator search: separators split across reads, reads
//! cancelled and re-issued (the scan resumes, but only for the same
//! separators), the earliest-ending rule for several separators, and the
//! overrun counts; plus a differential run against a model that rescans
//! the whole buffer on every call, as the search once did.

mod common;

use std::collections::VecDeque;

use common::feed::Feed;
use common::stress::Rng;
use eddy_io::io::{ReadError, StreamReader};
use futures::{FutureExt, StreamExt};

fn run<F: std::future::Future>(f: F) -> F::Output {
    eddy_core::run(f)
}

/// Polls `read` once: every test here feeds the data before reading, so
/// a read that is still pending is a failure (not a hang).
fn now<T>(read: impl std::future::Future<Output = T>) -> T {
    read.now_or_never().expect("the read is still pending")
}

fn overrun_consumed<T: std::fmt::Debug>(r: Result<T, ReadError>) -> usize {
    match r {
        Err(ReadError::LimitOverrun { consumed, .. }) => consumed,
        other => panic!("expected LimitOverrun, got {other:?}"),
    }
}

/// A multi-byte separator arriving one byte at a time, with the read
/// dropped and re-issued after every byte, is found wherever it is cut.
#[test]
fn a_separator_split_across_reads_is_found_by_a_resumed_read() {
    run(async {
        let feed = Feed::default();
        let mut r = StreamReader::new(feed.clone());
        for piece in [&b"head"[..], b"\r", b"\n", b"\r", b"\n"] {
            assert!(r.read_until(b"\r\n\r\n").now_or_never().is_none());
            feed.push(piece);
        }
        feed.push(b"body\r\n\r\n");
        assert_eq!(now(r.read_until(b"\r\n\r\n")).unwrap(), b"head\r\n\r\n");
        assert_eq!(now(r.read_until(b"\r\n\r\n")).unwrap(), b"body\r\n\r\n");
    });
}

/// The case a resume that ignores the separators gets wrong: bytes
/// already searched for `AB` hold an `X`, and the next read looks for `X`.
#[test]
fn another_separator_is_found_in_bytes_already_searched() {
    run(async {
        let feed = Feed::default();
        let mut r = StreamReader::new(feed.clone());
        feed.push(b"one X two\nthree A");
        assert!(r.read_until(b"AB").now_or_never().is_none());
        assert_eq!(
            r.read_until(b"X")
                .now_or_never()
                .expect("X is buffered")
                .unwrap(),
            b"one X"
        );
        // Same with a line after a longer separator, and a shorter
        // separator that is a prefix of the one searched before.
        assert!(r.read_until(b"AB").now_or_never().is_none());
        assert_eq!(r.read_line().now_or_never().unwrap().unwrap(), b" two\n");
        feed.push(b"\r\nfour\r\n");
        assert!(r.read_until(b"\r\n\r\n").now_or_never().is_none());
        assert_eq!(
            r.read_until(b"\r\n").now_or_never().unwrap().unwrap(),
            b"three A\r\n"
        );
        // The same separators in another order count as another search.
        feed.push(b"a|b&c");
        assert!(r
            .read_until_any(&[b"\r\n\r\n", b"!"])
            .now_or_never()
            .is_none());
        assert_eq!(
            r.read_until_any(&[b"!", b"\r\n"])
                .now_or_never()
                .unwrap()
                .unwrap(),
            b"four\r\n"
        );
        assert!(r.read_until_any(&[b"#", b"!"]).now_or_never().is_none());
        assert_eq!(
            r.read_until_any(&[b"&", b"|"])
                .now_or_never()
                .unwrap()
                .unwrap(),
            b"a|"
        );
        // At end of file the rest comes back whole.
        feed.end();
        match r.read_until(b"AB").now_or_never() {
            Some(Err(ReadError::IncompleteRead { partial, .. })) => assert_eq!(partial, b"b&c"),
            other => panic!("expected IncompleteRead, got {other:?}"),
        }
    });
}

/// `lines()` after a cancelled search for another separator still sees
/// the line ends in the searched bytes.
#[test]
fn lines_after_a_cancelled_search_for_something_else() {
    run(async {
        let feed = Feed::default();
        let mut r = StreamReader::new(feed.clone());
        feed.push(b"x\ny\nz");
        assert!(r.read_until(b"--").now_or_never().is_none());
        let mut lines = r.lines();
        assert_eq!(lines.next().now_or_never().unwrap().unwrap().unwrap(), b"x");
        assert_eq!(lines.next().now_or_never().unwrap().unwrap().unwrap(), b"y");
        assert!(lines.next().now_or_never().is_none());
    });
}

/// A long line trickling in, read by a `read_line` that is dropped and
/// re-issued after every piece (a read in a timeout or select loop), comes
/// back whole, and so do the lines after it.
#[test]
fn a_re_issued_read_line_keeps_finding_the_line() {
    run(async {
        let feed = Feed::default();
        let mut r = StreamReader::new(feed.clone());
        let line: Vec<u8> = (0..60 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
        for piece in line.chunks(1000) {
            assert!(r.read_line().now_or_never().is_none());
            feed.push(piece);
        }
        assert!(r.read_line().now_or_never().is_none());
        feed.push(b"\nsecond");
        let got = now(r.read_line()).unwrap();
        assert_eq!(got.len(), line.len() + 1);
        assert!(got.starts_with(&line) && got.ends_with(b"\n"));
        // A cancelled read with another separator in between does not
        // hide the next line end.
        assert!(r.read_line().now_or_never().is_none());
        assert!(r.read_until(b"\r\n").now_or_never().is_none());
        feed.push(b" line\nthird");
        assert!(r.read_until(b"\r\n").now_or_never().is_none());
        assert_eq!(now(r.read_line()).unwrap(), b"second line\n");
        feed.end();
        assert_eq!(now(r.read_line()).unwrap(), b"third");
        assert_eq!(now(r.read_line()).unwrap(), b"");
    });
}

/// Several separators: the one that ends first wins, not the one that
/// starts first nor the one listed first; ties end at the same byte.
#[test]
fn several_separators_take_the_earliest_ending() {
    run(async {
        let read = |data: &'static [u8], seps: &'static [&'static [u8]]| async move {
            let mut r = StreamReader::new(Feed::chunks(&[data]));
            now(r.read_until_any(seps)).unwrap()
        };
        // Mixed lengths (the general path).
        assert_eq!(read(b"abcdef", &[b"bcde", b"cd"]).await, b"abcd");
        assert_eq!(read(b"abcdef", &[b"cd", b"bcde"]).await, b"abcd");
        assert_eq!(read(b"abcdef", &[b"abcdef", b"f"]).await, b"abcdef");
        assert_eq!(read(b"aXXXXb", &[b"aXXXXb", b"X"]).await, b"aX");
        assert_eq!(read(b"x\r\n\r\n", &[b"\r\n\r\n", b"\n"]).await, b"x\r\n");
        // One-byte separators, two, three and four of them.
        assert_eq!(read(b"k=v&x;y", &[b";", b"&"]).await, b"k=v&");
        assert_eq!(read(b"k=v|x;y&", &[b";", b"&", b"|"]).await, b"k=v|");
        assert_eq!(read(b"k=v#x;y&", &[b";", b"&", b"|", b"#"]).await, b"k=v#");
        // The same separator twice.
        assert_eq!(read(b"a--b", &[b"--", b"--"]).await, b"a--");
    });
}

/// The earliest-ending rule holds when the separators arrive over several
/// reads and each read is dropped and re-issued in between.
#[test]
fn several_separators_across_re_issued_reads() {
    run(async {
        const SEPS: &[&[u8]] = &[b"<end>", b"nd>", b";;"];
        let feed = Feed::default();
        let mut r = StreamReader::new(feed.clone());
        for piece in [&b"a;"[..], b"x<e", b"n", b"d", b">;;"] {
            assert!(r.read_until_any(SEPS).now_or_never().is_none());
            feed.push(piece);
        }
        // "a;x<end>": "<end>" and "nd>" end together, before ";;".
        assert_eq!(now(r.read_until_any(SEPS)).unwrap(), b"a;x<end>");
        assert_eq!(now(r.read_until_any(SEPS)).unwrap(), b";;");
    });
}

/// The overrun counts are what they were: all settled bytes without a
/// separator (one-byte and longer separators, with re-issued reads in
/// between), the separator's end when it is found beyond the limit, and
/// the data stays buffered either way.
#[test]
fn overrun_counts_are_unchanged_by_resumed_reads() {
    run(async {
        // One-byte separator, none found: every buffered byte counts.
        let feed = Feed::default();
        let mut r = StreamReader::with_limit(feed.clone(), 4);
        feed.push(b"abcdef");
        assert_eq!(overrun_consumed(r.read_line().now_or_never().unwrap()), 6);
        assert_eq!(overrun_consumed(r.read_line().now_or_never().unwrap()), 6);
        assert_eq!(r.buffer(), b"abcdef");
        r.set_limit(100);
        assert!(r.read_line().now_or_never().is_none());
        feed.push(b"gh\n");
        assert_eq!(now(r.read_line()).unwrap(), b"abcdefgh\n");

        // Longer separators: all but the last `len - 1` bytes count.
        let feed = Feed::default();
        let mut r = StreamReader::with_limit(feed.clone(), 8);
        feed.push(b"abcdef");
        assert!(r.read_until(b"\r\n\r\n").now_or_never().is_none());
        feed.push(b"ghij\r\n");
        // 12 buffered, the last 3 may start the separator.
        assert_eq!(
            overrun_consumed(r.read_until(b"\r\n\r\n").now_or_never().unwrap()),
            9
        );
        // Re-issued without new data: the same answer.
        assert_eq!(
            overrun_consumed(r.read_until(b"\r\n\r\n").now_or_never().unwrap()),
            9
        );
        // A line end found beyond the limit: the count runs to its end.
        assert_eq!(overrun_consumed(r.read_line().now_or_never().unwrap()), 12);
        assert_eq!(r.buffer(), b"abcdefghij\r\n");
        // A raised limit lets the re-issued read wait for the rest...
        r.set_limit(100);
        assert!(r.read_until(b"\r\n\r\n").now_or_never().is_none());
        // ...and a lowered one reports the overrun again.
        r.set_limit(4);
        assert_eq!(
            overrun_consumed(r.read_until(b"\r\n\r\n").now_or_never().unwrap()),
            9
        );
        // Found beyond the limit: the count runs to the separator's end.
        // (An overrun returns before reading more: fill to bring it in.)
        feed.push(b"\r\nnext\r\n\r\n");
        assert_eq!(r.fill().now_or_never().unwrap().unwrap(), 10);
        assert_eq!(
            overrun_consumed(r.read_until(b"\r\n\r\n").now_or_never().unwrap()),
            14
        );
        assert_eq!(r.buffer(), b"abcdefghij\r\n\r\nnext\r\n\r\n");
        assert_eq!(r.discard(14), 14);
        r.set_limit(100);
        assert_eq!(now(r.read_until(b"\r\n\r\n")).unwrap(), b"next\r\n\r\n");
    });
}

/// A scan that stopped part way keeps its place when the buffer moves:
/// a `read_exactly` that makes room (moving the unread bytes to the front)
/// between two re-issued separator reads does not hide the separator.
#[test]
fn a_resumed_scan_survives_the_buffer_moving() {
    run(async {
        let feed = Feed::default();
        let mut r = StreamReader::new(feed.clone());
        // Fill most of the buffer, consume some so `start` moves, then
        // search the rest.
        feed.push(&[b'a'; 10_000]);
        assert_eq!(now(r.read_exactly(9_000)).unwrap().len(), 9_000);
        feed.push(b"bbb\r");
        assert!(r.read_until(b"\r\n").now_or_never().is_none());
        // A read_exactly asking for more than fits makes room and is
        // dropped before it completes.
        assert!(r.read_exactly(100_000).now_or_never().is_none());
        feed.push(b"\nrest");
        let got = now(r.read_until(b"\r\n")).unwrap();
        assert_eq!(got.len(), 1_000 + 5);
        assert!(got.ends_with(b"abbb\r\n"));
    });
}

/// What one separator read does, from the old search: the whole buffer
/// is searched on every call and every fill.
enum Model {
    Found(usize),
    Overrun(usize),
    Eof,
    Pending,
}

/// Runs one separator read on the model: `buf` is what the reader holds,
/// `queued` the chunks the stream will hand out one per read.
fn model_read(
    buf: &mut Vec<u8>,
    queued: &mut VecDeque<Vec<u8>>,
    ended: bool,
    seps: &[&[u8]],
    limit: usize,
) -> Model {
    let longest = seps.iter().map(|s| s.len()).max().unwrap();
    loop {
        // The earliest end wins; on a tie the separator listed first.
        let mut found: Option<(usize, usize)> = None;
        for sep in seps {
            if let Some(i) = buf.windows(sep.len()).position(|w| w == *sep) {
                let end = i + sep.len();
                if found.is_none_or(|(best, _)| end < best) {
                    found = Some((end, sep.len()));
                }
            }
        }
        if let Some((end, sep_len)) = found {
            // Only the bytes before the separator count (asyncio's rule).
            return if end - sep_len > limit {
                Model::Overrun(end)
            } else {
                Model::Found(end)
            };
        }
        let settled = (buf.len() + 1).saturating_sub(longest);
        if settled > limit {
            return Model::Overrun(settled);
        }
        match queued.pop_front() {
            Some(chunk) => buf.extend_from_slice(&chunk),
            None if ended => return Model::Eof,
            None => return Model::Pending,
        }
    }
}

/// Random separator reads over a random stream, each polled once and
/// dropped if pending, with random limits: every result, overrun count
/// and the buffer after it match the model that always rescans.
#[test]
fn resumed_reads_match_a_full_rescan() {
    const SETS: &[&[&[u8]]] = &[
        &[b"\n"],
        &[b"\r\n\r\n"],
        &[b"\r\n"],
        &[b";", b"&"],
        &[b"&", b";"],
        &[b";", b"--", b"\r\n\r\n"],
        &[b"--", b"-"],
        &[b"ab", b"b;", b"\n"],
    ];
    const ALPHABET: &[u8] = b"ab;&--\r\n\r\nxyzxyzxyz";
    for seed in 1..=30 {
        run(async move {
            let mut rng = Rng::new(seed);
            let feed = Feed::default();
            let mut r = StreamReader::with_limit(feed.clone(), 64);
            let mut limit = 64;
            let (mut buf, mut queued, mut ended) = (Vec::new(), VecDeque::new(), false);
            let mut pushed = 0;
            let (mut found, mut pending) = (0, 0);
            let mut steps = 0;
            while pushed < 20_000 || !r.at_eof() {
                steps += 1;
                assert!(steps < 1_000_000, "seed {seed}: no progress");
                if rng.one_in(40) {
                    limit = 1 + rng.below(100) as usize;
                    r.set_limit(limit);
                }
                if rng.one_in(3) {
                    if pushed < 20_000 {
                        let chunk: Vec<u8> = (0..1 + rng.below(20))
                            .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize])
                            .collect();
                        pushed += chunk.len();
                        feed.push(&chunk);
                        queued.push_back(chunk);
                    } else if !ended {
                        feed.end();
                        ended = true;
                    }
                    continue;
                }
                let seps = SETS[rng.below(SETS.len() as u64) as usize];
                let want = model_read(&mut buf, &mut queued, ended, seps, limit);
                let got = if seps.len() == 1 && seps[0] == b"\n" && rng.one_in(2) {
                    r.read_line().now_or_never()
                } else {
                    r.read_until_any(seps).now_or_never()
                };
                let ctx = format!("seed {seed}, seps {seps:?}, limit {limit}");
                match (want, got) {
                    (Model::Found(end), Some(Ok(bytes))) => {
                        assert_eq!(bytes, buf[..end], "{ctx}");
                        buf.drain(..end);
                        found += 1;
                    }
                    (Model::Overrun(n), Some(Err(ReadError::LimitOverrun { consumed, .. }))) => {
                        assert_eq!(consumed, n, "{ctx}");
                        if rng.one_in(2) {
                            assert_eq!(r.discard(consumed), consumed);
                            buf.drain(..consumed);
                        }
                    }
                    (Model::Eof, Some(Ok(bytes))) => {
                        // read_line at end of file: the rest.
                        assert_eq!(bytes, buf, "{ctx}");
                        buf.clear();
                    }
                    (Model::Eof, Some(Err(ReadError::IncompleteRead { partial, .. }))) => {
                        assert_eq!(partial, buf, "{ctx}");
                        buf.clear();
                    }
                    (Model::Pending, None) => pending += 1,
                    (want, got) => panic!(
                        "{ctx}: model {}, reader {got:?}",
                        match want {
                            Model::Found(n) => format!("found {n}"),
                            Model::Overrun(n) => format!("overrun {n}"),
                            Model::Eof => "eof".into(),
                            Model::Pending => "pending".into(),
                        }
                    ),
                }
                assert_eq!(r.buffer(), buf, "{ctx}: buffers differ");
            }
            assert!(
                found > 100 && pending > 100,
                "seed {seed}: {found} {pending}"
            );
        });
    }
}
