//! Subprocesses: asyncio's `create_subprocess_exec` / `create_subprocess_shell`.
//!
//! [`Command`] builds a process like `std::process::Command` (it *is* one
//! underneath, so spawning uses `posix_spawn`/`vfork` where std can);
//! [`Child`] has async pipes ([`ChildStdin`], [`ChildStdout`],
//! [`ChildStderr`]), [`wait`](Child::wait), [`communicate`](Child::communicate),
//! [`kill`](Child::kill), [`terminate`](Child::terminate) and
//! [`send_signal`](Child::send_signal).
//!
//! Exits are watched without a thread per child: through a pidfd
//! registered with the loop's reactor where the kernel has `pidfd_open`
//! (Linux ≥ 5.3), through SIGCHLD otherwise. A [`Child`] dropped before
//! its exit status was collected is reaped in the background by a small
//! task on the current loop (or, without one, swept by a later spawn), so
//! no zombies are left behind. eddy must be the only one reaping its
//! children: do not call `waitpid(-1, ..)` elsewhere in the process.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use eddy_io::process::Command;
//!
//! let out = Command::new("echo").arg("hello").output().await?;
//! assert!(out.status.success());
//! assert_eq!(out.stdout, b"hello\n");
//! # Ok(()) }
//! ```

mod pipe;
mod reap;

use std::ffi::OsStr;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::path::Path;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

pub use pipe::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};

use reap::Reaper;

/// Makes every exit watch from now on use SIGCHLD instead of a pidfd, as
/// on kernels without `pidfd_open`. For testing that path; process-wide
/// and irreversible.
///
/// # Example
///
/// ```
/// eddy_io::process::__use_sigchld_exit_watch();
/// ```
#[doc(hidden)]
pub fn __use_sigchld_exit_watch() {
    reap::disable_pidfd();
}

/// A process builder: `std::process::Command` plus [`kill_on_drop`](Command::kill_on_drop)
/// and [`shell`](Command::shell), spawning a
/// [`Child`] with async pipes.
///
/// Unset standard streams are inherited by [`spawn`](Self::spawn) and
/// [`status`](Self::status); [`output`](Self::output) pipes stdout and
/// stderr and gives the child a null stdin unless they were set.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use eddy_io::process::{Command, Stdio};
///
/// let status = Command::new("ls")
///     .arg("-l")
///     .current_dir("/tmp")
///     .env("LC_ALL", "C")
///     .stdout(Stdio::null())
///     .status()
///     .await?;
/// assert!(status.success());
/// # Ok(()) }
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    stdin_set: bool,
    stdout_set: bool,
    stderr_set: bool,
}

impl Command {
    /// A command running `program` (looked up in `PATH` if it has no `/`).
    ///
    /// # Example
    ///
    /// ```
    /// let cmd = eddy_io::process::Command::new("true");
    /// ```
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// A command running `cmd` through the shell: `/bin/sh -c cmd`
    /// (asyncio's `create_subprocess_shell`). Quote untrusted input yourself.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let out = eddy_io::process::Command::shell("echo $((1 + 2))").output().await?;
    /// assert_eq!(out.stdout, b"3\n");
    /// # Ok(()) }
    /// ```
    pub fn shell<S: AsRef<OsStr>>(cmd: S) -> Command {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(cmd);
        c
    }

