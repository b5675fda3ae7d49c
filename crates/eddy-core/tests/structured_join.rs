//! Join handles as the structured layer uses them (`wait`, `shield`,
//! `as_completed` over tasks): awaited from another thread, with a waker
//! that changes between polls, while the loop thread completes the task.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

struct Quiet;

impl Wake for Quiet {
    fn wake(self: Arc<Self>) {}
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_handle_polled_from_another_thread_with_alternating_wakers() {
    // Each poll with the other waker replaces the registered one, racing
    // the loop thread's completion (which wakes the old waker and clears
    // the registration). That race used to trip a debug assertion in the
    // handle's poll ("has_join_waker") when the completion won it.
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let loop_thread = std::thread::spawn(move || {
        let rt = eddy_core::Runtime::new().unwrap();
        handle_tx.send(rt.handle()).unwrap();
        rt.block_on(async move {
            while stop_rx.try_recv().is_err() {
                eddy_core::yield_now().await;
            }
        });
    });
    let handle = handle_rx.recv().unwrap();
    let wakers = [Waker::from(Arc::new(Quiet)), Waker::from(Arc::new(Quiet))];
    for i in 0..10_000u64 {
        let spins = i % 64;
        let mut task = handle
            .spawn(async move {
                // Finish after a little work, so completion races the polls.
                std::hint::black_box((0..spins).fold(0u64, |acc, k| acc.wrapping_add(k)));
                i
            })
            .unwrap();
        let mut polls = 0usize;
        let out = loop {
            let mut cx = Context::from_waker(&wakers[polls % 2]);
            polls += 1;
            if let Poll::Ready(out) = Pin::new(&mut task).poll(&mut cx) {
                break out;
            }
        };
        assert_eq!(out.unwrap(), i);
    }
    stop_tx.send(()).unwrap();
    loop_thread.join().unwrap();
}

#[test]
#[cfg_attr(miri, ignore)]
fn wait_on_another_loops_tasks_while_that_loop_completes_them() {
    // The tasks run on loop A; wait runs on loop B (their handles are Send).
    // Completions on A race B's polls and the wakers wait takes back from
    // the handles it returns in `pending`.
    use eddy_core::task::{wait, ReturnWhen};
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let loop_a = std::thread::spawn(move || {
        let rt = eddy_core::Runtime::new().unwrap();
        handle_tx.send(rt.handle()).unwrap();
        rt.block_on(async move {
            while stop_rx.try_recv().is_err() {
                eddy_core::yield_now().await;
            }
        });
    });
    let a = handle_rx.recv().unwrap();
    eddy_core::run(async move {
        for round in 0..300u64 {
            let mut handles: Vec<_> = (0..8u64)
                .map(|i| {
                    a.spawn(async move {
                        for _ in 0..(i + round) % 5 {
                            eddy_core::yield_now().await;
                        }
                        round * 8 + i
                    })
                    .unwrap()
                })
                .collect();
            let mut index_of: Vec<u64> = (0..8).collect();
            let mut seen = 0;
            while !handles.is_empty() {
                let (done, pending) = wait(handles, ReturnWhen::FirstCompleted).await.unwrap();
                for d in done {
                    assert_eq!(d.result.unwrap(), round * 8 + index_of[d.index]);
                    seen += 1;
                }
                index_of = pending.iter().map(|p| index_of[p.index]).collect();
                handles = pending.into_iter().map(|p| p.handle).collect();
            }
            assert_eq!(seen, 8);
        }
    });
    stop_tx.send(()).unwrap();
    loop_a.join().unwrap();
}
