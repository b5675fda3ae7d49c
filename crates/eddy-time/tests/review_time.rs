//! Edge cases found or checked by review: callbacks cancelled by a
//! callback of the same tick, where a cancelled thread-safe callback's
//! closure is dropped, and a sleep reset between its timer firing and its
//! next poll.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use common::block_on;
use eddy_time::{advance, call_later, sleep, Handle, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Callbacks due in one tick are all released to the loop before the
/// first runs: one of them cancelling the others must still stop them,
/// for both the loop-thread and the thread-safe forms.
#[test]
fn callbacks_cancelled_by_an_earlier_callback_of_the_same_tick_never_run() {
    block_on(true, async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let victims: Rc<RefCell<Vec<eddy_time::TimerHandle>>> = Rc::default();
        let (l, v) = (log.clone(), victims.clone());
        call_later(ms(5), move || {
            l.borrow_mut().push("first");
            for timer in v.borrow().iter() {
                timer.cancel();
            }
        });
        let l = log.clone();
        victims
            .borrow_mut()
            .push(call_later(ms(5), move || l.borrow_mut().push("local")));
        let remote = Arc::new(Mutex::new(false));
        let r = remote.clone();
        victims
            .borrow_mut()
            .push(Handle::current().call_later(ms(5), move || *r.lock().unwrap() = true));
        let l = log.clone();
        call_later(ms(5), move || l.borrow_mut().push("last"));
        sleep(ms(10)).await;
        eddy_core::yield_now().await;
        assert_eq!(*log.borrow(), ["first", "last"]);
        assert!(
            !*remote.lock().unwrap(),
            "the cancelled thread-safe callback ran"
        );
        assert!(victims.borrow().iter().all(|t| t.is_cancelled()));
        assert_eq!(Handle::current().timer_count(), 0);
    });
}

/// Records the thread it is dropped on.
struct DropsOn(Arc<Mutex<Option<ThreadId>>>);
impl Drop for DropsOn {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(std::thread::current().id());
    }
}

/// The closure of a thread-safe callback is `Send`: cancelled on another
/// thread before its timer fired, it is dropped there, at once (the
/// `TimerHandle::cancel` docs used to say it was dropped on the loop).
#[test]
fn a_thread_safe_callback_cancelled_off_the_loop_drops_its_closure_there_at_once() {
    block_on(true, async {
        let dropped_on = Arc::new(Mutex::new(None));
        let guard = DropsOn(dropped_on.clone());
        let timer = Handle::current().call_later(Duration::from_secs(3600), move || {
            let _guard = &guard;
            panic!("cancelled callback ran");
        });
        let canceller = std::thread::spawn(move || {
            timer.cancel();
            std::thread::current().id()
        });
        let canceller_id = canceller.join().unwrap();
        // The loop has not taken a step since: the drop happened in cancel.
        assert_eq!(*dropped_on.lock().unwrap(), Some(canceller_id));
        assert_eq!(Handle::current().timer_count(), 0);
    });
}

/// A sleep whose timer fired (its task woken) and that is reset before its
/// next poll waits for the new deadline, and is woken by it although the
/// driver already took the waker of the first firing.
#[test]
fn a_sleep_reset_between_its_firing_and_its_next_poll_waits_for_the_new_deadline() {
    block_on(true, async {
        let start = Instant::now();
        let mut nap = Box::pin(sleep(ms(5)));
        assert!(futures::poll!(nap.as_mut()).is_pending());
        advance(ms(5)).await; // fires the timer; the sleep is not polled
        assert!(nap.is_elapsed());
        nap.as_mut().reset(start + ms(15));
        assert!(!nap.is_elapsed());
        nap.as_mut().await;
        assert_eq!(Instant::now() - start, ms(15));
    });
}

/// A future that wakes itself every poll and counts its polls.
fn busy(polls: Rc<std::cell::Cell<u32>>) -> impl std::future::Future<Output = ()> {
    std::future::poll_fn(move |cx| {
        polls.set(polls.get() + 1);
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
}

/// A zero (or past) timeout expires after the operation's first step, as
/// asyncio's `timeout(0)`: the wheel's rounding up to the next millisecond
/// used to let a busy future run thousands of steps first.
#[test]
fn a_zero_or_past_timeout_expires_after_one_step() {
    for paused in [false, true] {
        block_on(paused, async {
            let polls = Rc::new(std::cell::Cell::new(0));
            let r = eddy_time::timeout(Duration::ZERO, busy(polls.clone())).await;
            assert!(r.is_err());
            assert_eq!(polls.get(), 1, "timeout(ZERO): one step");

            let polls = Rc::new(std::cell::Cell::new(0));
            let past = Instant::now() - ms(5);
            let r = eddy_time::timeout_at(past, busy(polls.clone())).await;
            assert!(r.is_err());
            assert_eq!(polls.get(), 1, "timeout_at(past): one step");

            let polls = Rc::new(std::cell::Cell::new(0));
            let p = polls.clone();
            let r = eddy_time::deadline(Duration::ZERO, |_| busy(p)).await;
            assert!(r.is_err());
            assert_eq!(polls.get(), 1, "deadline(ZERO): one step");
        });
    }
}
