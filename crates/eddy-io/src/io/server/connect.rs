//! The client side: asyncio's `open_connection` and
//! `open_unix_connection`, and the wrapping of a connected socket into a
//! linked [`StreamReader`] and [`StreamWriter`] (which the server's accept
//! loop uses for each accepted connection too).

use std::io;
use std::net::SocketAddr;
use std::path::Path;

use crate::io::writer::SocketLink;
use crate::io::{StreamReader, StreamWriter};
use crate::net::{TcpStream, ToSocketAddrs, UnixStream};

/// Opens a TCP connection (asyncio's `open_connection`) and returns its
/// reader and writer. `TCP_NODELAY` is set, as asyncio does.
///
/// `addr` is anything [`TcpStream::connect`] takes ([`ToSocketAddrs`]):
/// `"host:port"` (a `&str` or a `String`), a `SocketAddr`, `(ip, port)`
/// or `(host, port)`. Host names are resolved off the loop, and each
/// address they resolve to is tried in turn.
///
/// # Errors
///
/// Whatever connecting fails with (refused, unreachable, resolution).
///
/// # Cancel safety
///
/// Cancel safe: dropping it abandons the connection attempt.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let (mut reader, mut writer) = eddy_io::io::open_connection("127.0.0.1:6379").await?;
/// writer.write(b"PING\r\n")?;
/// let reply = reader.read_line().await?;
///
/// // Or from an address already at hand, or a (host, port) pair:
/// let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 6379));
/// let (reader, writer) = eddy_io::io::open_connection(addr).await?;
/// let (reader, writer) = eddy_io::io::open_connection(("localhost", 6379)).await?;
/// # Ok(()) }
/// ```
pub async fn open_connection(addr: impl ToSocketAddrs) -> io::Result<(StreamReader, StreamWriter)> {
    let stream = TcpStream::connect(addr).await?;
    Ok(split_tcp(stream, None))
}

/// Opens a Unix-socket connection (asyncio's `open_unix_connection`).
///
/// # Errors
///
/// Whatever connecting fails with (no such socket, refused).
///
/// # Cancel safety
///
/// Cancel safe: dropping it abandons the connection attempt.
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let (reader, writer) = eddy_io::io::open_unix_connection("/tmp/app.sock").await?;
/// # Ok(()) }
/// ```
pub async fn open_unix_connection(
    path: impl AsRef<Path>,
) -> io::Result<(StreamReader, StreamWriter)> {
    let stream = UnixStream::connect(path.as_ref()).await?;
    Ok(split_unix(stream))
}

/// Wraps a connected socket; `peer` is the address `accept` already
/// returned (saves a `getpeername` call per connection), `None` to ask.
pub(super) fn split_tcp(
    stream: TcpStream,
    peer: Option<SocketAddr>,
) -> (StreamReader, StreamWriter) {
    // Best effort, like asyncio: a socket that refuses is still usable.
    let _ = stream.set_nodelay(true);
    let peer = peer.or_else(|| stream.peer_addr().ok());
    let (r, w) = stream.into_split();
    let socket = SocketLink::from(&w);
    let (reader, mut writer) = crate::io::stream_pair::linked_pair(r, w);
    writer.set_socket(socket);
    if let Some(peer) = peer {
        writer = writer.with_peer_addr(peer);
    }
    (reader, writer)
}

pub(super) fn split_unix(stream: UnixStream) -> (StreamReader, StreamWriter) {
    let (r, w) = stream.into_split();
    let socket = SocketLink::from(&w);
    let (reader, mut writer) = crate::io::stream_pair::linked_pair(r, w);
    writer.set_socket(socket);
    (reader, writer)
}
