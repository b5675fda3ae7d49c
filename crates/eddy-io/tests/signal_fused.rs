//! `Signal` is a `FusedStream` that is never terminated (it never yields
//! `None`), so `futures::select!` takes `sig.next()` as it is, without
//! `.fuse()`. SIGWINCH and SIGURG are used, one per test (tests run in
//! parallel, and every listener sees every delivery): their default action
//! is to be ignored, so raising them is harmless even without a handler.

mod common;

use eddy_io::signal::unix::{signal, Signal, SignalKind};
use futures::stream::FusedStream;
use futures::{select, StreamExt};

fn raise(sig: i32) {
    // SAFETY: kill(2) on our own pid with a signal whose default action is
    // to be ignored.
    let rc = unsafe { libc::kill(libc::getpid(), sig) };
    assert_eq!(rc, 0);
}

#[test]
fn select_takes_next_directly() {
    common::run(async {
        let mut winch = signal(SignalKind::window_change()).unwrap();
        assert!(!winch.is_terminated());
        let (tx, mut jobs) = futures::channel::mpsc::unbounded::<u32>();
        for i in 0..3 {
            tx.unbounded_send(i).unwrap();
        }
        let mut done = Vec::new();
        let mut signalled = false;
        // Jobs first (the signal has not arrived yet), then the signal.
        while !signalled {
            select! {
                job = jobs.next() => {
                    done.push(job.unwrap());
                    if done.len() == 3 {
                        raise(libc::SIGWINCH);
                    }
                }
                s = winch.next() => {
                    assert_eq!(s, Some(()));
                    signalled = true;
                }
            }
        }
        assert_eq!(done, [0, 1, 2]);
        // Still not terminated after an item: it never ends.
        assert!(!winch.is_terminated());
    });
}

/// A stream that outlived its runtime is not terminated either: polled
/// under the next runtime it still delivers.
#[test]
fn not_terminated_after_its_runtime_shut_down() {
    let urg: Signal = common::run(async { signal(SignalKind::from_raw(libc::SIGURG)).unwrap() });
    assert!(!urg.is_terminated());
    common::run(async move {
        let mut urg = urg;
        let mut next = urg.next();
        // Poll once so the stream registers with this runtime's reactor
        // before the signal is raised.
        assert!(futures::poll!(&mut next).is_pending());
        raise(libc::SIGURG);
        assert_eq!(next.await, Some(()));
        assert!(!urg.is_terminated());
    });
}
