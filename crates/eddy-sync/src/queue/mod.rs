//! asyncio's queues: [`Queue`] (FIFO), [`LifoQueue`] and [`PriorityQueue`].
//!
//! All three share one engine (`core`) and the same API: `maxsize` (0 means
//! unbounded), `put`/`get` that wait, `try_put`/`try_get` that don't,
//! `task_done`/`join`, and `shutdown`.

pub(crate) mod core;
mod error;
mod store;

pub use error::{QueueShutDown, TaskDoneError, TryGetError, TryPutError};

use self::core::{ClaimedFifo, GetRefused, Lifo, PutRefused, QueueCore, Smallest};
use crate::waitlist::Registration;

pub(crate) fn put_refused<T>(r: PutRefused<T>) -> TryPutError<T> {
    match r {
        PutRefused::Full(t) => TryPutError::QueueFull(t),
        PutRefused::ShutDown(t) => TryPutError::QueueShutDown(t),
    }
}

fn get_refused(r: GetRefused) -> TryGetError {
    match r {
        GetRefused::Empty => TryGetError::QueueEmpty,
        GetRefused::ShutDown => TryGetError::QueueShutDown,
    }
}

macro_rules! queue_type {
    (
        $(#[$doc:meta])*
        $name:ident, $store:ident, [$($bound:tt)*], $a:expr, $b:expr, $first:expr
    ) => {
        $(#[$doc])*
        pub struct $name<T> {
            core: QueueCore<T, $store<T>>,
            /// As given to `new`: the core stores an unbounded queue's
            /// capacity as `usize::MAX`, so it cannot tell 0 from that.
            maxsize: usize,
        }

        impl<T: $($bound)*> $name<T> {
            #[doc = concat!("A queue holding at most `maxsize` items; 0 means unbounded.\n\n",
                "# Examples\n\n```\n",
                "let q = eddy_sync::", stringify!($name), "::<u32>::new(10);\n",
                "assert_eq!(q.maxsize(), 10);\n```")]
            pub fn new(maxsize: usize) -> Self {
                $name { core: QueueCore::new(maxsize), maxsize }
            }

            #[doc = concat!("The capacity given to `new` (0: unbounded).\n\n",
                "# Examples\n\n```\n",
                "assert_eq!(eddy_sync::", stringify!($name), "::<u8>::new(0).maxsize(), 0);\n```")]
            pub fn maxsize(&self) -> usize {
                self.maxsize
            }

            #[doc = concat!("Number of items in the queue (asyncio's `qsize()`), counting the item a ",
                "woken getter will take until that getter returns it; never more than ",
                "`maxsize`.\n\n",
                "# Examples\n\n```\n",
                "let q = eddy_sync::", stringify!($name), "::new(0);\n",
                "q.try_put(1).unwrap();\nassert_eq!(q.len(), 1);\n```")]
            pub fn len(&self) -> usize {
                self.core.len()
            }

            #[doc = concat!("`true` when no item is stored.\n\n",
                "# Examples\n\n```\n",
                "assert!(eddy_sync::", stringify!($name), "::<u8>::new(0).is_empty());\n```")]
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            #[doc = concat!("`true` when `try_put` would refuse for lack of room: [`len`](Self::len) ",
                "items are in the queue and the rest of `maxsize` is held for waiting putters ",
                "that were woken but have not run yet (never for an unbounded queue).\n\n",
                "# Examples\n\n```\n",
                "let q = eddy_sync::", stringify!($name), "::new(1);\n",
                "q.try_put(1).unwrap();\nassert!(q.is_full());\n```")]
            pub fn is_full(&self) -> bool {
                self.core.is_full()
            }

            #[doc = concat!("`true` after [`shutdown`](Self::shutdown).\n\n",
                "# Examples\n\n```\n",
                "let q = eddy_sync::", stringify!($name), "::<u8>::new(0);\n",
                "q.shutdown(false);\nassert!(q.is_shut_down());\n```")]
            pub fn is_shut_down(&self) -> bool {
                self.core.is_shut_down()
            }

            #[doc = concat!("Puts `item`, waiting for room if the queue is full. Waiting putters ",
                "are served in FIFO order.\n\n",
                "# Errors\n\n[`QueueShutDown`] with the item if the queue is (or gets) shut down ",
                "before the item is accepted.\n\n",
                "# Cancel safety\n\nDropping the future before it completes means the item was ",
                "not put: it is dropped with the future. A slot freed and reserved for this ",
                "putter passes to the next waiting putter.\n\n",
                "# Examples\n\n```\n# futures::executor::block_on(async {\n",
                "let q = eddy_sync::", stringify!($name), "::new(1);\n",
                "q.put(1).await.unwrap();\nassert_eq!(q.len(), 1);\n# });\n```")]
            pub async fn put(&self, item: T) -> Result<(), QueueShutDown<T>> {
                core::Put { core: &self.core, item: Some(item), reg: Registration::new() }
                    .await
                    .map_err(QueueShutDown)
            }

            #[doc = concat!("Puts `item` if there is room, without waiting.\n\n",
                "# Errors\n\n[`TryPutError::QueueFull`] or [`TryPutError::QueueShutDown`], each with ",
                "the item handed back.\n\n",
                "# Examples\n\n```\n",
                "let q = eddy_sync::", stringify!($name), "::new(1);\n",
                "assert!(q.try_put(1).is_ok());\n",
                "assert_eq!(q.try_put(2).unwrap_err().into_inner(), 2);\n```")]
            pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
                self.core.try_put(item).map_err(put_refused)
            }

            #[doc = concat!("Removes and returns the next item, waiting while the queue is empty. ",
                "Waiting getters are served in FIFO order; a getter woken for an item takes the ",
                "next one in the queue's order when it runs (the smallest or newest one then, ",
                "for a `PriorityQueue` or `LifoQueue`), as asyncio's does.\n\n",
                "# Errors\n\n[`QueueShutDown`] once the queue is shut down and drained.\n\n",
                "# Cancel safety\n\nCancel-safe: a woken getter dropped before it returns ",
                "passes its turn to the next getter; the item it was woken for never left the ",
                "queue, so items keep their order whatever is cancelled, as in asyncio.\n\n",
                "# Examples\n\n```\n# futures::executor::block_on(async {\n",
                "let q = eddy_sync::", stringify!($name), "::new(0);\n",
                "q.put(", stringify!($a), ").await.unwrap();\n",
                "q.put(", stringify!($b), ").await.unwrap();\n",
                "assert_eq!(q.get().await.unwrap(), ", stringify!($first), ");\n# });\n```")]
            pub async fn get(&self) -> Result<T, QueueShutDown> {
                core::Get { core: &self.core, reg: Registration::new() }
                    .await
                    .map_err(|()| QueueShutDown(()))
            }

            #[doc = concat!("Removes and returns the next item if there is one, without waiting.\n\n",
                "# Errors\n\n[`TryGetError::QueueEmpty`], or [`TryGetError::QueueShutDown`] once shut down ",
                "and drained.\n\n",
                "# Examples\n\n```\n",
                "let q = eddy_sync::", stringify!($name), "::new(0);\n",
                "assert!(q.try_get().is_err());\nq.try_put(1).unwrap();\n",
                "assert_eq!(q.try_get(), Ok(1));\n```")]
            pub fn try_get(&self) -> Result<T, TryGetError> {
                self.core.try_get().map_err(get_refused)
            }

            #[doc = concat!("Marks one item taken from the queue as processed; when every put item ",
                "is, [`join`](Self::join) returns.\n\n",
                "# Errors\n\n[`TaskDoneError`] if called more times than items were put.\n\n",
                "# Examples\n\n```\n",
                "let q = eddy_sync::", stringify!($name), "::new(0);\n",
                "q.try_put(1).unwrap();\nq.try_get().unwrap();\n",
                "assert!(q.task_done().is_ok());\nassert!(q.task_done().is_err());\n```")]
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                if self.core.task_done() { Ok(()) } else { Err(TaskDoneError) }
            }

            #[doc = concat!("Items put and not yet marked [`task_done`](Self::task_done) ",
                "(saturating at `usize::MAX` on 32-bit targets; the count itself does not overflow).\n\n",
                "# Examples\n\n```\n",
                "let q = eddy_sync::", stringify!($name), "::new(0);\n",
                "q.try_put(1).unwrap();\nassert_eq!(q.unfinished_tasks(), 1);\n```")]
            pub fn unfinished_tasks(&self) -> usize {
                self.core.unfinished()
            }

            #[doc = concat!("Waits until every item put has been marked ",
                "[`task_done`](Self::task_done) (returns at once if none is pending).\n\n",
                "# Cancel safety\n\nCancel-safe: nothing is consumed by waiting.\n\n",
                "# Examples\n\n```\n# futures::executor::block_on(async {\n",
                "let q = eddy_sync::", stringify!($name), "::new(0);\n",
                "q.put(1).await.unwrap();\nq.get().await.unwrap();\nq.task_done().unwrap();\n",
                "q.join().await;\n# });\n```")]
            pub async fn join(&self) {
                core::Join { core: &self.core, reg: Registration::new() }.await
            }

            #[doc = concat!("Shuts the queue down (asyncio 3.13's `shutdown`). From now on puts ",
                "fail with [`QueueShutDown`] (the item handed back). Gets return the stored ",
                "items, then fail; with `immediate`, every item in the queue (as [`len`](Self::len) ",
                "counts them, so also one a woken getter has not taken yet) is ",
                "dropped at once and counted as done for [`join`](Self::join), so gets fail ",
                "right away. Every ",
                "blocked putter and getter is woken.\n\n",
                "# Examples\n\n```\n",
                "let q = eddy_sync::", stringify!($name), "::new(0);\n",
                "q.try_put(1).unwrap();\nq.shutdown(false);\n",
                "assert_eq!(q.try_get(), Ok(1));\nassert!(q.try_get().is_err());\n```")]
            pub fn shutdown(&self, immediate: bool) {
                self.core.shutdown(immediate)
            }
        }

        impl<T: $($bound)*> Default for $name<T> {
            fn default() -> Self {
                Self::new(0)
            }
        }

        impl<T: $($bound)*> std::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.core).finish()
            }
        }
    };
}

