//! The inject queue: how other threads hand tasks and callbacks to a loop.
//!
//! Tasks go in an intrusive FIFO through each task header's `queue_next`,
//! so a remote wake allocates nothing; callbacks (`call_soon` from another
//! thread) in a `VecDeque` beside it, under the same mutex. Each callback
//! records how many tasks were pushed before it, so the loop takes both in
//! the order they were submitted: a thread that queues a callback and then
//! spawns a task sees the callback run first, as asyncio's
//! `call_soon_threadsafe` followed by `run_coroutine_threadsafe` does. An
//! atomic length (tasks plus callbacks) lets the loop skip the lock when
//! the queue is empty. Once closed (runtime shut down) pushes are refused
//! and the caller keeps what it pushed.

use std::collections::VecDeque;
use std::ptr::NonNull;

use crate::loom::{AtomicUsize, Mutex, Ordering, UnsafeCell};

/// A node of an intrusive singly-linked list.
///
/// # Safety
/// `next` must return the same cell for the node's whole life, and the
/// node must stay alive (and not be in another list) while linked.
pub(crate) unsafe trait Linked {
    fn next(&self) -> &UnsafeCell<Option<NonNull<Self>>>;
}

struct List<T, C> {
    head: Option<NonNull<T>>,
    tail: Option<NonNull<T>>,
    closed: bool,
    /// Tasks ever pushed and ever popped (a 64-bit count does not wrap).
    tasks_pushed: u64,
    tasks_popped: u64,
    /// Callbacks, oldest first, each with the `tasks_pushed` of its push:
    /// it goes out once every task pushed before it has.
    callbacks: VecDeque<(u64, C)>,
}

/// What [`Inject::pop_batch`] hands out, in submission order.
pub(crate) enum Popped<T, C> {
    /// A task (with the reference its pusher gave up).
    Task(NonNull<T>),
    /// A callback.
    Callback(C),
}

/// The queue. `T` is the task header in the runtime and a test node in the
/// loom model; `C` the callback type.
pub(crate) struct Inject<T: Linked, C> {
    list: Mutex<List<T, C>>,
    /// Tasks plus callbacks queued.
    len: AtomicUsize,
}

// SAFETY: nodes are only linked/unlinked under the mutex, and ownership of a
// node (one task reference) moves with it from pusher to popper. Callbacks
// are moved across threads too, hence `C: Send`.
unsafe impl<T: Linked, C: Send> Send for Inject<T, C> {}
// SAFETY: as above; every access to the callbacks is under the mutex.
unsafe impl<T: Linked, C: Send> Sync for Inject<T, C> {}

impl<T: Linked, C> Inject<T, C> {
    pub(crate) fn new() -> Self {
        Inject {
            list: Mutex::new(List {
                head: None,
                tail: None,
                closed: false,
                tasks_pushed: 0,
                tasks_popped: 0,
                callbacks: VecDeque::new(),
            }),
            len: AtomicUsize::new(0),
        }
    }

    /// Appends `node`; gives it back if the queue is closed.
    pub(crate) fn push(&self, node: NonNull<T>) -> Result<(), NonNull<T>> {
        let mut list = self.list.lock();
        if list.closed {
            return Err(node);
        }
        // SAFETY: the node is ours to link (the caller passes its
        // reference) and link cells are only touched under this lock.
        unsafe { node.as_ref() }
            .next()
            .with_mut(|n| unsafe { *n = None });
        match list.tail {
            // SAFETY: the tail is a live linked node; we hold the lock.
            Some(tail) => unsafe { tail.as_ref() }
                .next()
                .with_mut(|n| unsafe { *n = Some(node) }),
            None => list.head = Some(node),
        }
        list.tail = Some(node);
        list.tasks_pushed += 1;
        self.len.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Appends a callback behind every task and callback pushed so far;
    /// gives it back if the queue is closed.
    pub(crate) fn push_callback(&self, cb: C) -> Result<(), C> {
        let mut list = self.list.lock();
        if list.closed {
            return Err(cb);
        }
        let before = list.tasks_pushed;
        list.callbacks.push_back((before, cb));
        self.len.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Whether anything may be queued (a cheap hint, no lock).
    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }

    /// Moves up to `max` tasks out into `out`, in submission order with
    /// the callbacks pushed before each of them, and then the callbacks
    /// pushed before the first task left behind (all of them when no task
    /// is). Returns the number of tasks moved.
    pub(crate) fn pop_batch(&self, max: usize, mut out: impl FnMut(Popped<T, C>)) -> usize {
        if self.is_empty() {
            return 0;
        }
        let mut list = self.list.lock();
        let mut n = 0;
        loop {
            while list
                .callbacks
                .front()
                .is_some_and(|(before, _)| *before <= list.tasks_popped)
            {
                let (_, cb) = list.callbacks.pop_front().expect("front exists");
                self.len.fetch_sub(1, Ordering::Release);
                out(Popped::Callback(cb));
            }
            if n == max {
                break;
            }
            let Some(node) = list.head else { break };
            // SAFETY: a linked node is alive; we hold the lock.
            list.head = unsafe { node.as_ref() }
                .next()
                .with(|next| unsafe { *next });
            if list.head.is_none() {
                list.tail = None;
            }
            list.tasks_popped += 1;
            self.len.fetch_sub(1, Ordering::Release);
            n += 1;
            out(Popped::Task(node));
        }
        n
    }

    /// Refuses further pushes. Queued nodes stay for `pop_batch`.
    pub(crate) fn close(&self) {
        self.list.lock().closed = true;
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.list.lock().closed
    }
}
