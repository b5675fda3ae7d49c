//! Small but real task-level applications written the way an asyncio user
//! writes them, each driving many features at once: a job queue with a
//! worker pool on the blocking pool, a rate limiter with retries under the
//! paused clock, a subprocess supervisor shut down by a signal, and a
//! single-flight cache. They look for the bugs that only show where
//! features meet.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::port::{guard, paused, raise, slow_guard, wait_while};
use eddy::sync::{Event, Queue, Semaphore};
use eddy::time::Instant;
use eddy::TaskGroup;
use futures::FutureExt;

// ---------------------------------------------------------------------------
// 1. Job queue: producers, a bounded queue, a worker pool using to_thread
// ---------------------------------------------------------------------------

const PRODUCERS: u32 = 3;
const WORKERS: usize = 4;
const JOBS: u32 = 300;

/// The CPU work of one job, done on the blocking pool.
fn crunch(job: u32) -> u64 {
    let mut x = u64::from(job) + 1;
    for _ in 0..2_000 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
    }
    x
}

/// Who did what: enough to prove nothing was lost or done twice.
struct Ledger {
    /// Jobs put into the queue (counted once `put` returned).
    produced: RefCell<Vec<u32>>,
    /// Jobs a worker took out of the queue.
    taken: RefCell<Vec<u32>>,
    /// Results of finished jobs.
    done: RefCell<HashMap<u32, u64>>,
    /// How often each job's CPU work ran (on pool threads).
    ran: Arc<Vec<AtomicU32>>,
}

impl Ledger {
    fn new() -> Rc<Ledger> {
        Rc::new(Ledger {
            produced: RefCell::default(),
            taken: RefCell::default(),
            done: RefCell::default(),
            ran: Arc::new((0..JOBS).map(|_| AtomicU32::new(0)).collect()),
        })
    }
}

/// Runs the pool: producers, workers and a closer that shuts the queue
/// down once every job is processed, all children of one TaskGroup, so
/// the first failing job cancels them all.
/// How a run of the pool goes.
#[derive(Clone, Copy, PartialEq)]
enum Plan {
    /// Every job succeeds.
    AllGood,
    /// This job fails, which fails the group.
    Poison(u32),
    /// Once this many jobs are done, a worker shuts the queue down at once
    /// (asyncio's `shutdown(immediate=True)`): queued jobs are dropped,
    /// producers stop, jobs in flight finish.
    DrainAfter(usize),
}

async fn job_pool(
    q: Rc<Queue<u32>>,
    ledger: Rc<Ledger>,
    plan: Plan,
) -> Result<(), eddy::ErrorGroup<String>> {
    let group = TaskGroup::<String>::new();
    let mut producers = Vec::new();
    for p in 0..PRODUCERS {
        let (q, ledger) = (q.clone(), ledger.clone());
        producers.push(
            group
                .spawn(async move {
                    for job in (p..JOBS).step_by(PRODUCERS as usize) {
                        if q.put(job).await.is_err() {
                            if matches!(plan, Plan::DrainAfter(_)) {
                                return Ok(()); // drained: stop producing
                            }
                            return Err("queue shut down early".to_string());
                        }
                        ledger.produced.borrow_mut().push(job);
                    }
                    Ok(())
                })
                .unwrap(),
        );
    }
    for _ in 0..WORKERS {
        let (q, ledger) = (q.clone(), ledger.clone());
        group
            .spawn(async move {
                while let Ok(job) = q.get().await {
                    ledger.taken.borrow_mut().push(job);
                    let ran = ledger.ran.clone();
                    let result = eddy::to_thread(move || {
                        ran[job as usize].fetch_add(1, Ordering::SeqCst);
                        (plan != Plan::Poison(job)).then(|| crunch(job))
                    })
                    .await
                    .map_err(|e| format!("job {job}: {e}"))?;
                    let Some(result) = result else {
                        return Err(format!("job {job} failed"));
                    };
                    let before = ledger.done.borrow_mut().insert(job, result);
                    assert!(before.is_none(), "job {job} ran twice");
                    if plan == Plan::DrainAfter(ledger.done.borrow().len()) {
                        q.shutdown(true);
                    }
                    q.task_done().unwrap();
                }
                Ok(())
            })
            .unwrap();
    }
    let closer_q = q.clone();
    group
        .spawn(async move {
            for p in producers {
                p.await.map_err(|e| e.to_string())?;
            }
            closer_q.join().await; // every job processed
            closer_q.shutdown(false); // the workers' get() now fails: they return
            Ok(())
        })
        .unwrap();
    group.join().await
}