queue_type!(
    /// A first-in, first-out queue (asyncio's `Queue`).
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy_sync::Queue;
    /// # futures::executor::block_on(async {
    /// let q = Queue::new(2);
    /// q.put("a").await.unwrap();
    /// q.put("b").await.unwrap();
    /// assert!(q.is_full());
    /// assert_eq!(q.get().await.unwrap(), "a");
    /// q.task_done().unwrap();
    /// assert_eq!(q.get().await.unwrap(), "b");
    /// q.task_done().unwrap();
    /// q.join().await;
    /// # });
    /// ```
    Queue, ClaimedFifo, [Sized], 1, 2, 1
);

queue_type!(
    /// A last-in, first-out queue (asyncio's `LifoQueue`): `get` returns the
    /// most recently put item.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let q = eddy_sync::LifoQueue::new(0);
    /// for i in 0..3 { q.put(i).await.unwrap(); }
    /// assert_eq!(q.get().await.unwrap(), 2);
    /// # });
    /// ```
    LifoQueue, Lifo, [Sized], 1, 2, 2
);

queue_type!(
    /// A priority queue (asyncio's `PriorityQueue`): `get` returns the
    /// smallest item (by `Ord`); use `(priority, data)` tuples or
    /// `std::cmp::Reverse` to choose the order.
    ///
    /// # Panics
    ///
    /// The queue compares items with their `Ord` impl. When a comparison
    /// panics, the operation that ran it panics too, and the queue stays
    /// consistent: [`len`](Self::len), [`unfinished_tasks`](Self::unfinished_tasks),
    /// room for putters, waiting putters and getters and [`join`](Self::join)
    /// are as if the operation had not happened, except for the item being
    /// stored:
    ///
    /// - `put` / `try_put`: the item is **not stored**. It is dropped (once
    ///   the queue's internal lock is released; a panic cannot hand it
    ///   back) and counts for nothing. A slot that was reserved for a
    ///   waiting `put` passes to the next waiting putter.
    /// - `get` / `try_get`: nothing is taken; every item stays in the
    ///   queue, in order, and a later get compares again. A `get` that was
    ///   woken for an item passes its turn to the next waiting getter.
    ///
    /// A `get` future dropped after it was woken for an item compares
    /// nothing: the item stays in the queue and its turn passes to the
    /// next waiting getter.
    ///
    /// Comparisons run with the queue's internal lock held: an `Ord` impl
    /// must not call into the same queue (it would deadlock).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let q = eddy_sync::PriorityQueue::new(0);
    /// q.put((2, "low")).await.unwrap();
    /// q.put((1, "high")).await.unwrap();
    /// assert_eq!(q.get().await.unwrap(), (1, "high"));
    /// # });
    /// ```
    PriorityQueue, Smallest, [Ord], 2, 1, 1
);
