//! `compare` workloads for the RESP server: `examples/mini_redis.rs` on
//! eddy against `src/bin/tokio_redis.rs` (the same RESP code on tokio's
//! current-thread runtime), both driven by `redis-benchmark`.
//!
//! * `resp_cpu`: server CPU time per
//!   request under `redis-benchmark -c 50 -P 16 -t ping_mbulk,set,get`
//!   (from `/proc/PID/task/*/schedstat`),
//!   in ns. Skipped (with a printed note) when `redis-benchmark` is absent.
//! * `syscalls_per_req`: system calls per request (`strace -c -f` attached
//!   to the server) under `-P 1`; the `_ns` columns hold calls per request.
//!   Skipped when `strace` or `redis-benchmark` is absent.
//!
//! Both build the two servers first (`cargo build --release`), then run them
//! on free loopback ports.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Workload;

/// The RESP workloads, in table order.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "resp_cpu",
            run: resp_cpu,
        },
        Workload {
            name: "syscalls_per_req",
            run: syscalls_per_req,
        },
    ]
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Builds both servers and returns their paths (eddy, tokio).
fn build_servers() -> Option<(PathBuf, PathBuf)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "eddy-examples",
            "--example",
            "mini_redis",
            "-p",
            "eddy-benches",
            "--bin",
            "tokio_redis",
        ])
        // The workspace this binary was built from, whatever the caller's
        // working directory.
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .status()
        .ok()?;
    if !status.success() {
        println!("note: building mini_redis / tokio_redis failed; RESP lines skipped");
        return None;
    }
    // compare lives in target/<profile>; the servers were built in
    // target/release (the example under examples/).
    let dir = std::env::current_exe()
        .ok()?
        .parent()?
        .parent()?
        .join("release");
    let eddy = dir.join("examples").join("mini_redis");
    let tokio = dir.join("tokio_redis");
    if eddy.exists() && tokio.exists() {
        Some((eddy, tokio))
    } else {
        println!("note: server binaries not found next to {}", dir.display());
        None
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The server and the load generator each get a CPU of their own (when
/// `taskset` exists and the machine has two), so the scheduler does not
/// move them around between runs: CPU time per request depends on how
/// requests batch up, and that depends on who shares a core with whom.
const SERVER_CPU: usize = 0;
const CLIENT_CPU: usize = 1;

fn pinned(bin: &Path, cpu: usize) -> Command {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus >= 2 && have("taskset") {
        let mut c = Command::new("taskset");
        c.args(["-c", &cpu.to_string()]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(bin: &Path) -> Option<Server> {
        let port = free_port();
        let child = pinned(bin, SERVER_CPU)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Server { child, port })
    }

    /// CPU time of the whole process (every thread), in ns, from
    /// `/proc/PID/task/*/schedstat` (nanosecond resolution, unlike the
    /// 10 ms ticks of `/proc/PID/stat`).
    fn cpu_ns(&self) -> Option<f64> {
        let mut total = 0.0;
        for task in std::fs::read_dir(format!("/proc/{}/task", self.child.id())).ok()? {
            let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
            total += stat.split_whitespace().next()?.parse::<f64>().ok()?;
        }
        Some(total)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs redis-benchmark against `port`; true if it exited cleanly.
fn benchmark(port: u16, tests: &str, requests: u32, pipeline: u32) -> bool {
    pinned(Path::new("redis-benchmark"), CLIENT_CPU)
        .args([
            "-p",
            &port.to_string(),
            "-t",
            tests,
            "-n",
            &requests.to_string(),
            "-c",
            "50",
            "-P",
            &pipeline.to_string(),
            "-q",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// CPU ns per request of one server run.
fn cpu_per_request(bin: &Path, requests: u32) -> Option<f64> {
    let server = Server::start(bin)?;
    let before = server.cpu_ns()?;
    if !benchmark(server.port, "ping_mbulk,set,get", requests, 16) {
        return None;
    }
    let after = server.cpu_ns()?;
    Some((after - before) / (3.0 * requests as f64))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn resp_cpu(quick: bool) -> Option<(f64, f64)> {
    if !have("redis-benchmark") {
        println!(
            "note: resp_cpu skipped: redis-benchmark not installed (apt-get install redis-tools)"
        );
        return None;
    }
    let (eddy, tokio) = build_servers()?;
    let (requests, rounds) = if quick { (100_000, 1) } else { (200_000, 5) };
    let mut e = Vec::new();
    let mut t = Vec::new();
    for _ in 0..rounds {
        e.push(cpu_per_request(&eddy, requests)?);
        t.push(cpu_per_request(&tokio, requests)?);
    }
    Some((median(e), median(t)))
}

/// System calls per request of one server under `strace -c -f`.
fn syscalls(bin: &Path, requests: u32) -> Option<f64> {
    let server = Server::start(bin)?;
    let out = std::env::temp_dir().join(format!("eddy-strace-{}.txt", server.port));
    let mut strace = Command::new("strace")
        .args(["-c", "-f", "-o"])
        .arg(&out)
        .args(["-p", &server.child.id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    // Give strace time to attach to every thread before the load starts.
    std::thread::sleep(Duration::from_millis(500));
    let ok = benchmark(server.port, "ping_mbulk,set,get", requests, 1);
    // SAFETY: kill(2) on the pid of a child we spawned and still own.
    unsafe { libc::kill(strace.id() as i32, libc::SIGINT) };
    let _ = strace.wait();
    let text = std::fs::read_to_string(&out).ok()?;
    let _ = std::fs::remove_file(&out);
    if !ok {
        return None;
    }
    // The summary's last line: "100.00  secs  usecs/call  calls  [errors] total".
    let total = text
        .lines()
        .rev()
        .find(|l| l.trim_end().ends_with("total"))?;
    let calls: f64 = total.split_whitespace().nth(3)?.parse().ok()?;
    let per_request = calls / (3.0 * requests as f64);
    println!(
        "note: syscalls_per_req {}: {calls} calls / {} requests = {per_request:.3}",
        bin.file_name()?.to_string_lossy(),
        3 * requests
    );
    Some(per_request)
}

fn syscalls_per_req(quick: bool) -> Option<(f64, f64)> {
    if !have("redis-benchmark") || !have("strace") {
        println!("note: syscalls_per_req skipped: needs redis-benchmark and strace installed");
        return None;
    }
    let (eddy, tokio) = build_servers()?;
    let requests = if quick { 20_000 } else { 50_000 };
    Some((syscalls(&eddy, requests)?, syscalls(&tokio, requests)?))
}
