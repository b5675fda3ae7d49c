//! Cancellation of every StreamReader read at every await: a random mix
//! of reads, each polled once and dropped while the data trickles in
//! (random chunks, random `Pending`s), must hand out every byte exactly
//! once and in order: what the reads return, plus what is discarded after
//! an overrun, plus what is left, is the input.

mod common;

use common::feed::Feed;
use common::stress::Rng;
use eddy_io::io::{ReadError, StreamReader};
use futures::{AsyncBufReadExt, AsyncReadExt, FutureExt, StreamExt};

/// What one read handed out.
enum Out {
    /// These bytes, exactly as they were in the stream.
    Bytes(Vec<u8>),
    /// A line from `lines()`: its terminator (`\n`, `\r\n` or end of
    /// file) was stripped.
    Line(Vec<u8>),
    /// `lines()` ended.
    LinesEnd,
}

/// One read of a random kind, polled once: `Some` if it finished (or, for
/// futures' `read_until`, which is not cancel safe by design, whatever it
/// had consumed), `None` if it was pending and is dropped here.
fn one_read(reader: &mut StreamReader<Feed>, rng: &mut Rng, max_read: u64) -> Option<Out> {
    const SEPS: &[&[u8]] = &[b";", b"--", b"\r\n\r\n"];
    let n = 1 + rng.below(max_read) as usize;
    let done: Result<Vec<u8>, ReadError> = match rng.below(10) {
        0 => reader.read(n).now_or_never()?.map_err(Into::into),
        1 => reader.read_exactly(n).now_or_never()?,
        2 => reader.read_line().now_or_never()?,
        3 => reader.read_until(b"\r\n\r\n").now_or_never()?,
        4 => reader.read_until_any(SEPS).now_or_never()?,
        5 => {
            return match StreamReader::lines(reader).next().now_or_never()? {
                Some(Ok(line)) => Some(Out::Line(line)),
                Some(Err(e)) => Some(overrun(reader, e)),
                None => Some(Out::LinesEnd),
            }
        }
        6 => {
            let mut buf = vec![0u8; n];
            let k = AsyncReadExt::read(reader, &mut buf).now_or_never()?;
            Ok(buf[..k.unwrap()].to_vec())
        }
        7 => {
            let mut out = Vec::new();
            let done = AsyncBufReadExt::read_until(reader, b';', &mut out).now_or_never();
            if let Some(r) = done {
                r.unwrap();
            }
            Ok(out)
        }
        8 => {
            let before = reader.buffer().len();
            let n = reader.fill().now_or_never()?.unwrap();
            assert_eq!(reader.buffer().len(), before + n, "fill miscounted");
            Ok(Vec::new())
        }
        _ => {
            let k = n.min(3).min(reader.buffer().len());
            let dropped = reader.buffer()[..k].to_vec();
            assert_eq!(reader.discard(k), k);
            Ok(dropped)
        }
    };
    Some(match done {
        Ok(bytes) => Out::Bytes(bytes),
        Err(e) => overrun(reader, e),
    })
}

/// An overrun discards what it names (and checks it is buffered); an
/// incomplete read hands out its partial bytes.
fn overrun(reader: &mut StreamReader<Feed>, e: ReadError) -> Out {
    match e {
        ReadError::LimitOverrun { consumed, .. } => {
            assert!(consumed <= reader.buffer().len(), "overrun past the buffer");
            let dropped = reader.buffer()[..consumed].to_vec();
            assert_eq!(reader.discard(consumed), consumed);
            Out::Bytes(dropped)
        }
        ReadError::IncompleteRead { partial, .. } => Out::Bytes(partial),
        ReadError::Io(e) => panic!("{e}"),
    }
}

/// Sizes of one run.
struct Sizes {
    input: usize,
    max_push: u64,
    max_read: u64,
    max_limit: u64,
}

/// Small: the buffer stays small and every read is cancelled often.
const SMALL: Sizes = Sizes {
    input: 30_000,
    max_push: 30,
    max_read: 40,
    max_limit: 100,
};

/// Large: reads and limits of up to 300 KB make the buffer grow past the
/// size at which it shrinks again, so it shrinks with bytes buffered
/// between cancelled reads.
const LARGE: Sizes = Sizes {
    input: 3_000_000,
    max_push: 20_000,
    max_read: 300_000,
    max_limit: 300_000,
};

fn cancel_everywhere(seed: u64, sizes: &Sizes) {
    common::run(async move {
        let mut rng = Rng::new(seed);
        const ALPHABET: &[u8] = b"abcab;--\r\n\r\n;x";
        let input: Vec<u8> = (0..sizes.input)
            .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize])
            .collect();
        let feed = Feed::default();
        let mut reader = StreamReader::with_limit(feed.clone(), 64);
        let (mut pushed, mut pos, mut ended) = (0, 0, false);
        let (mut cancelled, mut finished) = (0u64, 0u64);
        let mut steps = 0u64;
        while !(ended && reader.at_eof()) {
            steps += 1;
            assert!(steps < 10_000_000, "seed {seed}: no progress");
            if rng.below(50) == 0 {
                reader.set_limit(1 + rng.below(sizes.max_limit) as usize);
            }
            let Some(out) = one_read(&mut reader, &mut rng, sizes.max_read) else {
                // Pending: the read is dropped; more data arrives.
                cancelled += 1;
                if pushed < input.len() {
                    let k = (1 + rng.below(sizes.max_push) as usize).min(input.len() - pushed);
                    feed.push(&input[pushed..pushed + k]);
                    pushed += k;
                } else if !ended {
                    feed.end();
                    ended = true;
                }
                continue;
            };
            finished += 1;
            match out {
                Out::Bytes(bytes) => {
                    assert!(
                        input[pos..].starts_with(&bytes),
                        "seed {seed}: at {pos}, got {:?}, stream has {:?}",
                        String::from_utf8_lossy(&bytes),
                        String::from_utf8_lossy(
                            &input[pos..(pos + bytes.len() + 8).min(input.len())]
                        ),
                    );
                    pos += bytes.len();
                }
                Out::Line(line) => {
                    assert!(
                        input[pos..].starts_with(&line),
                        "seed {seed}: line at {pos}"
                    );
                    pos += line.len();
                    if input[pos..].starts_with(b"\r\n") {
                        pos += 2;
                    } else if input[pos..].starts_with(b"\n") {
                        pos += 1;
                    } else {
                        assert_eq!(pos, input.len(), "seed {seed}: line without terminator");
                    }
                }
                Out::LinesEnd => assert_eq!(pos, input.len(), "seed {seed}: lines ended early"),
            }
        }
        assert_eq!(pos, input.len(), "seed {seed}: bytes lost");
        assert!(
            cancelled > 100 && finished > 100,
            "seed {seed}: too few of either"
        );
    });
}

#[test]
fn dropping_any_read_at_any_await_loses_no_byte() {
    for seed in 1..=20 {
        cancel_everywhere(seed, &SMALL);
    }
}

#[test]
fn dropping_large_reads_while_the_buffer_shrinks_loses_no_byte() {
    for seed in 1..=3 {
        cancel_everywhere(seed, &LARGE);
    }
}
