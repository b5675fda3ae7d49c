//! The inject queue: how other threads hand tasks to a loop.
//!
//! An intrusive FIFO through each task header's `queue_next`, so a remote
//! wake allocates nothing. Guarded by one mutex; an atomic length lets the
//! loop skip the lock when the queue is empty. Once closed (runtime shut
//! down) pushes are refused and the caller keeps the task.

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

struct List<T> {
    head: Option<NonNull<T>>,
    tail: Option<NonNull<T>>,
    closed: bool,
}

/// The queue. `T` is the task header in the runtime and a test node in the
/// loom model.
pub(crate) struct Inject<T: Linked> {
    list: Mutex<List<T>>,
    len: AtomicUsize,
}

// SAFETY: nodes are only linked/unlinked under the mutex, and ownership of a
// node (one task reference) moves with it from pusher to popper.
unsafe impl<T: Linked> Send for Inject<T> {}
// SAFETY: as above.
unsafe impl<T: Linked> Sync for Inject<T> {}

impl<T: Linked> Inject<T> {
    pub(crate) fn new() -> Self {
        Inject {
            list: Mutex::new(List {
                head: None,
                tail: None,
                closed: false,
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
        self.len.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Whether anything may be queued (a cheap hint, no lock).
    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }

    /// Moves up to `max` nodes out, oldest first, into `out`.
    pub(crate) fn pop_batch(&self, max: usize, mut out: impl FnMut(NonNull<T>)) -> usize {
        if self.is_empty() {
            return 0;
        }
        let mut list = self.list.lock();
        let mut n = 0;
        while n < max {
            let Some(node) = list.head else { break };
            // SAFETY: a linked node is alive; we hold the lock.
            list.head = unsafe { node.as_ref() }
                .next()
                .with(|next| unsafe { *next });
            if list.head.is_none() {
                list.tail = None;
            }
            self.len.fetch_sub(1, Ordering::Release);
            n += 1;
            out(node);
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
