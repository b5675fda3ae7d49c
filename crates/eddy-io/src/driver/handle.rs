//! [`Handle`]: how sockets find the reactor of the loop they run on.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;

use super::reactor::{make_token, Entry, Inner};
use super::ready::Interest;
use super::scheduled_io::{shutdown_error, ScheduledIo};

/// Where blocking jobs (name resolution) are sent.
pub(crate) type Offload = Arc<dyn Fn(Box<dyn FnOnce() + Send>) + Send + Sync>;

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

/// A reference to one [`IoDriver`](super::IoDriver): registers
/// descriptors with it. Cheap to clone, `Send + Sync`.
///
/// # Example
///
/// ```
/// let driver = eddy_io::driver::IoDriver::new()?;
/// let handle = driver.handle();
/// let _entered = handle.enter();
/// let again = eddy_io::driver::Handle::current();
/// # let _ = again;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    inner: Arc<Inner>,
}

/// Returned by [`Handle::enter`]; the previous handle (if any) is current
/// again when it drops.
///
/// # Example
///
/// ```
/// let driver = eddy_io::driver::IoDriver::new()?;
/// let guard = driver.handle().enter();
/// drop(guard);
/// assert!(eddy_io::driver::Handle::try_current().is_none());
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "the handle is current only while the guard lives"]
pub struct EnterGuard {
    previous: Option<Handle>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // A slot already destroyed (thread exit) has nothing to restore;
        // the replaced handle drops outside the borrow.
        let entered = CURRENT
            .try_with(|c| std::mem::replace(&mut *c.borrow_mut(), previous))
            .ok()
            .flatten();
        drop(entered);
    }
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

impl Handle {
    pub(crate) fn from_inner(inner: Arc<Inner>) -> Handle {
        Handle { inner }
    }

    /// Makes this reactor the current one on this thread until the guard
    /// drops.
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_io::driver::IoDriver::new()?;
    /// let _guard = driver.handle().enter();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enter(&self) -> EnterGuard {
        // At thread exit the slot may already be destroyed (a runtime kept
        // in a `thread_local!` is dropped then): entering is then a no-op
        // rather than a panic, and sockets see no reactor.
        let handle = self.clone();
        let previous = CURRENT
            .try_with(|c| c.borrow_mut().replace(handle))
            .ok()
            .flatten();
        EnterGuard {
            previous,
            _not_send: PhantomData,
        }
    }

    /// The reactor entered on this thread.
    ///
    /// # Panics
    ///
    /// With no reactor entered: sockets must be created inside an eddy
    /// runtime (`eddy::run`, `Runtime::block_on`, `#[eddy::main]`).
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_io::driver::IoDriver::new()?;
    /// let _guard = driver.handle().enter();
    /// let handle = eddy_io::driver::Handle::current();
    /// # let _ = handle;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Some(h) => h,
            None => panic!(
                "no eddy runtime on this thread: call inside eddy::run, Runtime::block_on \
                 or #[eddy::main] (sockets, pipes and signals need the runtime's I/O driver)"
            ),
        }
    }

    /// The reactor entered on this thread, if any.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(eddy_io::driver::Handle::try_current().is_none());
    /// ```
    pub fn try_current() -> Option<Handle> {
        // `None` too when the slot was already destroyed at thread exit.
        CURRENT.try_with(|c| c.borrow().clone()).ok().flatten()
    }

    /// Runs `f` with the reactor entered on this thread, if any, without
    /// cloning it.
    #[cfg_attr(not(feature = "signal"), allow(dead_code))]
    pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
        let mut f = Some(f);
        match CURRENT.try_with(|c| f.take().map(|f| f(c.borrow().as_ref()))) {
            Ok(Some(out)) => out,
            // The slot was destroyed at thread exit: no reactor.
            _ => match f.take() {
                Some(f) => f(None),
                None => unreachable!("`f` ran inside try_with and returned"),
            },
        }
    }

    /// Whether `self` and `other` are handles of the same reactor.
    ///
    /// This, not the thread, is what tells whether a registration made
    /// earlier is still served by the loop polling it now: two runtimes
    /// (two reactors) may live on one thread, one idle while the other
    /// runs, and a registration with the idle one is never reported.
    #[cfg_attr(not(feature = "signal"), allow(dead_code))]
    pub(crate) fn same_reactor(&self, other: &Handle) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// How many descriptors are registered with this reactor now.
    ///
    /// # Example
    ///
    /// ```
    /// let driver = eddy_io::driver::IoDriver::new()?;
    /// assert_eq!(driver.handle().registration_count(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn registration_count(&self) -> usize {
        self.inner.entries.lock().slab.len()
    }

    /// Registers `source` for `interest` (edge-triggered).
    ///
    /// Refused with the shutdown error once the reactor shut down. Racing
    /// a shutdown on another thread, it either is refused or registers
    /// before the shutdown, which then fails its waits: the flag is checked
    /// under the table lock the shutdown sets it under.
    pub(crate) fn register(
        &self,
        source: &mut impl mio::event::Source,
        interest: Interest,
    ) -> io::Result<(mio::Token, Arc<ScheduledIo>)> {
        let io = Arc::new(ScheduledIo::new());
        let token = {
            let mut table = self.inner.entries.lock();
            if table.is_shutdown {
                return Err(shutdown_error());
            }
            let generation = table.next_generation;
            table.next_generation = generation.wrapping_add(1);
            let key = table.slab.insert(Entry {
                io: io.clone(),
                generation,
            });
            make_token(key, generation)
        };
        if let Err(e) = self
            .inner
            .registry
            .register(source, token, interest.to_mio())
        {
            self.remove(token);
            return Err(e);
        }
        Ok((token, io))
    }

    /// Deregisters `source` and forgets its entry.
    pub(crate) fn deregister(&self, source: &mut impl mio::event::Source, token: mio::Token) {
        // Fails only if it was never registered or the fd is gone; either
        // way there is nothing left to undo.
        let _ = self.inner.registry.deregister(source);
        self.remove(token);
    }

    fn remove(&self, token: mio::Token) {
        let key = token.0 & 0xffff_ffff;
        self.inner.entries.lock().slab.try_remove(key);
    }

    /// Runs `job` where blocking is allowed: the offload given to the
    /// driver's builder, or a fresh std thread.
    pub(crate) fn offload(&self, job: Box<dyn FnOnce() + Send>) -> io::Result<()> {
        match &self.inner.offload {
            Some(f) => {
                f(job);
                Ok(())
            }
            None => std::thread::Builder::new()
                .name("eddy-io-resolve".into())
                .spawn(job)
                .map(drop),
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("registrations", &self.registration_count())
            .finish()
    }
}
