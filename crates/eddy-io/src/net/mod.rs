//! Sockets (asyncio's transports, without protocol classes): TCP, UDP and
//! Unix-domain, registered with the loop's reactor.
//!
//! Stream types implement futures' `AsyncRead`/`AsyncWrite`, so
//! `futures::io` combinators (`copy`, `read_to_end`, `BufReader`, ...)
//! work on them. For asyncio's `StreamReader`/`StreamWriter` API use
//! [`crate::io::open_connection`] and [`crate::io::start_server`].
//!
//! Every constructor registers with the reactor of the current runtime
//! and panics outside one. Host names are resolved off the loop.

mod addr;
pub(crate) mod split;
mod tcp_listener;
mod tcp_stream;
mod udp;
mod unix_datagram;
mod unix_listener;
mod unix_stream;

pub use addr::ToSocketAddrs;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, SplitStream, WriteHalf};
pub use tcp_listener::{Incoming, TcpListener, TcpListenerBuilder};
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;
pub use unix_datagram::UnixDatagram;
pub use unix_listener::{UnixIncoming, UnixListener};
pub use unix_stream::UnixStream;
