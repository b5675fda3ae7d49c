//! Seeded random load on small pools: several threads submit thousands of
//! jobs (some nested from pool threads, some panicking), drop or detach
//! some handles at once or after a while, while a near-zero keep-alive
//! makes threads exit and start again all the time; some rounds end in a
//! shutdown racing the submitters. No job may be lost, run twice or run
//! after its handle cancelled it; every awaited handle gets its own result;
//! the thread limit holds; threads carry the pool's name.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::eventually;
use common::stress::{guarded, Rng};
use eddy_blocking::{BlockingHandle, Pool};
use futures::executor::block_on;

/// Per-run bookkeeping shared with the jobs.
struct Shared {
    /// How many times each job ran.
    runs: Vec<AtomicUsize>,
    running: AtomicUsize,
    max_running: AtomicUsize,
    names: Mutex<HashSet<String>>,
}

impl Shared {
    /// The body of job `id`: counts the run, records the thread, checks
    /// the concurrency limit, maybe spins a little, maybe panics.
    fn job(&self, id: usize, spin: u64, panics: bool) -> usize {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        self.runs[id].fetch_add(1, Ordering::SeqCst);
        let name = std::thread::current().name().unwrap_or("?").to_owned();
        self.names.lock().unwrap().insert(name);
        for _ in 0..spin {
            std::hint::spin_loop();
        }
        self.running.fetch_sub(1, Ordering::SeqCst);
        if panics {
            // A panic that skips the panic hook: no message per job.
            std::panic::resume_unwind(Box::new(format!("job {id} panics")));
        }
        id * 3
    }
}

/// What a submitter does with a handle.
enum Fate {
    Await(usize, bool, BlockingHandle<usize>),
    /// Dropped later: cancelled unless it started by then.
    DropLater(BlockingHandle<usize>),
}

const PER_THREAD: usize = 1_500;
const SUBMITTERS: usize = 3;

