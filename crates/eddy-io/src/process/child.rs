//! [`Child`]: a spawned process, its pipes and its exit.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;

use futures_io::{AsyncRead, AsyncWrite};

use super::reap::{self, Reaper};
#[cfg(doc)]
use super::Command;
use super::{ChildStderr, ChildStdin, ChildStdout, ExitStatus, Output};

/// A running (or exited) child process, from [`Command::spawn`].
///
/// Dropping it does not wait: the process runs on (unless
/// [`kill_on_drop`](Command::kill_on_drop)) and is reaped in the
/// background when it exits.
///
/// A `Child` may be waited on a different loop than the one it was
/// spawned or first waited on — another thread's, or another runtime's on
/// the same thread while the first runtime is idle: the exit watch follows
/// it. Its pipes, like sockets, stay with the loop that created them.
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
    /// Wraps a spawned std child: its pipes registered with the reactor,
    /// its exit watched. If a pipe cannot be registered, the child is
    /// dropped (killed if `kill_on_drop`, reaped in the background).
    pub(super) fn from_std(
        mut child: std::process::Child,
        kill_on_drop: bool,
    ) -> io::Result<Child> {
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let mut out = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            reaper: Some(Reaper::new(child)),
            kill_on_drop,
        };
        out.stdin = stdin.map(ChildStdin::from_std).transpose()?;
        out.stdout = stdout.map(ChildStdout::from_std).transpose()?;
        out.stderr = stderr.map(ChildStderr::from_std).transpose()?;
        Ok(out)
    }

    fn reaper(&mut self) -> &mut Reaper {
        self.reaper.as_mut().expect("present until drop")
    }

    /// The process id (asyncio's `Process.pid`). It stays available after
    /// the exit, as std's `Child::id` does, where tokio's `Child::id`
    /// turns `None` once the child was waited for. Once the child has been
    /// reaped ([`wait`](Self::wait), [`try_wait`](Self::try_wait),
    /// [`output`](Self::output), or in the background after a drop) the
    /// number is free for the system to give to another process: do not
    /// signal it by hand then. [`kill`](Self::kill),
    /// [`terminate`](Self::terminate) and
    /// [`send_signal`](Self::send_signal) on this `Child` know that and do
    /// nothing.
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
    /// A piped stdout or stderr that nobody reads can still deadlock: a
    /// child that fills the pipe blocks on its next write and never exits
    /// (asyncio warns about the same). Read the pipes while waiting, or use
    /// [`communicate`](Self::communicate) or [`output`](Self::output).
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
    /// Not cancel safe: output read so far is lost, and so is the `Child`,
    /// which was moved into the call. Dropping the future drops it: the
    /// child is killed if [`kill_on_drop`](Command::kill_on_drop) is set,
    /// runs on otherwise, and is reaped in the background either way (to
    /// keep a child you can wait for, use
    /// [`communicate`](Self::communicate) and [`wait`](Self::wait)).
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
        let (fed, out, err) = futures_util::future::join3(feed, out, err).await;
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

    /// Sends signal `sig` (asyncio's `Process.send_signal`): a
    /// `signal::unix::SignalKind` (with the `signal` feature) or a
    /// `libc::SIG*` number. Does nothing if the process has already been
    /// reaped.
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
    /// // or, with the `signal` feature:
    /// // child.send_signal(eddy_io::signal::unix::SignalKind::interrupt())?;
    /// child.wait().await?;
    /// # Ok(()) }
    /// ```
    pub fn send_signal(&mut self, sig: impl Into<i32>) -> io::Result<()> {
        self.reaper().send_signal(sig.into())
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
