//! Signals: asyncio's `loop.add_signal_handler`, as awaitable streams.
//!
//! [`ctrl_c`] waits for one SIGINT; [`unix::signal`] gives a [`Stream`]
//! of deliveries of any handleable signal.
//!
//! Handlers are installed through `signal-hook-registry`, once per signal
//! number for the whole process, and never removed, so other libraries'
//! handlers keep working alongside. Note that once a handler for a signal
//! is installed, its default action (for SIGINT and SIGTERM: terminating
//! the process) no longer happens: the program decides what to do.
//!
//! Listeners work on any loop thread, several runtimes included: the
//! process-wide state (handler, self-pipe, per-signal generation) is
//! shared, and each listener is woken through its task's waker. A
//! [`Signal`](unix::Signal) polled under another runtime than the one it
//! was created in — on another thread, or on the same thread while the
//! first runtime is idle — or outliving its runtime registers with the
//! reactor of the loop it is polled on.
//!
//! A stream sees the deliveries that arrive after it was created; one that
//! arrived earlier, while nobody listened, is not reported to it.
//!
//! Signals that arrive faster than they are read coalesce (two SIGHUPs
//! between two `recv` calls may be seen as one), but a delivery is never
//! lost entirely: after it, the next `recv` of every listener that existed
//! at the time completes.
//!
//! [`Stream`]: futures_core::Stream

mod registry;
pub mod unix;

#[cfg(feature = "process")]
pub(crate) use registry::Listener;

/// Waits for the next SIGINT (Ctrl-C in a terminal).
///
/// The first call installs the process's SIGINT handler (after which
/// Ctrl-C no longer kills the process by default). A SIGINT counts if it
/// arrives after the returned future was first polled.
///
/// # Errors
///
/// The handler could not be installed, or the self-pipe could not be
/// created.
///
/// # Panics
///
/// Outside an eddy runtime (the listener registers with the loop's reactor).
///
/// # Cancel safety
///
/// Cancel safe: dropping the future unsubscribes; nothing is consumed that
/// another listener would have seen (every listener sees every delivery).
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// eddy_io::signal::ctrl_c().await?;
/// println!("shutting down");
/// # Ok(()) }
/// ```
pub async fn ctrl_c() -> std::io::Result<()> {
    let mut sig = unix::signal(unix::SignalKind::interrupt())?;
    sig.recv().await;
    Ok(())
}
