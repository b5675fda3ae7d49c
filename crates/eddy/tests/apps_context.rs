//! Application-style programs around context variables: a TCP server
//! whose logs carry a per-connection request id read from a `ContextVar`
//! by a `tracing` subscriber (through helper tasks, a `TaskGroup::run`
//! block, `to_thread` and cancellation by timeouts), a queue-fed worker
//! pool in `TaskGroup::run` whose failure cancels workers mid-`get`, a
//! file pipeline whose cancelled calls must still land in program order,
//! and contexts carried by callbacks, plain threads and `Builder::context`.

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use common::port::{close_server, connect, guard, settle};
use eddy::sync::Queue;
use eddy::task::{copy_context, Builder, ContextSnapshot, ContextVar};
use eddy::TaskGroup;

static REQUEST_ID: ContextVar<u64> = ContextVar::new("request_id");
static STEP: ContextVar<String> = ContextVar::new("step");

// ---------------------------------------------------------------------
// A `tracing` subscriber that stamps every event with the context's
// request id, as a logging layer of a real service would.

#[derive(Clone, Debug)]
struct Line {
    app: String,
    /// The id the code logging the line says it works for.
    claimed: u64,
    /// `REQUEST_ID` as the subscriber saw it.
    ctx: Option<u64>,
    /// `STEP` as the subscriber saw it.
    step: Option<String>,
    msg: String,
}

static LINES: Mutex<Vec<Line>> = Mutex::new(Vec::new());

struct Collector;

#[derive(Default)]
struct Fields {
    app: String,
    req: u64,
    msg: String,
}

impl tracing::field::Visit for Fields {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        if field.name() == "req" {
            self.req = value;
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "app" {
            self.app = value.to_string();
        }
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.msg = format!("{value:?}"),
            "app" => self.app = format!("{value:?}").trim_matches('"').to_string(),
            _ => {}
        }
    }
}

impl tracing::Subscriber for Collector {
    fn enabled(&self, meta: &tracing::Metadata<'_>) -> bool {
        meta.target() == "apps_context"
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let line = Line {
            app: f.app,
            claimed: f.req,
            ctx: REQUEST_ID.get(),
            step: STEP.get(),
            msg: f.msg,
        };
        LINES.lock().unwrap().push(line);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Installs the collector process-wide (pool threads log too).
fn install_collector() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| tracing::subscriber::set_global_default(Collector).unwrap());
}

fn lines_of(app: &str) -> Vec<Line> {
    let lines = LINES.lock().unwrap();
    lines.iter().filter(|l| l.app == app).cloned().collect()
}

macro_rules! log {
    ($app:expr, $req:expr, $msg:expr) => {
        tracing::info!(target: "apps_context", app = $app, req = $req, "{}", $msg)
    };
}

/// Logs `msg` when dropped unless disarmed: a `finally:` that runs only
/// when the future holding it is cancelled.
struct OnCancel {
    app: &'static str,
    req: u64,
    msg: &'static str,
}

impl OnCancel {
    fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for OnCancel {
    fn drop(&mut self) {
        log!(self.app, self.req, self.msg);
    }
}

// ---------------------------------------------------------------------
// 1. A request-id logging server.

/// One request: `"<id> ok"` or `"<id> slow"`. The id goes into the
/// context; every log line below must carry it, wherever it is logged.
async fn serve_request(id: u64, slow: bool) -> &'static str {
    const APP: &str = "server";
    REQUEST_ID.set(id);
    log!(APP, id, "start");
    let helper = eddy::spawn(async move {
        eddy::yield_now().await;
        log!(APP, id, "helper");
    });
    let work = async move {
        let group = TaskGroup::<String>::new();
        let tg = group.spawner();
        group
            .run(async move {
                let body_guard = OnCancel {
                    app: APP,
                    req: id,
                    msg: "body cancelled",
                };
                for k in 0..2 {
                    tg.spawn(async move {
                        STEP.set(format!("child {k}"));
                        let child_guard = OnCancel {
                            app: APP,
                            req: id,
                            msg: "child cancelled",
                        };
                        let seen = eddy::to_thread(move || {
                            log!(APP, id, "thread");
                            REQUEST_ID.get()
                        })
                        .await
                        .unwrap();
                        if seen != Some(id) {
                            return Err(format!("to_thread saw {seen:?} in request {id}"));
                        }
                        if slow {
                            std::future::pending::<()>().await;
                        }
                        child_guard.disarm();
                        Ok(())
                    })
                    .unwrap();
                }
                log!(APP, id, "body");
                if slow {
                    std::future::pending::<()>().await;
                }
                body_guard.disarm();
                REQUEST_ID.get()
            })
            .await
    };
    let limit = if slow {
        Duration::from_millis(5)
    } else {
        Duration::from_secs(10)
    };
    let outcome = eddy::time::timeout(limit, work).await;
    helper.await.unwrap();
    let reply = match outcome {
        Ok(Ok(Some(seen))) if seen == id => "done",
        Ok(Ok(_)) => "wrong id in body",
        Ok(Err(_)) => "failed",
        Err(_) => "timeout",
    };
    log!(APP, id, "end");
    reply
}

