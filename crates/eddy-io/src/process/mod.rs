//! Subprocesses: asyncio's `create_subprocess_exec` / `create_subprocess_shell`.
//!
//! [`Command`] builds a process like `std::process::Command` (it *is* one
//! underneath, so spawning uses `posix_spawn`/`vfork` where std can), plus
//! what std lacks: [`Command::stderr_to_stdout`] (asyncio's
//! `stderr=STDOUT`), [`Command::shell`], [`Command::kill_on_drop`];
//! [`Child`] has async pipes ([`ChildStdin`], [`ChildStdout`],
//! [`ChildStderr`]), [`wait`](Child::wait), [`communicate`](Child::communicate),
//! [`kill`](Child::kill), [`terminate`](Child::terminate) and
//! [`send_signal`](Child::send_signal). A pipe converts into [`Stdio`]
//! (`Stdio::try_from(pipe)`) to feed another child, as in a shell
//! pipeline; it is made blocking again for that child.
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

mod child;
mod command;
mod pipe;
mod reap;

pub use child::Child;
pub use command::Command;
pub use pipe::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};

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
