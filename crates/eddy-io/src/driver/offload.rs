//! Running a blocking closure off the loop (on the driver's offload, see
//! `Builder::offload`) and awaiting its result.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use super::handle::Handle;

struct Slot<T> {
    result: Option<T>,
    waker: Option<Waker>,
}

/// Resolves to what the offloaded closure returned.
pub(crate) struct Offloaded<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Future for Offloaded<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.slot.lock();
        match slot.result.take() {
            Some(v) => Poll::Ready(v),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Runs `f` where blocking is allowed and resolves to its result.
///
/// # Errors
///
/// The job could not be started (no thread could be spawned).
pub(crate) fn run_blocking<T, F>(handle: &Handle, f: F) -> io::Result<Offloaded<T>>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let slot = Arc::new(Mutex::new(Slot {
        result: None,
        waker: None,
    }));
    let theirs = slot.clone();
    handle.offload(Box::new(move || {
        let value = f();
        let waker = {
            let mut slot = theirs.lock();
            slot.result = Some(value);
            slot.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }))?;
    Ok(Offloaded { slot })
}

/// A pause of `d` that needs no timer driver: a blocking job sleeps and
/// then wakes the task. Only for rare paths (the accept loop's back-off
/// after `EMFILE`, a Unix connect waiting for room in a full backlog),
/// where a thread parked for ≤ 1 s costs nothing.
#[cfg(feature = "net")]
pub(crate) async fn pause(d: std::time::Duration) {
    let handle = Handle::current();
    match run_blocking(&handle, move || std::thread::sleep(d)) {
        Ok(done) => done.await,
        // No thread to sleep on: yield instead, so the loop still turns.
        Err(_) => eddy_core::yield_now().await,
    }
}