#[test]
fn server_logs_carry_each_connections_request_id() {
    install_collector();
    const N: u64 = 24;
    eddy::run(guard("request-id server", async {
        let server = eddy::io::start_server("127.0.0.1:0", |mut r, mut w| async move {
            let line = r.read_line().await.unwrap();
            let line = String::from_utf8(line).unwrap();
            let mut words = line.split_whitespace();
            let id: u64 = words.next().unwrap().parse().unwrap();
            let slow = words.next() == Some("slow");
            let reply = serve_request(id, slow).await;
            // The handler's own context still holds its id.
            let id_now = REQUEST_ID.get().unwrap();
            w.write(format!("{reply} {id_now}\n").as_bytes()).unwrap();
            w.drain().await.unwrap();
            w.close();
            w.wait_closed().await;
        })
        .await
        .unwrap();
        let server = Rc::new(server);
        let clients: Vec<_> = (1..=N)
            .map(|id| {
                let server = server.clone();
                eddy::spawn(async move {
                    let (mut r, mut w) = connect(&server).await;
                    let mode = if id % 3 == 0 { "slow" } else { "ok" };
                    w.write(format!("{id} {mode}\n").as_bytes()).unwrap();
                    w.drain().await.unwrap();
                    let reply = String::from_utf8(r.read_line().await.unwrap()).unwrap();
                    (id, mode, reply)
                })
            })
            .collect();
        for c in clients {
            let (id, mode, reply) = c.await.unwrap();
            let want = if mode == "slow" { "timeout" } else { "done" };
            assert_eq!(reply, format!("{want} {id}\n"), "request {id} ({mode})");
        }
        close_server(&server).await;
    }));

    let lines = lines_of("server");
    for l in &lines {
        assert_eq!(
            l.ctx,
            Some(l.claimed),
            "log line {l:?} carries another request's id"
        );
    }
    for id in 1..=N {
        let slow = id % 3 == 0;
        let count = |msg: &str| {
            lines
                .iter()
                .filter(|l| l.claimed == id && l.msg == msg)
                .count()
        };
        for msg in ["start", "helper", "body", "end"] {
            assert_eq!(count(msg), 1, "request {id}: {msg:?} lines");
        }
        if slow {
            assert_eq!(count("body cancelled"), 1, "request {id}");
            // Dropped with the group by the timeout, inside the handler's
            // poll: each child's destructor still sees its own context.
            let mut steps: Vec<_> = lines
                .iter()
                .filter(|l| l.claimed == id && l.msg == "child cancelled")
                .map(|l| l.step.clone())
                .collect();
            steps.sort();
            assert_eq!(
                steps,
                [0, 1].map(|k| Some(format!("child {k}"))),
                "request {id}"
            );
        } else {
            assert_eq!(count("thread"), 2, "request {id}");
            assert_eq!(count("body cancelled") + count("child cancelled"), 0);
        }
    }
}

