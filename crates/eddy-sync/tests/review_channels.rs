//! Defects found by reviewing the channels (mpsc, oneshot, broadcast,
//! watch): each test failed on the code before its fix.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use common::wakers::fn_waker;
use eddy_sync::mpsc::{self, TryRecvError};

/// A waker counting its wakes, and the count.
fn counting_waker() -> (std::task::Waker, Arc<AtomicUsize>) {
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = wakes.clone();
    (
        fn_waker(move || {
            w.fetch_add(1, Ordering::SeqCst);
        }),
        wakes,
    )
}

/// A task that polled `poll_recv` (Pending) and then tried `try_recv` in
/// the same poll (a batch drain, a custom `Future` or `Stream`) relies on
/// the waker it registered: `try_recv` must not swap it for a no-op one.
#[test]
fn mpsc_try_recv_after_a_pending_poll_recv_keeps_the_task_waker() {
    let (tx, mut rx) = mpsc::channel::<u32>(4);
    let (waker, wakes) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(rx.poll_recv(&mut cx).is_pending());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.try_send(1).unwrap();
    assert_eq!(wakes.load(Ordering::SeqCst), 1, "the waiting task is woken");
    assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));

    // The same for an unbounded channel, and for the end of the channel.
    let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
    let (waker, wakes) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(rx.poll_recv(&mut cx).is_pending());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop(tx);
    assert_eq!(wakes.load(Ordering::SeqCst), 1, "the waiting task is woken");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(None));
}

/// `channel(usize::MAX)` is accepted, so it is a channel of that capacity:
/// `max_capacity` must not read 0 (the unbounded marker inside), and a
/// `reserve_many` within the capacity must not panic as "more than the
/// capacity".
#[test]
fn mpsc_channel_of_usize_max_reports_its_capacity() {
    let (tx, _rx) = mpsc::channel::<u8>(usize::MAX);
    assert_eq!(tx.max_capacity(), usize::MAX);
    let permits = tx.try_reserve_many(2).unwrap();
    assert_eq!(permits.len(), 2);
    drop(permits);
    let permits = futures::executor::block_on(tx.reserve_many(3)).unwrap();
    assert_eq!(permits.len(), 3);
}

/// After `Receiver::close` the receiver is alive and the senders too: the
/// errors must not tell the sender that the receiver is gone, nor the
/// receiver that every sender is.
#[test]
fn mpsc_errors_after_close_say_the_channel_was_closed_not_that_a_side_is_gone() {
    use eddy_sync::mpsc::TrySendError;
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    rx.close();
    let sent = tx.try_send(1).unwrap_err();
    assert!(matches!(sent, TrySendError::Closed(1)));
    let msg = sent.to_string();
    assert!(
        msg.contains("dropped or closed"),
        "TrySendError::Closed reads {msg:?}"
    );
    let got = rx.try_recv().unwrap_err();
    assert_eq!(got, TryRecvError::Disconnected);
    let msg = got.to_string();
    assert!(
        msg.contains("receiver closed"),
        "TryRecvError::Disconnected reads {msg:?}"
    );
    drop(tx);
}
