//! `compare` workloads for the time area (issue 3), eddy vs tokio.
//!
//! eddy's side runs on `eddy_core::Runtime` with `eddy_time::TimeDriver`
//! over the thread-parking driver (no I/O driver); tokio's on its
//! current-thread runtime with only the time driver enabled. Both crates are
//! built as the workspace builds them (tokio with `test-util`, needed for
//! its paused clock in `interval_ticks`).

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use crate::{compare_ns, Plan, Workload};

/// The time workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "timer_insert_cancel",
            run: timer_insert_cancel,
        },
        Workload {
            name: "timeout_ready",
            run: timeout_ready,
        },
        Workload {
            name: "sleep_many",
            run: sleep_many,
        },
        Workload {
            name: "interval_ticks",
            run: interval_ticks,
        },
    ]
}

/// eddy-core's loop with the time driver entered, as the facade wires it.
pub struct EddyRt {
    rt: eddy_core::Runtime,
    handle: eddy_time::Handle,
}

impl EddyRt {
    /// A runtime with a running (or paused) clock.
    pub fn new(paused: bool) -> EddyRt {
        let driver = eddy_time::DriverBuilder::new()
            .start_paused(paused)
            .build(eddy_core::park::ThreadPark::new());
        let handle = driver.handle();
        let rt = eddy_core::Builder::new()
            .build_with_driver(Box::new(driver))
            .unwrap();
        EddyRt { rt, handle }
    }

    /// `block_on` with the time handle entered.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        let _g = self.handle.enter();
        self.rt.block_on(f)
    }
}

/// tokio's current-thread runtime with the time driver.
pub fn tokio_rt(paused: bool) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(paused)
        .build()
        .unwrap()
}

/// Sleeps created and dropped in `timer_insert_cancel`.
pub const INSERT_CANCEL: u64 = 1_000_000;

/// Create and drop 1,000,000 `Sleep`s with distinct deadlines, each polled
/// once so it registers in the wheel.
pub fn timer_insert_cancel_eddy(rt: &EddyRt, n: u64) {
    rt.block_on(async {
        for i in 0..n {
            let mut s = eddy_time::sleep(Duration::from_millis(1_000 + i));
            poll_fn(|cx| {
                assert!(Pin::new(&mut s).poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
        }
    });
}

/// tokio twin of [`timer_insert_cancel_eddy`].
pub fn timer_insert_cancel_tokio(rt: &tokio::runtime::Runtime, n: u64) {
    rt.block_on(async {
        for i in 0..n {
            let mut s = std::pin::pin!(tokio::time::sleep(Duration::from_millis(1_000 + i)));
            poll_fn(|cx| {
                assert!(s.as_mut().poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
        }
    });
}

fn timer_insert_cancel(quick: bool) -> Option<(f64, f64)> {
    let (e, t) = (EddyRt::new(false), tokio_rt(false));
    Some(compare_ns(
        Plan::new(quick),
        || timer_insert_cancel_eddy(&e, INSERT_CANCEL),
        || timer_insert_cancel_tokio(&t, INSERT_CANCEL),
    ))
}

/// Timeouts in `timeout_ready`.
pub const TIMEOUT_READY: u64 = 100_000;

/// `timeout(1 s, ready future)` × 100,000.
pub fn timeout_ready_eddy(rt: &EddyRt, n: u64) {
    rt.block_on(async {
        for i in 0..n {
            let out = eddy_time::timeout(Duration::from_secs(1), std::future::ready(i)).await;
            std::hint::black_box(out.unwrap());
        }
    });
}

/// tokio twin of [`timeout_ready_eddy`].
pub fn timeout_ready_tokio(rt: &tokio::runtime::Runtime, n: u64) {
    rt.block_on(async {
        for i in 0..n {
            let out = tokio::time::timeout(Duration::from_secs(1), std::future::ready(i)).await;
            std::hint::black_box(out.unwrap());
        }
    });
}

fn timeout_ready(quick: bool) -> Option<(f64, f64)> {
    let (e, t) = (EddyRt::new(false), tokio_rt(false));
    Some(compare_ns(
        Plan::new(quick),
        || timeout_ready_eddy(&e, TIMEOUT_READY),
        || timeout_ready_tokio(&t, TIMEOUT_READY),
    ))
}

/// Tasks in `sleep_many`.
pub const SLEEP_MANY: u64 = 100_000;

/// 100,000 tasks each `sleep(1 ms ..= 100 ms)` then finish; wall time until
/// all are done.
pub fn sleep_many_eddy(rt: &EddyRt, n: u64) {
    rt.block_on(async {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                eddy_core::spawn(async move {
                    eddy_time::sleep(Duration::from_millis(1 + i % 100)).await;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

/// tokio twin of [`sleep_many_eddy`].
pub fn sleep_many_tokio(rt: &tokio::runtime::Runtime, n: u64) {
    rt.block_on(async {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(1 + i % 100)).await;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

fn sleep_many(quick: bool) -> Option<(f64, f64)> {
    let (e, t) = (EddyRt::new(false), tokio_rt(false));
    Some(compare_ns(
        Plan::new(quick),
        || sleep_many_eddy(&e, SLEEP_MANY),
        || sleep_many_tokio(&t, SLEEP_MANY),
    ))
}

/// Ticks in `interval_ticks`.
pub const INTERVAL_TICKS: u32 = 1_000;

/// One interval of 1 ms for 1,000 ticks under the paused clock.
pub fn interval_ticks_eddy(rt: &EddyRt, n: u32) {
    rt.block_on(async {
        let mut every = eddy_time::interval(Duration::from_millis(1));
        for _ in 0..n {
            std::hint::black_box(every.tick().await);
        }
    });
}

/// tokio twin of [`interval_ticks_eddy`] (tokio's paused clock).
pub fn interval_ticks_tokio(rt: &tokio::runtime::Runtime, n: u32) {
    rt.block_on(async {
        let mut every = tokio::time::interval(Duration::from_millis(1));
        for _ in 0..n {
            std::hint::black_box(every.tick().await);
        }
    });
}

fn interval_ticks(quick: bool) -> Option<(f64, f64)> {
    let (e, t) = (EddyRt::new(true), tokio_rt(true));
    Some(compare_ns(
        Plan::new(quick),
        || interval_ticks_eddy(&e, INTERVAL_TICKS),
        || interval_ticks_tokio(&t, INTERVAL_TICKS),
    ))
}
