//! [`OnceCell<T>`]: a value set once, with async initialisation.
//!
//! # How it works
//!
//! The right to initialise is a token guarded by the cell's internal
//! mutex (`Gate::busy`). The first caller of `get_or_init` that finds the
//! cell empty takes it and runs its initialiser with no lock held; callers
//! that come while it runs queue in the cell's [`WaitList`]. Then:
//!
//! - the initialiser succeeds: the value is written, `ready` is set, and
//!   every queued waiter is woken to read it;
//! - the initialiser fails, panics or is dropped (its `get_or_init` future
//!   was cancelled): the token passes to the first waiter, which runs its
//!   own initialiser; with nobody waiting it goes back to the cell.
//!
//! A waiter handed the token and dropped before it ran passes it on the
//! same way ([`Handoff::pass_on`]), so no waiter waits on a token nobody
//! holds. While nobody holds the token, nobody waits.
//!
//! This file holds the cell. [`SetError`] is in `error`; the token's gate
//! (`Gate`, the token itself, and `Claim`, the wait for it) is in `gate`.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::mem::MaybeUninit;

use crate::loom::{AtomicBool, Mutex, Ordering, UnsafeCell};
use crate::waitlist::Registration;
#[cfg(doc)]
use crate::waitlist::{Handoff, WaitList};

mod error;
mod gate;

pub use error::SetError;
use gate::{Claim, Gate, Token};

/// A cell that is written once, by whichever task gets there first, with
/// an async initialiser (tokio's `sync::OnceCell`).
///
/// [`get_or_init`](Self::get_or_init) runs at most one initialiser at a
/// time: the first caller runs its own, the others wait for its value. If
/// that initialiser fails ([`get_or_try_init`](Self::get_or_try_init)),
/// panics, or is cancelled (its future dropped), the next waiter in line
/// runs its own initialiser instead, so nobody waits forever. Once set,
/// the value is read with one atomic load ([`get`](Self::get)).
///
/// Works under any executor and across threads. `new` is a `const fn`,
/// so a cell can be a `static`.
///
/// # Examples
///
/// ```
/// use eddy_sync::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::new();
///
/// async fn config() -> &'static str {
///     CONFIG
///         .get_or_init(|| async {
///             // load it once, however many tasks ask at the same time
///             String::from("debug=1")
///         })
///         .await
/// }
///
/// # futures::executor::block_on(async {
/// let (a, b) = futures::join!(config(), config());
/// assert_eq!(a, "debug=1");
/// assert!(std::ptr::eq(a, b), "both callers got the one value");
/// # });
/// ```
pub struct OnceCell<T> {
    /// Set (Release) once `value` is written; cleared only through `&mut`.
    ready: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
    gate: Mutex<Gate>,
}

// SAFETY: a shared cell hands out `&T` on any thread (needs `T: Sync`) and
// lets any thread move a `T` in, to be dropped by the cell's owner (needs
// `T: Send`). Writes happen once, by the token's one holder, before
// `ready` is set with Release; reads only after `ready` is seen with
// Acquire. (`Send` follows from the fields: it needs `T: Send`.)
unsafe impl<T: Send + Sync> Sync for OnceCell<T> {}