    /// Adds one argument.
    ///
    /// # Example
    ///
    /// ```
    /// let mut cmd = eddy_io::process::Command::new("echo");
    /// cmd.arg("hello");
    /// ```
    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds several arguments.
    ///
    /// # Example
    ///
    /// ```
    /// let mut cmd = eddy_io::process::Command::new("echo");
    /// cmd.args(["a", "b"]);
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    ///
    /// # Example
    ///
    /// ```
    /// let mut cmd = eddy_io::process::Command::new("env");
    /// cmd.env("KEY", "value");
    /// ```
    pub fn env<K: AsRef<OsStr>, V: AsRef<OsStr>>(&mut self, key: K, val: V) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets several environment variables.
    ///
    /// # Example
    ///
    /// ```
    /// let mut cmd = eddy_io::process::Command::new("env");
    /// cmd.envs([("A", "1"), ("B", "2")]);
    /// ```
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes one variable from the child's environment.
    ///
    /// # Example
    ///
    /// ```
    /// let mut cmd = eddy_io::process::Command::new("env");
    /// cmd.env_remove("HOME");
    /// ```
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` adds).
    ///
    /// # Example
    ///
    /// ```
    /// let mut cmd = eddy_io::process::Command::new("env");
    /// cmd.env_clear().env("PATH", "/bin");
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory.
    ///
    /// # Example
    ///
    /// ```
    /// let mut cmd = eddy_io::process::Command::new("pwd");
    /// cmd.current_dir("/tmp");
    /// ```
    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's stdin: `Stdio::piped()` (then [`Child::stdin`] is
    /// set), `Stdio::null()` or `Stdio::inherit()`.
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_io::process::{Command, Stdio};
    /// let mut cmd = Command::new("cat");
    /// cmd.stdin(Stdio::piped());
    /// ```
    pub fn stdin<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// The child's stdout (see [`stdin`](Self::stdin)).
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_io::process::{Command, Stdio};
    /// let mut cmd = Command::new("echo");
    /// cmd.stdout(Stdio::piped());
    /// ```
    pub fn stdout<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdout(cfg);
        self.stdout_set = true;
        self
    }

    /// The child's stderr (see [`stdin`](Self::stdin)).
    ///
    /// # Example
    ///
    /// ```
    /// use eddy_io::process::{Command, Stdio};
    /// let mut cmd = Command::new("echo");
    /// cmd.stderr(Stdio::null());
    /// ```
    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// Whether dropping the [`Child`] before its exit kills it (SIGKILL).
    /// Off by default: a dropped child runs on (and is reaped in the
    /// background when it exits).
    ///
    /// # Example
    ///
    /// ```
    /// let mut cmd = eddy_io::process::Command::new("sleep");
    /// cmd.arg("100").kill_on_drop(true);
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The underlying std builder, for what this type does not mirror
    /// (`std::os::unix::process::CommandExt`: `uid`, `process_group`, ...).
    ///
    /// # Example
    ///
    /// ```
    /// use std::os::unix::process::CommandExt;
    /// let mut cmd = eddy_io::process::Command::new("true");
    /// cmd.as_std_mut().process_group(0);
    /// ```
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// The underlying std builder.
    ///
    /// # Example
    ///
    /// ```
    /// let cmd = eddy_io::process::Command::new("true");
    /// assert_eq!(cmd.as_std().get_program(), "true");
    /// ```
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// Starts the process.
    ///
    /// # Errors
    ///
    /// The OS error from spawning, with the program in the message (for
    /// example `NotFound` for a missing program).
    ///
    /// # Panics
    ///
    /// Outside an eddy runtime when a stream is piped (pipes register
    /// with the loop's reactor).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let mut child = eddy_io::process::Command::new("sleep").arg("1").spawn()?;
    /// println!("pid {}", child.id());
    /// child.wait().await?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        reap::reap_orphans();
        let mut child = self.std.spawn().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("failed to spawn {:?}: {e}", self.std.get_program()),
            )
        })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let mut out = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            reaper: Some(Reaper::new(child)),
            kill_on_drop: self.kill_on_drop,
        };
        // If registration fails, `out` drops: killed if kill_on_drop, reaped.
        out.stdin = stdin.map(ChildStdin::from_std).transpose()?;
        out.stdout = stdout.map(ChildStdout::from_std).transpose()?;
        out.stderr = stderr.map(ChildStderr::from_std).transpose()?;
        Ok(out)
    }

    /// Runs the process to completion, collecting stdout and stderr
    /// (piped unless set; stdin is null unless set). Like std, this sets
    /// those defaults on the builder itself.
    ///
    /// # Errors
    ///
    /// Spawning failed, or reading the pipes or waiting failed.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: output read so far is lost. The child is then
    /// dropped (killed if [`kill_on_drop`](Self::kill_on_drop), reaped in
    /// the background either way).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let out = eddy_io::process::Command::shell("echo out; echo err >&2").output().await?;
    /// assert_eq!(out.stdout, b"out\n");
    /// assert_eq!(out.stderr, b"err\n");
    /// # Ok(()) }
    /// ```
    pub async fn output(&mut self) -> io::Result<Output> {
        if !self.stdin_set {
            self.std.stdin(Stdio::null());
        }
        if !self.stdout_set {
            self.std.stdout(Stdio::piped());
        }
        if !self.stderr_set {
            self.std.stderr(Stdio::piped());
        }
        self.spawn()?.output().await
    }

    /// Runs the process to completion and returns its exit status
    /// (streams inherited unless set).
    ///
    /// # Errors
    ///
    /// Spawning or waiting failed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in the sense that nothing is lost: the child is dropped
    /// (killed if [`kill_on_drop`](Self::kill_on_drop)) and reaped in the
    /// background.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let status = eddy_io::process::Command::new("false").status().await?;
    /// assert_eq!(status.code(), Some(1));
    /// # Ok(()) }
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        // Nobody will write to it: EOF for the child.
        child.stdin = None;
        child.wait().await
    }
}

impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.std, f)
    }
}

/// A running (or exited) child process, from [`Command::spawn`].
///
/// Dropping it does not wait: the process runs on (unless
/// [`kill_on_drop`](Command::kill_on_drop)) and is reaped in the
/// background when it exits.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use eddy_io::process::{Command, Stdio};
///
/// let mut child = Command::new("cat")
///     .stdin(Stdio::piped())
///     .stdout(Stdio::piped())
///     .spawn()?;
/// let (out, _err) = child.communicate(Some(b"echo me".to_vec())).await?;
/// assert_eq!(out, b"echo me");
/// assert!(child.wait().await?.success());
/// # Ok(()) }
/// ```
pub struct Child {
    /// The write end of the child's stdin, if piped and not taken.
    pub stdin: Option<ChildStdin>,
    /// The read end of the child's stdout, if piped and not taken.
    pub stdout: Option<ChildStdout>,
    /// The read end of the child's stderr, if piped and not taken.
    pub stderr: Option<ChildStderr>,
    reaper: Option<Reaper>,
    kill_on_drop: bool,
}

impl Child {
    fn reaper(&mut self) -> &mut Reaper {
        self.reaper.as_mut().expect("present until drop")
    }

    /// The process id.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # fn demo(child: &eddy_io::process::Child) {
    /// println!("pid {}", child.id());
    /// # }
    /// ```
    pub fn id(&self) -> u32 {
        self.reaper.as_ref().expect("present until drop").id()
    }