#[test]
fn job_queue_worker_pool_with_to_thread_and_taskgroup_cancellation() {
    eddy::run(guard("job queue app", async {
        // Every job succeeds: each is run once and its result kept.
        let q = Rc::new(Queue::new(8));
        let ledger = Ledger::new();
        job_pool(q.clone(), ledger.clone(), Plan::AllGood)
            .await
            .unwrap();
        assert_eq!(ledger.done.borrow().len(), JOBS as usize);
        for (job, result) in ledger.done.borrow().iter() {
            assert_eq!(*result, crunch(*job));
        }
        assert!(ledger.ran.iter().all(|n| n.load(Ordering::SeqCst) == 1));
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(q.is_shut_down() && q.is_empty());

        // Job 137 fails: the group cancels producers (blocked on a full
        // queue), workers (waiting in get or on to_thread) and the closer.
        let q = Rc::new(Queue::new(8));
        let ledger = Ledger::new();
        let errors = job_pool(q.clone(), ledger.clone(), Plan::Poison(137))
            .await
            .unwrap_err();
        assert_eq!(errors.into_vec(), ["job 137 failed"]);
        assert!(!q.is_shut_down());
        let left = q.len();
        eddy::sleep(Duration::from_millis(5)).await;
        assert_eq!(q.len(), left, "a cancelled worker still takes jobs");
        let mut rest = Vec::new();
        while let Ok(job) = q.try_get() {
            rest.push(job);
        }

        {
            let produced = ledger.produced.borrow();
            let taken = ledger.taken.borrow();
            let done = ledger.done.borrow();
            // Nothing lost: every job put is either taken or still queued,
            // in put order for each producer; nothing taken twice.
            let mut accounted: Vec<u32> = taken.iter().chain(&rest).copied().collect();
            accounted.sort_unstable();
            let mut want = produced.clone();
            want.sort_unstable();
            assert_eq!(accounted, want);
            assert!(taken.contains(&137) && !done.contains_key(&137));
            let taken_set: HashSet<u32> = taken.iter().copied().collect();
            assert_eq!(taken_set.len(), taken.len(), "a job was taken twice");
            // Jobs taken but not done: the failed one and those cancelled while
            // their work ran; none of them called task_done.
            let in_flight = taken.len() - done.len();
            assert!((1..=WORKERS).contains(&in_flight));
            assert_eq!(q.unfinished_tasks(), rest.len() + in_flight);
            for (job, n) in ledger.ran.iter().enumerate() {
                let n = n.load(Ordering::SeqCst);
                assert!(n <= 1, "job {job} ran {n} times");
                if done.contains_key(&(job as u32)) {
                    assert_eq!(n, 1);
                }
            }
            // Each producer's jobs went in in order.
            for p in 0..PRODUCERS {
                let mine: Vec<u32> = produced
                    .iter()
                    .copied()
                    .filter(|j| j % PRODUCERS == p)
                    .collect();
                let expected: Vec<u32> = (p..JOBS)
                    .step_by(PRODUCERS as usize)
                    .take(mine.len())
                    .collect();
                assert_eq!(mine, expected);
            }
        }

        // Drain at once after 100 jobs: queued jobs are dropped and count
        // as done for join, jobs in flight finish, everyone stops cleanly.
        let q = Rc::new(Queue::new(8));
        let ledger = Ledger::new();
        job_pool(q.clone(), ledger.clone(), Plan::DrainAfter(100))
            .await
            .unwrap();
        let (taken, done) = (ledger.taken.borrow(), ledger.done.borrow());
        assert_eq!(taken.len(), done.len(), "a job taken was not finished");
        assert!(done.len() >= 100 && done.len() < JOBS as usize);
        assert!(
            ledger.produced.borrow().len() > taken.len(),
            "nothing was dropped"
        );
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(q.is_empty() && q.is_shut_down());
        for (job, result) in done.iter() {
            assert_eq!(*result, crunch(*job));
            assert_eq!(ledger.ran[*job as usize].load(Ordering::SeqCst), 1);
        }
    }));
}

