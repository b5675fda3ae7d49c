//! [`Feed`]: an in-memory stream whose chunking and readiness the test
//! controls, for StreamReader tests.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// A reader fed by the test: each `push` is one chunk returned by one
/// `poll_read` (split further only if the caller's buffer is smaller);
/// `Pending` while empty and not ended.
#[derive(Clone, Default)]
pub struct Feed(Rc<RefCell<FeedState>>);

#[derive(Default)]
struct FeedState {
    chunks: VecDeque<Vec<u8>>,
    ended: bool,
    waker: Option<Waker>,
    reads: usize,
}

impl Feed {
    /// Queues one chunk and wakes a pending reader.
    pub fn push(&self, chunk: &[u8]) {
        let mut s = self.0.borrow_mut();
        s.chunks.push_back(chunk.to_vec());
        if let Some(w) = s.waker.take() {
            w.wake();
        }
    }

    /// Ends the stream after the queued chunks.
    pub fn end(&self) {
        let mut s = self.0.borrow_mut();
        s.ended = true;
        if let Some(w) = s.waker.take() {
            w.wake();
        }
    }

    /// A feed holding `chunks`, already ended.
    pub fn chunks(chunks: &[&[u8]]) -> Feed {
        let feed = Feed::default();
        for c in chunks {
            feed.push(c);
        }
        feed.end();
        feed
    }

    /// How many times the stream was polled for reading.
    pub fn reads(&self) -> usize {
        self.0.borrow().reads
    }
}

impl futures::AsyncRead for Feed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut s = self.0.borrow_mut();
        s.reads += 1;
        match s.chunks.pop_front() {
            Some(mut chunk) => {
                let n = chunk.len().min(out.len());
                out[..n].copy_from_slice(&chunk[..n]);
                if n < chunk.len() {
                    s.chunks.push_front(chunk.split_off(n));
                }
                Poll::Ready(Ok(n))
            }
            None if s.ended => Poll::Ready(Ok(0)),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
