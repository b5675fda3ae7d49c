//! asyncio's `open_connection` / `start_server` and [`Server`].
//!
//! A server is an accept task plus a table of live connections. Each
//! accepted socket is split into a [`StreamReader`] and a [`StreamWriter`]
//! and handed to the user's handler, whose future runs as its own task.
//! A connection counts as live until its handler task has ended *and* its
//! writer has sent what was buffered and shut down; `wait_closed` waits for
//! that.
//!
//! Connecting is in `connect.rs`, starting a server in `start.rs`, the
//! accept loop in `accept.rs`; this file holds the [`Server`] itself.

use std::cell::RefCell;
use std::fmt;
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::panic::Location;
use std::path::{Path, PathBuf};
use std::rc::{Rc, Weak};
use std::task::{Poll, Waker};

use slab::Slab;

use super::writer::AbortHandle;
use super::{BoxedWriter, StreamReader, StreamWriter};

mod accept;
mod connect;
mod start;
#[cfg(test)]
mod tests;
mod unix_path;

use accept::{accept_loop, Listener, Names};
pub use connect::{open_connection, open_unix_connection};
pub use start::{start_server, start_unix_server, HandlerOutput};

#[derive(Clone, Debug)]
enum Local {
    Tcp(SocketAddr),
    Unix {
        path: PathBuf,
        /// The socket file's identity right after binding: `close` removes
        /// the path only while it still is this file.
        id: Option<unix_path::FileId>,
    },
}

/// A live connection: in [`State::conns`] from its accept until it is
/// fully gone (its [`ConnGuard`] drops), so `abort_clients` also reaches a
/// writer still flushing after its handler returned.
struct Conn {
    /// The handler task while it runs; `None` before it is spawned and
    /// after it ended.
    task: Option<eddy_core::JoinHandle<()>>,
    abort: AbortHandle<BoxedWriter>,
}

struct State {
    /// `close` was called: no more accepting.
    closed: bool,
    accept_task: Option<eddy_core::JoinHandle<()>>,
    /// Live connections (handler running or writer still flushing).
    conns: Slab<Conn>,
    /// Connections not fully gone (handler running or writer still
    /// flushing); `wait_closed` waits for zero.
    live: usize,
    /// Tasks in `serve_forever` / `wait_closed`.
    waiters: Vec<Waker>,
}

struct Shared {
    local: Local,
    state: RefCell<State>,
    /// The listening socket; `close` takes it out and drops it, so the
    /// port (or path) is released before `close` returns. The accept task
    /// only borrows it for the length of one poll.
    listener: RefCell<Option<Listener>>,
}

impl Shared {
    fn wake_all(&self) {
        let waiters = std::mem::take(&mut self.state.borrow_mut().waiters);
        for w in waiters {
            w.wake();
        }
    }
}

/// Dropped when a connection is fully gone: its handler task ended and
/// its writer finished (both hold an `Rc` of it). Takes the connection
/// out of the live count and of the table.
struct ConnGuard {
    server: Weak<Shared>,
    key: usize,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        if let Some(server) = self.server.upgrade() {
            let done = {
                let mut s = server.state.borrow_mut();
                s.live -= 1;
                s.conns.try_remove(self.key);
                s.live == 0
            };
            if done {
                server.wake_all();
            }
        }
    }
}

/// A running server (asyncio's `Server`), from [`start_server`] or
/// [`start_unix_server`].
///
/// Dropping it closes it (stops accepting); connections already accepted
/// live on.
///
/// # Example
///
/// ```no_run
/// # async fn demo(handler: fn(eddy_io::io::StreamReader, eddy_io::io::StreamWriter) -> std::future::Ready<()>) -> std::io::Result<()> {
/// let server = eddy_io::io::start_server("127.0.0.1:0", handler).await?;
/// let addr = server.local_addr().unwrap();
/// // ... later:
/// server.close();
/// server.wait_closed().await;
/// # Ok(()) }
/// ```
pub struct Server {
    shared: Rc<Shared>,
}

impl Server {
    /// Starts accepting; `location` is where the user started the server:
    /// the accept task and every connection task are recorded as spawned
    /// there.
    fn start<H, F>(
        local: Local,
        listener: Listener,
        handler: H,
        location: &'static Location<'static>,
    ) -> Server
    where
        H: Fn(StreamReader, StreamWriter) -> F + 'static,
        F: Future + 'static,
        F::Output: HandlerOutput,
    {
        let names = Names::new(&local);
        let shared = Rc::new(Shared {
            local,
            state: RefCell::new(State {
                closed: false,
                accept_task: None,
                conns: Slab::new(),
                live: 0,
                waiters: Vec::new(),
            }),
            listener: RefCell::new(Some(listener)),
        });
        let task = eddy_core::task::Builder::new()
            .name(names.accept.clone())
            .spawned_at(location)
            .spawn(accept_loop(
                Rc::downgrade(&shared),
                handler,
                names,
                location,
            ));
        shared.state.borrow_mut().accept_task = Some(task);
        Server { shared }
    }

