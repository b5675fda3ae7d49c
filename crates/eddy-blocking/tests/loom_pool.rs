//! Loom models of the racy paths of the pool: a job's state word (cancel
//! vs start), what a job holds (released exactly once, never before the
//! job ended, and not before a waiting handle has the result), and the
//! searching/idle/notify path (no lost wake-up, no job left queued with
//! no thread to run it).
//!
//! RUSTFLAGS="--cfg loom" cargo test -p eddy-blocking --test loom_pool --release
#![cfg(loom)]

use std::future::Future;
use std::time::Duration;

use eddy_blocking::loom_internals::{new_job, Park, Sleep, Submit, Waiter};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// Keep-alive for the models: loom never times out a wait anyway.
const FOREVER: Duration = Duration::from_secs(3600);

#[test]
fn dropping_the_handle_races_the_worker_start() {
    loom::model(|| {
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let (job, handle) = new_job(
            move || {
                r.fetch_add(1, Ordering::SeqCst);
            },
            (),
        );
        let worker = thread::spawn(move || job.run());
        drop(handle);
        let did_run = worker.join().unwrap();
        // At most once, and exactly when the worker says it ran it.
        assert_eq!(ran.load(Ordering::SeqCst), usize::from(did_run));
    });
}

#[test]
fn shutdown_cancel_races_the_worker_and_the_handle_sees_one_outcome() {
    loom::model(|| {
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let (job, handle) = new_job(move || r.fetch_add(1, Ordering::SeqCst) + 7, ());
        let job2 = job.clone();
        let worker = thread::spawn(move || job.run());
        let canceller = thread::spawn(move || job2.cancel_shutdown());
        // Completion wakes the awaiting thread: a lost wake-up deadlocks here.
        let out = loom::future::block_on(handle);
        let ran_it = worker.join().unwrap();
        let cancelled_it = canceller.join().unwrap();
        // Exactly one side claims the job (what the shutdown report counts).
        assert_ne!(ran_it, cancelled_it);
        assert_eq!(cancelled_it, out.is_err());
        match out {
            Ok(v) => {
                assert_eq!(v, 7);
                assert_eq!(ran.load(Ordering::SeqCst), 1);
            }
            Err(e) => {
                assert!(e.is_shutdown());
                assert_eq!(ran.load(Ordering::SeqCst), 0);
            }
        }
    });
}

