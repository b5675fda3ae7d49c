//! `Handle`: how timers find their driver (a thread-local set by `enter`).

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::callback::{self, TimerHandle};
use crate::driver::TimeShared;
use crate::instant::Instant;
use crate::loom::{handle_thread_local, Ordering};

/// The panic message for a timer used with no runtime on the thread.
pub(crate) const NO_RUNTIME: &str =
    "no eddy runtime on this thread: call inside eddy::run / #[eddy::main]";

handle_thread_local!(CURRENT: Cell<Option<Arc<TimeShared>>> = Cell::new(None));

/// Runs `f` with the driver entered on this thread, if any. `f` must not
/// look the handle up again (the slot is empty while it runs).
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(&TimeShared) -> R) -> Option<R> {
    // `try_with`: at thread exit the slot may already be destroyed (a
    // runtime kept in a `thread_local!` drops then); that reads as "no
    // driver entered". As cheap as `with`, which does the same check.
    CURRENT
        .try_with(|c| {
            let shared = c.take();
            let out = shared.as_deref().map(f);
            c.set(shared);
            out
        })
        .ok()
        .flatten()
}

/// A clone of the entered driver's state, if any (none either when the
/// thread's slot was already destroyed at thread exit).
#[inline]
fn clone_current() -> Option<Arc<TimeShared>> {
    CURRENT
        .try_with(|c| {
            let shared = c.take();
            let out = shared.clone();
            c.set(shared);
            out
        })
        .ok()
        .flatten()
}

/// The driver entered on this thread, or the no-runtime panic.
#[track_caller]
#[inline]
pub(crate) fn current_shared() -> Arc<TimeShared> {
    match clone_current() {
        Some(shared) => shared,
        None => panic!("{NO_RUNTIME}"),
    }
}

/// The driver entered on this thread if it is driver `id` (see
/// `registry.rs`).
pub(crate) fn current_shared_if(id: u64) -> Option<Arc<TimeShared>> {
    CURRENT
        .try_with(|c| {
            let shared = c.take();
            let out = shared.as_ref().filter(|s| s.id == id).cloned();
            c.set(shared);
            out
        })
        .ok()
        .flatten()
}

/// A cloneable, `Send + Sync` reference to a [`TimeDriver`](crate::TimeDriver):
/// schedule callbacks from any thread, read or pause its clock.
///
/// The runtime enters it on the loop thread ([`Handle::enter`]), which is
/// how `sleep`, `timeout` and friends find their driver.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// let driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
/// let handle = driver.handle();
/// let rt = eddy_core::Builder::new().build_with_driver(Box::new(driver)).unwrap();
/// let _guard = handle.enter();
/// rt.block_on(async {
///     let (tx, rx) = futures::channel::oneshot::channel();
///     let remote = eddy_time::Handle::current();
///     std::thread::spawn(move || {
///         remote.call_later(Duration::from_millis(1), move || tx.send(7).unwrap());
///     });
///     assert_eq!(rx.await.unwrap(), 7);
/// });
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<TimeShared>,
}

/// Undoes [`Handle::enter`] when dropped (restoring the handle entered
/// before, if any). Not `Send`: drop it on the thread that entered.
///
/// # Example
///
/// ```
/// let driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
/// {
///     let _guard = driver.handle().enter();
///     assert!(eddy_time::Handle::try_current().is_some());
/// }
/// assert!(eddy_time::Handle::try_current().is_none());
/// ```
#[must_use = "the handle is only entered while the guard lives"]
pub struct EnterGuard {
    previous: Option<Arc<TimeShared>>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // Dropped outside the TLS access: the entered handle may be the
        // last reference to the driver state. A slot already destroyed
        // (thread exit) has nothing to restore: `previous` just drops.
        let entered = CURRENT.try_with(|c| c.replace(previous)).ok().flatten();
        drop(entered);
    }
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

impl Handle {
    /// Makes this driver the current one on this thread until the guard is
    /// dropped; the facade does this on the loop thread around `block_on`.
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
    /// let _guard = driver.handle().enter();
    /// let _now = eddy_time::Instant::now();
    /// ```
    pub fn enter(&self) -> EnterGuard {
        // At thread exit the slot may already be destroyed (a runtime kept
        // in a `thread_local!` is dropped then): entering is then a no-op
        // rather than a panic, and timers see no driver.
        let shared = self.shared.clone();
        let previous = CURRENT.try_with(|c| c.replace(Some(shared))).ok().flatten();
        EnterGuard {
            previous,
            _not_send: PhantomData,
        }
    }

