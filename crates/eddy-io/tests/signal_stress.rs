//! Signal stress: many streams for one signal, streams created and dropped
//! while signals fly, listeners on several runtimes, and — each in a child
//! process of its own, where no other test's listener can dispatch a
//! pending signal first or open descriptors — stale deliveries, streams
//! that outlive or change their runtime, and descriptor leaks.
//!
//! Every test uses its own real-time signal (SIGRTMIN + n), so tests that
//! run in parallel in this binary do not see each other's deliveries.
//! Handlers are installed (by creating a stream) before any raise: the
//! default action of these signals is to terminate.

mod common;

use common::stress::{guarded, Rng};

use std::pin::pin;
use std::sync::{mpsc, Arc, Barrier};

use eddy_io::signal::unix::{signal, Signal, SignalKind};

fn rt_sig(n: i32) -> i32 {
    libc::SIGRTMIN() + n
}

/// Sends `sig` to the calling thread: its handler has run when this
/// returns (a signal sent to the whole process may be handled later, on
/// another thread).
fn raise(sig: i32) {
    // SAFETY: raise(3) with a signal we installed a handler for.
    let rc = unsafe { libc::raise(sig) };
    assert_eq!(rc, 0);
}

fn stream(sig: i32) -> Signal {
    signal(SignalKind::from_raw(sig)).unwrap()
}

/// Whether `s` has a delivery ready right now (consuming it if so).
async fn ready_now(s: &mut Signal) -> bool {
    let recv = pin!(s.recv());
    futures::poll!(recv).is_ready()
}

/// 16 streams for one signal on one loop, 300 rounds of one raise each:
/// every stream sees every round exactly once (one raise is one item, and
/// nothing is left over afterwards).
#[test]
fn every_stream_sees_every_delivery_once() {
    let sig = rt_sig(1);
    guarded(60, move || {
        common::run(async move {
            let mut streams: Vec<Signal> = (0..16).map(|_| stream(sig)).collect();
            for round in 0..300 {
                raise(sig);
                for (k, s) in streams.iter_mut().enumerate() {
                    assert_eq!(s.recv().await, Some(()), "round {round}, stream {k}");
                }
                for (k, s) in streams.iter_mut().enumerate() {
                    assert!(
                        !ready_now(s).await,
                        "round {round}: stream {k} got a second item"
                    );
                }
            }
        });
    });
}

/// Two runtimes on two threads, two streams each, 200 rounds: each raise
/// reaches all four streams, once.
#[test]
fn two_runtimes_both_listening() {
    let sig = rt_sig(2);
    guarded(60, move || {
        const ROUNDS: usize = 200;
        let barrier = Arc::new(Barrier::new(3));
        let (tx, rx) = mpsc::channel();
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let barrier = barrier.clone();
                let tx = tx.clone();
                std::thread::spawn(move || {
                    common::run(async move {
                        let mut a = stream(sig);
                        let mut b = stream(sig);
                        for round in 0..ROUNDS {
                            // Blocks this loop while the raise happens: the
                            // delivery waits in the pipe for the next poll.
                            barrier.wait();
                            a.recv().await.unwrap();
                            b.recv().await.unwrap();
                            tx.send((t, round)).unwrap();
                            // Everyone has their item before anyone checks
                            // that no second one came.
                            barrier.wait();
                            assert!(!ready_now(&mut a).await, "thread {t} round {round}");
                            assert!(!ready_now(&mut b).await, "thread {t} round {round}");
                        }
                    })
                })
            })
            .collect();
        drop(tx);
        // Handlers are installed once both threads made their streams.
        for round in 0..ROUNDS {
            barrier.wait();
            raise(sig);
            let mut got = [rx.recv().unwrap(), rx.recv().unwrap()];
            got.sort();
            assert_eq!(got, [(0, round), (1, round)]);
            barrier.wait();
        }
        for t in threads {
            t.join().unwrap();
        }
    });
}

