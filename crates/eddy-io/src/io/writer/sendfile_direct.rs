//! The socket path of [`StreamWriter::sendfile`](super::StreamWriter::sendfile)
//! (feature `net`): the kernel copies the file to the writer's socket
//! while the writer's close waits for it.

use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::rc::Rc;
use std::task::Poll;

use futures_io::AsyncWrite;

use super::shared::{kick, Shared};
use super::socket::TransportSocket;
use super::FileSource;
use super::StreamWriter;
use crate::io::WriteError;

impl<W: AsyncWrite + Unpin + 'static> StreamWriter<W> {
    /// The file straight to the socket, the writer's buffer being empty.
    pub(super) async fn sendfile_socket(
        &mut self,
        socket: &TransportSocket,
        source: FileSource<'_>,
        sent: &mut u64,
    ) -> Result<u64, WriteError> {
        let shared = &self.shared;
        let _in_flight = InFlight::start(shared);
        let mut transfer = crate::net::sendfile::Transfer::from_source(source);
        let mut total = 0;
        loop {
            let mut step = std::pin::pin!(socket.sendfile_step(&mut transfer));
            let moved = poll_fn(|cx| {
                {
                    let mut s = shared.borrow_mut();
                    if let Some(e) = s.error() {
                        return Poll::Ready(Err(Stop::Writer(e)));
                    }
                    if s.done() {
                        return Poll::Ready(Err(Stop::Writer(WriteError::Closing)));
                    }
                    // An abort (`finish`) wakes the writer's waiter: this
                    // task then stops and lets go of the socket, which the
                    // abort means to close.
                    match &s.waiter {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => s.waiter = Some(cx.waker().clone()),
                    }
                }
                std::future::Future::poll(step.as_mut(), cx).map_err(Stop::Step)
            })
            .await;
            let moved = match moved {
                Ok(moved) => moved,
                Err(Stop::Writer(e)) => return Err(e),
                Err(Stop::Step(e)) if connection_lost(&e) => {
                    // The socket failed, not the file: the writer is done
                    // for, as after a failed write, so the next write,
                    // drain or flush reports it too.
                    shared
                        .borrow_mut()
                        .fail(io::Error::new(e.kind(), e.to_string()));
                    return Err(WriteError::Io(e));
                }
                // The file failed (or the kernel refused the call): the
                // connection is untouched.
                Err(Stop::Step(e)) => return Err(WriteError::File(e)),
            };
            match moved {
                Some(n) => {
                    total += n;
                    *sent += n;
                }
                None => return Ok(total),
            }
        }
    }
}

/// Why one step of the transfer stopped: the writer's own state (an
/// earlier failure, a close or abort) or the system call's error.
enum Stop {
    Writer(WriteError),
    Step(io::Error),
}

/// An error of the socket itself (the peer is gone or unreachable), as
/// opposed to one of the file (`EBADF`, `EIO`, an offset out of range),
/// which leaves the connection usable.
fn connection_lost(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::EPIPE
                | libc::ECONNRESET
                | libc::ECONNABORTED
                | libc::ENOTCONN
                | libc::ETIMEDOUT
                | libc::EHOSTUNREACH
                | libc::ENETUNREACH
                | libc::ENETDOWN
                | libc::ENETRESET
        )
    )
}

/// Marks a `sendfile` writing to the socket directly (see
/// `Shared::file_in_flight`); when it ends, however it ends, a close asked
/// for meanwhile goes ahead.
struct InFlight<'a, W: AsyncWrite + Unpin + 'static>(&'a Rc<RefCell<Shared<W>>>);

impl<'a, W: AsyncWrite + Unpin + 'static> InFlight<'a, W> {
    fn start(shared: &'a Rc<RefCell<Shared<W>>>) -> Self {
        shared.borrow_mut().file_in_flight = true;
        InFlight(shared)
    }
}

impl<W: AsyncWrite + Unpin + 'static> Drop for InFlight<'_, W> {
    fn drop(&mut self) {
        let Ok(mut s) = self.0.try_borrow_mut() else {
            return;
        };
        s.file_in_flight = false;
        s.waiter = None;
        let close = s.closing || s.eof;
        drop(s);
        if close {
            kick(self.0);
        }
    }
}