// ---------------------------------------------------------------------------
// 2. Rate limiting and retries with backoff, on the paused clock
// ---------------------------------------------------------------------------

/// Milliseconds since `start` on the (paused) clock.
fn ms(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64
}

/// A call to a flaky service: some CPU work on the blocking pool (the
/// paused clock stands still meanwhile), then 100 ms of waiting; request
/// `r` fails its first `fails[r]` attempts.
async fn flaky_call(fails: &[u32], r: usize, attempt: u32) -> Result<(), ()> {
    let work = eddy::to_thread(move || {
        // Long enough for the loop to go idle while it runs.
        std::thread::sleep(Duration::from_millis(2));
        crunch(r as u32 + attempt)
    });
    assert_eq!(work.await.unwrap(), crunch(r as u32 + attempt));
    eddy::sleep(Duration::from_millis(100)).await;
    if attempt < fails[r] {
        Err(())
    } else {
        Ok(())
    }
}

#[test]
fn rate_limiter_and_retry_with_backoff_follow_an_exact_virtual_schedule() {
    paused().block_on(guard("rate limiter app", async {
        // At most two calls in flight; a failed call releases its slot and
        // backs off 50 ms, 100 ms, ... before queueing again.
        let start = Instant::now();
        let slots = Rc::new(Semaphore::new(2));
        let fails = Rc::new([0, 2, 0, 1]);
        let in_flight = Rc::new(Cell::new(0));
        let most = Rc::new(Cell::new(0));
        let requests = (0..4).map(|r| {
            let (slots, fails, in_flight, most) = (
                slots.clone(),
                fails.clone(),
                in_flight.clone(),
                most.clone(),
            );
            eddy::spawn(async move {
                let mut attempts = Vec::new();
                for attempt in 0.. {
                    let outcome = {
                        let _slot = slots.acquire().await;
                        attempts.push(ms(start));
                        in_flight.set(in_flight.get() + 1);
                        most.set(most.get().max(in_flight.get()));
                        let outcome = flaky_call(&fails[..], r, attempt).await;
                        in_flight.set(in_flight.get() - 1);
                        outcome
                    };
                    if outcome.is_ok() {
                        break;
                    }
                    eddy::sleep(Duration::from_millis(50 << attempt)).await;
                }
                (attempts, ms(start))
            })
        });
        let results: Vec<_> = eddy::gather_all(requests)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(
            results,
            [
                (vec![0], 100),
                (vec![0, 200, 400], 500),
                (vec![100], 200),
                (vec![100, 250], 350),
            ]
        );
        assert_eq!(most.get(), 2);

        // A token bucket: three tokens, one more every 100 ms (never more
        // than three), refilled by a task ticking an interval.
        let start = Instant::now();
        let bucket = Rc::new(Semaphore::new(3));
        let refill = {
            let bucket = bucket.clone();
            eddy::spawn(async move {
                let mut every = eddy::time::interval(Duration::from_millis(100));
                every.tick().await; // the first tick is now
                loop {
                    every.tick().await;
                    if bucket.available_permits() < 3 {
                        bucket.add_permits(1);
                    }
                }
            })
        };
        let take = |bucket: Rc<Semaphore>| async move {
            bucket.acquire().await.forget();
            ms(start)
        };
        let first = eddy::gather_all((0..8).map(|_| take(bucket.clone()))).await;
        assert_eq!(first, [0, 0, 0, 100, 200, 300, 400, 500]);
        // Quiet until 1050 ms: the bucket fills up to three, not more.
        eddy::time::sleep_until(start + Duration::from_millis(1050)).await;
        assert_eq!(bucket.available_permits(), 3);
        let burst = eddy::gather_all((0..5).map(|_| take(bucket.clone()))).await;
        assert_eq!(burst, [1050, 1050, 1050, 1100, 1200]);
        refill.cancel();
        assert!(refill.await.unwrap_err().is_cancelled());
    }));
}

