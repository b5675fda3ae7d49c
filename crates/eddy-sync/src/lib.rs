//! Runtime-agnostic async synchronization for eddy: asyncio's locks, events,
//! conditions, semaphores, barrier and queues, plus channels.
//!
//! **What it is for**: coordinating tasks. Every primitive works under any
//! executor (eddy, tokio, `futures::executor::block_on`) and across threads;
//! none depends on a runtime, a timer or another eddy crate.
//!
//! | asyncio | eddy-sync |
//! |---|---|
//! | `Lock` | [`Mutex<T>`] (holds the data; FIFO-fair) |
//! | `Event` | [`Event`] |
//! | `Condition` | [`Condition<T>`] (owns its `Mutex<T>`) |
//! | `Semaphore`, `BoundedSemaphore` | [`Semaphore`], [`BoundedSemaphore`] |
//! | `Barrier` | [`Barrier`] |
//! | `Queue`, `LifoQueue`, `PriorityQueue` | [`Queue`], [`LifoQueue`], [`PriorityQueue`] |
//! | — | [`RwLock<T>`], [`Notify`], [`OnceCell<T>`], [`oneshot`], [`mpsc`], [`broadcast`], [`watch`] |
//!
//! **What it is not for**: blocking a thread (these are async primitives;
//! use `std::sync` or `parking_lot` inside synchronous code), or timeouts
//! (wrap any future here in your runtime's timeout: every one is
//! cancel-safe).
//!
//! # Guarantees
//!
//! - **Fair**: waiters are served in FIFO order; a newcomer never overtakes
//!   a task that is already waiting.
//! - **Cancel-safe**: dropping a waiting future at any point loses nothing.
//!   A waiter that was handed a lock, a permit, a notification or an item
//!   and is dropped before it ran passes it on to the next waiter. Every
//!   async fn documents its cancel safety.
//! - **Lean**: uncontended lock/unlock and acquire/release are one atomic
//!   compare-and-swap each.
//! - **Cooperative**: under a runtime that installs a [`budget`] hook (the
//!   `eddy` facade does), a task that keeps finding its channel, queue or
//!   lock ready yields once its budget for the poll is spent, so it cannot
//!   starve its siblings, timers or I/O. With no hook nothing is ever
//!   refused; a refused poll changes nothing, so it loses nothing either.
//!
//! # User code under the internal locks
//!
//! Wakers are woken and dropped only after a primitive's internal lock is
//! released, so a waker may call back into the primitive that woke it.
//! A few pieces of user code do run with that lock held, because moving
//! them out would cost every operation:
//!
//! - `Waker::clone`, when a waiter first queues, and when it is polled
//!   again with a waker that does not [`will_wake`](std::task::Waker::will_wake)
//!   the one it keeps (polled with the same waker, nothing is cloned);
//! - `T::clone` when a [`broadcast`] receiver takes a message;
//! - `Ord` of a [`PriorityQueue`]'s items;
//! - the closure of [`watch::Sender::send_modify`].
//!
//! That code **must not call into the same primitive or channel**: the
//! lock is not reentrant, so it would deadlock. A **panic** in it leaves
//! the primitive consistent and usable (the lock does not poison). A waiter
//! whose waker clone panicked keeps its place in line and the waker it had;
//! if the panic also drops the waiting future (an `async fn` is done once
//! it panicked), it leaves the line as any cancelled waiter does, passing
//! on what it was handed. The `# Panics` sections of the others say what
//! happens to the value involved.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use eddy_sync::{Mutex, Queue};
//!
//! futures::executor::block_on(async {
//!     let total = Arc::new(Mutex::new(0));
//!     let q = Queue::new(4);
//!     let producer = async {
//!         for i in 1..=10 {
//!             q.put(i).await.unwrap();
//!         }
//!         q.shutdown(false); // consumers drain, then stop
//!     };
//!     let consumer = async {
//!         while let Ok(i) = q.get().await {
//!             *total.lock().await += i;
//!             q.task_done().unwrap();
//!         }
//!     };
//!     futures::join!(producer, consumer);
//!     assert_eq!(*total.lock().await, 55);
//! });
//! ```
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![warn(clippy::missing_errors_doc)]

mod loom;
mod waitlist;

mod barrier;
mod bounded_semaphore;
mod condition;
mod event;
mod mutex;
mod notify;
mod once_cell;
mod queue;
mod raw_semaphore;
mod rwlock;
mod semaphore;

pub mod broadcast;
pub mod budget;
pub mod mpsc;
pub mod oneshot;
pub mod watch;

pub use barrier::{Barrier, BarrierWait, BrokenBarrier};
pub use bounded_semaphore::{BoundedPermit, BoundedSemaphore, OverRelease};
pub use condition::{Condition, ConditionWait};
pub use event::{Event, EventWait};
pub use mutex::{
    Lock, MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, TryLockError,
};
pub use notify::{Notified, Notify};
pub use once_cell::{OnceCell, SetError};
pub use queue::{
    LifoQueue, PriorityQueue, Queue, QueueShutDown, TaskDoneError, TryGetError, TryPutError,
};
pub use rwlock::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard, TryLockRwError,
};
pub use semaphore::{OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError};