fn run(seed: u64) {
    let mut rng = Rng::new(seed);
    let max = 1 + rng.below(4) as usize;
    let keep_alive = Duration::from_micros(rng.below(300));
    let shutdown_midway = rng.one_in(3);
    let pool = Pool::builder()
        .max_threads(max)
        .keep_alive(keep_alive)
        .thread_name("stress")
        .build()
        .unwrap();
    let total = PER_THREAD * SUBMITTERS * 2; // room for nested jobs
    let shared = Arc::new(Shared {
        runs: (0..total).map(|_| AtomicUsize::new(0)).collect(),
        running: AtomicUsize::new(0),
        max_running: AtomicUsize::new(0),
        names: Mutex::new(HashSet::new()),
    });
    // Detached jobs, and (parent, nested) pairs.
    let detached = Arc::new(Mutex::new(Vec::new()));
    let nested_pairs = Arc::new(Mutex::new(Vec::new()));
    let submitters: Vec<_> = (0..SUBMITTERS)
        .map(|t| {
            let pool = pool.clone();
            let shared = shared.clone();
            let detached = detached.clone();
            let nested_pairs = nested_pairs.clone();
            let mut rng = Rng::new(seed ^ ((t as u64 + 1) * 0x9E37));
            std::thread::spawn(move || {
                let mut fates = Vec::new();
                for i in 0..PER_THREAD {
                    let id = t * PER_THREAD + i;
                    let spin = if rng.one_in(20) { rng.below(20_000) } else { 0 };
                    let panics = rng.one_in(25);
                    let s = shared.clone();
                    let handle = if rng.one_in(10) {
                        // Submits a nested job from its pool thread (onto
                        // that thread's own deque) and lets it run on its
                        // own. (Blocking on it could deadlock a full pool:
                        // every thread waiting, none free to steal.)
                        let nested_id = SUBMITTERS * PER_THREAD + id;
                        nested_pairs.lock().unwrap().push((id, nested_id));
                        let inner = pool.clone();
                        pool.spawn(move || {
                            let s2 = s.clone();
                            inner.spawn(move || s2.job(nested_id, 0, false)).detach();
                            s.job(id, spin, panics)
                        })
                    } else {
                        pool.spawn(move || s.job(id, spin, panics))
                    };
                    match rng.below(10) {
                        0 => drop(handle),
                        1 => {
                            handle.detach();
                            detached.lock().unwrap().push(id);
                        }
                        2 | 3 => fates.push(Fate::DropLater(handle)),
                        _ => fates.push(Fate::Await(id, panics, handle)),
                    }
                    if rng.one_in(20) {
                        // Often longer than the keep-alive: idle threads
                        // exit, and the next job starts a new one.
                        std::thread::sleep(Duration::from_micros(rng.below(600)));
                    }
                }
                fates
            })
        })
        .collect();
    if shutdown_midway {
        std::thread::sleep(Duration::from_micros(rng.below(2_000)));
        let report = pool.shutdown_timeout(Duration::from_secs(60));
        assert_eq!(report.still_running, 0, "seed {seed:#x}: {report:?}");
    }
    let mut completed = Vec::new();
    for s in submitters {
        for fate in s.join().unwrap() {
            match fate {
                Fate::Await(id, panics, h) => match block_on(h) {
                    Ok(v) => {
                        assert!(!panics, "seed {seed:#x}: job {id} should have panicked");
                        assert_eq!(v, id * 3, "seed {seed:#x}: job {id} got another's result");
                        completed.push(id);
                    }
                    Err(e) if e.is_panic() => {
                        assert!(panics, "seed {seed:#x}: job {id}: {e}");
                        completed.push(id);
                    }
                    Err(e) => {
                        assert!(shutdown_midway && e.is_shutdown(), "seed {seed:#x}: {e}");
                        assert_eq!(shared.runs[id].load(Ordering::SeqCst), 0);
                    }
                },
                Fate::DropLater(h) => drop(h),
            }
        }
    }
    // Awaited jobs that completed ran exactly once; detached ones run
    // exactly once unless shutdown cancelled them; none ran twice.
    for id in completed {
        assert_eq!(
            shared.runs[id].load(Ordering::SeqCst),
            1,
            "seed {seed:#x}: job {id}"
        );
    }
    if !shutdown_midway {
        let detached = detached.lock().unwrap();
        let ran = |id: usize| shared.runs[id].load(Ordering::SeqCst);
        assert!(
            eventually(|| detached.iter().all(|&id| ran(id) == 1)),
            "seed {seed:#x}: a detached job never ran"
        );
        // A parent that ran submitted its nested job, which ran too.
        let pairs = nested_pairs.lock().unwrap();
        assert!(
            eventually(|| pairs.iter().all(|&(p, n)| ran(p) == ran(n))),
            "seed {seed:#x}: a nested job was lost"
        );
    }
    assert!(
        shared.runs.iter().all(|r| r.load(Ordering::SeqCst) <= 1),
        "seed {seed:#x}: a job ran twice"
    );
    let max_running = shared.max_running.load(Ordering::SeqCst);
    assert!(
        max_running <= max,
        "seed {seed:#x}: {max_running} jobs ran at once, limit {max}"
    );
    assert!(pool.thread_count() <= max);
    for name in shared.names.lock().unwrap().iter() {
        assert!(name.starts_with("stress-"), "seed {seed:#x}: thread {name}");
    }
    let report = pool.shutdown_timeout(Duration::from_secs(60));
    assert_eq!(report.still_running, 0, "seed {seed:#x}: {report:?}");
    assert_eq!(report.threads_left, 0, "seed {seed:#x}: {report:?}");
}

#[test]
fn random_load_on_small_pools_loses_and_repeats_no_job() {
    for seed in 1..=12u64 {
        guarded(120, move || run(seed * 0x0005_DEEC_E66D));
    }
}
