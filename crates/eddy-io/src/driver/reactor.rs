//! [`IoDriver`]: the reactor — a `mio::Poll` behind eddy-core's `Park`
//! trait, the innermost driver of the stack.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use eddy_core::park::{Park, Unpark};
use slab::Slab;

use super::handle::{Handle, Offload};
use super::ready::Ready;
use super::scheduled_io::ScheduledIo;
use crate::loom::{AtomicU8, Mutex, Ordering};

/// The token of the cross-thread waker; registrations never get it (their
/// tokens hold a slab key below 2^32).
pub(crate) const WAKER_TOKEN: mio::Token = mio::Token(usize::MAX);

/// Park states of the loop thread, for [`IoUnpark`].
///
/// - `EMPTY`: running, or about to park, with no wake pending.
/// - `PARKED`: blocked (or about to block) in `epoll_wait`; an unpark must
///   write to the `mio::Waker`.
/// - `NOTIFIED`: a wake arrived while not parked; the next park polls
///   without blocking instead of making the waker syscall necessary.
const EMPTY: u8 = 0;
const PARKED: u8 = 1;
const NOTIFIED: u8 = 2;

/// One registered descriptor in the reactor's table.
pub(crate) struct Entry {
    pub(crate) io: Arc<ScheduledIo>,
    /// Distinguishes a reused slab slot from the registration an old
    /// event was meant for.
    pub(crate) generation: u32,
}

/// What the reactor shares with every [`Handle`] and registration.
pub(crate) struct Inner {
    pub(crate) registry: mio::Registry,
    pub(crate) entries: Mutex<Table>,
    pub(crate) offload: Option<Offload>,
    unpark: Arc<IoUnpark>,
}

/// The registration table.
///
/// The shutdown flag lives here, under the same lock as the entries, so
/// that registering and shutting down are linearizable: a registration
/// either is inserted before the shutdown takes the lock (and is then
/// among the entries it shuts down) or sees the flag and is refused.
/// With the flag outside the lock, a registration could check it, the
/// shutdown could set it and shut down every entry present, and only then
/// the registration insert its entry: live, but never failed, so a wait on
/// it would never end.
pub(crate) struct Table {
    pub(crate) slab: Slab<Entry>,
    pub(crate) next_generation: u32,
    pub(crate) is_shutdown: bool,
}

/// Wakes a parked [`IoDriver`] from any thread.
struct IoUnpark {
    state: AtomicU8,
    waker: mio::Waker,
}

impl Unpark for IoUnpark {
    fn unpark(&self) {
        if self.state.swap(NOTIFIED, Ordering::SeqCst) == PARKED {
            if let Err(e) = self.waker.wake() {
                tracing::error!("eddy-io: could not wake the reactor: {e}");
            }
        }
    }
}

/// Builds an [`IoDriver`].
///
/// # Example
///
/// ```
/// let driver = eddy_io::driver::IoDriver::builder().event_capacity(256).build()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Builder {
    event_capacity: usize,
    offload: Option<Offload>,
}

impl Builder {
    /// How many readiness events one turn of the reactor takes at most
    /// (default 1024); more wait for the next turn.
    ///
    /// # Example
    ///
    /// ```
    /// let b = eddy_io::driver::IoDriver::builder().event_capacity(64);
    /// # let _ = b;
    /// ```
    pub fn event_capacity(mut self, n: usize) -> Builder {
        self.event_capacity = n.max(1);
        self
    }

    /// Where work that must block (name resolution) runs. Without it, each
    /// such job gets a short-lived std thread. The facade passes its
    /// blocking pool here.
    ///
    /// # Example
    ///
    /// ```
    /// let b = eddy_io::driver::IoDriver::builder().offload(|job| {
    ///     std::thread::spawn(job);
    /// });
    /// # let _ = b;
    /// ```
    pub fn offload(
        mut self,
        f: impl Fn(Box<dyn FnOnce() + Send>) + Send + Sync + 'static,
    ) -> Builder {
        self.offload = Some(Arc::new(f));
        self
    }

