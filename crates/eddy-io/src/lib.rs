//! eddy-io: the I/O half of eddy — a mio reactor, sockets, asyncio-style
//! streams and servers, subprocesses, signals and async stdio.
//!
//! The reactor ([`driver::IoDriver`]) is the innermost `Park` of eddy's
//! driver stack (core loop → time driver → io driver). Everything else in
//! this crate registers file descriptors with it through the current
//! [`driver::Handle`], which the facade `eddy` enters on the loop thread.
//!
//!
//! **What it is for.** Everything that waits on a file descriptor: TCP, UDP
//! and Unix sockets ([`net`], behind the `net` feature), asyncio's streams
//! and servers ([`io::open_connection`], [`io::start_server`]),
//! subprocesses with async pipes ([`process`]), Unix signals ([`signal`]),
//! async stdio, and [`io::AsyncFd`] for any other descriptor.
//!
//! **What it is not for.** Timers (eddy-time), blocking work such as files
//! or DNS (eddy-blocking; the reactor hands name resolution to it through
//! [`driver::Builder::offload`]), and multi-threaded I/O: one reactor
//! serves one loop thread. Most programs use it through the facade `eddy`,
//! which builds and enters the whole stack.
//!
//! ```
//! use futures::io::{AsyncReadExt, AsyncWriteExt};
//!
//! // What the facade does for you: a reactor under eddy-core's loop.
//! let driver = eddy_io::driver::IoDriver::new()?;
//! let _io = driver.handle().enter();
//! let rt = eddy_core::Builder::new().build_with_driver(Box::new(driver))?;
//! rt.block_on(async {
//!     let listener = eddy_io::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let server = eddy_core::spawn(async move {
//!         let (mut socket, _) = listener.accept().await?;
//!         let mut buf = [0u8; 4];
//!         socket.read_exact(&mut buf).await?;
//!         socket.write_all(&buf).await
//!     });
//!     let mut client = eddy_io::net::TcpStream::connect(addr).await?;
//!     client.write_all(b"ping").await?;
//!     let mut back = [0u8; 4];
//!     client.read_exact(&mut back).await?;
//!     assert_eq!(&back, b"ping");
//!     server.await.unwrap()
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![warn(clippy::missing_errors_doc)]

pub mod driver;
pub mod io;
mod loom;
#[cfg(feature = "net")]
pub mod net;
#[cfg(feature = "process")]
pub mod process;
#[cfg(feature = "signal")]
pub mod signal;
