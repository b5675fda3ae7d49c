//! The blocking path (a terminal, a regular file, `/dev/null`, ...): each
//! read or write runs as one blocking job off the loop, on a buffer owned
//! by that job, one job in flight per handle.

use std::fs::File;
use std::future::Future;
use std::io::{self, Read, Write};
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use crate::driver::offload::{run_blocking, Offloaded};
use crate::driver::Handle;

/// The blocking path: one job in flight, on a buffer it owns.
pub(super) struct Blocking {
    file: Arc<File>,
    handle: Handle,
    state: State,
    /// A write error to report from the next write or flush.
    error: Option<io::Error>,
}

enum State {
    /// `buf[start..end]` is data read but not yet returned (reads only).
    Idle {
        buf: Vec<u8>,
        start: usize,
        end: usize,
    },
    Busy(Offloaded<(io::Result<usize>, Vec<u8>)>),
}

const CHUNK: usize = 16 * 1024;

impl Blocking {
    pub(super) fn new(file: File, handle: Handle) -> Blocking {
        Blocking {
            file: Arc::new(file),
            handle,
            state: State::Idle {
                buf: Vec::new(),
                start: 0,
                end: 0,
            },
            error: None,
        }
    }

    pub(super) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if out.is_empty() {
            // A zero-length read returns at once (std's convention): it must
            // not start a background read that consumes input or waits for
            // a terminal.
            return Poll::Ready(Ok(0));
        }
        loop {
            match &mut self.state {
                State::Idle { buf, start, end } => {
                    if start < end {
                        let n = (*end - *start).min(out.len());
                        out[..n].copy_from_slice(&buf[*start..*start + n]);
                        *start += n;
                        return Poll::Ready(Ok(n));
                    }
                    let mut buf = mem::take(buf);
                    buf.resize(CHUNK.max(out.len()), 0);
                    let file = self.file.clone();
                    let job = run_blocking(&self.handle, move || {
                        let res = loop {
                            match (&*file).read(&mut buf) {
                                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                                res => break res,
                            }
                        };
                        (res, buf)
                    })?;
                    self.state = State::Busy(job);
                }
                State::Busy(job) => {
                    let (res, buf) = ready!(Pin::new(job).poll(cx));
                    let end = *res.as_ref().unwrap_or(&0);
                    self.state = State::Idle { buf, start: 0, end };
                    if let Err(e) = res {
                        return Poll::Ready(Err(e));
                    }
                    if end == 0 {
                        return Poll::Ready(Ok(0));
                    }
                }
            }
        }
    }

    /// Waits for the write in flight, if any.
    pub(super) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let State::Busy(job) = &mut self.state {
            let (res, buf) = ready!(Pin::new(job).poll(cx));
            self.state = State::Idle {
                buf,
                start: 0,
                end: 0,
            };
            if let Err(e) = res {
                self.error = Some(e);
            }
        }
        match self.error.take() {
            Some(e) => Poll::Ready(Err(e)),
            None => Poll::Ready(Ok(())),
        }
    }

    /// Accepts `data` once the previous write finished, and writes it in
    /// the background.
    pub(super) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_flush(cx))?;
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let State::Idle { buf, .. } = &mut self.state else {
            unreachable!("flushed above")
        };
        let mut buf = mem::take(buf);
        buf.clear();
        buf.extend_from_slice(data);
        let file = self.file.clone();
        let job = run_blocking(&self.handle, move || {
            let res = (&*file).write_all(&buf).map(|()| buf.len());
            (res, buf)
        })?;
        self.state = State::Busy(job);
        Poll::Ready(Ok(data.len()))
    }
}
