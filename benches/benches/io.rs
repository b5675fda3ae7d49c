//! Criterion benches for the io area, eddy vs tokio: the `tcp_echo`
//! exchange (50 loopback connections × 1 KiB round trips on one loop), and
//! `read_line` (separator search in a buffered reader: 1 MiB of 100-byte
//! lines from memory, and one 60 KiB line arriving in 1 KiB pieces with
//! the read re-issued after each, as in a timeout or select loop), and
//! `sendfile` (an 8 MiB file to a loopback reader: eddy's
//! `TcpStream::sendfile`, zero-copy, against tokio's `fs::File` +
//! `io::copy`, as tokio has no sendfile; same workload, different
//! mechanisms).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use eddy_benches::io::{
    eddy_echo, eddy_sendfile, tokio_echo, tokio_sendfile, BenchFile, CONNECTIONS, SENDFILE_LEN,
};
use futures::FutureExt;

fn tcp_echo(c: &mut Criterion) {
    let rounds = 100;
    let mut g = c.benchmark_group("tcp_echo");
    g.sample_size(10);
    g.throughput(criterion::Throughput::Elements(
        (CONNECTIONS * rounds) as u64,
    ));
    g.bench_function("eddy", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| eddy_echo(rounds)).sum())
    });
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| tokio_echo(rounds)).sum())
    });
    g.finish();
}

/// 1 MiB of 100-byte lines (99 bytes and `\n`).
fn lines_input() -> Vec<u8> {
    let line: Vec<u8> = (0..99)
        .map(|i| b'a' + (i % 26) as u8)
        .chain([b'\n'])
        .collect();
    line.iter()
        .copied()
        .cycle()
        .take(1024 * 1024 / 100 * 100)
        .collect()
}

/// A stream that hands out `piece` bytes per read and is `Pending` (wakes
/// at once) between pieces: each piece is a separate arrival.
struct Pieces {
    data: Vec<u8>,
    pos: usize,
    piece: usize,
    arrived: bool,
}

impl Pieces {
    fn new(data: Vec<u8>, piece: usize) -> Pieces {
        Pieces {
            data,
            pos: 0,
            piece,
            arrived: false,
        }
    }

    /// The next piece into `out`, or `None` while it is on its way.
    fn next_piece(&mut self, cx: &mut Context<'_>, out: &mut [u8]) -> Option<usize> {
        if !self.arrived && self.pos < self.data.len() {
            self.arrived = true;
            cx.waker().wake_by_ref();
            return None;
        }
        self.arrived = false;
        let n = out.len().min(self.piece).min(self.data.len() - self.pos);
        out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Some(n)
    }
}

impl futures::io::AsyncRead for Pieces {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut().next_piece(cx, out) {
            Some(n) => Poll::Ready(Ok(n)),
            None => Poll::Pending,
        }
    }
}

impl tokio::io::AsyncRead for Pieces {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut().next_piece(cx, out.initialize_unfilled()) {
            Some(n) => {
                out.advance(n);
                Poll::Ready(Ok(()))
            }
            None => Poll::Pending,
        }
    }
}

/// eddy's `StreamReader::read_line` against tokio's
/// `BufReader::read_until(b'\n', ..)` (into one reused buffer, the usual
/// tokio idiom; eddy returns each line as its own `Vec`).
fn read_line(c: &mut Criterion) {
    let input = lines_input();
    let lines = (input.len() / 100) as u64;
    let eddy_rt = eddy_core::Builder::new().build().expect("eddy runtime");
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");

    let mut g = c.benchmark_group("read_line");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(1));
    g.throughput(criterion::Throughput::Elements(lines));
    g.bench_function("eddy/1MiB_100B_lines", |b| {
        b.iter(|| {
            eddy_rt.block_on(async {
                let mut r = eddy_io::io::StreamReader::new(&input[..]);
                let mut n = 0u64;
                while !r.read_line().await.unwrap().is_empty() {
                    n += 1;
                }
                assert_eq!(n, lines);
            })
        })
    });
    g.bench_function("tokio/1MiB_100B_lines", |b| {
        use tokio::io::AsyncBufReadExt;
        b.iter(|| {
            tokio_rt.block_on(async {
                let mut r = tokio::io::BufReader::new(&input[..]);
                let mut line = Vec::new();
                let mut n = 0u64;
                loop {
                    line.clear();
                    if r.read_until(b'\n', &mut line).await.unwrap() == 0 {
                        break;
                    }
                    n += 1;
                }
                assert_eq!(n, lines);
            })
        })
    });
    // The same with a new `Vec` per line, as eddy hands them out: the
    // difference to the figure above is the allocation, not the search.
    g.bench_function("tokio/1MiB_100B_lines_vec_per_line", |b| {
        use tokio::io::AsyncBufReadExt;
        b.iter(|| {
            tokio_rt.block_on(async {
                let mut r = tokio::io::BufReader::new(&input[..]);
                let mut n = 0u64;
                loop {
                    let mut line = Vec::new();
                    if r.read_until(b'\n', &mut line).await.unwrap() == 0 {
                        break;
                    }
                    std::hint::black_box(line);
                    n += 1;
                }
                assert_eq!(n, lines);
            })
        })
    });

    // One 60 KiB line in 1 KiB pieces; the read is dropped whenever it
    // would wait and issued again (no runtime: each attempt is one poll).
    let mut long = vec![b'x'; 60 * 1024 - 1];
    long.push(b'\n');
    g.throughput(criterion::Throughput::Bytes(long.len() as u64));
    g.bench_function("eddy/60KiB_line_reissued", |b| {
        b.iter(|| {
            let mut r = eddy_io::io::StreamReader::new(Pieces::new(long.clone(), 1024));
            let line = loop {
                if let Some(line) = r.read_line().now_or_never() {
                    break line.unwrap();
                }
            };
            assert_eq!(line.len(), long.len());
        })
    });
    g.bench_function("tokio/60KiB_line_reissued", |b| {
        use tokio::io::AsyncBufReadExt;
        b.iter(|| {
            let mut r = tokio::io::BufReader::new(Pieces::new(long.clone(), 1024));
            let mut line = Vec::new();
            while r.read_until(b'\n', &mut line).now_or_never().is_none() {}
            assert_eq!(line.len(), long.len());
        })
    });
    g.finish();
}

fn sendfile(c: &mut Criterion) {
    let rounds = 2;
    let file = BenchFile::new();
    let mut g = c.benchmark_group("sendfile");
    g.sample_size(10);
    g.throughput(criterion::Throughput::Bytes((rounds * SENDFILE_LEN) as u64));
    g.bench_function("eddy", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| eddy_sendfile(file.path(), rounds)).sum())
    });
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| tokio_sendfile(file.path(), rounds))
                .sum()
        })
    });
    g.finish();
}

criterion_group!(benches, tcp_echo, read_line, sendfile);
criterion_main!(benches);
