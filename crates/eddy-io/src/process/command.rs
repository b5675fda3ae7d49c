//! [`Command`]: the process builder.

use std::ffi::OsStr;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures_io::AsyncRead;

use super::reap;
use super::{Child, ExitStatus, Output, Stdio};

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
    /// Set by [`Command::stderr_to_stdout`], cleared by a later
    /// [`Command::stderr`]; read by the `pre_exec` hook in the child, which
    /// is installed (once) by the first `stderr_to_stdout` call.
    merge_stderr: Option<Arc<AtomicBool>>,
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
    ///
    /// This replaces an earlier [`stderr_to_stdout`](Self::stderr_to_stdout)
    /// (the last of the two calls wins).
    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        if let Some(merge) = &self.merge_stderr {
            merge.store(false, Ordering::Relaxed);
        }
        self
    }

    /// Sends the child's stderr wherever its stdout goes, in the order the
    /// child writes them: asyncio's `stderr=asyncio.subprocess.STDOUT`,
    /// the shell's `2>&1`. `std::process::Stdio` has no such value (and
    /// cannot name "the child's stdout"), so it is a method of the builder.
    ///
    /// The child's descriptor 2 becomes a copy of its descriptor 1 after
    /// the standard streams are set up, so it follows whatever
    /// [`stdout`](Self::stdout) is, whenever that is set:
    ///
    /// - `Stdio::piped()` (and the default of [`output`](Self::output)):
    ///   both streams arrive interleaved on [`Child::stdout`] and in
    ///   `Output::stdout`, read by [`Child::communicate`], `output` and
    ///   drained by [`status`](Self::status) alike;
    /// - `Stdio::inherit()` (the default of [`spawn`](Self::spawn) and
    ///   `status`): the child's stderr goes to *our* stdout;
    /// - a file or another child's pipe (`Stdio::from(..)`,
    ///   `Stdio::try_from(pipe)`): both go there;
    /// - `Stdio::null()`: both are discarded;
    /// - an inherited stdout that this process has closed (or marked
    ///   close-on-exec): the child has neither.
    ///
    /// [`Child::stderr`] is then `None` and `Output::stderr` empty: no
    /// stderr pipe is made. A later [`stderr`](Self::stderr) call undoes
    /// this one, and this one replaces an earlier `stderr` setting: the
    /// last of the two wins. A later `stdout` call does not undo it.
    ///
    /// No pipe end is left open in this process: the child holds the only
    /// write end, so reading [`Child::stdout`] ends at end of file once
    /// the child (and any process it passed the descriptors to) is gone.
    ///
    /// The copy is made by a hook that runs in the child between fork and
    /// exec (`CommandExt::pre_exec`), so std starts this command with
    /// `fork` + `exec` rather than `posix_spawn`, which costs more for a
    /// parent with a large address space (from the first call on, even if
    /// a later `stderr` call undoes it).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// use eddy_io::process::Command;
    ///
    /// let out = Command::shell("echo one; echo two >&2; echo three")
    ///     .stderr_to_stdout()
    ///     .output()
    ///     .await?;
    /// assert_eq!(out.stdout, b"one\ntwo\nthree\n");
    /// assert!(out.stderr.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn stderr_to_stdout(&mut self) -> &mut Command {
        // Nothing to set up for fd 2 in std: the hook overwrites it.
        self.std.stderr(Stdio::inherit());
        self.stderr_set = true;
        match &self.merge_stderr {
            Some(merge) => merge.store(true, Ordering::Relaxed),
            None => {
                let merge = Arc::new(AtomicBool::new(true));
                let in_child = Arc::clone(&merge);
                let hook = move || -> io::Result<()> {
                    if !in_child.load(Ordering::Relaxed) {
                        return Ok(());
                    }
                    // SAFETY: fcntl(F_GETFD), close and dup3 take integers
                    // and are async-signal-safe system calls, as a
                    // pre_exec hook needs (it runs in the forked child of
                    // a possibly multi-threaded parent). Descriptor 1 is
                    // what std just set up as the child's stdout.
                    unsafe {
                        let flags = libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD);
                        if flags < 0 {
                            // No stdout at all (an inherited one that this
                            // process had closed): no stderr either.
                            libc::close(libc::STDERR_FILENO);
                            return Ok(());
                        }
                        // An inherited stdout marked close-on-exec vanishes
                        // at exec, and so must the copy (dup2 would clear
                        // the flag and leak the descriptor into the child).
                        let cloexec = if flags & libc::FD_CLOEXEC != 0 {
                            libc::O_CLOEXEC
                        } else {
                            0
                        };
                        while libc::dup3(libc::STDOUT_FILENO, libc::STDERR_FILENO, cloexec) < 0 {
                            let err = io::Error::last_os_error();
                            if err.kind() != io::ErrorKind::Interrupted {
                                return Err(err);
                            }
                        }
                    }
                    Ok(())
                };
                // SAFETY: the hook only loads an atomic (memory copied
                // from the parent at fork, no lock taken) and makes the
                // async-signal-safe calls above; it neither allocates (a
                // raw OS error is stored inline in io::Error) nor panics.
                unsafe { self.std.pre_exec(hook) };
                self.merge_stderr = Some(merge);
            }
        }
        self
    }

    /// Whether dropping the [`Child`] before its exit kills it (SIGKILL).
    /// Off by default: a dropped child runs on (and is reaped in the
    /// background when it exits).
    ///
    /// Only the child itself is killed, as with tokio: processes it
    /// started (a shell's pipeline, a subshell) live on. To take them
    /// along, start the child in its own group with
    /// [`process_group(0)`](Self::process_group) and signal the group
    /// (`kill(-pid, SIGKILL)`) before dropping it.
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

    /// Puts the child in process group `pgroup`, `0` for a new group of
    /// its own whose id is the child's pid (tokio's and std's
    /// `process_group`; asyncio's `process_group=`, and the usual reason
    /// for its `start_new_session=True`). Signalling the negated id
    /// (`libc::kill(-pgid, sig)`) then reaches the child and everything it
    /// started that stayed in the group, where [`Child::kill`] reaches the
    /// child alone. A child in its own group no longer gets the terminal's
    /// Ctrl-C.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let mut child = eddy_io::process::Command::shell("sleep 100 & sleep 100")
    ///     .process_group(0)
    ///     .spawn()?;
    /// let pgid = child.id() as libc::pid_t;
    /// // SAFETY: kill(2) takes two integers; the group is the child's.
    /// unsafe { libc::kill(-pgid, libc::SIGTERM) };
    /// child.wait().await?;
    /// # Ok(()) }
    /// ```
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        self.std.process_group(pgroup);
        self
    }

    /// The underlying std builder, for what this type does not mirror
    /// (`std::os::unix::process::CommandExt`: `uid`, `gid`, `arg0`,
    /// `pre_exec`, ...).
    /// Set the standard streams through this type rather than here:
    /// [`output`](Self::output) only sees those (see the `From` conversion).
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
    /// example `NotFound` for a missing program). When the
    /// [`current_dir`](Self::current_dir) cannot be entered the message
    /// names the directory instead (the OS reports both with the same
    /// error code, `NotFound` for a missing one).
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
        let child = self.std.spawn().map_err(|e| spawn_error(&self.std, e))?;
        Child::from_std(child, self.kill_on_drop)
    }

    /// Runs the process to completion, collecting stdout and stderr
    /// (piped unless set; stdin is null unless set). Like tokio's (std's
    /// does not), this sets those defaults on the builder itself: a later
    /// [`spawn`](Self::spawn) or [`status`](Self::status) on it pipes
    /// stdout and stderr and gives a null stdin too, unless they are set.
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
    /// (streams inherited unless set). A stdout or stderr set to
    /// `Stdio::piped()` (here, or by an earlier [`output`](Self::output)
    /// on this builder) is read while waiting and its bytes discarded, so
    /// the child never blocks on a full pipe nobody reads; stdin is closed
    /// at once.
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
        // Nor read them: drain piped outputs while waiting, or a child
        // writing more than a pipe buffer would wait for us forever.
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let mut drain = pin!(futures_util::future::join(discard(stdout), discard(stderr)));
        let mut drained = false;
        let mut wait = pin!(child.wait());
        poll_fn(|cx| {
            if !drained {
                drained = drain.as_mut().poll(cx).is_ready();
            }
            wait.as_mut().poll(cx)
        })
        .await
    }
}

