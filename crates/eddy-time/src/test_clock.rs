//! The test clock: `pause`, `resume`, `advance`, `inhibit_auto_advance`.

use std::time::Duration;

use crate::handle::current_shared;
use crate::sleep::Sleep;

/// Freezes the clock of the runtime on this thread (tokio's
/// `time::pause`). While paused, [`Instant::now`](crate::Instant::now)
/// stands still, [`advance`] moves it, and whenever the loop has nothing
/// ready the clock jumps to the next timer's deadline, so a test of a
/// one-hour timeout runs in microseconds. A no-op if already paused.
///
/// Waiting on the world outside the loop counts as having nothing ready:
/// a child process, a socket whose peer is another thread or program, a
/// signal. The clock jumps past such waits, so a `timeout` around one
/// expires at once (tokio's paused clock does the same). Only work held
/// by [`Handle::inhibit_auto_advance`](crate::Handle::inhibit_auto_advance)
/// (the facade's blocking pool holds it per job) keeps the clock still.
/// Test what waits on processes or outside peers on the running clock.
/// I/O between tasks of this loop (a server and its clients) is fine:
/// events already waiting are dispatched before the clock jumps.
///
/// Timers fire on whole milliseconds of the driver's clock, so the paused
/// clock stands on one: pausing a running clock moves it forward to the
/// next whole millisecond (less than 1 ms, as if the pause came that much
/// later). Whole-millisecond sleeps and timeouts then land exactly on
/// their instants ([`advance`] always does); after a jump to a deadline
/// with a fraction of a millisecond, `Instant::now()` is up to 1 ms past
/// it.
///
/// # Panics
///
/// With no eddy runtime on this thread.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use eddy_time::Instant;
/// eddy_time::run(async {
///     eddy_time::pause();
///     let start = Instant::now();
///     eddy_time::sleep(Duration::from_secs(3600)).await; // instant, in real time
///     assert!(start.elapsed() >= Duration::from_secs(3600));
/// });
/// ```
#[track_caller]
pub fn pause() {
    current_shared().pause();
}

/// Lets the paused clock run again from where it stands. A no-op if it
/// runs.
///
/// # Panics
///
/// With no eddy runtime on this thread.
///
/// # Example
///
/// ```
/// eddy_time::run(async {
///     eddy_time::pause();
///     eddy_time::resume();
///     assert!(!eddy_time::Handle::current().is_paused());
/// });
/// ```
#[track_caller]
pub fn resume() {
    let shared = current_shared();
    shared.clock.resume();
    shared.unparker.unpark();
}

/// Holds the paused clock of the runtime on this thread back from jumping
/// to the next deadline while the returned guard lives (the free-function
/// form of [`Handle::inhibit_auto_advance`](crate::Handle::inhibit_auto_advance)).
/// Take one for work the loop cannot see finish, such as a thread you
/// started yourself or a peer in another process, so a `timeout` around it
/// does not expire at once. The guard is `Send`: move it into that work and
/// drop it when the work is done (after it has sent its result, or the
/// clock may jump before the result arrives).
///
/// While a guard lives the paused clock stands still: it does not follow
/// real time either, so a timeout shorter than the work does not fire (a
/// timeout of 5 ms around 30 ms of work on a thread returns the work's
/// result, where the running clock would have expired it), and work that
/// never finishes hangs the test. To test the timeout itself, hold the
/// guard and move the clock by hand: [`advance`] still moves it and fires
/// the timers that became due.
///
/// # Panics
///
/// With no eddy runtime on this thread.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// eddy_time::run(async {
///     eddy_time::pause();
///     let (tx, rx) = futures::channel::oneshot::channel();
///     let guard = eddy_time::inhibit_auto_advance();
///     std::thread::spawn(move || {
///         std::thread::sleep(Duration::from_millis(5));
///         tx.send(42).unwrap();
///         drop(guard);
///     });
///     // Without the guard the idle paused clock would jump straight to
///     // the timeout's deadline while the thread works.
///     let got = eddy_time::timeout(Duration::from_secs(60), rx).await;
///     assert_eq!(got.unwrap(), Ok(42));
/// });
/// ```
#[track_caller]
pub fn inhibit_auto_advance() -> crate::AutoAdvanceInhibitor {
    crate::Handle::current().inhibit_auto_advance()
}

/// Moves the paused clock forward by exactly `duration`, then lets the
/// timers that became due fire (in deadline order) and their tasks run once
/// before it returns. Deadlines are rounded up to whole milliseconds, so a
/// timer due at a fraction of a millisecond past the new instant fires on
/// the next whole millisecond, not in this `advance`.
///
/// # Cancel safety
///
/// The clock moves when `advance` is called; dropping the future early only
/// skips the wait for the due timers (they still fire at the next tick).
///
/// # Panics
///
/// If the clock is not paused (call [`pause`] first, or build the runtime
/// with `start_paused(true)`), or with no eddy runtime on this thread.
///
/// # Example
///
/// ```
/// use std::{cell::Cell, rc::Rc, time::Duration};
/// eddy_time::run(async {
///     eddy_time::pause();
///     let fired = Rc::new(Cell::new(false));
///     let f = fired.clone();
///     eddy_time::call_later(Duration::from_secs(10), move || f.set(true));
///     eddy_time::advance(Duration::from_secs(9)).await;
///     assert!(!fired.get());
///     eddy_time::advance(Duration::from_secs(1)).await;
///     assert!(fired.get());
/// });
/// ```
#[track_caller]
pub fn advance(duration: Duration) -> impl std::future::Future<Output = ()> + Send {
    let shared = current_shared();
    assert!(
        shared.clock.advance(duration),
        "eddy_time::advance needs a paused clock: call eddy_time::pause() first \
         (or build the runtime with start_paused(true))"
    );
    let clock = &shared.clock;
    // A timer at the whole millisecond the new "now" falls in, registered
    // behind every older timer due by then: when it fires, they have fired
    // and their tasks were queued before ours. Not rounded up like other
    // deadlines: a timer past "now" only fires once the idle loop jumps
    // the clock to it, which would move the clock further than asked and
    // never happen while other tasks keep the loop busy.
    let due = clock.tick_instant(clock.now_tick(clock.now()));
    let wait = Sleep::new_forced(shared, due);
    async move {
        wait.await;
        // Let the tasks woken in the same round run before we return.
        crate::sleep(Duration::ZERO).await;
    }
}
