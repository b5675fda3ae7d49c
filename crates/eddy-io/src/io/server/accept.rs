//! The accept loop of a [`Server`](super::Server): accepting, turning each
//! connection into a handler task, and riding out accept errors.

use std::fmt::{self, Write as _};
use std::future::{poll_fn, Future};
use std::io;
use std::panic::{AssertUnwindSafe, Location};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures_util::FutureExt;

use super::connect::{split_tcp, split_unix};
use super::{Conn, ConnGuard, HandlerOutput, Local, Shared};
use crate::io::{StreamReader, StreamWriter};
use crate::net::{TcpListener, UnixListener};

/// First and last pause of the accept loop after a resource error
/// (`EMFILE`, `ENFILE`, ...): it doubles from the first to the last.
const BACKOFF_MIN: Duration = Duration::from_millis(1);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

pub(super) enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    /// One poll of accepting. Polled, not awaited, so that the accept
    /// loop holds no borrow of the listener while it waits: `Server::close`
    /// can then drop (close) the listening socket at once.
    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
        names: &Names,
    ) -> Poll<io::Result<(StreamReader, StreamWriter, ConnName)>> {
        match self {
            Listener::Tcp(l) => {
                let (stream, peer) = ready!(l.poll_accept(cx))?;
                let (r, w) = split_tcp(stream, Some(peer));
                Poll::Ready(Ok((r, w, names.connection(&peer))))
            }
            Listener::Unix(l) => {
                let (stream, peer) = ready!(l.poll_accept(cx))?;
                let (r, w) = split_unix(stream);
                let name = match peer.as_pathname() {
                    Some(path) => names.connection(&path.display()),
                    None => names.unnamed_unix(),
                };
                Poll::Ready(Ok((r, w, name)))
            }
        }
    }
}

/// How a connection's task name starts; the peer follows.
const FROM: &str = "connection from ";
/// The peer of a Unix connection whose client did not bind a path (the
/// usual case).
const UNNAMED: &str = "an unnamed socket";

/// The task names of one server, made once when it starts: its accept
/// task's, and the parts every connection's name is made of.
pub(super) struct Names {
    /// `accept loop of the server on 127.0.0.1:8888`.
    pub(super) accept: Arc<str>,
    /// ` to 127.0.0.1:8888`: how every connection's name ends.
    to_local: Box<str>,
    /// The whole name of a Unix connection from an unnamed socket, shared
    /// by all of them (no allocation per connection).
    unnamed_unix: Arc<str>,
}

impl Names {
    pub(super) fn new(local: &Local) -> Names {
        let local = match local {
            Local::Tcp(addr) => addr.to_string(),
            Local::Unix { path, .. } => path.display().to_string(),
        };
        let to_local: Box<str> = format!(" to {local}").into();
        Names {
            accept: format!("accept loop of the server on {local}").into(),
            unnamed_unix: format!("{FROM}{UNNAMED}{to_local}").into(),
            to_local,
        }
    }

    /// `connection from PEER to LOCAL`.
    fn connection(&self, peer: &dyn fmt::Display) -> ConnName {
        let mut name = String::with_capacity(FROM.len() + 32 + self.to_local.len());
        name.push_str(FROM);
        // Writing to a String cannot fail.
        let _ = write!(name, "{peer}");
        let peer_end = name.len();
        name.push_str(&self.to_local);
        ConnName {
            name: name.into(),
            peer_end,
        }
    }

    fn unnamed_unix(&self) -> ConnName {
        ConnName {
            name: self.unnamed_unix.clone(),
            peer_end: FROM.len() + UNNAMED.len(),
        }
    }
}

/// A connection task's name, `connection from PEER to LOCAL`, which also
/// gives the peer for the log lines about that connection.
#[derive(Clone)]
struct ConnName {
    name: Arc<str>,
    /// Where PEER ends in `name`.
    peer_end: usize,
}

impl ConnName {
    fn peer(&self) -> &str {
        &self.name[FROM.len()..self.peer_end]
    }
}

/// Clears the handler task from its connection's entry in
/// [`State::conns`] when the task ends however it ends: returned,
/// panicked, or cancelled by `close_clients`/`abort_clients` (a cancelled
/// task's future is dropped at an `.await`, so code after it never runs;
/// a destructor does). The entry itself goes with the [`ConnGuard`].
struct ConnEntry {
    server: Weak<Shared>,
    key: usize,
}

impl Drop for ConnEntry {
    fn drop(&mut self) {
        if let Some(server) = self.server.upgrade() {
            // The loop drops task futures outside any borrow of the state;
            // `try_` only keeps a destructor from ever panicking.
            if let Ok(mut s) = server.state.try_borrow_mut() {
                if let Some(conn) = s.conns.get_mut(self.key) {
                    conn.task = None;
                }
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A handler's future, dropped inside `catch_unwind`: a destructor that
    /// panics is a handler panic too (logged, the server goes on). The
    /// future is dropped either inside the task's poll (after it returned
    /// or panicked) or by the runtime when `close_clients`/`abort_clients`
    /// cancel the task; the runtime makes a panic raised there the task's
    /// own, which nobody joins and which would reach the unhandled-panic
    /// policy (stopping the runtime under `ShutdownRuntime`).
    struct DropCaught<F> {
        #[pin]
        future: Option<F>,
        conn: ConnName,
    }

    impl<F> PinnedDrop for DropCaught<F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            let mut future = this.future.as_mut();
            if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(|| future.set(None))) {
                let msg = panic_message(&*panic);
                tracing::error!(
                    peer = this.conn.peer(),
                    "connection handler panicked while being dropped: {msg}; closing that \
                     connection, the server goes on"
                );
            }
        }
    }
}

