//! The event loop: `Runtime`, `block_on`, `run` and shutdown.

mod builder;
pub(crate) mod context;
pub(crate) mod debug;
mod handle;
pub(crate) mod inject;
pub(crate) mod main_task;
mod shared;

pub use builder::{Builder, UnhandledPanic};
pub use handle::{Handle, SpawnError};
pub(crate) use shared::Shared;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::pin;
use std::ptr::NonNull;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll};
use std::time::Duration;

use slab::Slab;

use crate::coop;
use crate::loom::{Arc, AtomicBool, Ordering};
use crate::park::{Park, Unpark};
use crate::task::contextvars::{self, LoopContext};
use crate::task::raw::{prefix, Header};
use context::{Local, Runnable};
use inject::Inject;
use main_task::MainScope;

/// How often (in run-queue pops) the inject queue is checked even when the
/// local queue is not empty, so remote wakes are not starved.
const INJECT_INTERVAL: u32 = 31;
/// How many remote tasks move to the local queue per check.
const INJECT_BATCH: usize = 64;

/// A single-threaded event loop (asyncio's event loop / `Runner`).
///
/// Tasks spawned on it run only while [`Runtime::block_on`] runs, on the
/// thread that calls it. Dropping the runtime cancels every task still
/// alive (their destructors run) and shuts the driver down.
///
/// The runtime is not `Send`: it owns tasks whose futures need not be.
/// Use [`Runtime::handle`] to reach it from other threads.
///
/// # Example
///
/// ```
/// let rt = eddy_core::Runtime::new().unwrap();
/// let answer = rt.block_on(async {
///     let a = eddy_core::spawn(async { 20 });
///     let b = eddy_core::spawn(async { 22 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct Runtime {
    local: Box<Local>,
    driver: RefCell<Box<dyn Park>>,
    event_interval: u32,
    shut_down: std::cell::Cell<bool>,
    _not_send: PhantomData<*const ()>,
}

impl Runtime {
    /// A runtime with default settings on the thread-parking driver.
    ///
    /// # Errors
    ///
    /// Reserved for drivers that fail to start; this one does not.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy_core::Runtime::new().unwrap();
    /// rt.block_on(async {});
    /// ```
    pub fn new() -> std::io::Result<Runtime> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure a runtime.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy_core::Runtime::builder().debug(false).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    pub(crate) fn from_parts(builder: Builder, driver: Box<dyn Park>) -> Runtime {
        let unparker: StdArc<dyn Unpark> = driver.unparker();
        let shared = Arc::new(Shared {
            inject: Inject::new(),
            unparker,
            unhandled_panic: builder.unhandled_panic,
            shutdown_requested: AtomicBool::new(false),
            name: builder.thread_name.clone(),
        });
        let debug = builder.debug.then(|| {
            debug::Debug::new(builder.slow_poll_threshold, builder.thread_name.as_deref())
        });
        Runtime {
            local: Box::new(Local {
                shared,
                run_queue: RefCell::new(VecDeque::with_capacity(256)),
                owned: RefCell::new(Slab::new()),
                current_task: std::cell::Cell::new(None),
                self_woken: std::cell::Cell::new(false),
                debug,
                main: Default::default(),
                parked: RefCell::new(Slab::new()),
                // The `block_on` future starts in a copy of the context
                // current here, kept across `block_on` calls (asyncio's
                // `Runner` copies the context once, for all its runs).
                contexts: LoopContext::new(contextvars::current()),
            }),
            driver: RefCell::new(driver),
            event_interval: builder.event_interval,
            shut_down: std::cell::Cell::new(false),
            _not_send: PhantomData,
        }
    }

    /// A thread-safe handle to this loop.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy_core::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let task = handle.spawn(async { 1 }).unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), 1);
    /// ```
    pub fn handle(&self) -> Handle {
        Handle {
            shared: self.local.shared.clone(),
        }
    }

