//! Unix signal streams: [`signal`] returns a [`Signal`] that yields `()`
//! for each delivery of one [`SignalKind`].

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::stream::FusedStream;
use futures_core::Stream;

use super::registry::{signal_name, Listener};

/// Which signal to listen for: a signal number, with constructors for the
/// usual ones.
///
/// # Example
///
/// ```
/// use eddy_io::signal::unix::SignalKind;
/// assert_eq!(SignalKind::terminate().as_raw_value(), libc::SIGTERM);
/// assert_eq!(SignalKind::from_raw(libc::SIGUSR1), SignalKind::user_defined1());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(i32);

impl SignalKind {
    /// Any signal number (validated when [`signal`] registers it).
    ///
    /// # Example
    ///
    /// ```
    /// let k = eddy_io::signal::unix::SignalKind::from_raw(libc::SIGRTMIN());
    /// ```
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal number.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_io::signal::unix::SignalKind;
    /// assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
    /// ```
    pub const fn as_raw_value(self) -> i32 {
        self.0
    }

    /// SIGINT: interrupt from the terminal (Ctrl-C).
    ///
    /// # Example
    ///
    /// ```
    /// let k = eddy_io::signal::unix::SignalKind::interrupt();
    /// ```
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// SIGTERM: polite termination request (what `kill` sends by default).
    ///
    /// # Example
    ///
    /// ```
    /// let k = eddy_io::signal::unix::SignalKind::terminate();
    /// ```
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// SIGHUP: the terminal hung up; daemons use it for "reload".
    ///
    /// # Example
    ///
    /// ```
    /// let k = eddy_io::signal::unix::SignalKind::hangup();
    /// ```
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// SIGCHLD: a child process exited or stopped.
    ///
    /// # Example
    ///
    /// ```
    /// let k = eddy_io::signal::unix::SignalKind::child();
    /// ```
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// SIGUSR1.
    ///
    /// # Example
    ///
    /// ```
    /// let k = eddy_io::signal::unix::SignalKind::user_defined1();
    /// ```
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// SIGUSR2.
    ///
    /// # Example
    ///
    /// ```
    /// let k = eddy_io::signal::unix::SignalKind::user_defined2();
    /// ```
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// SIGQUIT: quit from the terminal (Ctrl-\\).
    ///
    /// # Example
    ///
    /// ```
    /// let k = eddy_io::signal::unix::SignalKind::quit();
    /// ```
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// SIGALRM: a timer set by `alarm(2)` expired.
    ///
    /// # Example
    ///
    /// ```
    /// let k = eddy_io::signal::unix::SignalKind::alarm();
    /// ```
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// SIGPIPE: write to a pipe with no reader (Rust programs ignore it
    /// by default and get `EPIPE` instead).
    ///
    /// # Example
    ///
    /// ```
    /// let k = eddy_io::signal::unix::SignalKind::pipe();
    /// ```
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// SIGWINCH: the terminal window changed size.
    ///
    /// # Example
    ///
    /// ```
    /// let k = eddy_io::signal::unix::SignalKind::window_change();
    /// ```
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<i32> for SignalKind {
    fn from(signum: i32) -> SignalKind {
        SignalKind(signum)
    }
}

/// The signal number, so a `SignalKind` can be sent:
/// `child.send_signal(SignalKind::interrupt())`.
impl From<SignalKind> for i32 {
    fn from(kind: SignalKind) -> i32 {
        kind.0
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignalKind({})", signal_name(self.0))
    }
}

/// A stream of deliveries of one signal, from [`signal`].
///
/// Each item means "the signal arrived at least once since the previous
/// item" (deliveries coalesce, none is lost entirely). The stream never
/// ends, not even when its runtime shuts down (polled later, under
/// another runtime, it registers there), so it is a [`FusedStream`]
/// that is never terminated: `futures::select!` takes `sig.next()`
/// directly. Dropping it unsubscribes; the process-wide handler stays
/// installed.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use eddy_io::signal::unix::{signal, SignalKind};
/// let mut hup = signal(SignalKind::hangup())?;
/// while hup.recv().await.is_some() {
///     println!("reloading configuration");
/// }
/// # Ok(()) }
/// ```
///
/// In a `select!` loop, next to other work:
///
/// ```no_run
/// # async fn demo(mut jobs: futures::channel::mpsc::Receiver<u32>) -> std::io::Result<()> {
/// use eddy_io::signal::unix::{signal, SignalKind};
/// use futures::{select, StreamExt};
/// let mut term = signal(SignalKind::terminate())?;
/// loop {
///     select! {
///         job = jobs.next() => match job {
///             Some(job) => println!("job {job}"),
///             None => break,
///         },
///         _ = term.next() => break,
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Signal {
    kind: SignalKind,
    listener: Listener,
}

/// Subscribes to `kind`, installing the process's handler for it on first
/// use.
///
/// # Errors
///
/// `InvalidInput` for signals that cannot be handled (SIGKILL, SIGSTOP)
/// or must not be (SIGILL, SIGFPE, SIGSEGV), for the ones the C library
/// reserves (glibc: 32 and 33, below `SIGRTMIN()`), and for numbers that
/// are no signal; other errors if the handler or the self-pipe could not
/// be set up.
///
/// # Panics
///
/// Outside an eddy runtime.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use eddy_io::signal::unix::{signal, SignalKind};
/// let mut term = signal(SignalKind::terminate())?;
/// term.recv().await;
/// # Ok(()) }
/// ```
#[track_caller]
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    Ok(Signal {
        kind,
        listener: Listener::new(kind.0)?,
    })
}

impl Signal {
    /// Waits for the next delivery. Always `Some(())` (the `Option`
    /// mirrors the `Stream` this also is).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a delivery is marked as seen only when `recv` returns
    /// it, so a `recv` dropped in a `select!` loses nothing; the next call
    /// sees it.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// use eddy_io::signal::unix::{signal, SignalKind};
    /// let mut usr1 = signal(SignalKind::user_defined1())?;
    /// usr1.recv().await;
    /// # Ok(()) }
    /// ```
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Poll form of [`recv`](Self::recv).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(mut sig: eddy_io::signal::unix::Signal) {
    /// std::future::poll_fn(|cx| sig.poll_recv(cx)).await;
    /// # }
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.listener.poll_recv(cx).map(Some)
    }

    /// The signal this stream listens for.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # fn demo(sig: &eddy_io::signal::unix::Signal) {
    /// println!("{:?}", sig.kind());
    /// # }
    /// ```
    pub fn kind(&self) -> SignalKind {
        self.kind
    }
}

impl Stream for Signal {
    type Item = ();
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

/// Never terminated: the stream never yields `None`.
impl FusedStream for Signal {
    fn is_terminated(&self) -> bool {
        false
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish()
    }
}