impl<T> OnceCell<T> {
    /// An empty cell. A `const fn`: a cell can be a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// static CELL: eddy_sync::OnceCell<u32> = eddy_sync::OnceCell::new();
    /// assert!(CELL.get().is_none());
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        OnceCell {
            ready: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            gate: Mutex::new(Gate::new()),
        }
    }

    /// An empty cell (not `const` in loom builds).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(eddy_sync::OnceCell::<u32>::new().get().is_none());
    /// ```
    #[cfg(loom)]
    pub fn new() -> Self {
        OnceCell {
            ready: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            gate: Mutex::new(Gate::new()),
        }
    }

    /// A cell holding `value` if it is `Some`, empty otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy_sync::OnceCell;
    /// assert_eq!(OnceCell::new_with(Some(1)).get(), Some(&1));
    /// assert_eq!(OnceCell::<i32>::new_with(None).get(), None);
    /// ```
    pub fn new_with(value: Option<T>) -> Self {
        let cell = OnceCell::new();
        if let Some(value) = value {
            cell.value.with_mut(|p| {
                // SAFETY: the cell is not shared yet.
                unsafe { (*p).write(value) };
            });
            cell.ready.store(true, Ordering::Release);
        }
        cell
    }

    /// `true` once the cell holds a value.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = eddy_sync::OnceCell::new();
    /// assert!(!cell.initialized());
    /// cell.set(()).unwrap();
    /// assert!(cell.initialized());
    /// ```
    pub fn initialized(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// The value, if the cell holds one (it does not wait for a running
    /// initialiser).
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = eddy_sync::OnceCell::new();
    /// assert_eq!(cell.get(), None);
    /// cell.set(3).unwrap();
    /// assert_eq!(cell.get(), Some(&3));
    /// ```
    pub fn get(&self) -> Option<&T> {
        if self.initialized() {
            // SAFETY: `ready` was seen set (Acquire), so the value was
            // written (before the Release store) and is never written
            // again while the cell is shared.
            Some(self.value.with(|p| unsafe { (*p).assume_init_ref() }))
        } else {
            None
        }
    }

    /// Mutable access to the value, if there is one: `&mut self` proves
    /// nobody else reads it.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cell = eddy_sync::OnceCell::from(vec![1]);
    /// cell.get_mut().unwrap().push(2);
    /// assert_eq!(cell.get(), Some(&vec![1, 2]));
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if self.initialized() {
            // SAFETY: the value is written (`ready`) and `&mut self` is
            // unique.
            Some(self.value.with_mut(|p| unsafe { (*p).assume_init_mut() }))
        } else {
            None
        }
    }

    /// Stores `value` if the cell is empty and nobody holds the turn to
    /// initialise it. Tasks wait in [`get_or_init`](Self::get_or_init) only
    /// while someone holds that turn, so `set` never serves them: they get
    /// the value of the initialiser they wait for (or run their own).
    ///
    /// # Errors
    ///
    /// Hands `value` back in [`SetError::AlreadyInitialized`] if the cell
    /// holds a value, or in [`SetError::Initializing`] if an initialiser is
    /// running, or a waiter was handed the turn after one failed and has
    /// not run its own yet (either may still fail, so the cell may end up
    /// empty or not).
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = eddy_sync::OnceCell::new();
    /// assert!(cell.set("a").is_ok());
    /// assert!(cell.set("b").unwrap_err().is_already_initialized());
    /// assert_eq!(cell.get(), Some(&"a"));
    /// ```
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitialized(value));
        }
        let token = {
            let mut gate = self.gate.lock();
            if self.initialized() {
                return Err(SetError::AlreadyInitialized(value));
            }
            if gate.busy {
                return Err(SetError::Initializing(value));
            }
            gate.busy = true;
            Token { cell: self }
        };
        token.fill(value);
        Ok(())
    }

    /// The value, running `f` to produce it if the cell is empty.
    ///
    /// At most one initialiser runs at a time: if another task's is
    /// running, this waits for its value (in FIFO order with the other
    /// waiters). If that initialiser panics or is cancelled, the first
    /// waiter runs its own `f` instead. The initialiser runs with no lock
    /// held: it may call `get` or `initialized` on the cell, `set` from
    /// inside it fails with [`SetError::Initializing`], and awaiting
    /// `get_or_init` on the same cell from inside it waits for itself
    /// forever.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropped while it waits, it leaves the line (a turn to
    /// initialise already handed to it passes to the next waiter); dropped
    /// while its `f` runs, that future is dropped and the next waiter runs
    /// its own initialiser. A value already stored stays.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use eddy_sync::OnceCell;
    /// # futures::executor::block_on(async {
    /// let cell = OnceCell::new();
    /// let runs = AtomicUsize::new(0);
    /// let init = || async {
    ///     runs.fetch_add(1, Ordering::SeqCst);
    ///     42
    /// };
    /// let (a, b) = futures::join!(cell.get_or_init(init), cell.get_or_init(init));
    /// assert_eq!((*a, *b), (42, 42));
    /// assert_eq!(runs.load(Ordering::SeqCst), 1, "one initialiser ran");
    /// # });
    /// ```
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let value = self
            .get_or_try_init(|| async { Ok::<T, Infallible>(f().await) })
            .await;
        match value {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// Like [`get_or_init`](Self::get_or_init), with an initialiser that
    /// may fail: on `Err` the cell stays empty, the error is returned, and
    /// the first waiter (if any) runs its own initialiser.
    ///
    /// # Errors
    ///
    /// The error of `f`, when this call's initialiser ran and failed.
    /// (A waiter whose turn comes after a failure runs its own `f`; it
    /// never sees another caller's error.)
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, like [`get_or_init`](Self::get_or_init).
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy_sync::OnceCell;
    /// # futures::executor::block_on(async {
    /// let cell = OnceCell::new();
    /// let err = cell.get_or_try_init(|| async { Err("offline") }).await;
    /// assert_eq!(err, Err("offline"));
    /// assert!(!cell.initialized(), "a failure leaves the cell empty");
    /// let ok = cell.get_or_try_init(|| async { Ok::<_, &str>(5) }).await;
    /// assert_eq!(ok, Ok(&5));
    /// # });
    /// ```
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get() {
            return Ok(value);
        }
        let claim = Claim {
            cell: self,
            reg: Registration::new(),
        };
        match claim.await {
            // Dropped on `Err`, on a panic of `f`, or with this future:
            // the token passes on.
            Some(token) => Ok(token.fill(f().await?)),
            None => Ok(self
                .get()
                .expect("a waiter is woken without the token only once the value is set")),
        }
    }

    /// Takes the value out, leaving the cell empty (and ready to be
    /// initialised again).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cell = eddy_sync::OnceCell::from(1);
    /// assert_eq!(cell.take(), Some(1));
    /// assert_eq!(cell.take(), None);
    /// cell.set(2).unwrap();
    /// assert_eq!(cell.get(), Some(&2));
    /// ```
    pub fn take(&mut self) -> Option<T> {
        // `&mut self`: no future borrows the cell, so nobody holds the token
        // or waits, unless a future was leaked (`mem::forget`); start over
        // so such a leak cannot block the cell. The old gate (a leaked
        // waiter's waker, maybe) is dropped after the lock is released.
        let old = std::mem::replace(&mut *self.gate.lock(), Gate::new());
        drop(old);
        if self.initialized() {
            self.ready.store(false, Ordering::Relaxed);
            // SAFETY: the value was written (`ready`), `&mut self` is
            // unique, and clearing `ready` first makes this the only read.
            Some(self.value.with_mut(|p| unsafe { (*p).assume_init_read() }))
        } else {
            None
        }
    }

    /// Consumes the cell and returns its value, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(eddy_sync::OnceCell::from('x').into_inner(), Some('x'));
    /// assert_eq!(eddy_sync::OnceCell::<char>::new().into_inner(), None);
    /// ```
    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }
}

impl<T> Drop for OnceCell<T> {
    fn drop(&mut self) {
        if self.initialized() {
            self.value.with_mut(|p| {
                // SAFETY: the value was written (`ready`) and is dropped
                // once, here, with the cell.
                unsafe { (*p).assume_init_drop() }
            });
        }
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> Self {
        OnceCell::new_with(Some(value))
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    /// A new cell holding a clone of the value, if there is one (an
    /// initialiser running on this cell is not waited for).
    fn clone(&self) -> Self {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}