/// A cancelled task's destructors (asyncio: its `finally:` blocks) run in
/// the task's own context, not in the context of whoever cancelled it.
#[test]
fn cancelled_group_children_run_their_destructors_in_their_own_context() {
    install_collector();
    const APP: &str = "cancel-context";
    eddy::run(guard("cancelled children", async {
        REQUEST_ID.set(7);
        STEP.set("parent".to_string());
        let group = TaskGroup::<&str>::new();
        let tg = group.spawner();
        let out = group
            .run(async move {
                for k in 0..3 {
                    tg.spawn(async move {
                        STEP.set(format!("child {k}"));
                        let _g = OnCancel {
                            app: APP,
                            req: 7,
                            msg: "child cancelled",
                        };
                        std::future::pending::<()>().await;
                        Ok(())
                    })
                    .unwrap();
                }
                settle().await;
                tg.spawn(async { Err::<(), _>("boom") }).unwrap();
                let _g = OnCancel {
                    app: APP,
                    req: 7,
                    msg: "body cancelled",
                };
                std::future::pending::<()>().await;
            })
            .await;
        assert_eq!(out.unwrap_err().first(), &"boom");
        assert_eq!(STEP.get().as_deref(), Some("parent"));
        // Left for eddy::run to cancel as it ends.
        eddy::spawn(async {
            STEP.set("orphan".to_string());
            let _g = OnCancel {
                app: APP,
                req: 7,
                msg: "orphan cancelled",
            };
            std::future::pending::<()>().await;
        });
        settle().await;
    }));
    let lines = lines_of(APP);
    let mut children: Vec<_> = lines
        .iter()
        .filter(|l| l.msg == "child cancelled")
        .map(|l| l.step.clone())
        .collect();
    children.sort();
    assert_eq!(
        children,
        [0, 1, 2].map(|k| Some(format!("child {k}"))),
        "each cancelled child's destructor should see its own STEP"
    );
    let body: Vec<_> = lines
        .iter()
        .filter(|l| l.msg == "body cancelled")
        .map(|l| l.step.clone())
        .collect();
    assert_eq!(body, [Some("parent".to_string())]);
    let orphan: Vec<_> = lines
        .iter()
        .filter(|l| l.msg == "orphan cancelled")
        .map(|l| l.step.clone())
        .collect();
    assert_eq!(orphan, [Some("orphan".to_string())]);
    assert!(lines.iter().all(|l| l.ctx == Some(7)), "{lines:?}");
}

// ---------------------------------------------------------------------
// 2. A crawler-style worker pool on a Queue inside TaskGroup::run.

/// Jobs 0..jobs go into a queue that `workers` workers drain inside
/// `TaskGroup::run`; job `fail_at` fails (without `task_done`). Checks
/// the queue's order and accounting afterwards (after an immediate
/// shutdown when `fail_at` is odd), then returns (jobs taken, in order;
/// jobs marked done).
async fn crawl(jobs: u32, workers: usize, fail_at: u32, yield_every: u32) -> (Vec<u32>, usize) {
    let q = Rc::new(Queue::new(4));
    let taken = Rc::new(RefCell::new(Vec::new()));
    let done = Rc::new(Cell::new(0u32));
    let group = TaskGroup::<String>::new();
    let tg = group.spawner();
    let result = {
        let (q, taken, done) = (q.clone(), taken.clone(), done.clone());
        group
            .run(async move {
                for w in 0..workers {
                    let (q, taken, done) = (q.clone(), taken.clone(), done.clone());
                    tg.spawn(async move {
                        STEP.set(format!("worker {w}"));
                        loop {
                            let job = match q.get().await {
                                Ok(job) => job,
                                Err(_) => return Ok(()),
                            };
                            taken.borrow_mut().push(job);
                            if job == fail_at {
                                return Err(format!("job {job} failed in worker {w}"));
                            }
                            if job % yield_every == 0 {
                                eddy::yield_now().await;
                            }
                            done.set(done.get() + 1);
                            q.task_done().unwrap();
                        }
                    })
                    .unwrap();
                }
                for job in 0..jobs {
                    q.put(job).await.unwrap();
                }
                q.join().await;
                "all crawled"
            })
            .await
    };
    let errors = result.expect_err("the failing job fails the group");
    assert_eq!(errors.len(), 1);
    assert!(errors.first().starts_with(&format!("job {fail_at} failed")));

    let taken = taken.take();
    let done = done.get() as usize;
    if fail_at % 2 == 1 {
        // The application gives up: an immediate shutdown drops what is
        // queued and counts it done; what workers took is still owed.
        let put = taken.len() + q.len();
        assert_eq!(q.unfinished_tasks(), put - done);
        q.shutdown(true);
        assert!(q.is_empty());
        assert!(q.try_get().is_err());
        assert!(q.try_put(999).is_err());
        assert_eq!(q.unfinished_tasks(), taken.len() - done);
        assert_eq!(taken, (0..taken.len() as u32).collect::<Vec<_>>());
    } else {
        let mut left = Vec::new();
        while let Ok(job) = q.try_get() {
            left.push(job);
        }
        // FIFO: whatever was cancelled, workers took a prefix of the jobs
        // put so far, in order, and the queue holds the rest of them.
        let put = taken.len() + left.len();
        let all: Vec<u32> = taken.iter().chain(&left).copied().collect();
        assert_eq!(
            all,
            (0..put as u32).collect::<Vec<_>>(),
            "taken {taken:?} left {left:?}"
        );
        // Every item put and not marked done is still owed a task_done.
        assert_eq!(q.unfinished_tasks(), put - done);
    }
    // Finish the accounting: join returns once they are all marked.
    for _ in 0..q.unfinished_tasks() {
        q.task_done().unwrap();
    }
    assert!(q.task_done().is_err());
    guard("join after failure", q.join()).await;
    (taken, done)
}

