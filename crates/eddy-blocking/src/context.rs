//! The thread's current pool: [`Pool::enter`], [`Pool::current`], and the
//! free functions [`spawn_blocking`] and [`to_thread`] built on it.

use std::cell::RefCell;
use std::marker::PhantomData;

use crate::{worker, BlockingHandle, Pool};

thread_local! {
    static CURRENT: RefCell<Option<Pool>> = const { RefCell::new(None) };
}

const NO_POOL: &str = "no eddy blocking pool on this thread: call inside an eddy runtime \
                       or enter a Pool with Pool::enter";

/// Makes a pool the thread's current one until dropped; made by
/// [`Pool::enter`]. Guards nest: dropping one restores the pool that was
/// current before it. It is `!Send`: drop it on the thread that made it.
///
/// ```
/// use eddy_blocking::Pool;
/// let pool = Pool::new();
/// let guard = pool.enter();
/// assert!(Pool::try_current().is_some());
/// drop(guard);
/// assert!(Pool::try_current().is_none());
/// ```
#[must_use = "the pool is only current while the guard lives"]
pub struct EnterGuard {
    previous: Option<Pool>,
    _not_send: PhantomData<*const ()>,
}

impl std::fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // The replaced pool is dropped outside the borrow. A slot already
        // destroyed (thread exit) has nothing to restore: `previous` drops.
        let _entered = CURRENT
            .try_with(|c| std::mem::replace(&mut *c.borrow_mut(), previous))
            .ok()
            .flatten();
    }
}

impl Pool {
    /// Makes this pool the thread's current one (what [`Pool::current`],
    /// [`spawn_blocking`], [`to_thread`] and the `fs` functions use) until
    /// the guard is dropped. A runtime enters its pool on its loop thread.
    ///
    /// ```
    /// use eddy_blocking::Pool;
    /// let pool = Pool::new();
    /// let _guard = pool.enter();
    /// let n = futures::executor::block_on(eddy_blocking::spawn_blocking(|| 3)).unwrap();
    /// assert_eq!(n, 3);
    /// ```
    pub fn enter(&self) -> EnterGuard {
        // At thread exit the slot may already be destroyed (a runtime kept
        // in a `thread_local!` is dropped then): entering is then a no-op
        // rather than a panic.
        let pool = self.clone();
        let previous = CURRENT
            .try_with(|c| c.borrow_mut().replace(pool))
            .ok()
            .flatten();
        EnterGuard {
            previous,
            _not_send: PhantomData,
        }
    }

    /// The thread's current pool: the one entered with [`Pool::enter`], or,
    /// on a pool thread, the pool the thread belongs to. That holds even
    /// after every handle of that pool was dropped, while it runs what is
    /// left in its queue: the handle returned then submits to that queue,
    /// and the pool's threads still exit once idle.
    ///
    /// # Panics
    ///
    /// If there is none, with "no eddy blocking pool on this thread: call
    /// inside an eddy runtime or enter a Pool with Pool::enter". Use
    /// [`Pool::try_current`] to check instead.
    ///
    /// ```
    /// use eddy_blocking::Pool;
    /// let pool = Pool::new();
    /// let _guard = pool.enter();
    /// let same = Pool::current();
    /// # drop(same);
    /// ```
    #[track_caller]
    pub fn current() -> Pool {
        match Pool::try_current() {
            Some(pool) => pool,
            None => panic!("{NO_POOL}"),
        }
    }

    /// Like [`Pool::current`], but `None` when there is no current pool.
    ///
    /// ```
    /// assert!(eddy_blocking::Pool::try_current().is_none());
    /// ```
    pub fn try_current() -> Option<Pool> {
        // A slot destroyed at thread exit reads as "no pool entered".
        CURRENT
            .try_with(|c| c.borrow().clone())
            .ok()
            .flatten()
            .or_else(|| worker::current_pool().map(Pool::from_handle))
    }
}

/// Runs `f` on the current pool ([`Pool::current`]); the handle resolves to
/// its result. See [`Pool::spawn`].
///
/// Called from a job, `f` runs on the job's own pool, even if every
/// [`Pool`] handle was dropped while the job ran: a pool without handles
/// still runs its queue before its threads exit, and `f` joins that
/// queue. (After [`Pool::shutdown_timeout`], the handle resolves to the
/// shutdown error instead, as for [`Pool::spawn`].)
///
/// # Panics
///
/// If no pool is current on this thread.
///
/// ```
/// use eddy_blocking::Pool;
/// let pool = Pool::new();
/// let _guard = pool.enter();
/// let h = eddy_blocking::spawn_blocking(|| "done");
/// assert_eq!(futures::executor::block_on(h).unwrap(), "done");
/// ```
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> BlockingHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Pool::current().spawn(f)
}

/// asyncio's name for [`spawn_blocking`]: runs `f` on the current pool.
///
/// # Panics
///
/// If no pool is current on this thread.
///
/// ```
/// use eddy_blocking::Pool;
/// let pool = Pool::new();
/// let _guard = pool.enter();
/// let h = eddy_blocking::to_thread(|| std::thread::current().name().map(str::to_owned));
/// let name = futures::executor::block_on(h).unwrap().unwrap();
/// assert!(name.starts_with("eddy-blocking-"));
/// ```
#[track_caller]
pub fn to_thread<F, T>(f: F) -> BlockingHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    spawn_blocking(f)
}
