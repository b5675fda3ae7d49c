//! gather!, try_gather!, gather_all, try_gather_all: order, first error,
//! linear polling, wakes from another thread.

mod structured_support;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use eddy_core::task::{gather_all, try_gather_all};
use eddy_core::{gather, run, spawn, try_gather};

use structured_support::*;

#[test]
fn gather_macro_keeps_argument_order_with_out_of_order_completion() {
    run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let step = |n: usize, name: &'static str| {
            let log = log.clone();
            async move {
                yields(n).await;
                log.borrow_mut().push(name);
                name.len() * 100 + n
            }
        };
        let (a, b, c) = gather!(step(5, "a"), step(1, "bb"), step(3, "ccc")).await;
        assert_eq!((a, b, c), (105, 201, 303));
        assert_eq!(*log.borrow(), vec!["bb", "ccc", "a"]);
        // Mixed output types and a trailing comma.
        let (x, y) = gather!(async { 1u8 }, async { "two" },).await;
        assert_eq!((x, y), (1, "two"));
    });
}

#[test]
fn gather_macro_takes_variables_by_value_once() {
    run(async {
        let t1 = spawn(async { 1 });
        let t2 = spawn(async { 2 });
        let data = String::from("abc");
        let sum = async { data.len() as i32 * 2 };
        let (r1, r2, s) = gather!(t1, t2, sum).await;
        assert_eq!((r1.unwrap(), r2.unwrap(), s), (1, 2, 6));
        assert_eq!(data.len(), 3); // borrowed, not moved
    });
}

#[test]
fn try_gather_stops_at_first_error_and_drops_the_rest() {
    let drops = Drops::default();
    let d = drops.clone();
    run(async move {
        let g = d.guard();
        let slow = async move {
            let _g = g;
            yields(100).await;
            Ok::<u32, String>(1)
        };
        let failing = async {
            yields(2).await;
            Err::<u32, String>("second".into())
        };
        let out = try_gather!(slow, failing, async { Ok(3) }).await;
        assert_eq!(out, Err("second".to_string()));
        assert_eq!(d.get(), 1);
        let ok = try_gather!(async { Ok::<_, ()>(1) }, async { Ok(2) }).await;
        assert_eq!(ok, Ok((1, 2)));
    });
}

#[test]
fn gather_all_keeps_input_order_with_out_of_order_completion() {
    run(async {
        let order = Rc::new(RefCell::new(Vec::new()));
        let futures = (0..50).map(|i| {
            let order = order.clone();
            async move {
                let steps = (i * 7) % 13;
                yields(steps).await;
                order.borrow_mut().push(i);
                i
            }
        });
        let out = gather_all(futures).await;
        assert_eq!(out, (0..50).collect::<Vec<_>>());
        let completion = order.borrow().clone();
        assert_ne!(completion, out, "they really completed out of order");
    });
}

#[test]
fn gather_all_of_tasks_and_of_nothing() {
    run(async {
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                spawn(async move {
                    yields(100 - i).await;
                    i
                })
            })
            .collect();
        let out: Vec<usize> = gather_all(tasks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(out, (0..100).collect::<Vec<_>>());
        let none: Vec<u8> = gather_all(Vec::<std::future::Ready<u8>>::new()).await;
        assert!(none.is_empty());
    });
}

#[test]
fn gather_all_is_linear_polls_only_woken_futures() {
    // Counts polls: n futures that each complete after one wake must cost
    // about 2n polls, not n^2 / 2.
    let polls = Rc::new(Cell::new(0usize));
    run({
        let polls = polls.clone();
        async move {
            let n = 2000;
            let futures = (0..n).map(|i| {
                let polls = polls.clone();
                let mut step = 0;
                std::future::poll_fn(move |cx| {
                    polls.set(polls.get() + 1);
                    step += 1;
                    if step == 1 {
                        cx.waker().wake_by_ref();
                        std::task::Poll::Pending
                    } else {
                        std::task::Poll::Ready(i)
                    }
                })
            });
            // Woken one by one: each future needs its own wake.
            let out = gather_all(futures).await;
            assert_eq!(out.len(), n);
            assert!(
                polls.get() <= 2 * n + 10,
                "{} polls for {n} futures",
                polls.get()
            );
        }
    });
}

#[test]
fn gather_all_of_100k_ready_futures() {
    run(async {
        let out = gather_all((0..100_000u32).map(std::future::ready)).await;
        assert_eq!(out.len(), 100_000);
        assert!(out.iter().enumerate().all(|(i, v)| *v == i as u32));
    });
}

#[test]
fn try_gather_all_returns_first_error_in_completion_order_and_drops_the_rest() {
    let drops = Drops::default();
    let d = drops.clone();
    run(async move {
        let futures = (0..10).map(|i| {
            let g = d.guard();
            async move {
                let _g = g;
                yields(10 - i).await; // the last completes first
                if i >= 7 {
                    Err(i)
                } else {
                    Ok(i)
                }
            }
        });
        assert_eq!(try_gather_all(futures).await, Err(9));
        assert_eq!(d.get(), 10);
        let ok = try_gather_all((0..5).map(|i| async move { Ok::<_, ()>(i) })).await;
        assert_eq!(ok, Ok(vec![0, 1, 2, 3, 4]));
    });
}

#[test]
fn gather_all_with_wakes_from_another_thread() {
    run(async {
        let n = 200;
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..n)
            .map(|_| futures::channel::oneshot::channel::<usize>())
            .unzip();
        let sender_thread = std::thread::spawn(move || {
            // Complete them in reverse order, from another thread.
            for (i, tx) in senders.into_iter().enumerate().rev() {
                tx.send(i).unwrap();
                if i % 16 == 0 {
                    std::thread::yield_now();
                }
            }
        });
        let out: Vec<usize> = gather_all(receivers)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(out, (0..n).collect::<Vec<_>>());
        sender_thread.join().unwrap();
    });
}
