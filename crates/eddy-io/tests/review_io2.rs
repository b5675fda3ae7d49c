//! Review of the streams, subprocess and signal code (second pass): each
//! test here failed before the fix it came with.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use common::run;
use eddy_io::io::StreamWriter;

/// The system allocator, noting per thread the largest block asked for
/// (see [`biggest_allocation_since`]) and the bytes held (see
/// [`held_bytes`]).
struct NoteBiggest;

thread_local! {
    static BIGGEST: Cell<usize> = const { Cell::new(0) };
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = BIGGEST.try_with(|b| b.set(b.get().max(size)));
    hold(size as isize);
}

fn hold(delta: isize) {
    let _ = HELD.try_with(|h| h.set(h.get() + delta));
}

/// The bytes this thread has allocated and not freed (blocks freed by
/// another thread count here still).
fn held_bytes() -> isize {
    HELD.with(|h| h.get())
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// bookkeeping only touches a const-initialised thread-local Cell, which
// neither allocates nor has a destructor.
unsafe impl GlobalAlloc for NoteBiggest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        hold(-(layout.size() as isize));
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        hold(-(layout.size() as isize));
        // SAFETY: the caller's contract for `realloc`, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: NoteBiggest = NoteBiggest;

/// Runs `f` and returns its output with the largest block this thread
/// allocated meanwhile.
fn biggest_allocation_since<T>(f: impl FnOnce() -> T) -> (T, usize) {
    BIGGEST.with(|b| b.set(0));
    let out = f();
    (out, BIGGEST.with(|b| b.get()))
}

/// A stream that takes at most `chunk` bytes per write and is busy
/// (`Pending`, waking itself) every other call: a peer that reads at its
/// own pace. Counts what it was given.
#[derive(Clone)]
struct Trickle {
    chunk: usize,
    state: Rc<RefCell<(usize, bool)>>,
}

impl Trickle {
    fn new(chunk: usize) -> Trickle {
        Trickle {
            chunk,
            state: Rc::new(RefCell::new((0, true))),
        }
    }

    fn taken(&self) -> usize {
        self.state.borrow().0
    }
}

impl futures::AsyncWrite for Trickle {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut s = self.state.borrow_mut();
        if !s.1 {
            s.1 = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        s.1 = false;
        let n = buf.len().min(self.chunk);
        s.0 += n;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// asyncio's streaming pattern, `write` then `drain` in a loop, against a
/// peer that keeps up but never lets the buffer run dry: `drain` returns
/// at the low-water mark, so the next write always lands on a buffer that
/// still holds unsent bytes. The writer's buffer must stay around the
/// high-water mark; it used to keep every byte ever sent in front of the
/// unsent ones (they were only dropped when the buffer emptied), so it grew
/// with the total sent: 32 MiB here.
#[test]
fn streaming_through_drain_keeps_the_write_buffer_bounded() {
    const CHUNK: usize = 64 * 1024;
    const ROUNDS: usize = 512;
    let stream = Trickle::new(5000);
    let data = vec![7u8; CHUNK];
    let (sent, biggest) = biggest_allocation_since(|| {
        run(async {
            let mut writer = StreamWriter::new(stream.clone());
            for _ in 0..ROUNDS {
                writer.write(&data).unwrap();
                writer.drain().await.unwrap();
                assert!(writer.buffered_len() <= 64 * 1024);
            }
            writer.flush().await.unwrap();
            stream.taken()
        })
    });
    assert_eq!(sent, CHUNK * ROUNDS);
    assert!(
        biggest < 1024 * 1024,
        "the write buffer grew to {biggest} bytes for a high-water mark of 64 KiB"
    );
}

/// One large write does not leave the writer holding a buffer of its size
/// for the life of the connection (the reader gives such memory back
/// too): once everything was handed over, a buffer far above the
/// high-water mark is freed. It used to be kept, 4 MiB here, however
/// small every later message.
#[test]
fn a_large_write_gives_its_buffer_back_once_sent() {
    let stream = Trickle::new(64 * 1024);
    let big = vec![3u8; 4 * 1024 * 1024];
    run(async {
        let mut writer = StreamWriter::new(stream.clone());
        writer.write(b"warm up: the flusher task exists").unwrap();
        writer.flush().await.unwrap();
        let before = held_bytes();
        writer.write(&big).unwrap();
        writer.flush().await.unwrap();
        writer.write(b"a small message after it").unwrap();
        writer.flush().await.unwrap();
        let kept = held_bytes() - before;
        assert_eq!(stream.taken(), 32 + big.len() + 24);
        assert!(
            kept < 256 * 1024,
            "the writer still holds {kept} bytes after sending a 4 MiB write"
        );
    });
}
