//! Unit tests that look at the reader's buffer: it gives memory back after
//! a large read, keeps every byte in order doing so, and does not
//! reallocate on a stream of small messages.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncRead;

use super::{StreamReader, SHRINK_ABOVE, SHRINK_TO};

/// Hands out `data` at most `chunk` bytes per read.
struct Chunked {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
}

impl Chunked {
    fn new(data: Vec<u8>, chunk: usize) -> Chunked {
        Chunked {
            data,
            pos: 0,
            chunk,
        }
    }
}

impl AsyncRead for Chunked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let n = buf.len().min(self.chunk).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Poll::Ready(Ok(n))
    }
}

/// The shrink rule holds: a buffer over `SHRINK_ABOVE` is more than a
/// quarter full.
fn assert_no_waste<R: AsyncRead + Unpin>(reader: &StreamReader<R>, what: &str) {
    let (len, unread) = (reader.buf.len(), reader.buffered());
    assert!(
        len <= SHRINK_ABOVE || unread > len / 4,
        "{what}: {unread} unread bytes kept a buffer of {len}"
    );
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn a_large_read_exactly_gives_the_memory_back() {
    eddy_core::run(async {
        let big = pattern(10 * 1024 * 1024);
        let mut data = big.clone();
        data.extend_from_slice(b"after\n");
        let mut reader = StreamReader::new(Chunked::new(data, 256 * 1024));
        let got = reader.read_exactly(big.len()).await.unwrap();
        assert!(got == big, "the large message came back altered");
        assert!(
            reader.buf.capacity() <= SHRINK_ABOVE,
            "the buffer kept {} bytes after the large read",
            reader.buf.capacity()
        );
        assert_eq!(reader.read_line().await.unwrap(), b"after\n");
        assert_eq!(reader.read(10).await.unwrap(), b"");
    });
}

#[test]
fn a_long_line_under_a_raised_limit_gives_the_memory_back() {
    eddy_core::run(async {
        let mut line: Vec<u8> = pattern(3 * 1024 * 1024)
            .into_iter()
            .map(|b| if b == b'\n' { b'x' } else { b })
            .collect();
        line.push(b'\n');
        let mut data = line.clone();
        data.extend_from_slice(b"short one\nshort two\n");
        let mut reader = StreamReader::with_limit(Chunked::new(data, 100_000), 4 * 1024 * 1024);
        assert!(reader.read_line().await.unwrap() == line);
        assert!(reader.buf.capacity() <= SHRINK_ABOVE);
        assert_eq!(reader.read_line().await.unwrap(), b"short one\n");
        assert_eq!(reader.read_line().await.unwrap(), b"short two\n");
        assert_eq!(reader.read_line().await.unwrap(), b"");
    });
}

/// Shrinking with unread bytes still buffered (the next messages arrived
/// in the same reads as the large one) moves them over intact and in
/// order, whatever the chunking.
#[test]
fn shrinking_keeps_the_unread_bytes_in_order() {
    eddy_core::run(async {
        for chunk in [1000, 65_536, 300_001, 4 * 1024 * 1024] {
            let big = pattern(2 * 1024 * 1024 + 7);
            let mut data = Vec::new();
            data.extend_from_slice(&(big.len() as u32).to_be_bytes());
            data.extend_from_slice(&big);
            let mut small = Vec::new();
            for i in 0..5000 {
                small.extend_from_slice(format!("line {i}\n").as_bytes());
            }
            data.extend_from_slice(&small);
            data.extend_from_slice(&big);
            let mut reader = StreamReader::new(Chunked::new(data, chunk));

            let len = reader.read_exactly(4).await.unwrap();
            let len = u32::from_be_bytes(len.try_into().unwrap()) as usize;
            assert!(
                reader.read_exactly(len).await.unwrap() == big,
                "chunk {chunk}"
            );
            for i in 0..5000 {
                let line = reader.read_line().await.unwrap();
                assert_eq!(line, format!("line {i}\n").as_bytes(), "chunk {chunk}");
                assert_no_waste(&reader, &format!("chunk {chunk}, line {i}"));
            }
            assert!(reader.read_to_end().await.unwrap() == big, "chunk {chunk}");
            assert!(reader.buf.capacity() <= SHRINK_ABOVE, "chunk {chunk}");
            assert!(reader.at_eof());
        }
    });
}

/// Reading a large message a little at a time through `AsyncRead` shrinks
/// in steps (each keeping the rest), and every byte arrives in order.
#[test]
fn small_reads_out_of_a_large_buffer_lose_nothing() {
    eddy_core::run(async {
        let data = pattern(1024 * 1024 + 13);
        let mut reader = StreamReader::new(Chunked::new(data.clone(), usize::MAX));
        while reader.buffered() < data.len() {
            assert_ne!(reader.fill().await.unwrap(), 0);
        }
        let mut got = Vec::new();
        let mut piece = [0u8; 1000];
        loop {
            let n = futures_util::AsyncReadExt::read(&mut reader, &mut piece)
                .await
                .unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&piece[..n]);
            assert_no_waste(&reader, &format!("after {} bytes", got.len()));
        }
        assert!(got == data);
    });
}

/// A stream of small messages settles on one buffer and never reallocates
/// it: no shrinking and regrowing on the common path.
#[test]
fn small_messages_reuse_one_buffer() {
    eddy_core::run(async {
        let mut data = Vec::new();
        for i in 0..20_000 {
            data.extend_from_slice(format!("message number {i}\r\n").as_bytes());
        }
        let mut reader = StreamReader::new(Chunked::new(data, 5000));
        for _ in 0..1000 {
            reader.read_line().await.unwrap();
        }
        let ptr = reader.buf.as_ptr();
        let cap = reader.buf.capacity();
        assert!(cap <= SHRINK_TO);
        for i in 1000..20_000 {
            let line = reader.read_line().await.unwrap();
            assert_eq!(line, format!("message number {i}\r\n").as_bytes());
            assert_eq!(reader.buf.as_ptr(), ptr, "reallocated at line {i}");
        }
        assert_eq!(reader.buf.capacity(), cap);
    });
}

/// Hands out its chunks one per read, then `Pending` (a stream whose
/// rest has not arrived).
struct Trickle(std::collections::VecDeque<Vec<u8>>);

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.0.pop_front() {
            Some(chunk) => {
                buf[..chunk.len()].copy_from_slice(&chunk);
                Poll::Ready(Ok(chunk.len()))
            }
            None => Poll::Pending,
        }
    }
}

/// A separator read that is dropped and re-issued picks up where the
/// dropped one stopped (so a long line re-read in a timeout loop costs
/// its length once, not once per retry); a read with other separators
/// starts over. Seen from inside: a `\n` planted in bytes already
/// searched is not seen by the re-issued `read_line`, and is once a
/// search for something else has come between.
#[test]
fn a_re_issued_read_resumes_its_scan() {
    use futures_util::{FutureExt, StreamExt};

    let mut reader = StreamReader::new(Trickle([vec![b'a'; 5000]].into()));
    assert!(reader.read_line().now_or_never().is_none());
    assert_eq!(reader.scanned, 5000);
    let start = reader.start;
    reader.buf[start + 10] = b'\n';
    assert!(reader.read_line().now_or_never().is_none(), "rescanned");
    assert!(reader.lines().next().now_or_never().is_none(), "rescanned");
    assert!(reader.read_until(b"\r\n").now_or_never().is_none());
    let line = reader.read_line().now_or_never().expect("not rescanned");
    assert_eq!(line.unwrap().len(), 11);
    assert_eq!(reader.scanned, 0, "a consume resets the scan");
}