    /// Runs `future` to completion on this thread, running the loop's tasks,
    /// callbacks and driver meanwhile (asyncio's `Runner.run`). Tasks still
    /// alive when it returns stay alive for the next `block_on`.
    ///
    /// # Ordering
    ///
    /// `future` takes its turn in the loop's FIFO queue like any task, as
    /// asyncio's main task does: its first poll and each poll after a wake
    /// come after every task step and callback queued before, including
    /// work other threads submitted (with [`Handle::spawn`] or
    /// [`Handle::call_soon`]) before waking it. So when a timer of a task
    /// and a later one of `future` fire in the same loop turn, the task
    /// resumes first.
    ///
    /// # Panics
    ///
    /// - inside a running eddy loop (a nested loop would block the outer
    ///   one): `.await` the future or `spawn` it instead;
    /// - after a task panic nobody joined, under
    ///   [`UnhandledPanic::ShutdownRuntime`];
    /// - if `future` panics (the panic propagates).
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy_core::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(async { 5 }), 5);
    /// assert_eq!(rt.block_on(async { 6 }), 6);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        assert!(
            !context::is_entered(),
            "Runtime::block_on / run called inside a running eddy loop: that would block the \
             loop; `.await` the future or `eddy::spawn` it instead"
        );
        assert!(
            !self.shut_down.get(),
            "Runtime::block_on after shutdown: build a new Runtime"
        );
        let local = &*self.local;
        let _enter = context::enter(local);
        let mut driver = self.driver.borrow_mut();
        // The future takes FIFO turns with tasks and callbacks, like
        // asyncio's main task; its first poll is queued now (see main_task).
        let main = MainScope::enter(local);
        let mut cx = Context::from_waker(main.waker());
        // In an `Option` so that it can be dropped here, in the loop's
        // context, before the last look at the unhandled-panic policy.
        let mut future = pin!(Some(future));
        let mut tick: u32 = 0;
        loop {
            self.check_shutdown_requested();
            let mut ran = 0;
            while ran < self.event_interval {
                // The main future's turn comes ahead of the whole queue
                // when it was woken while the queue was empty, else at its
                // marker (`run` leaves that one to us).
                let main_turn = local.main.is_next()
                    || match self.next_runnable(tick) {
                        Some(runnable) => !self.run(runnable),
                        None => break,
                    };
                tick = tick.wrapping_add(1);
                ran += 1;
                if !main_turn {
                    continue;
                }
                // A task that panicked earlier in this turn stops the loop
                // before the future can return as if nothing happened.
                self.check_shutdown_requested();
                local.main.polling();
                let timer = local.debug.as_ref().map(|d| d.begin(None, None, None));
                let polled = coop::with_budget(|| match future.as_mut().as_pin_mut() {
                    Some(f) => f.poll(&mut cx),
                    None => unreachable!("block_on returns once its future is ready"),
                });
                if let (Some(d), Some(t)) = (&local.debug, timer) {
                    d.end(t);
                }
                if let Poll::Ready(out) = polled {
                    // A task panic that became unjoined in this last poll or
                    // as the future is dropped (it dropped a panicked task's
                    // handle) stops this block_on too, not the next one.
                    future.set(None);
                    self.check_shutdown_requested();
                    return out;
                }
            }
            let idle = ran < self.event_interval
                && local.run_queue.borrow().is_empty()
                && !local.main.wants_poll();
            driver.park(if idle { None } else { Some(Duration::ZERO) });
        }
    }

    /// Panics when an unjoined task panic asked the runtime to stop.
    #[inline]
    #[track_caller]
    fn check_shutdown_requested(&self) {
        if self.local.shared.shutdown_requested.load(Ordering::Acquire) {
            shutdown_requested_panic();
        }
    }

    /// Next entry to run from the local queue, with the inject queue and
    /// remote callbacks pulled in when it is empty or every
    /// `INJECT_INTERVAL` pops; `Main` when that pull made the main future
    /// due ahead of the queue (the caller checks that case first).
    fn next_runnable(&self, tick: u32) -> Option<Runnable> {
        let local = &*self.local;
        if !tick.is_multiple_of(INJECT_INTERVAL) {
            if let Some(next) = local.run_queue.borrow_mut().pop_front() {
                return Some(next);
            }
            if !local.pull_remote_checking_main(INJECT_BATCH) {
                return None;
            }
        } else {
            local.pull_remote_checking_main(INJECT_BATCH);
        }
        if local.main.is_next() {
            return Some(Runnable::Main);
        }
        local.run_queue.borrow_mut().pop_front()
    }

    /// Runs a task step or a callback. False for the main future's turn,
    /// which `block_on` takes itself (it owns the future).
    fn run(&self, runnable: Runnable) -> bool {
        let local = &*self.local;
        match runnable {
            Runnable::Task(task) => {
                local.current_task.set(Some(task));
                match &local.debug {
                    None => {
                        // SAFETY: the run-queue entry owns a reference,
                        // which `poll` consumes; we are the owner thread.
                        coop::with_budget(|| unsafe { (prefix(task).header.vtable.poll)(task) });
                    }
                    Some(d) => {
                        // SAFETY: as above; the metadata is read before the
                        // poll consumes the reference.
                        let (id, name, location) = unsafe {
                            let p = prefix(task);
                            (
                                p.header.id,
                                p.trailer.meta.as_ref().and_then(|m| m.name.clone()),
                                p.trailer.location,
                            )
                        };
                        let timer = d.begin(Some(id), name, Some(location));
                        // SAFETY: as above.
                        coop::with_budget(|| unsafe { (prefix(task).header.vtable.poll)(task) });
                        d.end(timer);
                    }
                }
                local.current_task.set(None);
            }
            Runnable::Callback(cb) => {
                // The callback runs in a context of its own (what it
                // captured when scheduled, else empty), never in the
                // `block_on` future's, which is put aside meanwhile.
                let location = cb.location();
                let outer = local.contexts.enter_callback();
                match &local.debug {
                    None => cb.run(&local.shared),
                    Some(d) => {
                        let timer = d.begin_callback(location);
                        cb.run(&local.shared);
                        d.end(timer);
                    }
                }
                local
                    .contexts
                    .leave_callback(outer, &local.shared, location);
            }
            Runnable::Main => return false,
        }
        true
    }

    /// Cancels every task still alive (dropping each future on this thread,
    /// so destructors run), drops queued callbacks and timer callbacks
    /// still waiting for their timers, then shuts the driver down. New
    /// remote spawns are refused from the start of shutdown. Dropping the
    /// runtime does the same.
    ///
    /// # Example
    ///
    /// ```
    /// let rt = eddy_core::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// rt.block_on(async { drop(eddy_core::spawn(std::future::pending::<()>())) });
    /// rt.shutdown();
    /// assert!(handle.is_shutdown());
    /// ```
    pub fn shutdown(self) {
        drop(self);
    }

    fn shutdown_tasks(&self) {
        if self.shut_down.replace(true) {
            return;
        }
        let local = &*self.local;
        let _enter = context::enter(local);
        local.shared.inject.close();
        loop {
            // Remote tasks not yet bound join the table so they get cancelled.
            local.pull_remote(usize::MAX);
            // Queued entries are dropped without running: a task entry
            // releases its reference, a callback is discarded.
            loop {
                let next = local.run_queue.borrow_mut().pop_front();
                match next {
                    // SAFETY: the entry owns one reference.
                    Some(Runnable::Task(task)) => unsafe { shared::release(task) },
                    Some(Runnable::Callback(cb)) => cb.discard(&local.shared),
                    // `block_on` removes its marker when it returns.
                    Some(Runnable::Main) => {}
                    None => break,
                }
            }
            // Parked callbacks (timer callbacks waiting for their timers)
            // are dropped unrun, outside the table: a destructor may
            // schedule more work, which the next round drops too.
            let parked = std::mem::take(&mut *local.parked.borrow_mut());
            let had_parked = !parked.is_empty();
            for (_, cb) in parked {
                cb.discard(&local.shared);
            }
            let live: Vec<NonNull<Header>> = local.owned.borrow().iter().map(|(_, t)| *t).collect();
            if live.is_empty() {
                if had_parked {
                    continue;
                }
                break;
            }
            for task in live {
                // Current while its future is dropped, as when a task is
                // cancelled in its poll: its destructors see its own
                // context variables (and `task::current`), not the
                // `block_on` future's.
                local.current_task.set(Some(task));
                // SAFETY: the table entry keeps the task alive until the
                // shutdown completes it (which removes the entry).
                unsafe { (prefix(task).header.vtable.shutdown)(task) };
                local.current_task.set(None);
            }
            // A destructor that woke its own task left the flag set.
            local.self_woken.set(false);
        }
        drop(_enter);
        self.driver.borrow_mut().shutdown();
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown_tasks();
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("name", &self.local.shared.name)
            .field("live_tasks", &self.local.owned.borrow().len())
            .finish_non_exhaustive()
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn shutdown_requested_panic() -> ! {
    panic!(
        "eddy runtime shut down: a spawned task panicked and nobody joined it \
         (UnhandledPanic::ShutdownRuntime); join the task or use UnhandledPanic::Log"
    );
}

/// Runs `future` on a fresh runtime, then cancels every task still alive
/// and waits until all are dropped (asyncio's `asyncio.run`, for eddy-core
/// alone; the facade's `eddy::run` adds timers, I/O and the blocking pool).
///
/// # Panics
///
/// Inside a running eddy loop, and when `future` panics.
///
/// # Example
///
/// ```
/// let out = eddy_core::run(async {
///     let task = eddy_core::spawn(async { "from a task" });
///     task.await.unwrap()
/// });
/// assert_eq!(out, "from a task");
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    let rt = Runtime::new().expect("eddy: the thread-parking driver cannot fail to start");
    let out = rt.block_on(future);
    rt.shutdown();
    out
}