#[test]
fn worker_pool_failure_keeps_queue_order_and_accounting() {
    eddy::run(guard("worker pool", async {
        // The first job fails at once. As in asyncio, siblings already
        // scheduled in that loop iteration still take their step (each
        // takes a job and yields) before the failure cancels them.
        let (taken, done) = crawl(40, 4, 0, 1).await;
        assert_eq!((taken.as_slice(), done), (&[0, 1, 2, 3][..], 0));
        // Failures at many points, with and without yields in the work.
        for fail_at in [1, 3, 7, 13, 25, 39] {
            for yield_every in [1, 2, 5] {
                for workers in [1, 3, 8] {
                    let (taken, _) = crawl(40, workers, fail_at, yield_every).await;
                    assert!(taken.contains(&fail_at));
                }
            }
        }
    }));
}

/// The workers' gets are cancelled right after a put woke them: the
/// item must stay in the queue for the next getter, in order.
#[test]
fn cancelled_woken_getters_pass_items_on_in_order() {
    eddy::run(guard("cancelled getters", async {
        let q = Rc::new(Queue::<u32>::new(0));
        let getters: Vec<_> = (0..5)
            .map(|_| {
                let q = q.clone();
                eddy::spawn(async move { q.get().await.unwrap() })
            })
            .collect();
        settle().await;
        for i in 0..5 {
            q.try_put(i).unwrap();
        }
        // Woken, not yet run: cancel every other one.
        for g in getters.iter().step_by(2) {
            g.cancel();
        }
        let mut got = Vec::new();
        for (i, g) in getters.into_iter().enumerate() {
            match g.await {
                Ok(v) => got.push(v),
                Err(e) => assert!(e.is_cancelled(), "getter {i}: {e:?}"),
            }
        }
        assert_eq!(got, [0, 1]);
        assert_eq!(q.try_get(), Ok(2));
        assert_eq!(q.try_get(), Ok(3));
        assert_eq!(q.try_get(), Ok(4));
        assert_eq!(q.unfinished_tasks(), 5);
    }));
}

// ---------------------------------------------------------------------
// 3. A file pipeline with cancelled calls.

/// Runs `op` to a cancellation point: polled once and dropped, or under
/// a timeout of up to 200 µs. `None` if it was cancelled.
async fn cancellable<F: std::future::Future>(rng: &mut common::Rng, op: F) -> Option<F::Output> {
    use futures::FutureExt;
    match rng.below(3) {
        0 => op.now_or_never(),
        _ => eddy::time::timeout(rng.micros(200), op).await.ok(),
    }
}