// ---------------------------------------------------------------------------
// 3. A subprocess supervisor, shut down gracefully by SIGUSR1
// ---------------------------------------------------------------------------

/// One child program under supervision.
struct Spec {
    name: &'static str,
    script: String,
    /// Restarts allowed after a failure (a non-zero exit or a kill for
    /// silence).
    restarts: usize,
    /// How long it may stay silent once it has started talking.
    quiet: Duration,
    /// Lines seen over all its runs, for the test to watch.
    seen: Rc<Cell<usize>>,
    /// A program whose output is piped into `script`'s input.
    feed: Option<&'static str>,
}

/// How one run of a child ended.
#[derive(Debug, PartialEq)]
enum End {
    /// It exited with this code.
    Exit(i32),
    /// It went quiet for too long and was killed (SIGKILL).
    KilledQuiet,
    /// The app shut down and terminated it (SIGTERM).
    Terminated,
}

/// One run: the child's stdout lines, how it ended, and how its feed
/// ended (its exit code, or 128 + the signal that killed it, as a shell
/// reports it).
type RunLog = (Vec<String>, End, Option<i32>);

/// Runs `spec` until it succeeds, runs out of restarts or the app shuts
/// down; returns every run.
async fn supervise(spec: Spec, shutdown: Rc<Event>) -> std::io::Result<Vec<RunLog>> {
    use eddy::process::{Command, Stdio};
    use std::os::unix::process::ExitStatusExt;

    let mut runs = Vec::new();
    for _ in 0..=spec.restarts {
        let mut feed = match spec.feed {
            Some(feed) => Some(
                Command::shell(feed)
                    .stdout(Stdio::piped())
                    .kill_on_drop(true)
                    .spawn()?,
            ),
            None => None,
        };
        let mut command = Command::shell(&spec.script);
        command.stdout(Stdio::piped()).kill_on_drop(true);
        if let Some(feed) = &mut feed {
            command.stdin(Stdio::try_from(feed.stdout.take().unwrap())?);
        }
        let mut child = command.spawn()?;
        // The builder keeps its copy of the feed's pipe (it could spawn
        // again): while it lives, the feed would never see a broken pipe.
        drop(command);
        let mut out = child.stdout.take().unwrap().into_stream_reader();
        let mut lines = Vec::new();
        // Generous until the first line (a loaded machine may be slow to
        // start a shell), then `spec.quiet` after each line.
        let streamed = eddy::time::deadline(Duration::from_secs(20), |quiet| {
            let (lines, out, shutdown, spec) = (&mut lines, &mut out, &shutdown, &spec);
            async move {
                loop {
                    let line = futures::select_biased! {
                        _ = shutdown.wait().fuse() => return Ok(false),
                        line = out.read_line().fuse() => line,
                    };
                    let line = line.map_err(std::io::Error::from)?;
                    if line.is_empty() {
                        return Ok(true); // end of its output
                    }
                    quiet.reschedule(Some(Instant::now() + spec.quiet));
                    spec.seen.set(spec.seen.get() + 1);
                    lines.push(String::from_utf8(line).unwrap().trim_end().to_string());
                }
            }
        })
        .await;
        let end = match streamed {
            Ok(Ok(true)) => match child.wait().await?.code() {
                Some(code) => End::Exit(code),
                None => panic!("{} died of a signal nobody sent", spec.name),
            },
            Ok(Ok(false)) => {
                child.terminate()?;
                let status = child.wait().await?;
                assert_eq!(status.signal(), Some(15), "{}: {status:?}", spec.name);
                End::Terminated
            }
            Ok(Err(e)) => return Err(e),
            Err(_quiet) => {
                child.kill()?;
                let status = child.wait().await?;
                assert_eq!(status.signal(), Some(9), "{}: {status:?}", spec.name);
                End::KilledQuiet
            }
        };
        // The feed ends when its reader does (a broken pipe, at worst).
        let feed = match feed {
            Some(mut feed) => {
                let status = feed.wait().await?;
                Some(
                    status
                        .code()
                        .unwrap_or_else(|| 128 + status.signal().unwrap()),
                )
            }
            None => None,
        };
        let again = matches!(end, End::Exit(c) if c != 0) || end == End::KilledQuiet;
        runs.push((lines, end, feed));
        if !again {
            break;
        }
    }
    Ok(runs)
}