/// A guard that counts its drops.
struct Held(Arc<AtomicUsize>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_waiting_handle_sees_the_result_while_the_guard_is_still_held() {
    loom::model(|| {
        let released = Arc::new(AtomicUsize::new(0));
        let seen = released.clone();
        // The job checks that its guard is held while it runs.
        let (job, handle) = new_job(move || seen.load(Ordering::SeqCst), Held(released.clone()));
        let worker = thread::spawn(move || {
            job.run();
        });
        // The handle is polled (and may wait) while the job runs. Either
        // it found the result already there, or it waited and was woken:
        // in both cases the result must be read before, or as, the guard
        // goes — never a woken wait with the guard already gone.
        let r = released.clone();
        let out = loom::future::block_on(async move {
            let mut handle = handle;
            std::future::poll_fn(|cx| {
                let polled = std::pin::Pin::new(&mut handle).poll(cx);
                if polled.is_pending() {
                    // Registered as waiting: the job cannot have let go
                    // of the guard yet.
                    assert_eq!(r.load(Ordering::SeqCst), 0);
                }
                polled
            })
            .await
        });
        assert_eq!(out.unwrap(), 0, "the guard was gone while the job ran");
        worker.join().unwrap();
        assert_eq!(released.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn the_guard_is_released_once_whoever_finishes_first() {
    loom::model(|| {
        let released = Arc::new(AtomicUsize::new(0));
        let (job, handle) = new_job(|| 1, Held(released.clone()));
        let job2 = job.clone();
        let worker = thread::spawn(move || {
            job.run();
        });
        let canceller = thread::spawn(move || job2.cancel_shutdown());
        drop(handle);
        worker.join().unwrap();
        // The handle may have cancelled it first; then the shutdown did not.
        let _ = canceller.join().unwrap();
        assert_eq!(released.load(Ordering::SeqCst), 1);
    });
}

/// Takes one job from the pretend queue.
fn take(queue: &AtomicUsize) -> bool {
    queue
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

#[test]
fn a_job_pushed_while_the_only_worker_goes_idle_is_not_lost() {
    loom::model(|| {
        let sleep = Arc::new(Sleep::new());
        let queue = Arc::new(AtomicUsize::new(0));
        // One thread exists and is searching, like a freshly spawned one.
        assert_eq!(sleep.wake_one(1), Submit::Spawn(0));

        let (s, q) = (sleep.clone(), queue.clone());
        let worker = thread::spawn(move || {
            let w = Waiter::new();
            loop {
                if take(&q) {
                    return; // ran the job
                }
                s.stop_searching();
                match s.park(&w, FOREVER, || q.load(Ordering::SeqCst) > 0) {
                    Park::Work => {}
                    Park::Exit => panic!("the worker exited with a job queued"),
                }
            }
        });

        queue.fetch_add(1, Ordering::SeqCst); // push
        let action = sleep.after_push(1);
        assert_ne!(action, Submit::Shutdown);
        // If the wake-up were lost, the worker would park forever and loom
        // would report a deadlock at this join.
        worker.join().unwrap();
        assert_eq!(queue.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn a_pool_thread_shutting_its_pool_down_waits_only_for_the_other_thread() {
    loom::model(|| {
        let sleep = Arc::new(Sleep::new());
        // Two threads, both searching, like freshly spawned ones.
        assert_eq!(sleep.wake_one(2), Submit::Spawn(0));
        assert_eq!(sleep.wake_one(2), Submit::Spawn(1));

        let s = sleep.clone();
        let other = thread::spawn(move || {
            s.stop_searching();
            // Parks (then is woken by the shutdown) or sees it at once.
            assert_eq!(s.park(&Waiter::new(), FOREVER, || false), Park::Exit);
        });
        // This thread is the other pool thread, running a job that shuts
        // the pool down: waiting for itself to exit would deadlock.
        sleep.shutdown();
        assert_eq!(sleep.wait_exited(None, true), 1);
        other.join().unwrap();
    });
}

#[test]
fn two_pool_threads_shutting_their_pool_down_do_not_wait_for_each_other() {
    loom::model(|| {
        let sleep = Arc::new(Sleep::new());
        assert_eq!(sleep.wake_one(2), Submit::Spawn(0));
        assert_eq!(sleep.wake_one(2), Submit::Spawn(1));
        let s = sleep.clone();
        let other = thread::spawn(move || {
            s.shutdown();
            s.wait_exited(None, true)
        });
        sleep.shutdown();
        assert_eq!(sleep.wait_exited(None, true), 2);
        assert_eq!(other.join().unwrap(), 2);
    });
}

#[test]
fn a_submit_racing_shutdown_leaves_no_thread_promised_but_never_started() {
    loom::model(|| {
        let sleep = Arc::new(Sleep::new());
        let s = sleep.clone();
        let submitter = thread::spawn(move || {
            // A job was pushed; now what the pool does after the push.
            match s.after_push(1) {
                Submit::Spawn(_) => {
                    // The pool starts the thread (played by this one): it
                    // finds nothing to run (the shutdown cancels the job)
                    // and leaves or parks until the shutdown wakes it.
                    let w = Waiter::new();
                    loop {
                        s.stop_searching();
                        if s.is_shutdown() {
                            s.leave();
                            break;
                        }
                        if s.park(&w, FOREVER, || false) == Park::Exit {
                            break;
                        }
                    }
                }
                // The queue is cancelled; no thread is started.
                Submit::Shutdown => {}
                other => panic!("no thread to wake or cover: {other:?}"),
            }
        });
        sleep.shutdown();
        // A thread counted but never started would be waited for forever.
        assert_eq!(sleep.wait_exited(None, false), 0);
        submitter.join().unwrap();
        assert_eq!(sleep.threads(), 0);
    });
}

#[test]
fn a_job_covered_by_a_thread_that_failed_to_start_wakes_an_idle_one() {
    loom::model(|| {
        let sleep = Arc::new(Sleep::new());
        let queue = Arc::new(AtomicUsize::new(0));
        // Thread W exists and is running a job.
        assert_eq!(sleep.wake_one(2), Submit::Spawn(0));
        sleep.stop_searching();
        // A submission found nobody searching or idle and was promised a
        // second thread, counted as searching until it starts.
        assert_eq!(sleep.after_push(2), Submit::Spawn(1));

        let (s, q) = (sleep.clone(), queue.clone());
        let worker = thread::spawn(move || {
            // W's job is done (the first submission's job is taken by
            // someone else: not in this model's queue); it searches.
            s.start_searching();
            let w = Waiter::new();
            loop {
                if take(&q) {
                    return;
                }
                s.stop_searching();
                match s.park(&w, FOREVER, || q.load(Ordering::SeqCst) > 0) {
                    Park::Work => {}
                    Park::Exit => panic!("the worker exited with a job queued"),
                }
            }
        });
        let (s, q) = (sleep.clone(), queue.clone());
        let submitter = thread::spawn(move || {
            q.fetch_add(1, Ordering::SeqCst); // push
            s.after_push(2)
        });
        // The promised thread could not be started.
        sleep.spawn_failed(
            || queue.load(Ordering::SeqCst) > 0,
            || panic!("W is alive: nothing is stranded"),
        );
        // Covered by the thread that never started, the job would wait
        // with W parked: loom reports the deadlock at this join.
        worker.join().unwrap();
        assert_ne!(submitter.join().unwrap(), Submit::Shutdown);
        assert_eq!(queue.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn a_job_queued_as_the_only_thread_start_fails_is_run_or_failed_never_stranded() {
    loom::model(|| {
        let sleep = Arc::new(Sleep::new());
        let queue = Arc::new(AtomicUsize::new(0));
        let ran = Arc::new(AtomicUsize::new(0));
        // A job is queued and a thread promised for it (counted as
        // searching until it starts): the pool's first.
        queue.fetch_add(1, Ordering::SeqCst);
        assert_eq!(sleep.after_push(1), Submit::Spawn(0));

        let (s, q, r) = (sleep.clone(), queue.clone(), ran.clone());
        let submitter = thread::spawn(move || {
            q.fetch_add(1, Ordering::SeqCst); // a second job
            match s.after_push(1) {
                // Left to the promised thread.
                Submit::Covered => {}
                // A thread of its own, which starts (played by this one):
                // it runs what it finds, then parks until the pool closes.
                Submit::Spawn(_) => {
                    let w = Waiter::new();
                    loop {
                        while take(&q) {
                            r.fetch_add(1, Ordering::SeqCst);
                        }
                        s.stop_searching();
                        if s.park(&w, FOREVER, || q.load(Ordering::SeqCst) > 0) == Park::Exit {
                            break;
                        }
                    }
                }
                other => panic!("no thread to wake, none to wait for: {other:?}"),
            }
        });
        // The promised thread could not be started. With no thread left,
        // what is queued is taken out (the pool fails those jobs).
        let failed = AtomicUsize::new(0);
        sleep.spawn_failed(
            || queue.load(Ordering::SeqCst) > 0,
            || {
                while take(&queue) {
                    failed.fetch_add(1, Ordering::SeqCst);
                }
            },
        );
        sleep.close();
        submitter.join().unwrap();
        // Left in the queue with no thread, a job would wait forever.
        assert_eq!(queue.load(Ordering::SeqCst), 0, "a job was stranded");
        assert_eq!(
            ran.load(Ordering::SeqCst) + failed.load(Ordering::SeqCst),
            2
        );
        assert_eq!(sleep.threads(), 0);
    });
}

/// A pool thread of the models below: runs what it finds in `queue`,
/// parks on its own waiter when there is none, and returns how many jobs
/// it ran once the pool lets it exit. Starts out searching.
fn worker(sleep: Arc<Sleep>, queue: Arc<AtomicUsize>) -> thread::JoinHandle<usize> {
    thread::spawn(move || {
        let w = Waiter::new();
        let mut ran = 0;
        loop {
            if take(&queue) {
                sleep.stop_searching();
                ran += 1;
                sleep.start_searching();
                continue;
            }
            sleep.stop_searching();
            match sleep.park(&w, FOREVER, || queue.load(Ordering::SeqCst) > 0) {
                Park::Work => {}
                Park::Exit => return ran,
            }
        }
    })
}

/// Spins (yielding to loom) until `n` threads are parked.
fn until_parked(sleep: &Sleep, n: usize) {
    while sleep.idle() < n {
        thread::yield_now();
    }
}

#[test]
fn a_wake_up_goes_to_the_thread_parked_last_and_closing_reaches_the_others() {
    loom::model(|| {
        let sleep = Arc::new(Sleep::new());
        let queue = Arc::new(AtomicUsize::new(0));
        assert_eq!(sleep.wake_one(2), Submit::Spawn(0));
        assert_eq!(sleep.wake_one(2), Submit::Spawn(1));
        // Thread 0 parks first, then thread 1.
        let first = worker(sleep.clone(), queue.clone());
        until_parked(&sleep, 1);
        let last = worker(sleep.clone(), queue.clone());
        until_parked(&sleep, 2);

        queue.fetch_add(1, Ordering::SeqCst); // push
        assert_eq!(sleep.after_push(2), Submit::Woke);
        // The thread parked last takes it (the other one can then reach
        // its keep-alive under light load). A lost wake-up deadlocks here.
        while queue.load(Ordering::SeqCst) > 0 {
            thread::yield_now();
        }
        // Closing the pool wakes both wherever they are: parked, or
        // about to park again.
        sleep.close();
        assert_eq!(last.join().unwrap(), 1);
        assert_eq!(first.join().unwrap(), 0);
        assert_eq!(sleep.threads(), 0);
        assert_eq!(sleep.idle(), 0);
    });
}

#[test]
fn a_wake_up_racing_a_shutdown_leaves_no_thread_parked_or_counted() {
    loom::model(|| {
        let sleep = Arc::new(Sleep::new());
        let queue = Arc::new(AtomicUsize::new(0));
        assert_eq!(sleep.wake_one(2), Submit::Spawn(0));
        assert_eq!(sleep.wake_one(2), Submit::Spawn(1));
        let a = worker(sleep.clone(), queue.clone());
        let b = worker(sleep.clone(), queue.clone());
        until_parked(&sleep, 2);
        let (s, q) = (sleep.clone(), queue.clone());
        let submitter = thread::spawn(move || {
            q.fetch_add(1, Ordering::SeqCst); // push
            s.after_push(2)
        });
        sleep.shutdown();
        // A thread left on the parked stack, or a wake-up sent to a thread
        // that already left it, would hang this wait or the joins.
        assert_eq!(sleep.wait_exited(None, false), 0);
        let ran = a.join().unwrap() + b.join().unwrap();
        assert!(ran <= 1);
        assert_ne!(submitter.join().unwrap(), Submit::Queued);
        assert_eq!(sleep.idle(), 0);
    });
}