#[test]
fn file_pipeline_with_cancelled_calls_lands_in_program_order() {
    use futures::{AsyncSeekExt, AsyncWriteExt};
    use std::io::SeekFrom;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.log");
    eddy::run(guard("file pipeline", async {
        let mut rng = common::Rng::new(0x5eed);
        let mut f = eddy::fs::File::create(&path).await.unwrap();
        // What the file must hold: every write that returned Ok(n) put
        // its first n bytes at the position, whatever was cancelled.
        let mut model: Vec<u8> = Vec::new();
        let mut pos = 0usize;
        let mut cancelled = 0;
        for i in 0..300u32 {
            match rng.below(8) {
                0 => {
                    // A no-op truncation to the length the file must have:
                    // if it ran out of order it would cut a write off.
                    let len = model.len() as u64;
                    if cancellable(&mut rng, f.set_len(len)).await.is_none() {
                        cancelled += 1;
                    }
                }
                1 => {
                    if cancellable(&mut rng, f.sync_data()).await.is_none() {
                        cancelled += 1;
                    }
                }
                2 => {
                    if cancellable(&mut rng, f.sync_all()).await.is_none() {
                        cancelled += 1;
                    }
                }
                3 => {
                    // A real truncation, not cancelled, then append there.
                    let len = model.len() / 2;
                    f.set_len(len as u64).await.unwrap();
                    model.truncate(len);
                    pos = f.seek(SeekFrom::Start(len as u64)).await.unwrap() as usize;
                }
                4 => {
                    // A cancelled seek somewhere else, then the seek the
                    // program means: the file must end up there.
                    let elsewhere = SeekFrom::Start(rng.below(1000));
                    if cancellable(&mut rng, f.seek(elsewhere)).await.is_none() {
                        cancelled += 1;
                    }
                    let back = f.seek(SeekFrom::Start(pos as u64)).await.unwrap();
                    assert_eq!(back, pos as u64);
                }
                5 => {
                    // A cancelled metadata, then one that must see every
                    // write so far (pending writes land first).
                    if cancellable(&mut rng, f.metadata()).await.is_none() {
                        cancelled += 1;
                    }
                    assert_eq!(f.metadata().await.unwrap().len(), model.len() as u64);
                }
                _ => {
                    let rec = format!("record {i};");
                    match cancellable(&mut rng, f.write(rec.as_bytes())).await {
                        Some(n) => {
                            let n = n.unwrap();
                            model.truncate(pos);
                            model.extend_from_slice(&rec.as_bytes()[..n]);
                            pos += n;
                        }
                        None => cancelled += 1,
                    }
                }
            }
        }
        // Polled once and dropped, a call that had to wait for the pool
        // was cancelled: some were.
        assert!(cancelled > 0);
        f.flush().await.unwrap();
        f.sync_all().await.unwrap();
        drop(f);
        let on_disk = eddy::fs::read(&path).await.unwrap();
        assert_eq!(
            String::from_utf8_lossy(&on_disk),
            String::from_utf8_lossy(&model),
            "{cancelled} calls were cancelled"
        );
    }));
}

// ---------------------------------------------------------------------
// 4. Contexts through callbacks, plain threads and Builder::context.