    /// Creates the epoll instance and its waker.
    ///
    /// # Errors
    ///
    /// The OS refused an epoll or eventfd descriptor (usually the open-file
    /// limit: raise it with `ulimit -n`).
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_io::driver::IoDriver::builder().build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(self) -> io::Result<IoDriver> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        let inner = Arc::new(Inner {
            registry,
            entries: Mutex::new(Table {
                slab: Slab::new(),
                next_generation: 0,
                is_shutdown: false,
            }),
            offload: self.offload,
            unpark: Arc::new(IoUnpark {
                state: AtomicU8::new(EMPTY),
                waker,
            }),
        });
        Ok(IoDriver {
            poll,
            events: mio::Events::with_capacity(self.event_capacity),
            inner,
            tick: 0,
            to_wake: Vec::new(),
        })
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("event_capacity", &self.event_capacity)
            .field("offload", &self.offload.is_some())
            .finish()
    }
}

/// The reactor: waits on epoll (through mio) for socket readiness and
/// wakes the tasks waiting on it. It is a [`Park`] driver, so the event
/// loop blocks in `epoll_wait` when it has nothing else to do, and other
/// threads wake it through a `mio::Waker`.
///
/// The facade `eddy` builds one per runtime and enters its [`Handle`] on
/// the loop thread; used alone, enter it yourself.
///
/// Shutting it down (`Park::shutdown`, or dropping it) makes every wait
/// on a registered socket fail with an error saying the runtime has shut
/// down, and refuses new registrations with that error. A registration
/// made on another thread while the shutdown runs gets one of the two,
/// never a socket whose waits would never end.
///
/// # Example
///
/// ```
/// use eddy_io::driver::IoDriver;
///
/// let driver = IoDriver::new()?;
/// let handle = driver.handle();
/// let rt = eddy_core::Builder::new().build_with_driver(Box::new(driver))?;
/// let _io = handle.enter();
/// rt.block_on(async {
///     let listener = eddy_io::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     assert!(listener.local_addr().unwrap().port() != 0);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct IoDriver {
    poll: mio::Poll,
    events: mio::Events,
    inner: Arc<Inner>,
    tick: u16,
    /// Wakers collected during a turn, woken after the table lock is
    /// released (a wake may drop a socket, which takes that lock).
    to_wake: Vec<Waker>,
}

impl IoDriver {
    /// A reactor with default settings.
    ///
    /// # Errors
    ///
    /// As [`Builder::build`].
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_io::driver::IoDriver::new()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<IoDriver> {
        IoDriver::builder().build()
    }

    /// A [`Builder`] for custom settings.
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_io::driver::IoDriver::builder().build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> Builder {
        Builder {
            event_capacity: 1024,
            offload: None,
        }
    }

    /// The handle sockets register through; enter it on the loop thread.
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_io::driver::IoDriver::new()?;
    /// let handle = driver.handle();
    /// let _guard = handle.enter();
    /// assert!(eddy_io::driver::Handle::try_current().is_some());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn handle(&self) -> Handle {
        Handle::from_inner(self.inner.clone())
    }

    /// One turn: wait for events up to `timeout`, then publish readiness
    /// and wake the waiters.
    fn turn(&mut self, timeout: Option<Duration>) {
        if let Err(e) = self.poll.poll(&mut self.events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                tracing::error!("eddy-io: epoll_wait failed: {e}");
            }
            return;
        }
        if self.events.is_empty() {
            return;
        }
        self.tick = self.tick.wrapping_add(1);
        let tick = self.tick;
        let to_wake = &mut self.to_wake;
        {
            let table = self.inner.entries.lock();
            for event in self.events.iter() {
                let token = event.token();
                if token == WAKER_TOKEN {
                    continue;
                }
                let (key, generation) = split_token(token);
                if let Some(entry) = table.slab.get(key) {
                    if entry.generation == generation {
                        entry
                            .io
                            .set_readiness(Ready::from_event(event), tick, |w| to_wake.push(w));
                    }
                }
            }
        }
        for w in to_wake.drain(..) {
            w.wake();
        }
    }
}

pub(crate) fn make_token(key: usize, generation: u32) -> mio::Token {
    debug_assert!(key < u32::MAX as usize);
    mio::Token(((generation as usize) << 32) | key)
}

fn split_token(token: mio::Token) -> (usize, u32) {
    (token.0 & 0xffff_ffff, (token.0 >> 32) as u32)
}

