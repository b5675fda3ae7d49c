//! The driver interface of the event loop, and the plain thread-parking driver.
//!
//! The loop knows nothing of timers or sockets. When it has no ready work it
//! hands control to a [`Park`] driver: "block until something wakes you, or
//! until this timeout". Drivers stack: the facade's time driver wraps the I/O
//! driver and parks it with `timeout = next deadline`; eddy-core alone uses
//! [`ThreadPark`], which only sleeps until [`Unpark::unpark`].

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

/// A driver the event loop blocks on when it has nothing to run.
///
/// `park` is always called on the loop's thread; [`Unpark`] handles may be
/// used from any thread to end a `park` early.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use eddy_core::park::{Park, ThreadPark};
///
/// let mut driver = ThreadPark::new();
/// let unparker = driver.unparker();
/// std::thread::spawn(move || unparker.unpark());
/// driver.park(Some(Duration::from_secs(5))); // returns early once unparked
/// ```
pub trait Park {
    /// Blocks until unparked or until `timeout` elapses (`None` = no limit).
    ///
    /// `Some(Duration::ZERO)` never blocks: the driver processes whatever is
    /// ready (fires expired timers, dispatches I/O events) and returns.
    /// Spurious returns are allowed; the loop re-checks its queues.
    fn park(&mut self, timeout: Option<Duration>);

    /// A handle that ends a current or the next `park` from any thread.
    fn unparker(&self) -> Arc<dyn Unpark>;

    /// Called once when the runtime shuts down, after every task is dropped.
    fn shutdown(&mut self) {}
}

/// The thread-safe half of a [`Park`] driver.
///
/// # Example
///
/// ```
/// use eddy_core::park::{Park, ThreadPark, Unpark};
///
/// let driver = ThreadPark::new();
/// let unparker: std::sync::Arc<dyn Unpark> = driver.unparker();
/// unparker.unpark(); // the next park returns at once
/// ```
pub trait Unpark: Send + Sync + 'static {
    /// Wakes the driver: the current `park` returns, or the next one returns
    /// at once if none is in progress.
    fn unpark(&self);
}

impl<P: Park + ?Sized> Park for Box<P> {
    fn park(&mut self, timeout: Option<Duration>) {
        (**self).park(timeout)
    }
    fn unparker(&self) -> Arc<dyn Unpark> {
        (**self).unparker()
    }
    fn shutdown(&mut self) {
        (**self).shutdown()
    }
}

/// No one is parked and no wake is pending.
const EMPTY: u8 = 0;
/// The loop thread is (about to be) blocked on the condvar.
const PARKED: u8 = 1;
/// A wake arrived; the next or current park returns at once.
const NOTIFIED: u8 = 2;

/// The driver eddy-core uses on its own: parks the thread on a condvar.
///
/// An unpark while the loop is running costs one atomic swap; only an unpark
/// of a thread that is actually blocked takes the lock and signals.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use eddy_core::park::{Park, ThreadPark};
///
/// let mut driver = ThreadPark::new();
/// driver.park(Some(Duration::from_millis(1))); // times out
/// ```
#[derive(Clone)]
pub struct ThreadPark {
    inner: Arc<ThreadParkInner>,
}

struct ThreadParkInner {
    state: AtomicU8,
    lock: Mutex<()>,
    condvar: Condvar,
}

impl ThreadPark {
    /// A new driver with no pending wake.
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_core::park::ThreadPark::new();
    /// # drop(driver);
    /// ```
    pub fn new() -> ThreadPark {
        ThreadPark {
            inner: Arc::new(ThreadParkInner {
                state: AtomicU8::new(EMPTY),
                lock: Mutex::new(()),
                condvar: Condvar::new(),
            }),
        }
    }
}

impl Default for ThreadPark {
    fn default() -> Self {
        ThreadPark::new()
    }
}

impl std::fmt::Debug for ThreadPark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadPark").finish_non_exhaustive()
    }
}

impl Park for ThreadPark {
    fn park(&mut self, timeout: Option<Duration>) {
        let inner = &*self.inner;
        // A pending wake: consume it and return without blocking.
        if inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
        if timeout == Some(Duration::ZERO) {
            return;
        }
        let mut guard = inner.lock.lock();
        match inner
            .state
            .compare_exchange(EMPTY, PARKED, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => {}
            Err(_) => {
                // NOTIFIED raced in before we could publish PARKED.
                inner.state.store(EMPTY, Ordering::SeqCst);
                return;
            }
        }
        match timeout {
            None => {
                while inner.state.load(Ordering::SeqCst) == PARKED {
                    inner.condvar.wait(&mut guard);
                }
            }
            Some(d) => {
                let deadline = std::time::Instant::now().checked_add(d);
                while inner.state.load(Ordering::SeqCst) == PARKED {
                    match deadline {
                        Some(at) => {
                            if inner.condvar.wait_until(&mut guard, at).timed_out() {
                                break;
                            }
                        }
                        None => inner.condvar.wait(&mut guard),
                    }
                }
            }
        }
        // Either NOTIFIED (consume it) or still PARKED after a timeout.
        inner.state.store(EMPTY, Ordering::SeqCst);
    }

    fn unparker(&self) -> Arc<dyn Unpark> {
        self.inner.clone()
    }
}

impl Unpark for ThreadParkInner {
    fn unpark(&self) {
        match self.state.swap(NOTIFIED, Ordering::SeqCst) {
            EMPTY | NOTIFIED => {}
            _ => {
                // The parked thread holds the lock except while waiting;
                // taking it orders our NOTIFIED store before its re-check.
                drop(self.lock.lock());
                self.condvar.notify_one();
            }
        }
    }
}
