//! Every live time driver by id, so a timer made on one runtime can find
//! that runtime's driver again from a thread where it is not entered.
//!
//! Only [`Timeout`](crate::Timeout) needs this: it remembers its driver by
//! id instead of holding an `Arc` to it, because a timeout around a future
//! that is ready at its first poll — the common case — then costs no
//! reference-count traffic at all. The lookup runs only when the first
//! pending poll happens on a thread that has not entered that driver
//! (awaited from another executor's thread), which is rare. A handful of
//! runtimes live at once, so a vector scan under a lock is enough.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::driver::TimeShared;

/// Driver ids, never reused within a process.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Live drivers. An entry goes when its `TimeShared` is dropped.
static LIVE: Mutex<Vec<(u64, Weak<TimeShared>)>> = Mutex::new(Vec::new());

/// A fresh driver id.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Makes `shared` findable by its id.
pub(crate) fn add(shared: &Arc<TimeShared>) {
    let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
    live.push((shared.id, Arc::downgrade(shared)));
}

/// Forgets driver `id` (called as its `TimeShared` drops).
pub(crate) fn remove(id: u64) {
    let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
    live.retain(|(entry, _)| *entry != id);
}

/// The driver with `id`, if it still exists.
pub(crate) fn find(id: u64) -> Option<Arc<TimeShared>> {
    let live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
    live.iter()
        .find(|(entry, _)| *entry == id)
        .and_then(|(_, weak)| weak.upgrade())
}