impl<F: Future> Future for DropCaught<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project()
            .future
            .as_pin_mut()
            .expect("a handler future is dropped only with its wrapper")
            .poll(cx)
    }
}

/// Errors that only concern one incoming connection: skip it.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNABORTED | libc::EPROTO | libc::ECONNRESET | libc::EPERM)
    ) || e.kind() == io::ErrorKind::Interrupted
}

/// The text of a panic payload, for the log.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic)".into())
}

/// Accepts until the server closes: `close` takes the listener out of
/// [`Shared`] (closing the socket), and the next poll here sees it gone.
///
/// Each handler task is named after its connection and recorded as
/// spawned at `location`, where the user started the server: debug mode's
/// slow-poll reports and `task::all` then lead to the user's server, not
/// to this loop.
pub(super) async fn accept_loop<H, F>(
    server: Weak<Shared>,
    handler: H,
    names: Names,
    location: &'static Location<'static>,
) where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    let mut backoff = BACKOFF_MIN;
    loop {
        let accepted = poll_fn(|cx| {
            let Some(shared) = server.upgrade() else {
                return Poll::Ready(None);
            };
            let listener = shared.listener.borrow();
            let polled = match listener.as_ref() {
                Some(l) => l.poll_accept(cx, &names).map(Some),
                // Closed: the socket is gone already.
                None => Poll::Ready(None),
            };
            polled
        })
        .await;
        let Some(accepted) = accepted else {
            return;
        };
        let Some(shared) = server.upgrade() else {
            return;
        };
        match accepted {
            Ok((reader, mut writer, conn)) => {
                backoff = BACKOFF_MIN;
                if shared.state.borrow().closed {
                    return;
                }
                // Counted live and in the table from here; the guard's
                // drop takes both back.
                let key = {
                    let mut s = shared.state.borrow_mut();
                    s.live += 1;
                    s.conns.insert(Conn {
                        task: None,
                        abort: writer.abort_handle(),
                    })
                };
                let guard = Rc::new(ConnGuard {
                    server: Rc::downgrade(&shared),
                    key,
                });
                writer.set_guard(Box::new(guard.clone()));
                // The factory runs with no borrow of the state held, so it
                // may use the server (`connection_count`, `close`); if it
                // panics, only this connection is lost, as when a handler's
                // future panics.
                let fut = match std::panic::catch_unwind(AssertUnwindSafe(|| {
                    handler(reader, writer)
                })) {
                    Ok(fut) => fut,
                    Err(panic) => {
                        let msg = panic_message(&*panic);
                        tracing::error!(
                            peer = conn.peer(),
                            "connection handler panicked: {msg}; closing that connection, the server goes on"
                        );
                        continue;
                    }
                };
                let entry_guard = ConnEntry {
                    server: Rc::downgrade(&shared),
                    key,
                };
                let builder = eddy_core::task::Builder::new()
                    .name(conn.name.clone())
                    .spawned_at(location);
                let fut = DropCaught {
                    future: Some(fut),
                    conn: conn.clone(),
                };
                let task = builder.spawn(async move {
                    let _entry = entry_guard;
                    match AssertUnwindSafe(fut).catch_unwind().await {
                        Ok(out) => out.report(conn.peer()),
                        Err(panic) => {
                            let msg = panic_message(&*panic);
                            tracing::error!(
                                peer = conn.peer(),
                                "connection handler panicked: {msg}; closing that connection, the server goes on"
                            );
                        }
                    }
                    drop(guard);
                });
                // The task holds `guard`, so the entry is still there.
                if let Some(conn) = shared.state.borrow_mut().conns.get_mut(key) {
                    conn.task = Some(task);
                }
            }
            Err(e) if is_connection_error(&e) => {
                tracing::debug!("accept: skipping a failed incoming connection: {e}");
            }
            Err(e) => {
                let resource = matches!(
                    e.raw_os_error(),
                    Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
                );
                if resource {
                    tracing::warn!(
                        "accept failed: {e}; out of descriptors or memory, pausing {backoff:?} \
                         before accepting again (raise the open-file limit with ulimit -n)"
                    );
                } else {
                    tracing::error!("accept failed: {e}; pausing {backoff:?} and retrying");
                }
                drop(shared);
                crate::driver::offload::pause(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log lines about a connection name its peer: the part of the
    /// task name between "connection from " and " to ".
    #[test]
    fn connection_names_give_the_peer_for_the_logs() {
        let names = Names::new(&Local::Tcp("127.0.0.1:8888".parse().unwrap()));
        assert_eq!(
            &*names.accept,
            "accept loop of the server on 127.0.0.1:8888"
        );
        let peer: std::net::SocketAddr = "[::1]:54321".parse().unwrap();
        let conn = names.connection(&peer);
        assert_eq!(&*conn.name, "connection from [::1]:54321 to 127.0.0.1:8888");
        assert_eq!(conn.peer(), "[::1]:54321");

        let unix = Names::new(&Local::Unix {
            path: "/tmp/app.sock".into(),
            id: None,
        });
        let conn = unix.unnamed_unix();
        assert_eq!(
            &*conn.name,
            "connection from an unnamed socket to /tmp/app.sock"
        );
        assert_eq!(conn.peer(), "an unnamed socket");
        // Shared, not made again for every connection.
        assert!(Arc::ptr_eq(&conn.name, &unix.unnamed_unix().name));
        let conn = unix.connection(&std::path::Path::new("/tmp/client.sock").display());
        assert_eq!(conn.peer(), "/tmp/client.sock");
    }
}
