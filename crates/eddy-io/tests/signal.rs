//! Signals delivered to the test process itself. Raising SIGINT/SIGTERM
//! here is safe only because every test first installs a handler (which
//! replaces the default "terminate"); that is why these tests live in a
//! binary of their own.

mod common;

use std::io;
use std::pin::pin;

use eddy_io::signal::unix::{signal, SignalKind};
use futures::StreamExt;

fn raise(sig: i32) {
    // SAFETY: kill(2) on our own pid with a signal we installed a handler for.
    let rc = unsafe { libc::kill(libc::getpid(), sig) };
    assert_eq!(rc, 0);
}

#[test]
fn ctrl_c_sees_sigint() {
    common::run(async {
        let mut fut = pin!(eddy_io::signal::ctrl_c());
        // Poll once so the listener exists before the signal is raised.
        assert!(futures::poll!(fut.as_mut()).is_pending());
        raise(libc::SIGINT);
        fut.await.unwrap();
    });
}

#[test]
fn sigterm_stream_delivers() {
    common::run(async {
        let mut term = signal(SignalKind::terminate()).unwrap();
        raise(libc::SIGTERM);
        assert_eq!(term.recv().await, Some(()));
        raise(libc::SIGTERM);
        assert_eq!(term.next().await, Some(()));
    });
}

#[test]
fn deliveries_coalesce_but_are_not_lost() {
    common::run(async {
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        let mut usr1_b = signal(SignalKind::user_defined1()).unwrap();
        for _ in 0..10 {
            raise(libc::SIGUSR1);
        }
        // Both listeners see at least one delivery.
        usr1.recv().await.unwrap();
        usr1_b.recv().await.unwrap();
    });
}

#[test]
fn listeners_on_other_threads_are_woken() {
    let (tx, rx) = std::sync::mpsc::channel();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                common::run(async move {
                    let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
                    tx.send(()).unwrap();
                    usr2.recv().await.unwrap();
                });
            })
        })
        .collect();
    for _ in 0..3 {
        rx.recv().unwrap();
    }
    raise(libc::SIGUSR2);
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn dropped_recv_loses_nothing() {
    common::run(async {
        let mut hup = signal(SignalKind::hangup()).unwrap();
        {
            let fut = pin!(hup.recv());
            // Dropped before completion.
            let _ = futures::poll!(fut);
        }
        raise(libc::SIGHUP);
        hup.recv().await.unwrap();
    });
}

#[test]
fn forbidden_signals_are_refused() {
    common::run(async {
        for sig in [
            libc::SIGKILL,
            libc::SIGSTOP,
            libc::SIGSEGV,
            libc::SIGILL,
            libc::SIGFPE,
        ] {
            let err = signal(SignalKind::from_raw(sig)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        }
        let err = signal(SignalKind::from_raw(libc::SIGKILL)).unwrap_err();
        assert!(err.to_string().contains("SIGKILL"), "{err}");
        let err = signal(SignalKind::from_raw(0)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let err = signal(SignalKind::from_raw(1000)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        // Below SIGRTMIN, reserved by the C library (glibc: 32 and 33):
        // the OS refuses it, and the error says why and what to use. It
        // said only "registering signal 32: Invalid argument".
        for sig in libc::SIGSYS + 1..libc::SIGRTMIN() {
            let err = signal(SignalKind::from_raw(sig)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            let msg = err.to_string();
            assert!(msg.contains("reserves"), "{msg}");
            assert!(msg.contains("SIGRTMIN"), "{msg}");
        }
    });
}