/// Streams created and dropped at random on two loops while a third
/// thread raises: a stream that exists when a raise is made sees it.
#[test]
fn streams_churn_while_signals_fly() {
    let sigs = [rt_sig(3), rt_sig(4)];
    guarded(120, move || {
        // Install the handlers before anything raises.
        common::run(async move {
            for s in sigs {
                drop(stream(s));
            }
        });
        let threads: Vec<_> = (0..2u64)
            .map(|t| {
                std::thread::spawn(move || {
                    common::run(async move {
                        let mut rng = Rng::new(t + 1);
                        let mut checked = 0;
                        for _ in 0..400 {
                            let sig = sigs[rng.below(2) as usize];
                            // Some streams that will be dropped unpolled or
                            // half-polled, and some that must see the raise.
                            let mut keep: Vec<Signal> =
                                (0..1 + rng.below(3)).map(|_| stream(sig)).collect();
                            let mut junk: Vec<Signal> =
                                (0..rng.below(3)).map(|_| stream(sig)).collect();
                            for j in junk.iter_mut().step_by(2) {
                                let _ = ready_now(j).await;
                            }
                            // Raised from another thread, while this loop
                            // is not polling.
                            std::thread::spawn(move || raise(sig)).join().unwrap();
                            if rng.below(2) == 0 {
                                drop(junk);
                            }
                            for s in keep.iter_mut() {
                                s.recv().await.unwrap();
                                checked += 1;
                            }
                        }
                        assert!(checked >= 400);
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    });
}

// ---- run in a child process of its own ----

const ISOLATED_ENV: &str = "EDDY_SIGNAL_STRESS_ISOLATED";

fn open_fds() -> usize {
    // read_dir's own descriptor is counted every time alike.
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// A delivery that arrived while nobody listened (the handler stays
/// installed) does not complete a later stream's first `recv`.
fn stale() {
    let a = rt_sig(6);
    let marker = rt_sig(7);
    common::run(async move {
        drop(stream(a));
        drop(stream(marker));
        for round in 0..50 {
            // Nobody listens to `a` now: the delivery stays in the pipe.
            raise(a);
            let mut s = stream(a);
            // The marker's delivery is dispatched by the same drain that
            // would dispatch a stale `a`: once it is seen, `a`'s state is
            // final.
            let mut m = stream(marker);
            raise(marker);
            m.recv().await.unwrap();
            assert!(!ready_now(&mut s).await, "round {round}: stale delivery");
            raise(a);
            s.recv().await.unwrap();
        }
    });
}

/// Streams created and dropped many times, and streams that outlive
/// their runtime, leak no descriptor.
fn fds() {
    guarded(60, fds_inner);
}

fn fds_inner() {
    let a = rt_sig(6);
    // Warm up: the process-wide self-pipe exists before the count.
    common::run(async move { drop(stream(a)) });
    let fds = open_fds();
    common::run(async move {
        for i in 0..2000 {
            let mut s = stream(a);
            if i % 2 == 0 {
                let _ = ready_now(&mut s).await;
            }
            if i % 100 == 0 {
                raise(a);
                s.recv().await.unwrap();
            }
        }
    });
    assert_eq!(open_fds(), fds, "descriptors leaked");
    // Streams that outlive their runtime and move: still no leak.
    let moved: Vec<Signal> = common::run(async move { (0..50).map(|_| stream(a)).collect() });
    common::run(async move {
        let mut moved = moved;
        raise(a);
        for s in moved.iter_mut() {
            s.recv().await.unwrap();
        }
    });
    assert_eq!(open_fds(), fds, "descriptors leaked");
}

/// A stream moved to another runtime sees deliveries there: after its
/// first runtime shut down, and while its first loop is alive but blocked.
/// (Isolated: any other listener in the process would dispatch the
/// delivery for it.)
fn moved() {
    let sig = rt_sig(5);
    guarded(60, move || {
        // Created on a runtime that is gone when the stream is polled.
        let mut s = common::run(async move { stream(sig) });
        common::run(async move {
            raise(sig);
            s.recv().await.unwrap();
            raise(sig);
            s.recv().await.unwrap();
        });

        // Created on a loop that then blocks (in a std join) while the
        // stream is used on another thread's loop.
        common::run(async move {
            let mut s = stream(sig);
            assert!(!ready_now(&mut s).await);
            let user = std::thread::spawn(move || {
                common::run(async move {
                    for _ in 0..20 {
                        raise(sig);
                        s.recv().await.unwrap();
                    }
                })
            });
            user.join().unwrap();
        });
    });
}

/// A runtime of the test's own: its loop and its reactor's handle (entered
/// around each `block_on`, as the facade does).
fn runtime() -> (eddy_core::Runtime, eddy_io::driver::Handle) {
    let driver = eddy_io::driver::IoDriver::new().expect("reactor");
    let handle = driver.handle();
    let rt = eddy_core::Builder::new()
        .build_with_driver(Box::new(driver))
        .expect("runtime");
    (rt, handle)
}

/// Two runtimes alive on one thread: a stream registered on runtime A is
/// used under runtime B's `block_on` on the same thread while A exists but
/// is idle (nothing turns A's reactor), then back on A while B is idle.
/// (Isolated: any other listener in the process would dispatch the
/// delivery for it.)
fn same_thread() {
    let sig = rt_sig(5);
    guarded(60, move || {
        let (rt_a, io_a) = runtime();
        let (rt_b, io_b) = runtime();
        let mut s = {
            let _io = io_a.enter();
            rt_a.block_on(async move {
                let mut s = stream(sig);
                assert!(!ready_now(&mut s).await);
                s
            })
        };
        {
            let _io = io_b.enter();
            rt_b.block_on(async {
                for _ in 0..20 {
                    raise(sig);
                    s.recv().await.unwrap();
                }
            });
        }
        {
            let _io = io_a.enter();
            rt_a.block_on(async {
                for _ in 0..20 {
                    raise(sig);
                    s.recv().await.unwrap();
                }
            });
        }
        drop(s);
        drop((rt_a, rt_b));
    });
}

#[test]
#[ignore = "run by the tests below, each in a child process of its own"]
fn isolated_in_child_process() {
    match std::env::var(ISOLATED_ENV).as_deref() {
        Ok("stale") => stale(),
        Ok("fds") => fds(),
        Ok("moved") => moved(),
        Ok("same_thread") => same_thread(),
        _ => return,
    }
    println!("isolated-ok");
}

fn run_isolated(scenario: &str) {
    let child = common::test_in_child("isolated_in_child_process", ISOLATED_ENV, scenario);
    common::assert_child_ok(child, "isolated-ok", scenario);
}

#[test]
fn no_stale_delivery_for_a_new_stream() {
    run_isolated("stale");
}

#[test]
fn streams_leak_no_descriptors() {
    run_isolated("fds");
}

#[test]
fn stream_moved_to_another_runtime() {
    run_isolated("moved");
}

#[test]
fn stream_moved_to_another_runtime_on_the_same_thread() {
    run_isolated("same_thread");
}