#[test]
fn subprocess_supervisor_restarts_kills_and_shuts_down_on_sigusr1() {
    use eddy::signal::unix::{signal, SignalKind};

    eddy::run(slow_guard("supervisor app", async {
        let dir = tempfile::tempdir().unwrap();
        let counter = dir.path().join("attempts");
        let shutdown = Rc::new(Event::new());
        // The app's signal handler: SIGUSR1 starts a graceful shutdown.
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        let on_signal = {
            let shutdown = shutdown.clone();
            eddy::spawn(async move {
                usr1.recv().await.unwrap();
                shutdown.set();
            })
        };
        let spec = |name, script: String, restarts, quiet_ms| Spec {
            name,
            script,
            restarts,
            quiet: Duration::from_millis(quiet_ms),
            seen: Rc::default(),
            feed: None,
        };
        let specs = [
            spec("ok", "echo one; echo two".into(), 0, 5_000),
            spec(
                "flaky",
                format!(
                    "n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}; \
                     echo attempt $n; exit $((n < 3))",
                    c = counter.display()
                ),
                3,
                5_000,
            ),
            spec("quiet", "echo started; exec sleep 30".into(), 1, 200),
            Spec {
                // `yes` is cut off by a broken pipe once `head` has its lines.
                feed: Some("yes tick"),
                ..spec("pipeline", "head -n 3; echo done".into(), 0, 5_000)
            },
            spec(
                "daemon",
                "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.02; done".into(),
                0,
                5_000,
            ),
        ];
        let daemon_seen = specs[4].seen.clone();
        let group = TaskGroup::<std::io::Error>::new();
        let runs: Vec<_> = specs
            .into_iter()
            .map(|s| group.spawn(supervise(s, shutdown.clone())).unwrap())
            .collect();
        wait_while("the short-lived children", || {
            !runs[..4].iter().all(|h| h.is_finished()) || daemon_seen.get() < 5
        })
        .await;
        assert!(!shutdown.is_set());
        raise("-USR1").await;
        group.join().await.unwrap();
        on_signal.await.unwrap();

        let mut runs = eddy::gather_all(runs).await.into_iter().map(|r| r.unwrap());
        let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            runs.next().unwrap(),
            [(lines(&["one", "two"]), End::Exit(0), None)]
        );
        assert_eq!(
            runs.next().unwrap(),
            [
                (lines(&["attempt 1"]), End::Exit(1), None),
                (lines(&["attempt 2"]), End::Exit(1), None),
                (lines(&["attempt 3"]), End::Exit(0), None),
            ]
        );
        assert_eq!(
            runs.next().unwrap(),
            [
                (lines(&["started"]), End::KilledQuiet, None),
                (lines(&["started"]), End::KilledQuiet, None),
            ]
        );
        assert_eq!(
            runs.next().unwrap(),
            [(
                lines(&["tick", "tick", "tick", "done"]),
                End::Exit(0),
                Some(128 + 13)
            )]
        );
        let daemon = runs.next().unwrap();
        assert_eq!(daemon.len(), 1);
        let (ticks, end, feed) = &daemon[0];
        assert_eq!((end, feed), (&End::Terminated, &None));
        assert!(ticks.len() >= 5);
        for (i, tick) in ticks.iter().enumerate() {
            assert_eq!(*tick, format!("tick {}", i + 1));
        }
    }));
}

