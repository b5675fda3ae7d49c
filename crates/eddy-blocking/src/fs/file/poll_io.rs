//! [`File`](super::File)'s `AsyncRead`, `AsyncWrite` and `AsyncSeek`:
//! each poll hands out or takes bytes from the one buffer and starts the
//! next operation on the pool (the state machine is in the parent module).

use std::io::{self, Seek, SeekFrom, Write};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::{File, Op, State, MAX_BUF};

impl AsyncRead for File {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            match &mut this.state {
                State::Idle(slot) => {
                    let mut buf = slot.take().expect("File state is never left empty");
                    if buf.unread() > 0 {
                        let n = buf.read_into(dst);
                        this.state = State::Idle(Some(buf));
                        return Poll::Ready(Ok(n));
                    }
                    let std = this.std.clone();
                    let max = dst.len().min(MAX_BUF);
                    this.state = State::Busy(this.pool.spawn(move || {
                        let res = buf.fill_from(&std, max);
                        (Op::Read(res), buf)
                    }));
                }
                // Ours, or another operation (a dropped call's too) that
                // must finish before this read starts.
                State::Busy(_) => match ready!(this.poll_job(cx))? {
                    // A failed read leaves nothing in the buffer.
                    Some(Op::Read(res)) => {
                        return Poll::Ready(res.map(|()| this.idle_buf().read_into(dst)))
                    }
                    Some(op) => this.keep_unclaimed(op),
                    None => {}
                },
            }
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_idle(cx))?;
        let State::Idle(slot) = &mut this.state else {
            unreachable!("poll_idle leaves the file idle")
        };
        let mut buf = slot.take().expect("File state is never left empty");
        // Read-ahead is given back first (the write goes where the reader
        // had got to): taken out of the buffer, which now holds the write.
        let mut ahead = Vec::new();
        if buf.unread() > 0 {
            ahead = std::mem::take(&mut buf.data);
            ahead.drain(..buf.pos);
            buf.pos = 0;
        }
        let n = src.len().min(MAX_BUF);
        buf.data.extend_from_slice(&src[..n]);
        let std = this.std.clone();
        this.state = State::Busy(this.pool.spawn(move || {
            let res = (|| {
                if !ahead.is_empty() {
                    match (&*std).seek(SeekFrom::Current(-(ahead.len() as i64))) {
                        Ok(_) => ahead.clear(),
                        // A pipe, FIFO or tty cannot go back: the bytes
                        // stay for the next read and the write goes on,
                        // as a whole-file call does.
                        Err(e) if e.kind() == io::ErrorKind::NotSeekable => {}
                        Err(e) => {
                            ahead.clear();
                            return Err(e);
                        }
                    }
                }
                (&*std).write_all(&buf.data)
            })();
            buf.clear();
            if !ahead.is_empty() {
                buf.data = ahead;
            }
            (Op::Write(res), buf)
        }));
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_idle(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl AsyncSeek for File {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        requested: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Idle(slot) => {
                    if let Some(e) = this.write_err.take() {
                        return Poll::Ready(Err(e));
                    }
                    let mut pos = requested;
                    if let SeekFrom::Current(off) = &mut pos {
                        // The OS position is past the read-ahead. So far
                        // back that this overflows is before the start of
                        // the file: refused, as the OS refuses it.
                        let unread = slot.as_ref().map_or(0, |buf| buf.unread());
                        let Some(back) = off.checked_sub(unread as i64) else {
                            return Poll::Ready(Err(io::Error::new(
                                io::ErrorKind::InvalidInput,
                                format!(
                                    "File::seek: SeekFrom::Current({off}) goes before the start \
                                     of the file; seek to a position at 0 or after"
                                ),
                            )));
                        };
                        *off = back;
                    }
                    let mut buf = slot.take().expect("File state is never left empty");
                    let std = this.std.clone();
                    this.state = State::Busy(this.pool.spawn(move || {
                        let res = (&*std).seek(pos);
                        // A failed seek moves nothing (as std's): the
                        // read-ahead still follows the reader's position.
                        if res.is_ok() {
                            buf.clear();
                        }
                        (Op::Seek(res), buf)
                    }));
                    this.seeking = Some(requested);
                }
                State::Busy(_) => {
                    // Read before `poll_job` forgets it.
                    let in_flight = this.seeking;
                    match ready!(this.poll_job(cx))? {
                        // Ours (or the same target again): its result.
                        Some(Op::Seek(res)) if in_flight == Some(requested) => {
                            return Poll::Ready(res)
                        }
                        // A seek dropped in flight, to another target: it
                        // happened; now ours. Or another operation (a
                        // dropped call too) that must finish first.
                        Some(op) => this.keep_unclaimed(op),
                        None => {}
                    }
                }
            }
        }
    }
}
