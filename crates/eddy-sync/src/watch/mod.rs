//! A single-value channel: receivers see the latest value and can wait for
//! it to change (configuration, status, shutdown signals).
//!
//! # Examples
//!
//! ```
//! use eddy_sync::watch;
//! # futures::executor::block_on(async {
//! let (tx, mut rx) = watch::channel("starting");
//! tx.send("ready").unwrap();
//! rx.changed().await.unwrap();
//! assert_eq!(*rx.borrow_and_update(), "ready");
//! # });
//! ```

// This file holds the channel's shared state, `channel` and the `Ref`
// borrow; the halves are in `sender` and `receiver`, the errors in `error`.

use std::fmt;
use std::ops::Deref;

use crate::loom::{Arc, Mutex, RwLock, RwLockReadGuard};
use crate::waitlist::{Registration, WaitList};

mod error;
mod receiver;
mod sender;

pub use error::{RecvError, SendError};
pub use receiver::Receiver;
pub use sender::Sender;

/// Lock order: `value` before `state`, never the other way round.
struct Shared<T> {
    /// The value. A [`Ref`] holds a read lock, so borrows of one channel
    /// coexist (on one thread or many); a send takes the write lock and,
    /// while holding it, bumps the version, so a reader holding the value
    /// reads the version that goes with it.
    value: RwLock<T>,
    state: Mutex<State>,
}

struct State {
    /// Bumped on every send; a receiver has seen versions up to its own.
    version: u64,
    /// The sender is gone.
    closed: bool,
    receivers: usize,
    /// Receivers in `changed()`.
    waiters: WaitList<()>,
    /// The sender in `closed()`, waiting for `receivers` to reach 0.
    closers: WaitList<()>,
}

/// Creates a watch channel holding `init`.
///
/// # Examples
///
/// ```
/// let (tx, rx) = eddy_sync::watch::channel(0);
/// assert_eq!(*rx.borrow(), 0);
/// # drop(tx);
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        state: Mutex::new(State {
            version: 0,
            closed: false,
            receivers: 1,
            waiters: WaitList::new(),
            closers: WaitList::new(),
        }),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver {
            shared,
            seen: 0,
            reg: Registration::new(),
        },
    )
}

/// A borrow of the current value: a read lock on it.
///
/// Any number of borrows of one channel may be alive at once, on one
/// thread or many (comparing two receivers' values, or a receiver's and
/// the sender's, is fine), and a borrow taken while a send waits for the
/// lock does not wait behind that send. A send waits until every borrow
/// is gone (borrows that overlap without pause keep it waiting), so keep
/// them short, never hold one across an `.await`, and do not send from
/// the thread that holds one (that send would wait for itself). The other
/// methods of the channel (`changed`, `has_changed`, `subscribe`,
/// dropping a receiver, ...) may be called while a borrow is held.
///
/// Because borrows on several threads share `&T`, the channel's halves
/// are `Send` and `Sync` when `T: Send + Sync` (as tokio's are).
///
/// # Examples
///
/// ```
/// let (tx, rx) = eddy_sync::watch::channel(String::from("x"));
/// let r: eddy_sync::watch::Ref<'_, String> = rx.borrow();
/// let also = tx.borrow();
/// assert_eq!(r.len(), also.len());
/// ```
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
