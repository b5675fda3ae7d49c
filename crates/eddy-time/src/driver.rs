//! The time driver: wraps an inner [`Park`], parks it until the next
//! deadline and fires what expired.
//!
//! # Ownership and threads
//!
//! All timers of one driver live in one [`Wheel`] behind a mutex in
//! [`TimeShared`], which every `Sleep`, timer handle and [`Handle`] holds an
//! `Arc` to. A `Sleep` owns its wheel entry through the entry's key: only
//! the owner removes or resets it (under the lock), from whatever thread it
//! is on; the driver only moves entries to "fired" and takes their wakers.
//! Wakers are woken and callbacks queued after the lock is released, and
//! removed payloads are dropped after it is released too, so no foreign
//! code ever runs under the lock.

use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use eddy_core::park::{Park, Unpark};

use crate::callback::{ParkedCallback, RemoteCallback};
use crate::clock::{Clock, Tick, NEVER};
use crate::handle::Handle;
use crate::loom::{AtomicUsize, Mutex, Ordering};
use crate::registry;
use crate::wheel::Wheel;

pub(crate) const SHUT_DOWN: &str = "the eddy runtime this timer belongs to has shut down: \
     timers cannot be used after their runtime is dropped (keep the runtime alive, or create \
     the timer inside a running one)";

/// What a wheel entry does when it fires.
pub(crate) enum Payload {
    /// A `Sleep`'s task waker (`None` once taken by the driver).
    Waker(Option<Waker>),
    /// A thread-safe `call_later`/`call_at` callback, queued on the loop
    /// as a `call_soon` callback when it fires.
    Callback(Box<dyn RemoteCallback>),
    /// A loop-thread `call_later`/`call_at` callback: its closure waits on
    /// the loop, released to the loop's queue when the timer fires.
    Local(ParkedCallback),
}

/// The driver state shared with every timer.
pub(crate) struct TimeShared {
    /// This driver's id in the process-wide registry (`registry.rs`).
    pub(crate) id: u64,
    pub(crate) clock: Clock,
    pub(crate) state: Mutex<DriverState>,
    pub(crate) unparker: Arc<dyn Unpark>,
    /// Work outside the loop that a paused clock must wait for (blocking
    /// jobs in flight): while non-zero, an idle loop blocks instead of
    /// jumping to the next deadline. See `Handle::inhibit_auto_advance`.
    pub(crate) inhibitors: AtomicUsize,
}

pub(crate) struct DriverState {
    pub(crate) wheel: Wheel<Payload>,
    /// While the loop is blocked in the inner park: the tick it will wake
    /// at by itself (`NEVER` = no deadline). A timer inserted earlier than
    /// that unparks it. `None` while the loop runs.
    parked_until: Option<Tick>,
    /// Set once by `shutdown`; the wheel is empty and takes no new timers.
    pub(crate) shut_down: bool,
}

impl Drop for TimeShared {
    fn drop(&mut self) {
        registry::remove(self.id);
    }
}

impl TimeShared {
    /// Locks the state of a live driver, panicking after shutdown.
    #[track_caller]
    pub(crate) fn lock_live(&self) -> crate::loom::MutexGuard<'_, DriverState> {
        let st = self.state.lock();
        if st.shut_down {
            drop(st);
            panic!("{SHUT_DOWN}");
        }
        st
    }

    /// Pauses the clock. A loop blocked until a deadline in real time must
    /// re-plan: idle under a paused clock, it jumps to the deadline.
    pub(crate) fn pause(&self) {
        if self.clock.pause() {
            self.unparker.unpark();
        }
    }

    /// Unparks the loop if it is blocked past `when`.
    pub(crate) fn wake_for(&self, st: &mut DriverState, when: Tick) {
        if let Some(until) = st.parked_until {
            if when < until {
                st.parked_until = Some(when);
                self.unparker.unpark();
            }
        }
    }
}

/// Configures a [`TimeDriver`].
///
/// # Example
///
/// ```
/// use eddy_core::park::ThreadPark;
/// let driver = eddy_time::DriverBuilder::new().start_paused(true).build(ThreadPark::new());
/// assert!(driver.handle().is_paused());
/// ```
#[derive(Clone, Debug, Default)]
pub struct DriverBuilder {
    start_paused: bool,
}

impl DriverBuilder {
    /// A builder with the defaults (clock running).
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_time::DriverBuilder::new().build(eddy_core::park::ThreadPark::new());
    /// assert!(!driver.handle().is_paused());
    /// ```
    pub fn new() -> DriverBuilder {
        DriverBuilder::default()
    }