// ---------------------------------------------------------------------------
// 4. A single-flight cache in front of a slow backend
// ---------------------------------------------------------------------------

type Reply = eddy::sync::oneshot::Sender<Result<String, String>>;
/// Where the backend takes requests: a key and where to answer.
type Requests = eddy::sync::mpsc::Sender<(String, Reply)>;

/// The slow backend: a task answering requests from a channel, each after
/// 100 ms. The first request for k7 fails; the first answer for k5 is
/// garbage that makes the cache code panic. Counts requests per key.
fn start_backend() -> (Requests, Rc<RefCell<HashMap<String, usize>>>) {
    let (tx, mut rx) = eddy::sync::mpsc::channel::<(String, Reply)>(16);
    let fetches = Rc::new(RefCell::new(HashMap::<String, usize>::new()));
    let counts = fetches.clone();
    eddy::spawn(async move {
        while let Some((key, reply)) = rx.recv().await {
            let n = {
                let mut counts = counts.borrow_mut();
                let n = counts.entry(key.clone()).or_insert(0);
                *n += 1;
                *n
            };
            eddy::spawn(async move {
                eddy::sleep(Duration::from_millis(100)).await;
                let answer = match (n, key.as_str()) {
                    (1, "k7") => Err(format!("backend failed on {key}")),
                    (1, "k5") => Ok("\u{fffd}garbage".to_string()),
                    _ => Ok(format!("value of {key}")),
                };
                let _ = reply.send(answer); // the asker may be gone
            });
        }
    });
    (tx, fetches)
}

/// How a cache makes concurrent getters of one key share one fetch.
#[derive(Clone, Copy, Debug)]
enum Flight {
    /// asyncio's `async with locks[key]: if key not in cache: cache[key] =
    /// await fetch(key)`: one FIFO lock per key, held across the fetch.
    Lock,
    /// `OnceCell::get_or_try_init`: one initialiser at a time, the others
    /// wait for its value.
    Once,
}

/// One key's slot, in the form its [`Flight`] needs.
enum Slot {
    Lock(eddy::sync::Mutex<Option<String>>),
    Once(eddy::sync::OnceCell<String>),
}

/// A cache in front of the backend. A getter cancelled mid-fetch (its
/// lock guard or initialiser dropped) lets the next in line fetch; a
/// failed fetch fails its own getter only, and the next one fetches again.
struct Cache {
    flight: Flight,
    backend: Requests,
    slots: RefCell<HashMap<String, Rc<Slot>>>,
}

impl Cache {
    fn new(flight: Flight, backend: Requests) -> Rc<Cache> {
        Rc::new(Cache {
            flight,
            backend,
            slots: RefCell::default(),
        })
    }

    async fn fetch(&self, key: &str) -> Result<String, String> {
        let (reply, answer) = eddy::sync::oneshot::channel();
        self.backend
            .send((key.to_string(), reply))
            .await
            .map_err(|_| "backend gone".to_string())?;
        let value = answer
            .await
            .map_err(|_| "backend dropped the request".to_string())??;
        // A bug in the cache's own code: it panics on what it cannot parse.
        assert!(!value.starts_with('\u{fffd}'), "cannot parse {value:?}");
        Ok(value)
    }

