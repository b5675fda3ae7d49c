//! asyncio-style I/O: readiness for raw file descriptors, stream readers and
//! writers, servers, and async stdio.
//!
//! Each helper adds its `pub use` lines below its own module declaration.

// The reactor side: AsyncFd (asyncio's add_reader/add_writer).
mod async_fd;
pub use async_fd::{AsyncFd, ReadyGuard, WouldBlock};

// asyncio streams: StreamReader, StreamWriter, open_connection, start_server, Server.
pub(crate) mod read_end;
mod reader;
#[cfg(feature = "net")]
mod server;
#[cfg(feature = "net")]
pub use server::{
    open_connection, open_unix_connection, start_server, start_unix_server, HandlerOutput, Server,
};
mod stream_error;
mod stream_pair;
mod writer;
pub use reader::{BoxedReader, Lines, StreamReader, DEFAULT_LIMIT};
pub use stream_error::{ReadError, WriteError};
pub use stream_pair::stream_pair;
#[cfg(feature = "net")]
pub use writer::TransportSocket;
pub use writer::{BoxedWriter, StreamWriter, DEFAULT_HIGH_WATER};
#[cfg(feature = "net")]
pub(crate) use writer::{FileSource, FALLBACK_BUF};

// Async stdin/stdout/stderr (issue 8).
mod stdio;
pub use stdio::{stderr, stdin, stdout, Stderr, Stdin, Stdout};

/// Adds `waker` to a list of tasks waiting for a state change, unless one
/// that wakes the same task is there already: a future polled again and
/// again (in a `select!` loop, say) keeps one entry, not one per poll.
pub(crate) fn wait_on(waiters: &mut Vec<std::task::Waker>, waker: &std::task::Waker) {
    if !waiters.iter().any(|w| w.will_wake(waker)) {
        waiters.push(waker.clone());
    }
}