    /// Start with the test clock paused: time stands still until
    /// [`advance`](crate::advance)d, and whenever the loop has nothing
    /// ready it jumps to the next deadline (tokio's `start_paused`).
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::park::ThreadPark;
    /// let driver = eddy_time::DriverBuilder::new().start_paused(true).build(ThreadPark::new());
    /// # drop(driver);
    /// ```
    pub fn start_paused(mut self, paused: bool) -> DriverBuilder {
        self.start_paused = paused;
        self
    }

    /// Builds the driver around `inner` (the I/O driver, or eddy-core's
    /// `ThreadPark`).
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_core::park::ThreadPark;
    /// let driver = eddy_time::DriverBuilder::new().build(ThreadPark::new());
    /// # drop(driver);
    /// ```
    pub fn build<P: Park>(self, inner: P) -> TimeDriver<P> {
        let shared = Arc::new(TimeShared {
            id: registry::next_id(),
            clock: Clock::new(self.start_paused),
            state: Mutex::new(DriverState {
                wheel: Wheel::new(),
                parked_until: None,
                shut_down: false,
            }),
            unparker: inner.unparker(),
            inhibitors: AtomicUsize::new(0),
        });
        registry::add(&shared);
        TimeDriver {
            inner,
            shared,
            fired_keys: Vec::new(),
            fired: Vec::new(),
        }
    }
}

/// A fired timer, handled after the lock is released.
enum Fired {
    Wake(Waker),
    Call(Box<dyn RemoteCallback>),
    Release(ParkedCallback),
}

/// The time driver: a [`Park`] that wraps an inner `Park` and fires timers.
///
/// It parks the inner driver with `timeout = min(requested, next deadline)`
/// and then fires everything that expired, in deadline order: wakes
/// `Sleep`s and queues `call_later`/`call_at` callbacks on the loop as
/// `call_soon` callbacks.
/// With the test clock paused, a blocking park (`park(None)`, which the
/// loop only issues when it has nothing ready) first lets the inner driver
/// dispatch what it already has (a zero-timeout park); if that gave the
/// loop work, it returns, and otherwise it jumps the clock to the next
/// deadline instead of blocking.
///
/// Enter its [`Handle`] on the loop thread so `sleep` & co. find it.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use eddy_core::park::ThreadPark;
/// use eddy_time::TimeDriver;
///
/// let driver = TimeDriver::new(ThreadPark::new());
/// let handle = driver.handle();
/// let rt = eddy_core::Builder::new().build_with_driver(Box::new(driver)).unwrap();
/// let _guard = handle.enter();
/// rt.block_on(async {
///     eddy_time::sleep(Duration::from_millis(5)).await;
/// });
/// ```
pub struct TimeDriver<P> {
    inner: P,
    shared: Arc<TimeShared>,
    /// Reused buffers for one round of firing.
    fired_keys: Vec<u32>,
    fired: Vec<Fired>,
}

impl<P: Park> TimeDriver<P> {
    /// A driver with a running clock around `inner`.
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
    /// # drop(driver);
    /// ```
    pub fn new(inner: P) -> TimeDriver<P> {
        DriverBuilder::default().build(inner)
    }

    /// The handle timers use to find this driver; enter it on the loop
    /// thread with [`Handle::enter`].
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
    /// let handle = driver.handle();
    /// let _guard = handle.enter();
    /// assert!(eddy_time::Handle::try_current().is_some());
    /// ```
    pub fn handle(&self) -> Handle {
        Handle {
            shared: self.shared.clone(),
        }
    }

    /// The wrapped driver.
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
    /// let _inner: &eddy_core::park::ThreadPark = driver.inner();
    /// ```
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// The wrapped driver, mutably.
    ///
    /// # Example
    ///
    /// ```
    /// let mut driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
    /// let _inner: &mut eddy_core::park::ThreadPark = driver.inner_mut();
    /// ```
    pub fn inner_mut(&mut self) -> &mut P {
        &mut self.inner
    }

    /// How long the inner driver may block, given the loop asked for
    /// `requested`; `None` from the paused clock's jump means "already
    /// handled, just poll".
    fn plan_park(&self, requested: Option<Duration>) -> Option<Duration> {
        let clock = &self.shared.clock;
        let now = clock.now();
        let now_tick = clock.now_tick(now);
        let mut st = self.shared.state.lock();
        let next = st.wheel.next_expiration();
        let wait = match next {
            Some(t) if t <= now_tick => return Some(Duration::ZERO),
            Some(t) => {
                if clock.is_paused() {
                    if requested.is_none() && self.shared.inhibitors.load(Ordering::Acquire) == 0 {
                        // Nothing is ready: time jumps to the next deadline.
                        drop(st);
                        clock.advance_to(clock.tick_instant(t));
                        return Some(Duration::ZERO);
                    }
                    // Real time does not bring a paused deadline closer.
                    requested
                } else {
                    let until = clock.tick_instant(t) - now;
                    Some(requested.map_or(until, |r| r.min(until)))
                }
            }
            None => requested,
        };
        if wait != Some(Duration::ZERO) {
            st.parked_until = Some(next.unwrap_or(NEVER));
        }
        wait
    }

