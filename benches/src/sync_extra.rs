//! `compare` workloads for the newer eddy-sync primitives: `RwLock` (owned
//! guards and `downgrade`), `OnceCell`, and mpsc's `reserve` → `Permit`.
//!
//! The conventions are those of [`crate::sync`]: each pair is generic over
//! [`Exec`], both primitives run on the same executor so only the primitive
//! differs, and every pair prints two lines: on eddy's loop (the line named
//! after the workload) and on tokio's current-thread runtime (the
//! `…_on_tokio_rt` line). Both sides of a pair are the same code with the
//! primitive's type swapped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::sync::{Exec, CAPACITY, MESSAGES, SENDERS, TASKS};
use crate::Workload;

/// The workloads of this module, in table order (after [`crate::sync`]'s).
pub fn workloads() -> Vec<Workload> {
    [
        on_both!(
            "rwlock_read_mostly",
            rwlock_read_mostly_eddy,
            rwlock_read_mostly_tokio
        ),
        on_both!("once_cell_init", once_cell_init_eddy, once_cell_init_tokio),
        on_both!("mpsc_reserve", mpsc_reserve_eddy, mpsc_reserve_tokio),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Lock operations per task in `rwlock_read_mostly`.
pub const RW_ITERS: usize = 2_048;
/// One operation in this many is a write.
pub const WRITE_EVERY: usize = 64;
/// One operation in this many (unless it is a write) is a read that holds
/// its guard across a yield.
pub const HOLD_EVERY: usize = 4;

/// Writes each task makes in `rwlock_read_mostly`.
const fn writes_per_task() -> usize {
    RW_ITERS / WRITE_EVERY
}

/// 10 tasks × 2,048 lock operations on one `eddy_sync::RwLock`. Of every
/// 64, one is a write (lock, bump, yield holding it, `downgrade`, yield
/// holding the read guard), 15 are `read_owned` guards held across a
/// yield, and 48 are plain reads. Tasks start their write cycle at
/// different offsets, so writers queue behind held reads and readers behind
/// queued writers.
pub fn rwlock_read_mostly_eddy<E: Exec>(rt: &E) {
    rt.block_on(async {
        let lock = Arc::new(eddy_sync::RwLock::new(0usize));
        let handles: Vec<_> = (0..TASKS)
            .map(|t| {
                let lock = lock.clone();
                E::spawn(async move {
                    for i in 0..RW_ITERS {
                        let k = i + t * (WRITE_EVERY / TASKS);
                        if k.is_multiple_of(WRITE_EVERY) {
                            let mut w = lock.write().await;
                            *w += 1;
                            E::yield_now().await;
                            let r = eddy_sync::RwLockWriteGuard::downgrade(w);
                            std::hint::black_box(*r);
                            E::yield_now().await;
                        } else if k.is_multiple_of(HOLD_EVERY) {
                            let r = lock.clone().read_owned().await;
                            E::yield_now().await;
                            std::hint::black_box(*r);
                        } else {
                            std::hint::black_box(*lock.read().await);
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.await;
        }
        assert_eq!(*lock.read().await, TASKS * writes_per_task());
    });
}

/// tokio twin of [`rwlock_read_mostly_eddy`].
pub fn rwlock_read_mostly_tokio<E: Exec>(rt: &E) {
    rt.block_on(async {
        let lock = Arc::new(tokio::sync::RwLock::new(0usize));
        let handles: Vec<_> = (0..TASKS)
            .map(|t| {
                let lock = lock.clone();
                E::spawn(async move {
                    for i in 0..RW_ITERS {
                        let k = i + t * (WRITE_EVERY / TASKS);
                        if k.is_multiple_of(WRITE_EVERY) {
                            let mut w = lock.write().await;
                            *w += 1;
                            E::yield_now().await;
                            let r = tokio::sync::RwLockWriteGuard::downgrade(w);
                            std::hint::black_box(*r);
                            E::yield_now().await;
                        } else if k.is_multiple_of(HOLD_EVERY) {
                            let r = lock.clone().read_owned().await;
                            E::yield_now().await;
                            std::hint::black_box(*r);
                        } else {
                            std::hint::black_box(*lock.read().await);
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.await;
        }
        assert_eq!(*lock.read().await, TASKS * writes_per_task());
    });
}

/// Fresh cells in `once_cell_init`.
pub const CELLS: usize = 2_000;
/// Tasks racing for every cell in `once_cell_init`.
pub const RACERS: usize = 4;
/// Passes over the initialised cells each racer makes afterwards.
pub const READ_PASSES: usize = 4;

/// What cell `i` is initialised to.
fn cell_value(i: usize) -> usize {
    i * 3 + 1
}

/// The sum every racer reads in one pass over the cells.
fn cells_sum() -> usize {
    (0..CELLS).map(cell_value).sum()
}

/// 2,000 fresh `eddy_sync::OnceCell`s, 4 tasks walking them in the same
/// order, each calling `get_or_init` with an initialiser that yields once:
/// the first task to reach a cell runs its initialiser, the other three
/// queue and are woken with the value. Then each task reads every cell 4
/// more times through `get_or_init` (the initialised fast path).
pub fn once_cell_init_eddy<E: Exec>(rt: &E) {
    rt.block_on(async {
        let cells: Arc<Vec<eddy_sync::OnceCell<usize>>> =
            Arc::new((0..CELLS).map(|_| eddy_sync::OnceCell::new()).collect());
        let inits = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..RACERS)
            .map(|_| {
                let cells = cells.clone();
                let inits = inits.clone();
                E::spawn(async move {
                    for pass in 0..=READ_PASSES {
                        let mut sum = 0;
                        for (i, cell) in cells.iter().enumerate() {
                            sum += *cell
                                .get_or_init(|| async {
                                    inits.fetch_add(1, Ordering::Relaxed);
                                    E::yield_now().await;
                                    cell_value(i)
                                })
                                .await;
                        }
                        assert_eq!(sum, cells_sum(), "pass {pass}");
                    }
                })
            })
            .collect();
        for h in handles {
            h.await;
        }
        assert_eq!(inits.load(Ordering::Relaxed), CELLS, "one init per cell");
    });
}

/// tokio twin of [`once_cell_init_eddy`].
pub fn once_cell_init_tokio<E: Exec>(rt: &E) {
    rt.block_on(async {
        let cells: Arc<Vec<tokio::sync::OnceCell<usize>>> =
            Arc::new((0..CELLS).map(|_| tokio::sync::OnceCell::new()).collect());
        let inits = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..RACERS)
            .map(|_| {
                let cells = cells.clone();
                let inits = inits.clone();
                E::spawn(async move {
                    for pass in 0..=READ_PASSES {
                        let mut sum = 0;
                        for (i, cell) in cells.iter().enumerate() {
                            sum += *cell
                                .get_or_init(|| async {
                                    inits.fetch_add(1, Ordering::Relaxed);
                                    E::yield_now().await;
                                    cell_value(i)
                                })
                                .await;
                        }
                        assert_eq!(sum, cells_sum(), "pass {pass}");
                    }
                })
            })
            .collect();
        for h in handles {
            h.await;
        }
        assert_eq!(inits.load(Ordering::Relaxed), CELLS, "one init per cell");
    });
}

/// 5 sender tasks × 10,000 messages into a bounded `eddy_sync::mpsc`
/// channel of 1,024 (`mpsc_bounded`'s shape), each message sent as
/// `reserve().await` then `permit.send(i)`; one receiver.
pub fn mpsc_reserve_eddy<E: Exec>(rt: &E) {
    rt.block_on(async {
        let (tx, mut rx) = eddy_sync::mpsc::channel(CAPACITY);
        for _ in 0..SENDERS {
            let tx = tx.clone();
            // Detached: the receiver's count is the check.
            drop(E::spawn(async move {
                for i in 0..MESSAGES {
                    tx.reserve().await.unwrap().send(i);
                }
            }));
        }
        drop(tx);
        let mut n = 0;
        while let Some(v) = rx.recv().await {
            std::hint::black_box(v);
            n += 1;
        }
        assert_eq!(n, SENDERS * MESSAGES);
    });
}

/// tokio twin of [`mpsc_reserve_eddy`].
pub fn mpsc_reserve_tokio<E: Exec>(rt: &E) {
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(CAPACITY);
        for _ in 0..SENDERS {
            let tx = tx.clone();
            // Detached: the receiver's count is the check.
            drop(E::spawn(async move {
                for i in 0..MESSAGES {
                    tx.reserve().await.unwrap().send(i);
                }
            }));
        }
        drop(tx);
        let mut n = 0;
        while let Some(v) = rx.recv().await {
            std::hint::black_box(v);
            n += 1;
        }
        assert_eq!(n, SENDERS * MESSAGES);
    });
}
