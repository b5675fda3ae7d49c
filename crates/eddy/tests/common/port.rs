//! Helpers shared by the asyncio ports (asyncio_port_*.rs): the hang
//! guard, the `finally:` drop flag, the tutorial's echo handler and the
//! usual server/connection set-ups. Not every test binary uses every item.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use eddy::io::{open_connection, Server, StreamReader, StreamWriter, WriteError};

/// A hang guard: none of these programs should take anywhere near this.
pub async fn guard<F: Future>(what: &str, fut: F) -> F::Output {
    guard_within(what, Duration::from_secs(20), fut).await
}

/// The hang guard for programs that start child processes, which may be
/// slow to start on a loaded machine.
pub async fn slow_guard<F: Future>(what: &str, fut: F) -> F::Output {
    guard_within(what, Duration::from_secs(30), fut).await
}

async fn guard_within<F: Future>(what: &str, limit: Duration, fut: F) -> F::Output {
    match eddy::wait_for(fut, limit).await {
        Ok(v) => v,
        Err(_) => panic!("hung: {what}"),
    }
}

/// Waits (guarded as `what`) while `cond()` holds, looking every
/// millisecond.
pub async fn wait_while(what: &str, mut cond: impl FnMut() -> bool) {
    guard(what, async {
        while cond() {
            eddy::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
}

/// Whether process `pid` still exists (a zombie counts).
pub fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits (with the child processes' guard, as `what`) until process `pid`
/// is gone: killed if need be, and reaped.
pub async fn reaped(what: &str, pid: u32) {
    slow_guard(what, async {
        while alive(pid) {
            eddy::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

/// Sends `sig` (a `kill` option such as `-USR1`) to this process.
pub async fn raise(sig: &str) {
    let me = std::process::id().to_string();
    let status = eddy::process::Command::new("kill")
        .args([sig, &me])
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

/// Sets its flag when dropped: the Rust form of a `finally:` block.
pub struct Finally(pub Rc<Cell<bool>>);
impl Drop for Finally {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// A fresh, unset flag for [`Finally`].
pub fn flag() -> Rc<Cell<bool>> {
    Rc::new(Cell::new(false))
}

/// Sleeps an hour holding a [`Finally`] on `dropped`: work that ends only
/// by being cancelled.
pub async fn sleep_an_hour(dropped: Rc<Cell<bool>>) {
    let _finally = Finally(dropped);
    eddy::sleep(Duration::from_secs(3600)).await;
}

/// A runtime whose clock starts paused.
pub fn paused() -> eddy::Runtime {
    eddy::Builder::new().start_paused(true).build().unwrap()
}

/// Lets every ready task run a few steps.
pub async fn settle() {
    for _ in 0..10 {
        eddy::yield_now().await;
    }
}

/// The echo handler of the asyncio tutorial: read a line, send it back,
/// until the client is done.
pub async fn echo(mut r: StreamReader, mut w: StreamWriter) -> Result<(), WriteError> {
    loop {
        let line = match r.read_line().await {
            Ok(line) => line,
            Err(_) => break,
        };
        if line.is_empty() {
            break;
        }
        w.write(&line)?;
        w.drain().await?;
    }
    w.close();
    w.wait_closed().await;
    Ok(())
}

/// A handler that never reads, never answers and never closes.
pub async fn silent(r: StreamReader, w: StreamWriter) {
    std::future::pending::<()>().await;
    drop((r, w));
}

/// `open_connection` to a TCP server of this process.
pub async fn connect(server: &Server) -> (StreamReader, StreamWriter) {
    open_connection(&server.local_addr().unwrap().to_string())
        .await
        .unwrap()
}

/// Closes a server and waits (guarded) until it is closed.
pub async fn close_server(server: &Server) {
    server.close();
    guard("server", server.wait_closed()).await;
}

/// The message of a panic payload (`String` or `&str`), empty otherwise.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// `n` tasks that each wait on `ev` and then count themselves in the
/// returned counter.
pub fn event_waiters(
    ev: &Rc<eddy::sync::Event>,
    n: usize,
) -> (Vec<eddy::JoinHandle<()>>, Rc<Cell<usize>>) {
    let woke = Rc::new(Cell::new(0));
    let tasks = (0..n)
        .map(|_| {
            let (ev, woke) = (ev.clone(), woke.clone());
            eddy::spawn(async move {
                ev.wait().await;
                woke.set(woke.get() + 1);
            })
        })
        .collect();
    (tasks, woke)
}