impl Park for IoDriver {
    fn park(&mut self, timeout: Option<Duration>) {
        let unpark = self.inner.unpark.clone();
        let mut timeout = timeout;
        if unpark
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            timeout = Some(Duration::ZERO);
        }
        let blocking = timeout != Some(Duration::ZERO);
        if blocking
            && unpark
                .state
                .compare_exchange(EMPTY, PARKED, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
        {
            // A wake raced in: poll, but do not block.
            unpark.state.store(EMPTY, Ordering::SeqCst);
            timeout = Some(Duration::ZERO);
        }
        self.turn(timeout);
        if blocking {
            // A wake that arrives now finds EMPTY and leaves NOTIFIED, so
            // the next park does not block; one that came while PARKED
            // wrote the waker, costing at most one spurious turn.
            let _ =
                unpark
                    .state
                    .compare_exchange(PARKED, EMPTY, Ordering::SeqCst, Ordering::SeqCst);
        }
    }

    fn unparker(&self) -> Arc<dyn Unpark> {
        self.inner.unpark.clone()
    }

    fn shutdown(&mut self) {
        self.inner.shutdown();
    }
}

impl Inner {
    /// Fails every registration, present and future: sets the flag and
    /// takes the entries under one lock (see [`Table`]), then marks each
    /// entry shut down and wakes its waiters outside it (a wake may drop a
    /// socket, which takes the lock). Idempotent.
    pub(crate) fn shutdown(&self) {
        let ios: Vec<Arc<ScheduledIo>> = {
            let mut table = self.entries.lock();
            if table.is_shutdown {
                return;
            }
            table.is_shutdown = true;
            table.slab.iter().map(|(_, e)| e.io.clone()).collect()
        };
        for io in ios {
            io.shutdown();
        }
    }
}

impl Drop for IoDriver {
    fn drop(&mut self) {
        self.inner.shutdown();
    }
}

impl fmt::Debug for IoDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoDriver")
            .field("registrations", &self.inner.entries.lock().slab.len())
            .finish_non_exhaustive()
    }
}

/// Loom model of registration racing shutdown: run with
/// `RUSTFLAGS="--cfg loom" cargo test -p eddy-io --release --lib loom_`.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::driver::scheduled_io::loom_tests::Flag;
    use crate::driver::scheduled_io::shutdown_error;
    use crate::driver::Interest;

    fn is_shutdown_error(e: &io::Error) -> bool {
        e.to_string() == shutdown_error().to_string()
    }

    /// A source registered from another thread while the reactor shuts
    /// down is either refused with the shutdown error, or registered
    /// before the shutdown, which then fails its waits: a wait that was
    /// pending is woken, and every wait after the shutdown gets the error.
    /// It is never registered but missed by the shutdown (its waits would
    /// then never end).
    #[test]
    fn loom_register_racing_shutdown_is_refused_or_shut_down() {
        loom::model(|| {
            let driver = IoDriver::new().unwrap();
            let handle = driver.handle();
            let woken = Arc::new(Flag(loom::sync::atomic::AtomicBool::new(false)));
            let registrar = {
                let woken = woken.clone();
                loom::thread::spawn(move || {
                    let (_tx, mut rx) = mio::unix::pipe::new().unwrap();
                    let (_token, io) = handle.register(&mut rx, Interest::READABLE)?;
                    let waker = Waker::from(woken);
                    let waited =
                        io.poll_ready(&mut Context::from_waker(&waker), Interest::READABLE);
                    Ok((io, waited.map(|r| r.map(drop))))
                })
            };
            // Dropping the driver shuts the reactor down.
            drop(driver);
            let res: io::Result<_> = registrar.join().unwrap();
            match res {
                Err(e) => assert!(is_shutdown_error(&e), "refused with another error: {e}"),
                Ok((io, waited)) => {
                    match waited {
                        Poll::Ready(Err(e)) => assert!(is_shutdown_error(&e), "{e}"),
                        Poll::Ready(Ok(())) => panic!("an empty pipe was readable"),
                        Poll::Pending => assert!(
                            woken.0.load(Ordering::SeqCst),
                            "a wait pending on a registration the shutdown missed"
                        ),
                    }
                    let e = io.ready_now(Interest::READABLE).unwrap_err();
                    assert!(is_shutdown_error(&e), "{e}");
                }
            }
        });
    }
}