    /// The address the TCP server listens on (useful after binding port
    /// 0); `None` for a Unix server.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: eddy_io::io::Server) {
    /// println!("listening on {}", server.local_addr().unwrap());
    /// # }
    /// ```
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.shared.local {
            Local::Tcp(a) => Some(*a),
            Local::Unix { .. } => None,
        }
    }

    /// The socket path of a Unix server; `None` for TCP.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: eddy_io::io::Server) {
    /// if let Some(path) = server.local_path() { println!("{}", path.display()); }
    /// # }
    /// ```
    pub fn local_path(&self) -> Option<&Path> {
        match &self.shared.local {
            Local::Tcp(_) => None,
            Local::Unix { path, .. } => Some(path),
        }
    }

    /// True until [`close`](Self::close).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: eddy_io::io::Server) {
    /// server.close();
    /// assert!(!server.is_serving());
    /// # }
    /// ```
    pub fn is_serving(&self) -> bool {
        !self.shared.state.borrow().closed
    }

    /// How many connections are live (handler running or its writer still
    /// flushing).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: eddy_io::io::Server) {
    /// println!("{} clients", server.connection_count());
    /// # }
    /// ```
    pub fn connection_count(&self) -> usize {
        self.shared.state.borrow().live
    }

    /// Waits until the server is closed (by [`close`](Self::close) from
    /// another task or a handler). The server already serves before this is
    /// called; this is asyncio's `serve_forever` minus the implicit start.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it does not close the server (unlike asyncio,
    /// where cancelling `serve_forever` closes it); call `close` for that.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: eddy_io::io::Server) {
    /// server.serve_forever().await; // returns after server.close()
    /// # }
    /// ```
    pub async fn serve_forever(&self) {
        poll_fn(|cx| {
            let mut s = self.shared.state.borrow_mut();
            if s.closed {
                return Poll::Ready(());
            }
            super::wait_on(&mut s.waiters, cx.waker());
            Poll::Pending
        })
        .await
    }

    /// Stops accepting: the listening socket is closed before this
    /// returns, so new connections are refused at once and the address
    /// can be bound again (as asyncio's `Server.close`). Connections
    /// already accepted go on.
    ///
    /// A Unix server also removes its socket file, but only if the path
    /// still refers to the socket it bound (same device and inode, as
    /// asyncio 3.13 checks): if someone else has since removed it and bound
    /// or created another file there, that file is left alone.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: eddy_io::io::Server) {
    /// server.close();
    /// server.wait_closed().await;
    /// # }
    /// ```
    pub fn close(&self) {
        let task = {
            let mut s = self.shared.state.borrow_mut();
            if s.closed {
                return;
            }
            s.closed = true;
            s.accept_task.take()
        };
        if let Some(task) = task {
            task.cancel();
        }
        // Out of the cell first, then dropped: closing the socket must not
        // happen under the borrow.
        let listener = self.shared.listener.borrow_mut().take();
        drop(listener);
        if let Local::Unix { path, id } = &self.shared.local {
            unix_path::remove_own_socket(path, *id);
        }
        self.shared.wake_all();
    }

    /// Closes every connection gracefully: each handler is cancelled (its
    /// future dropped), and each writer, wherever it is kept, still sends
    /// what it had buffered before shutting its socket down (asyncio's
    /// `close_clients`); writing to it then fails with
    /// [`WriteError::Closing`](super::WriteError::Closing), and a reader the
    /// handler handed to another task reports end of stream.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: eddy_io::io::Server) {
    /// server.close();
    /// server.close_clients();
    /// server.wait_closed().await;
    /// # }
    /// ```
    pub fn close_clients(&self) {
        let s = self.shared.state.borrow();
        for (_, conn) in s.conns.iter() {
            // Only marks the writer closing and wakes its flusher: the
            // connection cannot end (and touch the state) in here.
            conn.abort.close();
            if let Some(task) = &conn.task {
                task.cancel();
            }
        }
    }

    /// Closes every connection at once, dropping unsent data (asyncio's
    /// `abort_clients`): running handlers are cancelled, and every writer
    /// still sending, including one whose handler already returned, is
    /// aborted.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: eddy_io::io::Server) {
    /// server.close();
    /// server.abort_clients();
    /// server.wait_closed().await;
    /// # }
    /// ```
    pub fn abort_clients(&self) {
        // An abort can end a connection at once, and its guard then
        // updates the state: run them with no borrow held.
        let writers: Vec<_> = {
            let s = self.shared.state.borrow();
            for (_, conn) in s.conns.iter() {
                if let Some(task) = &conn.task {
                    task.cancel();
                }
            }
            s.conns.iter().map(|(_, c)| c.abort.clone()).collect()
        };
        for writer in writers {
            writer.abort();
        }
    }

    /// Waits until the server is closed *and* every connection is gone
    /// (handlers ended, writers flushed and shut down).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only observes.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn demo(server: eddy_io::io::Server) {
    /// server.close();
    /// server.wait_closed().await;
    /// assert_eq!(server.connection_count(), 0);
    /// # }
    /// ```
    pub async fn wait_closed(&self) {
        poll_fn(|cx| {
            let mut s = self.shared.state.borrow_mut();
            if s.closed && s.live == 0 {
                return Poll::Ready(());
            }
            super::wait_on(&mut s.waiters, cx.waker());
            Poll::Pending
        })
        .await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.shared.state.borrow();
        f.debug_struct("Server")
            .field("local", &self.shared.local)
            .field("closed", &s.closed)
            .field("live", &s.live)
            .finish()
    }
}
