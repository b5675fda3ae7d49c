//! StreamReader / StreamWriter edge cases found by review: counts and
//! lengths that come from the peer.

use eddy_io::io::{ReadError, StreamReader};

/// `read_exactly(n)` with `n` from a length prefix: a huge claim must not
/// allocate (or overflow) up front; the reader waits for the bytes and,
/// at end of file, reports what did arrive.
#[test]
fn read_exactly_with_a_huge_count_reports_the_partial_data() {
    eddy_core::run(async {
        let mut r = StreamReader::new(&b"abc"[..]);
        let err = r.read_exactly(usize::MAX).await.unwrap_err();
        assert!(
            matches!(&err, ReadError::IncompleteRead { partial, expected: Some(usize::MAX) } if partial == b"abc"),
            "{err:?}"
        );
        assert!(r.at_eof());

        // A large read that does complete is intact.
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut r = StreamReader::new(&data[..]);
        assert_eq!(
            r.read_exactly(data.len() - 1).await.unwrap(),
            data[..data.len() - 1]
        );
        assert_eq!(r.read_exactly(1).await.unwrap(), data[data.len() - 1..]);
    });
}

mod wrapped_writers {
    //! A `StreamWriter` over a stream that keeps bytes back until flushed
    //! (TLS, compression, `BufWriter`): the writer must flush it whenever
    //! its own buffer empties, or the end of the data stays inside the
    //! wrapper while `flush()` says it was sent (found with futures-rustls,
    //! whose writes are taken whole even when the socket takes none).

    use std::cell::RefCell;
    use std::io;
    use std::pin::Pin;
    use std::rc::Rc;
    use std::task::{Context, Poll};

    use eddy_io::io::StreamWriter;
    use futures::io::{AsyncWrite, BufWriter};

    /// The far side: everything that came out of the wrapper.
    #[derive(Clone, Default)]
    struct Wire(Rc<RefCell<Vec<u8>>>);

    impl AsyncWrite for Wire {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            b: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.0.borrow_mut().extend_from_slice(b);
            Poll::Ready(Ok(b.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// Takes every write whole and passes it on only in `poll_flush`, every
    /// other poll of which is not ready (it wakes the caller at once).
    struct Hold {
        held: Vec<u8>,
        wire: Wire,
        stall: bool,
        flushes: Rc<RefCell<usize>>,
    }

    impl AsyncWrite for Hold {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            b: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.held.extend_from_slice(b);
            Poll::Ready(Ok(b.len()))
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.stall = !self.stall;
            if self.stall {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let held = std::mem::take(&mut self.held);
            self.wire.0.borrow_mut().extend_from_slice(&held);
            *self.flushes.borrow_mut() += 1;
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.poll_flush(cx)
        }
    }

    #[test]
    fn flush_reaches_through_a_buffering_wrapper() {
        eddy_core::run(async {
            let wire = Wire::default();
            let mut w = StreamWriter::new(BufWriter::new(wire.clone()));
            w.write(b"small reply\n").unwrap();
            w.flush().await.unwrap();
            assert_eq!(&wire.0.borrow()[..], b"small reply\n");

            // Without a flush call: the writer delivers on its own, as it
            // does on a socket.
            w.write(b"second\n").unwrap();
            for _ in 0..3 {
                eddy_core::yield_now().await;
            }
            assert_eq!(&wire.0.borrow()[..], b"small reply\nsecond\n");
        });
    }

    #[test]
    fn a_flush_that_is_not_ready_is_finished_by_the_flusher() {
        eddy_core::run(async {
            let wire = Wire::default();
            let flushes = Rc::new(RefCell::new(0));
            let hold = Hold {
                held: Vec::new(),
                wire: wire.clone(),
                stall: false,
                flushes: flushes.clone(),
            };
            let mut w = StreamWriter::new(hold);
            let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
            w.write(&data).unwrap();
            // Above the high-water mark until the wrapper has it all; drain
            // returns once the writer's own buffer is low.
            w.drain().await.unwrap();
            w.flush().await.unwrap();
            assert_eq!(wire.0.borrow().len(), data.len(), "flush returned early");
            assert!(*wire.0.borrow() == data);
            assert!(*flushes.borrow() >= 1);

            // The same with nobody waiting: the flusher retries the stalled
            // flush by itself.
            w.write(b"tail").unwrap();
            for _ in 0..10 {
                eddy_core::yield_now().await;
            }
            assert_eq!(&wire.0.borrow()[data.len()..], b"tail");
            w.close();
            w.wait_closed().await;
        });
    }
}
