//! Loom models of the cross-thread paths: a `Sleep` dropped or reset on
//! another thread while the loop fires the wheel, a timer callback
//! cancelled while it fires (by one thread, and by two at once; thread-safe
//! callbacks on a driver parked by hand, loop-thread ones on an eddy-core
//! loop, whose closures must stay on the loop thread), a timer registered
//! from another thread while the loop parks, and the clock paused from
//! another thread while the loop waits for a far deadline (no lost
//! wake-up).
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p eddy-time --release --test 'loom_*'`
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use eddy_core::park::{Park, Unpark};
use eddy_time::{sleep, DriverBuilder, Handle, Sleep};
use loom::sync::atomic::{AtomicUsize, Ordering};

/// An inner driver for the model: a timed park returns at once (as if the
/// timeout elapsed); an unbounded one spins with `yield_now` until
/// unparked, so a lost wake-up makes loom fail (it never ends). With
/// `block_long`, a timed park of a second or more blocks like an unbounded
/// one (a loop waiting for a far deadline in real time).
struct ModelPark {
    unpark: Arc<ModelUnpark>,
    block_long: bool,
}

/// Under a loom mutex rather than an atomic flag: loom 0.7 can model a
/// `swap` after another thread's `store` as reading the stale value
/// (tokio-rs/loom#389), and its `thread::park` misses some unparks of the
/// model's main thread, which reports wake-ups lost that were not.
struct ModelUnpark {
    notified: loom::sync::Mutex<bool>,
}

impl ModelPark {
    fn new() -> ModelPark {
        ModelPark {
            unpark: Arc::new(ModelUnpark {
                notified: loom::sync::Mutex::new(false),
            }),
            block_long: false,
        }
    }

    fn blocking_long_waits() -> ModelPark {
        ModelPark {
            block_long: true,
            ..ModelPark::new()
        }
    }
}

impl Park for ModelPark {
    fn park(&mut self, timeout: Option<Duration>) {
        loop {
            let returns_at_once =
                timeout.is_some_and(|t| !self.block_long || t < Duration::from_secs(1));
            if std::mem::take(&mut *self.unpark.notified.lock().unwrap()) || returns_at_once {
                return;
            }
            loom::thread::yield_now();
        }
    }
    fn unparker(&self) -> Arc<dyn Unpark> {
        self.unpark.clone()
    }
}

impl Unpark for ModelUnpark {
    fn unpark(&self) {
        *self.notified.lock().unwrap() = true;
    }
}

#[derive(Default)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<Counter>, Waker) {
    let c = Arc::new(Counter::default());
    (c.clone(), Waker::from(c))
}

fn poll(s: &mut Sleep, w: &Waker) -> Poll<()> {
    Pin::new(s).poll(&mut Context::from_waker(w))
}

#[test]
fn drop_on_another_thread_races_the_fire() {
    loom::model(|| {
        let mut driver = DriverBuilder::new()
            .start_paused(true)
            .build(ModelPark::new());
        let handle = driver.handle();
        let _g = handle.enter();
        let (woken, waker) = counting_waker();
        let mut s = sleep(Duration::from_millis(1));
        assert!(poll(&mut s, &waker).is_pending());
        // Keeps the wheel non-empty, so the park below never blocks.
        let mut backstop = sleep(Duration::from_millis(2));
        assert!(poll(&mut backstop, &futures::task::noop_waker()).is_pending());
        let t = loom::thread::spawn(move || drop(s));
        // Paused clock, nothing else to do: jump to the deadline and fire.
        driver.park(None);
        t.join().unwrap();
        assert!(woken.0.load(Ordering::SeqCst) <= 1);
        drop(backstop);
        assert_eq!(handle.timer_count(), 0);
    });
}

#[test]
fn reset_on_another_thread_races_the_fire() {
    loom::model(|| {
        let mut driver = DriverBuilder::new()
            .start_paused(true)
            .build(ModelPark::new());
        let handle = driver.handle();
        let _g = handle.enter();
        let (woken, waker) = counting_waker();
        let mut s = sleep(Duration::from_millis(1));
        assert!(poll(&mut s, &waker).is_pending());
        let later = handle.now() + Duration::from_secs(3600);
        let t = loom::thread::spawn(move || {
            s.reset(later);
            s
        });
        driver.park(None);
        let mut s = t.join().unwrap();
        // Exactly one entry, owned by the sleep, whatever the interleaving.
        assert_eq!(handle.timer_count(), 1);
        let wakes = woken.0.load(Ordering::SeqCst);
        assert!(wakes <= 1);
        if wakes == 0 {
            // The reset won: only the new deadline is pending.
            assert!(!s.is_elapsed());
        }
        // Either way the sleep still completes once its deadline comes.
        while poll(&mut s, &waker).is_pending() {
            driver.park(None);
        }
        drop(s);
        assert_eq!(handle.timer_count(), 0);
    });
}

#[test]
fn callback_cancel_races_the_fire() {
    loom::model(|| {
        let mut driver = DriverBuilder::new()
            .start_paused(true)
            .build(ModelPark::new());
        let handle = driver.handle();
        let _g = handle.enter();
        let mut backstop = sleep(Duration::from_millis(2));
        assert!(poll(&mut backstop, &futures::task::noop_waker()).is_pending());
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let timer = handle.call_later(Duration::from_millis(1), move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
        let t = loom::thread::spawn(move || {
            timer.cancel();
            timer
        });
        // Not inside an eddy loop: the driver runs fired callbacks inline.
        driver.park(None);
        let timer = t.join().unwrap();
        assert!(timer.is_cancelled());
        assert!(ran.load(Ordering::SeqCst) <= 1);
        drop(backstop);
        assert_eq!(handle.timer_count(), 0);
    });
}

#[test]
fn two_threads_cancel_one_callback_as_it_fires() {
    loom::model(|| {
        let mut driver = DriverBuilder::new()
            .start_paused(true)
            .build(ModelPark::new());
        let handle = driver.handle();
        let _g = handle.enter();
        let mut backstop = sleep(Duration::from_millis(2));
        assert!(poll(&mut backstop, &futures::task::noop_waker()).is_pending());
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let timer = Arc::new(handle.call_later(Duration::from_millis(1), move || {
            r.fetch_add(1, Ordering::SeqCst);
        }));
        let other = timer.clone();
        let t = loom::thread::spawn(move || other.cancel());
        timer.cancel();
        // Only one of the two cancels may remove the entry: a second
        // remove would take out the key's next owner, or panic on a
        // vacant key.
        driver.park(None);
        t.join().unwrap();
        assert!(timer.is_cancelled());
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        assert_eq!(handle.timer_count(), 1); // the backstop
        drop(backstop);
        assert_eq!(handle.timer_count(), 0);
    });
}

#[test]
fn remote_pause_wakes_a_loop_parked_on_a_real_deadline() {
    loom::model(|| {
        let mut driver = DriverBuilder::new().build(ModelPark::blocking_long_waits());
        let handle = driver.handle();
        let _g = handle.enter();
        let (woken, waker) = counting_waker();
        let mut s = sleep(Duration::from_secs(3600));
        assert!(poll(&mut s, &waker).is_pending());
        let remote = handle.clone();
        let t = loom::thread::spawn(move || remote.pause());
        // On the running clock the loop blocks for the hour; the pause
        // must unpark it so that, idle under the paused clock, it jumps
        // to the deadline (else the model never ends).
        while woken.0.load(Ordering::SeqCst) == 0 {
            driver.park(None);
        }
        t.join().unwrap();
        assert!(poll(&mut s, &waker).is_ready());
    });
}

#[test]
fn remote_registration_wakes_a_parked_loop() {
    loom::model(|| {
        let mut driver = DriverBuilder::new().build(ModelPark::new());
        let handle = driver.handle();
        let remote: Handle = handle.clone();
        let t = loom::thread::spawn(move || {
            let _g = remote.enter();
            let mut s = sleep(Duration::from_secs(3600));
            assert!(poll(&mut s, &futures::task::noop_waker()).is_pending());
            s
        });
        // With no timer yet this park blocks until unparked; a timer
        // registered meanwhile must unpark it (else the model never ends).
        driver.park(None);
        let s = t.join().unwrap();
        assert_eq!(handle.timer_count(), 1);
        drop(s);
    });
}

/// Records which model thread dropped it.
struct DropProbe(Arc<loom::sync::Mutex<Vec<loom::thread::ThreadId>>>);

impl Drop for DropProbe {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(loom::thread::current().id());
    }
}

/// A loop on `ModelPark` with the paused clock, its time handle entered.
fn model_loop() -> (eddy_core::Runtime, Handle) {
    let driver = DriverBuilder::new()
        .start_paused(true)
        .build(ModelPark::new());
    let handle = driver.handle();
    let rt = eddy_core::Builder::new()
        .build_with_driver(Box::new(driver))
        .unwrap();
    (rt, handle)
}

/// A loop-thread callback (its closure waits on the loop, the wheel holds
/// a reference to it) cancelled from another thread while its timer fires:
/// it runs at most once, not at all once the cancel's flag is seen, its
/// closure is dropped exactly once and on the loop thread, and nothing is
/// left in the wheel.
#[test]
fn loop_callback_cancelled_from_another_thread_as_it_fires() {
    loom::model(|| {
        let (rt, handle) = model_loop();
        let _g = handle.enter();
        let loop_thread = loom::thread::current().id();
        let drops = Arc::new(loom::sync::Mutex::new(Vec::new()));
        let ran = std::rc::Rc::new(std::cell::Cell::new(0));
        rt.block_on(async {
            let probe = DropProbe(drops.clone());
            let r = ran.clone();
            let timer = eddy_time::call_later(Duration::from_millis(1), move || {
                let _probe = &probe;
                r.set(r.get() + 1);
            });
            let t = loom::thread::spawn(move || {
                timer.cancel();
                timer
            });
            // Paused clock, nothing else to do: the loop jumps to the
            // deadline and fires the timer.
            sleep(Duration::from_millis(2)).await;
            let timer = t.join().unwrap();
            assert!(timer.is_cancelled());
            // A discard sent by the other thread runs at the next step.
            eddy_core::yield_now().await;
            assert!(ran.get() <= 1);
            assert_eq!(handle.timer_count(), 0);
            assert_eq!(*drops.lock().unwrap(), [loop_thread]);
        });
        drop(rt);
        assert_eq!(*drops.lock().unwrap(), [loop_thread]);
    });
}

/// The loop and another thread cancel one loop-thread callback at once,
/// and the loop schedules another callback, which may take the freed wheel
/// key: only one cancel removes the entry, the other callback is left
/// alone and runs, and the cancelled closure never runs and is dropped
/// once, on the loop.
#[test]
fn two_threads_cancel_a_loop_callback_and_leave_the_next_one_alone() {
    loom::model(|| {
        let (rt, handle) = model_loop();
        let _g = handle.enter();
        let loop_thread = loom::thread::current().id();
        let drops = Arc::new(loom::sync::Mutex::new(Vec::new()));
        let ran = std::rc::Rc::new(std::cell::Cell::new(false));
        rt.block_on(async {
            let probe = DropProbe(drops.clone());
            let timer = Arc::new(eddy_time::call_later(
                Duration::from_secs(3600),
                move || {
                    let _probe = &probe;
                    panic!("a cancelled callback ran");
                },
            ));
            let other = timer.clone();
            let t = loom::thread::spawn(move || other.cancel());
            timer.cancel();
            let r = ran.clone();
            let _next = eddy_time::call_later(Duration::from_secs(3600), move || r.set(true));
            t.join().unwrap();
            eddy_core::yield_now().await;
            assert_eq!(handle.timer_count(), 1, "the next callback lost its entry");
            assert_eq!(*drops.lock().unwrap(), [loop_thread]);
            sleep(Duration::from_secs(7200)).await;
            assert!(ran.get(), "the next callback never ran");
        });
        drop(rt);
        assert_eq!(*drops.lock().unwrap(), [loop_thread]);
    });
}