#[test]
fn callbacks_threads_and_builder_context_carry_the_right_values() {
    eddy::run(guard("contexts", async {
        REQUEST_ID.set(1);
        let seen = Rc::new(RefCell::new(Vec::new()));
        // Callbacks see the context where they were scheduled, even when
        // it changes before they run; their sets die with them.
        let task = {
            let seen = seen.clone();
            eddy::spawn(async move {
                REQUEST_ID.set(2);
                let s = seen.clone();
                eddy::call_soon(move || {
                    s.borrow_mut().push(("soon", REQUEST_ID.get()));
                    REQUEST_ID.set(99);
                });
                let s = seen.clone();
                eddy::call_later(Duration::from_millis(1), move || {
                    s.borrow_mut().push(("later", REQUEST_ID.get()));
                });
                REQUEST_ID.set(3);
                eddy::sleep(Duration::from_millis(5)).await;
                REQUEST_ID.get()
            })
        };
        assert_eq!(task.await.unwrap(), Some(3));
        assert_eq!(*seen.borrow(), [("soon", Some(2)), ("later", Some(2))]);

        // A snapshot taken to a plain thread: what the thread sets stays in
        // the snapshot, and the thread's own context never sees it.
        REQUEST_ID.set(10);
        let mut ctx = copy_context();
        let (ctx_back, outside) = std::thread::spawn(move || {
            let inside = ctx.run(|| {
                let before = REQUEST_ID.get();
                REQUEST_ID.set(11);
                STEP.set("from thread".to_string());
                before
            });
            assert_eq!(inside, Some(10));
            (ctx, REQUEST_ID.get())
        })
        .join()
        .unwrap();
        assert_eq!(outside, None);
        assert_eq!(ctx_back.get(&REQUEST_ID), Some(11));
        assert_eq!(REQUEST_ID.get(), Some(10));

        // ... and handed to a task with Builder::context: the task starts
        // with the thread's values; its own sets do not reach the snapshot
        // (which it took) nor this context.
        let clone = ctx_back.clone();
        let t = Builder::new().context(ctx_back).spawn(async {
            let start = (REQUEST_ID.get(), STEP.get());
            REQUEST_ID.set(12);
            let child = eddy::spawn(async { REQUEST_ID.get() }).await.unwrap();
            (start, child)
        });
        let (start, child) = t.await.unwrap();
        assert_eq!(start, (Some(11), Some("from thread".to_string())));
        assert_eq!(child, Some(12));
        assert_eq!(clone.get(&REQUEST_ID), Some(11));
        assert_eq!(REQUEST_ID.get(), Some(10));

        // A task spawned from another thread's snapshot run, through the
        // runtime's Handle, starts with that snapshot's values.
        let handle = eddy::Handle::current();
        let mut remote = ContextSnapshot::default();
        let join = std::thread::spawn(move || {
            remote.run(|| {
                REQUEST_ID.set(20);
                handle.spawn(async { REQUEST_ID.get() }).unwrap()
            })
        })
        .join()
        .unwrap();
        assert_eq!(join.await.unwrap(), Some(20));

        // Tokens: a reset inside a later run of the same snapshot works;
        // one made in a task and reset in a callback is refused.
        let shared = Arc::new(Mutex::new(copy_context()));
        let token = shared.lock().unwrap().run(|| REQUEST_ID.set(30));
        let reset = shared.lock().unwrap().run(|| REQUEST_ID.reset(token));
        assert_eq!(reset, Ok(()));
        assert_eq!(shared.lock().unwrap().get(&REQUEST_ID), Some(10));
        let token = REQUEST_ID.set(31);
        let refused = Rc::new(Cell::new(false));
        let r = refused.clone();
        eddy::call_soon(move || r.set(REQUEST_ID.reset(token).is_err()));
        settle().await;
        assert!(refused.get());
        assert_eq!(REQUEST_ID.get(), Some(31));
    }));
}

// ---------------------------------------------------------------------
// 5. A value whose destructor sets a variable (an audit guard that
// records that it closed), held in a task's context.

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Counts itself in `LIVE` while alive.
struct Tracked;

impl Tracked {
    fn new() -> Tracked {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Tracked
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

static AUDIT: ContextVar<AuditGuard> = ContextVar::new("audit");
static CLOSED: ContextVar<Tracked> = ContextVar::new("closed");

/// Records, in the current context, that it closed.
struct AuditGuard;

impl Drop for AuditGuard {
    fn drop(&mut self) {
        CLOSED.set(Tracked::new());
    }
}

#[test]
fn a_task_context_value_whose_destructor_sets_a_variable_is_dropped() {
    eddy::run(guard("audit guard", async {
        for cancel in [false, true] {
            let task = eddy::spawn(async move {
                AUDIT.set(AuditGuard);
                if cancel {
                    std::future::pending::<()>().await;
                }
            });
            settle().await;
            task.cancel();
            let _ = task.await;
            // What the guard set as the task's context was dropped went
            // with the task, as every value of that context does.
            assert_eq!(LIVE.load(Ordering::SeqCst), 0, "cancelled: {cancel}");
        }
    }));
}