/// The spawn error `e` of `cmd`, saying what is wrong: the OS gives one
/// errno (`ENOENT`, `EACCES`, ...) for both a bad program and a bad working
/// directory, so a directory that cannot be entered is named as the cause.
fn spawn_error(cmd: &std::process::Command, e: io::Error) -> io::Error {
    let program = cmd.get_program();
    let dir_problem = cmd.get_current_dir().and_then(|dir| {
        let problem = match std::fs::metadata(dir) {
            Err(err) => err.to_string(),
            Ok(meta) if !meta.is_dir() => "it is not a directory".to_owned(),
            Ok(_) => return None,
        };
        Some(format!(
            "failed to spawn {program:?}: its working directory {dir:?} cannot be \
             entered ({problem}); pass an existing directory to current_dir"
        ))
    });
    let msg = dir_problem.unwrap_or_else(|| format!("failed to spawn {program:?}: {e}"));
    io::Error::new(e.kind(), msg)
}

/// Reads `pipe` to EOF (or to its first error), throwing the bytes away.
async fn discard<R: AsyncRead + Unpin>(pipe: Option<R>) {
    let Some(mut pipe) = pipe else { return };
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = poll_fn(|cx| Pin::new(&mut pipe).poll_read(cx, &mut buf)).await {
        if n == 0 {
            return;
        }
    }
}

/// Takes a configured std builder (tokio has the same conversion). Its
/// program, arguments, environment, working directory and `CommandExt`
/// settings are kept, and so are standard streams set on it for
/// [`spawn`](Command::spawn) and [`status`](Command::status); but
/// [`output`](Command::output) cannot see them (std has no getter for
/// them) and gives its defaults (piped stdout and stderr, null stdin):
/// set streams again through this builder's `stdin`/`stdout`/`stderr`
/// for `output` to keep them.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let mut std_cmd = std::process::Command::new("make");
/// std_cmd.arg("-j4").current_dir("/src").env("CC", "clang");
/// let status = eddy_io::process::Command::from(std_cmd).status().await?;
/// # Ok(()) }
/// ```
impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
            merge_stderr: None,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.std, f)
    }
}
