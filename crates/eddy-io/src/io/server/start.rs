//! Starting a server: asyncio's `start_server` and `start_unix_server`,
//! which bind the listening socket and hand it to a new [`Server`], and
//! [`HandlerOutput`], what a connection handler may return.

use std::fmt;
use std::future::Future;
use std::io;
use std::panic::Location;
use std::path::Path;

use super::accept::Listener;
use super::{unix_path, Local, Server};
use crate::io::{StreamReader, StreamWriter};
use crate::net::{TcpListener, ToSocketAddrs, UnixListener};

/// What a connection handler's future may return: `()` or a `Result` whose
/// error is logged at `warn` level, with the peer, when the handler ends
/// with it (visible under the usual `info` filter, as asyncio logs an
/// exception escaping a `start_server` callback; a panicking handler is
/// logged at `error`).
///
/// # Example
///
/// ```no_run
/// use eddy_io::io::{start_server, StreamReader, StreamWriter};
///
/// async fn handler(mut r: StreamReader, mut w: StreamWriter) -> std::io::Result<()> {
///     let line = r.read_line().await?;
///     w.write(&line)?;
///     Ok(())
/// }
/// # let _ = handler;
/// ```
pub trait HandlerOutput {
    /// Logs the outcome, if it is worth logging.
    fn report(self, peer: &str);
}

impl HandlerOutput for () {
    fn report(self, _: &str) {}
}

impl<E: fmt::Display> HandlerOutput for Result<(), E> {
    fn report(self, peer: &str) {
        if let Err(e) = self {
            tracing::warn!(peer, "connection handler ended with an error: {e}");
        }
    }
}

/// Starts a TCP server on `addr` (asyncio's `start_server`): every
/// accepted connection becomes a task running `handler(reader, writer)`.
/// It serves at once; [`Server::serve_forever`] only waits.
///
/// `addr` is anything [`TcpListener::bind`] takes ([`ToSocketAddrs`]):
/// `"host:port"` (a `&str` or a `String`), a `SocketAddr`, `(ip, port)`
/// or `(host, port)`; port 0 picks a free port ([`Server::local_addr`]
/// tells which).
///
/// Each connection's task is named after the connection (`"connection
/// from 127.0.0.1:54321 to 127.0.0.1:8888"`) and recorded as spawned
/// where `start_server` was called, so [`task::all`] and debug mode's
/// slow-poll reports point at your server, not into eddy.
///
/// A handler that panics (its future, the call of `handler` that makes
/// it, or a destructor run when `close_clients`/`abort_clients` cancel it)
/// is logged and its connection closed; the server goes on. `handler`
/// may use the [`Server`] itself, e.g. to close it after N connections.
/// When accepting fails for lack of resources (`EMFILE`,
/// `ENFILE`, ...), the server logs a warning, pauses (1 ms doubling to
/// 1 s) and keeps serving once descriptors free up.
///
/// # Errors
///
/// Binding fails (address in use, permission).
///
/// # Cancel safety
///
/// Cancel safe: dropping it before it completes binds nothing lasting.
///
/// # Example
///
/// ```no_run
/// use eddy_io::io::{start_server, StreamReader, StreamWriter};
///
/// async fn echo(mut r: StreamReader, mut w: StreamWriter) -> std::io::Result<()> {
///     while let Ok(line) = r.read_line().await {
///         if line.is_empty() { break; }
///         w.write(&line)?;
///         w.drain().await?;
///     }
///     Ok(())
/// }
///
/// # async fn demo() -> std::io::Result<()> {
/// let server = start_server("127.0.0.1:8888", echo).await?;
/// println!("serving on {}", server.local_addr().unwrap());
/// // Also: start_server(([127, 0, 0, 1], 8888), echo), start_server(addr, echo)
/// // with a SocketAddr, start_server(("localhost", 8888), echo).
/// server.serve_forever().await;
/// # Ok(()) }
/// ```
///
/// [`task::all`]: eddy_core::task::all
#[track_caller]
pub fn start_server<H, F>(
    addr: impl ToSocketAddrs,
    handler: H,
) -> impl Future<Output = io::Result<Server>>
where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    // Not an `async fn`: those cannot be `#[track_caller]`, and the
    // caller's location must be read here, before the future is polled.
    let location = Location::caller();
    async move {
        let listener = TcpListener::bind(addr).await?;
        let local = Local::Tcp(listener.local_addr()?);
        Ok(Server::start(
            local,
            Listener::Tcp(listener),
            handler,
            location,
        ))
    }
}

/// Starts a Unix-socket server at `path` (asyncio's `start_unix_server`).
///
/// Like asyncio, it replaces a *stale* socket file at `path` (one left by
/// a server that died without cleaning up): if `path` is a socket on which
/// nobody listens, it is removed before binding. Unlike asyncio, a socket
/// on which a server still listens is not taken over (that is checked with
/// a non-blocking connect, which that server sees as a connection closed
/// at once). Anything that is not a socket (a regular file, a directory,
/// a symbolic link, ...) is never removed.
///
/// The socket file is removed when the server closes, if it is still the
/// one this server created (see [`Server::close`]).
///
/// Each connection's task is named after the connection (`"connection
/// from an unnamed socket to /tmp/app.sock"`, or the client's socket path
/// when it bound one) and recorded as spawned where `start_unix_server`
/// was called, so [`task::all`] and debug mode's slow-poll reports point
/// at your server, not into eddy.
///
/// # Errors
///
/// * `AddrInUse` when `path` exists and is not a socket, or is a socket a
///   server listens on, or is a stale socket that cannot be removed; the
///   path is left as it was and the message says which case it is.
/// * Whatever binding fails with otherwise (missing directory,
///   permission).
///
/// # Cancel safety
///
/// Cancel safe: nothing is awaited after binding.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let server = eddy_io::io::start_unix_server("/tmp/app.sock", |_r, mut w: eddy_io::io::StreamWriter| async move {
///     let _ = w.write(b"hello\n");
/// }).await?;
/// # Ok(()) }
/// ```
///
/// [`task::all`]: eddy_core::task::all
#[track_caller]
pub fn start_unix_server<H, F>(
    path: impl AsRef<Path>,
    handler: H,
) -> impl Future<Output = io::Result<Server>>
where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    // Not an `async fn`, for `#[track_caller]` (see `start_server`).
    let location = Location::caller();
    async move {
        let path = path.as_ref().to_path_buf();
        unix_path::clear_stale_socket(&path)?;
        let listener = UnixListener::bind(&path)?;
        let id = unix_path::socket_id(&path);
        Ok(Server::start(
            Local::Unix { path, id },
            Listener::Unix(listener),
            handler,
            location,
        ))
    }
}