    /// Waits for the process to exit and returns its status (asyncio's
    /// `Process.wait`). Closes the child's stdin first, if it is still
    /// here, so a child reading its input to EOF cannot deadlock with us.
    ///
    /// # Errors
    ///
    /// `waitpid` failed (for example because someone else reaped the
    /// child), or the exit watch could not be registered.
    ///
    /// # Panics
    ///
    /// Outside an eddy runtime, unless the status is already known.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses nothing; wait again later.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let mut child = eddy_io::process::Command::shell("exit 3").spawn()?;
    /// assert_eq!(child.wait().await?.code(), Some(3));
    /// # Ok(()) }
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.stdin = None;
        let reaper = self.reaper();
        poll_fn(|cx| reaper.poll_wait(cx)).await
    }

    /// The exit status if the process has exited (reaping it), `None` if
    /// it still runs. Never blocks.
    ///
    /// # Errors
    ///
    /// `waitpid` failed.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # fn demo(child: &mut eddy_io::process::Child) -> std::io::Result<()> {
    /// if let Some(status) = child.try_wait()? {
    ///     println!("exited: {status}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.reaper().try_wait()
    }

    /// Collects all of stdout and stderr (those still piped and not
    /// taken), then waits for the exit. Closes stdin first.
    ///
    /// # Errors
    ///
    /// Reading a pipe or waiting failed.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: output read so far is lost (the child keeps
    /// running and can still be waited for).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// use eddy_io::process::{Command, Stdio};
    /// let child = Command::new("echo").arg("x").stdout(Stdio::piped()).spawn()?;
    /// let out = child.output().await?;
    /// assert_eq!(out.stdout, b"x\n");
    /// # Ok(()) }
    /// ```
    pub async fn output(mut self) -> io::Result<Output> {
        let (stdout, stderr) = self.communicate(None).await?;
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// asyncio's `Process.communicate`: writes `input` to stdin (if
    /// given), closes stdin, reads stdout and stderr to EOF — all three
    /// concurrently, so a child that writes more than a pipe buffer to
    /// both while still reading cannot deadlock — then waits for the exit
    /// (its status is then cached: [`wait`](Self::wait) and
    /// [`try_wait`](Self::try_wait) return it at once). Returns
    /// `(stdout, stderr)`; a stream that is not piped (or was taken) gives
    /// an empty vector.
    ///
    /// A child that exits without reading all of its input is not an
    /// error (the broken pipe is ignored, as in asyncio).
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `input` is given but stdin is not available
    /// (taken from [`stdin`](Self::stdin) or never piped); I/O errors of
    /// the pipes; a failed wait.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: input written and output read so far are lost,
    /// and the pipes are closed.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// use eddy_io::process::{Command, Stdio};
    /// let mut child = Command::new("tr")
    ///     .arg("a-z")
    ///     .arg("A-Z")
    ///     .stdin(Stdio::piped())
    ///     .stdout(Stdio::piped())
    ///     .spawn()?;
    /// let (out, _) = child.communicate(Some(b"shout".to_vec())).await?;
    /// assert_eq!(out, b"SHOUT");
    /// # Ok(()) }
    /// ```
    pub async fn communicate(&mut self, input: Option<Vec<u8>>) -> io::Result<(Vec<u8>, Vec<u8>)> {
        if input.is_some() && self.stdin.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "communicate: input was given but the child's stdin is not available \
                 (it was taken from Child::stdin, or stdin was not Stdio::piped())",
            ));
        }
        let stdin = self.stdin.take();
        let stdout = self.stdout.take();
        let stderr = self.stderr.take();
        let feed = feed_stdin(stdin, input.unwrap_or_default());
        let out = read_all(stdout);
        let err = read_all(stderr);
        let (fed, out, err) = join3(feed, out, err).await;
        fed?;
        let (out, err) = (out?, err?);
        self.wait().await?;
        Ok((out, err))
    }

    /// Sends SIGKILL (asyncio's `Process.kill`); does not wait. Does
    /// nothing if the process has already been reaped.
    ///
    /// # Errors
    ///
    /// `kill(2)` failed.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let mut child = eddy_io::process::Command::new("sleep").arg("100").spawn()?;
    /// child.kill()?;
    /// child.wait().await?;
    /// # Ok(()) }
    /// ```
    pub fn kill(&mut self) -> io::Result<()> {
        self.send_signal(libc::SIGKILL)
    }

    /// Sends SIGTERM (asyncio's `Process.terminate`); does not wait.
    ///
    /// # Errors
    ///
    /// `kill(2)` failed.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let mut child = eddy_io::process::Command::new("sleep").arg("100").spawn()?;
    /// child.terminate()?;
    /// child.wait().await?;
    /// # Ok(()) }
    /// ```
    pub fn terminate(&mut self) -> io::Result<()> {
        self.send_signal(libc::SIGTERM)
    }

    /// Sends signal `sig` (a `libc::SIG*` number); does nothing if the
    /// process has already been reaped.
    ///
    /// # Errors
    ///
    /// `kill(2)` failed (`InvalidInput` for an invalid signal number).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let mut child = eddy_io::process::Command::new("sleep").arg("100").spawn()?;
    /// child.send_signal(libc::SIGINT)?;
    /// child.wait().await?;
    /// # Ok(()) }
    /// ```
    pub fn send_signal(&mut self, sig: i32) -> io::Result<()> {
        self.reaper().send_signal(sig)
    }

    /// Changes whether dropping this child kills it (see
    /// [`Command::kill_on_drop`]).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # fn demo(child: &mut eddy_io::process::Child) {
    /// child.kill_on_drop(true);
    /// # }
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Child {
        self.kill_on_drop = kill_on_drop;
        self
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(mut reaper) = self.reaper.take() {
            if reaper.status().is_some() {
                return;
            }
            if self.kill_on_drop {
                let _ = reaper.send_signal(libc::SIGKILL);
            }
            reap::adopt(reaper);
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.reaper.as_ref();
        f.debug_struct("Child")
            .field("pid", &r.map(Reaper::id))
            .field("status", &r.and_then(Reaper::status))
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}

async fn feed_stdin(stdin: Option<ChildStdin>, input: Vec<u8>) -> io::Result<()> {
    let Some(mut stdin) = stdin else {
        return Ok(());
    };
    let mut written = 0;
    while written < input.len() {
        let res = poll_fn(|cx| Pin::new(&mut stdin).poll_write(cx, &input[written..])).await;
        match res {
            Ok(0) => break,
            Ok(n) => written += n,
            // The child stopped reading (exited): not an error, as in asyncio.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                ) =>
            {
                break
            }
            Err(e) => return Err(e),
        }
    }
    // Dropping closes the pipe: EOF for the child.
    drop(stdin);
    Ok(())
}

async fn read_all<R: AsyncRead + Unpin>(pipe: Option<R>) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let Some(mut pipe) = pipe else {
        return Ok(out);
    };
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = poll_fn(|cx| Pin::new(&mut pipe).poll_read(cx, &mut chunk)).await?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

/// Polls three futures concurrently until all are done.
async fn join3<A: Future, B: Future, C: Future>(
    a: A,
    b: B,
    c: C,
) -> (A::Output, B::Output, C::Output) {
    let (mut a, mut b, mut c) = (pin!(a), pin!(b), pin!(c));
    let (mut ra, mut rb, mut rc) = (None, None, None);
    poll_fn(move |cx: &mut Context<'_>| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if rc.is_none() {
            if let Poll::Ready(v) = c.as_mut().poll(cx) {
                rc = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() && rc.is_some() {
            Poll::Ready((ra.take().unwrap(), rb.take().unwrap(), rc.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}