    /// The handle entered on this thread.
    ///
    /// # Panics
    ///
    /// With no eddy runtime on this thread ("no eddy runtime on this thread:
    /// call inside eddy::run / #\[eddy::main\]"); see [`Handle::try_current`].
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
    /// let _guard = driver.handle().enter();
    /// let handle = eddy_time::Handle::current();
    /// # drop(handle);
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        Handle {
            shared: current_shared(),
        }
    }

    /// The handle entered on this thread, if any.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(eddy_time::Handle::try_current().is_none());
    /// ```
    pub fn try_current() -> Option<Handle> {
        clone_current().map(|shared| Handle { shared })
    }

    /// The current time of this driver's clock (the test clock when paused).
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
    /// let t = driver.handle().now();
    /// assert!(driver.handle().now() >= t);
    /// ```
    pub fn now(&self) -> Instant {
        self.shared.clock.now()
    }

    /// Runs `f` on the loop after `delay`, from any thread (asyncio's
    /// `call_later` + `call_soon_threadsafe`). The callback is queued with
    /// `eddy_core::call_soon` when the timer fires; callbacks with equal
    /// deadlines run in the order they were scheduled. `Duration::MAX`
    /// means never. After the runtime shut down the callback is dropped
    /// without running and the handle reads as cancelled.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::{atomic::{AtomicBool, Ordering}, Arc};
    /// use std::time::Duration;
    /// let driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
    /// let handle = driver.handle();
    /// let rt = eddy_core::Builder::new().build_with_driver(Box::new(driver)).unwrap();
    /// let _guard = handle.enter();
    /// let ran = Arc::new(AtomicBool::new(false));
    /// let r = ran.clone();
    /// handle.call_later(Duration::from_millis(2), move || r.store(true, Ordering::SeqCst));
    /// rt.block_on(eddy_time::sleep(Duration::from_millis(20)));
    /// assert!(ran.load(Ordering::SeqCst));
    /// ```
    #[track_caller]
    pub fn call_later(&self, delay: Duration, f: impl FnOnce() + Send + 'static) -> TimerHandle {
        let when = self.shared.clock.now() + delay;
        callback::schedule_remote(&self.shared, when, f)
    }

    /// Runs `f` on the loop at `when`, from any thread; a past instant runs
    /// it at the loop's next tick. See [`Handle::call_later`].
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// let driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
    /// let handle = driver.handle();
    /// let timer = handle.call_at(handle.now() + Duration::from_secs(60), || {});
    /// timer.cancel();
    /// assert!(timer.is_cancelled());
    /// ```
    #[track_caller]
    pub fn call_at(&self, when: Instant, f: impl FnOnce() + Send + 'static) -> TimerHandle {
        callback::schedule_remote(&self.shared, when, f)
    }

    /// Pauses this driver's clock (see [`pause`](crate::pause)); callable
    /// from any thread. A no-op if already paused. A loop blocked waiting
    /// for a deadline in real time wakes up and, idle, jumps to it.
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
    /// let handle = driver.handle();
    /// handle.pause();
    /// let t = handle.now();
    /// assert_eq!(handle.now(), t);
    /// ```
    pub fn pause(&self) {
        self.shared.pause();
    }

    /// Lets this driver's clock run again from where it stands (see
    /// [`resume`](crate::resume)). A no-op if it runs.
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_time::DriverBuilder::new()
    ///     .start_paused(true)
    ///     .build(eddy_core::park::ThreadPark::new());
    /// let handle = driver.handle();
    /// handle.resume();
    /// assert!(!handle.is_paused());
    /// ```
    pub fn resume(&self) {
        self.shared.clock.resume();
        // A loop parked on the frozen clock must re-plan with real time.
        self.shared.unparker.unpark();
    }

    /// Whether this driver's clock is paused.
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
    /// assert!(!driver.handle().is_paused());
    /// ```
    pub fn is_paused(&self) -> bool {
        self.shared.clock.is_paused()
    }

    /// Holds the paused clock back from jumping ahead while the returned
    /// guard lives: for work that finishes outside the loop, such as a
    /// blocking job on a thread pool, which the loop cannot see. Without it,
    /// a paused clock whose loop is idle jumps to the next deadline, so a
    /// `timeout` around a 10 ms blocking job would expire at once. The
    /// facade's `spawn_blocking` holds one per job in flight (tokio does the
    /// same for its blocking pool). Guards nest; the clock may jump again
    /// once the last one is dropped.
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_time::DriverBuilder::new()
    ///     .start_paused(true)
    ///     .build(eddy_core::park::ThreadPark::new());
    /// let guard = driver.handle().inhibit_auto_advance();
    /// // ... a job on another thread runs; the loop waits for it in real time
    /// drop(guard);
    /// ```
    pub fn inhibit_auto_advance(&self) -> AutoAdvanceInhibitor {
        self.shared.inhibitors.fetch_add(1, Ordering::AcqRel);
        AutoAdvanceInhibitor {
            shared: self.shared.clone(),
        }
    }

    /// Timers held by the driver (pending, or fired and not yet collected by
    /// their `Sleep`). For tests and diagnostics.
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
    /// assert_eq!(driver.handle().timer_count(), 0);
    /// ```
    pub fn timer_count(&self) -> usize {
        self.shared.state.lock().wheel.len()
    }
}

/// Keeps a paused clock from jumping to the next deadline while it lives;
/// see [`Handle::inhibit_auto_advance`]. `Send`, so it can travel with the
/// work it stands for.
///
/// # Example
///
/// ```
/// let driver = eddy_time::TimeDriver::new(eddy_core::park::ThreadPark::new());
/// let guard: eddy_time::AutoAdvanceInhibitor = driver.handle().inhibit_auto_advance();
/// drop(guard);
/// ```
#[must_use = "the clock is only held back while the guard lives"]
pub struct AutoAdvanceInhibitor {
    shared: Arc<TimeShared>,
}

impl Drop for AutoAdvanceInhibitor {
    fn drop(&mut self) {
        if self.shared.inhibitors.fetch_sub(1, Ordering::AcqRel) == 1 {
            // A loop blocked because of us must re-plan: it may jump now.
            self.shared.unparker.unpark();
        }
    }
}

impl fmt::Debug for AutoAdvanceInhibitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AutoAdvanceInhibitor")
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("paused", &self.shared.clock.is_paused())
            .finish_non_exhaustive()
    }
}