    async fn get(&self, key: &str) -> Result<String, String> {
        let slot = self
            .slots
            .borrow_mut()
            .entry(key.to_string())
            .or_insert_with(|| {
                Rc::new(match self.flight {
                    Flight::Lock => Slot::Lock(eddy::sync::Mutex::new(None)),
                    Flight::Once => Slot::Once(eddy::sync::OnceCell::new()),
                })
            })
            .clone();
        match &*slot {
            Slot::Lock(lock) => {
                let mut value = lock.lock().await;
                if let Some(v) = &*value {
                    return Ok(v.clone());
                }
                let v = self.fetch(key).await?;
                *value = Some(v.clone());
                Ok(v)
            }
            Slot::Once(cell) => cell.get_or_try_init(|| self.fetch(key)).await.cloned(),
        }
    }
}

/// 200 getters over 10 keys at once on the paused clock; the first getter
/// of k3 is cancelled halfway through its fetch, k7's first fetch fails,
/// and the first getter of k5 panics while it holds the flight.
async fn cache_scenario(flight: Flight) {
    let start = Instant::now();
    let (backend, fetches) = start_backend();
    let cache = Cache::new(flight, backend);
    let mut getters = Vec::new();
    for i in 0..200 {
        let key = format!("k{}", i % 10);
        let cache = cache.clone();
        getters.push((
            key.clone(),
            eddy::spawn(async move {
                let got = cache.get(&key).await;
                (got, ms(start))
            }),
        ));
    }
    eddy::sleep(Duration::from_millis(50)).await;
    getters[3].1.cancel();

    for (i, (key, getter)) in getters.into_iter().enumerate() {
        let got = getter.await;
        let value = Ok(format!("value of {key}"));
        match (i, key.as_str()) {
            (3, _) => assert!(got.unwrap_err().is_cancelled()),
            (5, _) => assert!(got.unwrap_err().is_panic()),
            (_, "k5") => assert_eq!(got.unwrap(), (value, 200), "{flight:?}"),
            // The getter of k3 that took over at 50 ms fetched again.
            (_, "k3") => assert_eq!(got.unwrap(), (value, 150), "{flight:?}"),
            // k7's first fetch fails for its own getter alone; the next
            // getter in line fetches again.
            (7, _) => assert_eq!(
                got.unwrap(),
                (Err("backend failed on k7".into()), 100),
                "{flight:?}"
            ),
            (_, "k7") => assert_eq!(got.unwrap(), (value, 200), "{flight:?}"),
            _ => assert_eq!(got.unwrap(), (value, 100), "{flight:?}"),
        }
    }
    let mut counts: Vec<_> = fetches.borrow().clone().into_iter().collect();
    counts.sort();
    let mut want: Vec<_> = (0..10).map(|k| (format!("k{k}"), 1)).collect();
    for k in [3, 5, 7] {
        want[k].1 = 2;
    }
    assert_eq!(counts, want, "{flight:?}: one fetch per key");

    // Later gets are served from the cache: no fetch, no wait.
    let now = ms(start);
    let again = eddy::gather_all((0..10).map(|k| {
        let cache = cache.clone();
        async move { cache.get(&format!("k{k}")).await.unwrap() }
    }))
    .await;
    assert_eq!(again[3], "value of k3");
    assert_eq!(ms(start), now);
    assert_eq!(fetches.borrow().values().sum::<usize>(), 13);
}

#[test]
fn single_flight_cache_survives_a_cancelled_a_failed_and_a_panicking_fetcher() {
    for flight in [Flight::Lock, Flight::Once] {
        paused().block_on(guard("cache app", cache_scenario(flight)));
    }
}