    /// Fires everything due now.
    fn fire_due(&mut self) {
        let clock = &self.shared.clock;
        let now_tick = clock.now_tick(clock.now());
        {
            let mut st = self.shared.state.lock();
            st.parked_until = None;
            if st.shut_down {
                return;
            }
            st.wheel.process(now_tick, &mut self.fired_keys);
            for key in self.fired_keys.drain(..) {
                match st.wheel.payload_mut(key) {
                    Payload::Waker(waker) => {
                        if let Some(w) = waker.take() {
                            self.fired.push(Fired::Wake(w));
                        }
                    }
                    Payload::Callback(..) => {
                        if let Payload::Callback(callback) = st.wheel.remove(key) {
                            callback.state().mark_fired();
                            self.fired.push(Fired::Call(callback));
                        }
                    }
                    Payload::Local(_) => {
                        // Leaving the wheel tells `cancel` the key is no
                        // longer this callback's.
                        if let Payload::Local(parked) = st.wheel.remove(key) {
                            self.fired.push(Fired::Release(parked));
                        }
                    }
                }
            }
        }
        if self.fired.is_empty() {
            return;
        }
        let mut in_loop = None;
        for fired in self.fired.drain(..) {
            match fired {
                Fired::Wake(w) => w.wake(),
                Fired::Call(callback) => {
                    let location = callback.state().location;
                    let run = move || callback.run();
                    // Parked by an eddy loop (always, in a runtime): queue
                    // the callback FIFO with task steps, named by where it
                    // was scheduled. A driver parked by hand has no loop to
                    // queue on: run it here.
                    if *in_loop.get_or_insert_with(|| eddy_core::Handle::try_current().is_some()) {
                        eddy_core::__driver::call_soon_from(location, run);
                    } else {
                        run();
                    }
                }
                // Queued on its loop FIFO with task steps, as a `call_soon`
                // callback (by a message if this is not its loop's thread).
                Fired::Release(parked) => parked.release(),
            }
        }
    }
}

impl<P: Park> Park for TimeDriver<P> {
    fn park(&mut self, timeout: Option<Duration>) {
        if timeout.is_none()
            && self.shared.clock.is_paused()
            && self.shared.inhibitors.load(Ordering::Acquire) == 0
        {
            // The loop is idle, so the paused clock may jump: but only if
            // the inner driver has nothing waiting either. Tasks of this
            // loop talk to each other through sockets and pipes whose
            // events are already queued in the kernel (a client wrote,
            // its server has not been told yet); jumping first would fire
            // timeouts over them. Dispatch those first and jump only if
            // that left the loop with nothing to do, as tokio's paused
            // clock does.
            self.inner.park(Some(Duration::ZERO));
            if eddy_core::__driver::has_ready_work() {
                self.fire_due();
                return;
            }
        }
        let wait = if timeout == Some(Duration::ZERO) {
            timeout
        } else {
            self.plan_park(timeout)
        };
        self.inner.park(wait);
        self.fire_due();
    }

    fn unparker(&self) -> Arc<dyn Unpark> {
        self.shared.unparker.clone()
    }

    fn shutdown(&mut self) {
        release_all(&self.shared);
        self.inner.shutdown();
    }
}

impl<P> Drop for TimeDriver<P> {
    fn drop(&mut self) {
        // A driver dropped without `shutdown` still releases its timers.
        release_all(&self.shared);
    }
}

/// Marks the driver shut down and empties the wheel. Sleeps still held
/// (say, by another thread) are woken, poll and get the shut-down panic
/// instead of hanging; callbacks are dropped without running.
fn release_all(shared: &TimeShared) {
    let drained: Vec<Payload> = {
        let mut st = shared.state.lock();
        if st.shut_down {
            return;
        }
        st.shut_down = true;
        st.wheel.drain().collect()
    };
    for payload in drained {
        if let Payload::Waker(Some(w)) = payload {
            w.wake();
        }
    }
}

impl<P> std::fmt::Debug for TimeDriver<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.shared.state.lock();
        f.debug_struct("TimeDriver")
            .field("timers", &st.wheel.len())
            .field("paused", &self.shared.clock.is_paused())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Every timer is one wheel entry: the payload of a sleep, a thread-safe
    /// callback and a loop-thread callback fits in three words.
    #[test]
    fn a_wheel_payload_is_three_words() {
        assert_eq!(
            std::mem::size_of::<Payload>(),
            3 * std::mem::size_of::<usize>()
        );
    }
}
