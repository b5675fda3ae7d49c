//! Edge cases an asyncio program meets sooner or later: "forever" as a
//! timeout, moving a timeout from another thread, tasks added to a group
//! while it is being joined, a barrier used for several rounds, and
//! reading until one of several separators.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use common::port::{connect, guard, paused};
use eddy::time::{deadline, Instant};

#[test]
fn forever_as_a_timeout_never_expires_and_never_panics() {
    // asyncio: wait_for(aw, None), timeout(None), sleep(huge).
    eddy::run(async {
        assert_eq!(eddy::wait_for(async { 1 }, Duration::MAX).await, Ok(1));
        let out = deadline(Duration::MAX, |_| async move {
            eddy::sleep(Duration::from_millis(1)).await;
            "done"
        })
        .await;
        assert_eq!(out, Ok("done"));
        let long_sleep = eddy::sleep(Duration::MAX);
        assert!(eddy::wait_for(long_sleep, Duration::from_millis(1))
            .await
            .is_err());
        let far = eddy::call_later(Duration::MAX, || unreachable!());
        far.cancel();
        let tick = eddy::time::timeout(Duration::MAX, eddy::sleep(Duration::from_millis(1))).await;
        assert!(tick.is_ok());
    });
}

/// `deadline`'s docs: "`Duration::MAX` means no deadline"; asyncio's
/// `timeout(None).when()` is `None`. Here `when()` reports an instant
/// some 285 million years away, so code that asks "is there a deadline?"
/// gets the wrong answer.
#[test]
fn a_scope_without_deadline_says_so() {
    eddy::run(async {
        let out = deadline(Duration::MAX, |scope| async move { scope.when() }).await;
        assert_eq!(out, Ok(None));
    });
}

#[test]
fn a_timeout_moved_from_another_thread_wakes_the_scope() {
    eddy::run(async {
        let scope = deadline(Duration::from_secs(3600), |_| std::future::pending::<()>());
        let handle = scope.handle();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            handle.reschedule(Some(Instant::now()));
            handle
        });
        assert!(guard("scope", scope).await.is_err());
        assert!(thread.join().unwrap().expired());
    });
}

#[test]
fn children_added_while_the_group_is_joined_are_waited_for() {
    // asyncio lets a task of the group create more tasks in it while the
    // `async with` block is exiting.
    eddy::run(async {
        let group = eddy::TaskGroup::<()>::new();
        let spawner = group.spawner();
        let late_done = Rc::new(Cell::new(false));
        let ld = late_done.clone();
        group
            .spawn(async move {
                eddy::sleep(Duration::from_millis(2)).await;
                spawner
                    .spawn(async move {
                        eddy::sleep(Duration::from_millis(5)).await;
                        ld.set(true);
                        Ok(())
                    })
                    .unwrap();
                Ok(())
            })
            .unwrap();
        guard("join", group.join()).await.unwrap();
        assert!(late_done.get(), "join returned before the late child ended");
    });
}

#[test]
fn a_barrier_serves_several_rounds() {
    eddy::run(async {
        let barrier = Rc::new(eddy::sync::Barrier::new(3));
        let rounds = Rc::new(Cell::new(0));
        let parties: Vec<_> = (0..3)
            .map(|_| {
                let (b, r) = (barrier.clone(), rounds.clone());
                eddy::spawn(async move {
                    for _ in 0..4 {
                        let index = b.wait().await.unwrap();
                        if index == 0 {
                            r.set(r.get() + 1);
                        }
                    }
                })
            })
            .collect();
        for p in parties {
            guard("party", p).await.unwrap();
        }
        assert_eq!(rounds.get(), 4);
    });
}

#[test]
fn read_until_one_of_several_separators() {
    use eddy::io::{ReadError, StreamReader};
    eddy::run(async {
        // asyncio 3.13: readuntil((b"\r\n", b"\n"))
        let mut r = StreamReader::new(&b"dos\r\nunix\nno end"[..]);
        let seps: &[&[u8]] = &[b"\r\n", b"\n"];
        assert_eq!(r.read_until_any(seps).await.unwrap(), b"dos\r\n");
        assert_eq!(r.read_until_any(seps).await.unwrap(), b"unix\n");
        match r.read_until_any(seps).await {
            Err(ReadError::IncompleteRead { partial, expected }) => {
                assert_eq!(partial, b"no end");
                assert_eq!(expected, None);
            }
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn sleep_zero_lets_the_others_run_once() {
    eddy::run(async {
        let steps = Rc::new(Cell::new(0));
        let s = steps.clone();
        let other = eddy::spawn(async move {
            for _ in 0..3 {
                s.set(s.get() + 1);
                eddy::yield_now().await;
            }
        });
        eddy::sleep(Duration::ZERO).await;
        assert_eq!(steps.get(), 1);
        eddy::yield_now().await;
        assert_eq!(steps.get(), 2);
        other.await.unwrap();
    });
}

#[test]
fn a_paused_clock_still_waits_for_a_socket() {
    // With a paused clock, a timeout must not fire just because the loop
    // is waiting for the network.
    let rt = paused();
    rt.block_on(async {
        let server = eddy::io::start_server(
            "127.0.0.1:0",
            |mut r: eddy::io::StreamReader, mut w: eddy::io::StreamWriter| async move {
                let line = r.read_line().await.unwrap();
                w.write(&line).unwrap();
            },
        )
        .await
        .unwrap();
        let (mut r, mut w) = connect(&server).await;
        w.write(b"ping\n").unwrap();
        let got = eddy::wait_for(r.read_line(), Duration::from_secs(10)).await;
        assert_eq!(got.unwrap().unwrap(), b"ping\n");
    });
}
