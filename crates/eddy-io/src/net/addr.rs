//! [`ToSocketAddrs`]: what `connect` and `bind` accept, resolved without
//! blocking the loop.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::unix::net::SocketAddr as UnixSocketAddr;
use std::path::Path;

use crate::driver::offload::run_blocking;
use crate::driver::Handle;

mod sealed {
    /// Either addresses ready now, or a host name to look up.
    pub enum Addrs {
        /// A single numeric address: no allocation, no lookup (the fast
        /// path of `send_to` with a `SocketAddr`).
        One(std::net::SocketAddr),
        Ready(Vec<std::net::SocketAddr>),
        Lookup(String),
    }

    pub trait Sealed {
        fn into_addrs(self) -> Addrs;
    }
}

use sealed::Addrs;

/// Addresses `connect`/`bind` accept: a `SocketAddr`, `(ip, port)`,
/// `"host:port"` strings and `(host, port)` pairs, a slice of
/// `SocketAddr`s (tried in turn), or a reference to any of these (`&addr`,
/// as with tokio). Numeric addresses are
/// used as they are; host names are resolved on the blocking pool (or a
/// helper thread) so the loop never blocks on DNS.
///
/// # Example
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// use eddy_io::net::TcpStream;
/// let a = TcpStream::connect("127.0.0.1:8080").await?;
/// let b = TcpStream::connect(("localhost", 8080)).await?;
/// let c = TcpStream::connect(std::net::SocketAddr::from(([127, 0, 0, 1], 8080))).await?;
/// # Ok(()) }
/// ```
pub trait ToSocketAddrs: sealed::Sealed {}

impl<T: sealed::Sealed> ToSocketAddrs for T {}

macro_rules! ready_addr {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {
            fn into_addrs(self) -> Addrs {
                Addrs::One(SocketAddr::from(self))
            }
        }
    )*};
}

ready_addr!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16),
    ([u8; 4], u16)
);

impl sealed::Sealed for &[SocketAddr] {
    fn into_addrs(self) -> Addrs {
        Addrs::Ready(self.to_vec())
    }
}

impl sealed::Sealed for &str {
    fn into_addrs(self) -> Addrs {
        match self.parse::<SocketAddr>() {
            Ok(a) => Addrs::One(a),
            Err(_) => Addrs::Lookup(self.to_string()),
        }
    }
}

impl sealed::Sealed for String {
    fn into_addrs(self) -> Addrs {
        self.as_str().into_addrs()
    }
}

/// A reference to any of the others (`&SocketAddr`, `&String`,
/// `&(host, port)`, ...), as tokio takes them.
impl<T: sealed::Sealed + Clone> sealed::Sealed for &T {
    fn into_addrs(self) -> Addrs {
        self.clone().into_addrs()
    }
}

impl sealed::Sealed for (&str, u16) {
    fn into_addrs(self) -> Addrs {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Addrs::One(SocketAddr::new(ip, self.1)),
            Err(_) => Addrs::Lookup(format!("{}:{}", self.0, self.1)),
        }
    }
}

impl sealed::Sealed for (String, u16) {
    fn into_addrs(self) -> Addrs {
        (self.0.as_str(), self.1).into_addrs()
    }
}

/// Looks up the socket addresses of `addr` (tokio's `net::lookup_host`,
/// asyncio's `loop.getaddrinfo` for one host and port): what
/// [`TcpStream::connect`](super::TcpStream::connect) and the `bind`s would
/// try, in the order they would try them.
///
/// `addr` is anything [`ToSocketAddrs`] takes. A host name
/// (`"example.com:443"`, `("localhost", 80)`) is resolved with the system
/// resolver (`getaddrinfo`, as std does) on the blocking pool — or, under
/// a bare reactor, a helper thread — so the loop goes on meanwhile. A
/// numeric address (`"127.0.0.1:80"`, `"[::1]:80"`, a `SocketAddr`, `(ip,
/// port)`) is returned as it is, without a thread hop or a DNS query.
///
/// Resolve once and keep the `SocketAddr` when you send to or connect to
/// the same host again and again: a host name is looked up on every call
/// that takes one.
///
/// # Errors
///
/// The name could not be resolved (unknown host, no DNS server reachable,
/// no port given): the error keeps the resolver's kind and names the host
/// and port that failed, e.g. `could not resolve "db.invalid:5432": ...`.
/// An empty list of addresses, or a name with no address at all, is an
/// `InvalidInput` error. A blocking job that could not be started (no
/// thread could be spawned) gives that error.
///
/// # Panics
///
/// Outside an eddy runtime, for a host name (it needs the runtime's pool).
///
/// # Cancel safety
///
/// Cancel safe: nothing is lost. A lookup already running on the pool
/// finishes there and its result is dropped.
///
/// # Example
///
/// ```
/// # let driver = eddy_io::driver::IoDriver::new()?;
/// # let _io = driver.handle().enter();
/// # let rt = eddy_core::Builder::new().build_with_driver(Box::new(driver))?;
/// # rt.block_on(async {
/// use eddy_io::net::lookup_host;
/// for addr in lookup_host("localhost:8080").await? {
///     assert!(addr.ip().is_loopback());
///     assert_eq!(addr.port(), 8080);
/// }
/// // A numeric address comes back as it is, without a lookup.
/// let mut addrs = lookup_host("[::1]:53").await?;
/// assert_eq!(addrs.next(), Some("[::1]:53".parse().unwrap()));
/// assert!(lookup_host("no-such-host.invalid:80").await.is_err());
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn lookup_host(addr: impl ToSocketAddrs) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(resolve(addr).await?.into_iter())
}

/// Resolves `addr` to its socket addresses, looking host names up off the
/// loop.
pub(crate) async fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    resolve_addrs(addr.into_addrs()).await
}

/// The one address to send a datagram to: `addr` itself when it is a
/// single numeric address (no allocation, no thread hop), else the first
/// it resolves to.
pub(crate) async fn resolve_first(addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    match addr.into_addrs() {
        Addrs::One(a) => Ok(a),
        addrs => Ok(resolve_addrs(addrs).await?[0]),
    }
}

/// [`resolve`] once the argument is taken apart; never empty.
async fn resolve_addrs(addrs: Addrs) -> io::Result<Vec<SocketAddr>> {
    match addrs {
        Addrs::One(a) => Ok(vec![a]),
        Addrs::Ready(v) if v.is_empty() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no socket address to use: the list of addresses given is empty",
        )),
        Addrs::Ready(v) => Ok(v),
        Addrs::Lookup(host) => {
            let handle = Handle::current();
            let name = host.clone();
            let addrs = run_blocking(&handle, move || {
                std::net::ToSocketAddrs::to_socket_addrs(&name).map(|it| it.collect::<Vec<_>>())
            })?
            .await
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "could not resolve {host:?}: {e} (check the host name and port, and \
                         that this machine can reach its DNS server)"
                    ),
                )
            })?;
            if addrs.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("could not resolve {host:?}: the name has no address"),
                ));
            }
            Ok(addrs)
        }
    }
}

/// A failed `bind` of `addr`: same kind, with a message that names the
/// address and, for the usual causes, says what to do.
pub(crate) fn bind_error(addr: SocketAddr, e: io::Error) -> io::Error {
    let hint = match e.kind() {
        io::ErrorKind::AddrInUse => {
            "; another socket is bound to it (a running server, or one not closed yet): stop it \
             or choose another port (port 0 picks a free one)"
        }
        io::ErrorKind::AddrNotAvailable => {
            "; no interface of this machine has that address: bind 127.0.0.1, 0.0.0.0 or one \
             of this machine's addresses"
        }
        io::ErrorKind::PermissionDenied => {
            "; ports below 1024 need privileges: choose another port (1024 or above)"
        }
        _ => "",
    };
    io::Error::new(e.kind(), format!("could not bind {addr}: {e}{hint}"))
}

/// The address of the Unix socket at `path`, for binding, connecting or
/// sending to it. On Linux and Android a path that starts with a NUL byte
/// names an abstract socket (the rest of it is the name), as tokio's
/// `UnixListener::bind`/`UnixStream::connect` and Python's socket calls
/// take it: no file is made, and the name is free again once its socket
/// closes.
///
/// # Errors
///
/// `InvalidInput` when no socket address can hold `path`: longer than the
/// OS takes (`sun_path`, 108 bytes on Linux with the closing NUL; an
/// abstract name has no closing NUL), or holding a NUL byte elsewhere.
/// The message names the path and says what to do (std's own says only
/// "path must be shorter than SUN_LEN").
pub(crate) fn unix_socket_addr(path: &Path) -> io::Result<UnixSocketAddr> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(name) = abstract_name(path) {
        #[cfg(target_os = "android")]
        use std::os::android::net::SocketAddrExt;
        #[cfg(target_os = "linux")]
        use std::os::linux::net::SocketAddrExt;
        return UnixSocketAddr::from_abstract_name(name).map_err(|e| unix_addr_error(path, e));
    }
    UnixSocketAddr::from_pathname(path).map_err(|e| unix_addr_error(path, e))
}

/// The abstract name `path` spells (Linux, Android): what follows its
/// leading NUL byte; `None` for a file path.
fn abstract_name(path: &Path) -> Option<&[u8]> {
    use std::os::unix::ffi::OsStrExt;
    match path.as_os_str().as_bytes().split_first() {
        Some((0, name)) if cfg!(any(target_os = "linux", target_os = "android")) => Some(name),
        _ => None,
    }
}

/// `path` as messages show it: the path, or `abstract name "..."`.
fn shown(path: &Path) -> String {
    match abstract_name(path) {
        Some(name) => format!("abstract name {:?}", String::from_utf8_lossy(name)),
        None => path.display().to_string(),
    }
}

/// The bytes `sun_path` holds: 108 on Linux, 104 on the BSDs and macOS.
fn sun_path_capacity() -> usize {
    // SAFETY: `sockaddr_un` is plain old data (an integer family and a
    // byte array), for which all zeroes is a valid value.
    let addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_path.len()
}

/// Why `path` fits no Unix socket address, in a message that says what
/// to do; `e` (std's refusal) when the cause is another.
fn unix_addr_error(path: &Path, e: io::Error) -> io::Error {
    use std::os::unix::ffi::OsStrExt;
    let capacity = sun_path_capacity();
    let msg = if let Some(name) = abstract_name(path) {
        if name.len() < capacity {
            return e;
        }
        format!(
            "the Unix socket {} is {} bytes long, and the OS takes at most {}: choose a \
             shorter name",
            shown(path),
            name.len(),
            capacity - 1
        )
    } else {
        let bytes = path.as_os_str().as_bytes();
        let most = capacity - 1;
        if bytes.contains(&0) {
            format!(
                "{:?} cannot name a Unix socket: it holds a NUL byte, which no file path can \
                 hold (only a leading one, on Linux, makes an abstract name); remove it",
                path.display()
            )
        } else if bytes.len() > most {
            format!(
                "the Unix socket path {} is {} bytes long, and the OS takes at most {most}: \
                 choose a shorter path (a short directory such as /tmp or $XDG_RUNTIME_DIR, or \
                 a path relative to the working directory)",
                path.display(),
                bytes.len()
            )
        } else {
            return e;
        }
    };
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// A failed `bind` of a Unix socket at `path`: same kind, with a message
/// that names the path and, for the usual causes, says what to do.
pub(crate) fn unix_bind_error(path: &Path, e: io::Error) -> io::Error {
    let hint = match (e.kind(), abstract_name(path).is_some()) {
        (io::ErrorKind::AddrInUse, false) => {
            "; a file is already there (a socket file stays after its listener is dropped): \
             remove it if no server uses it, or choose another path"
        }
        (io::ErrorKind::AddrInUse, true) => {
            "; another socket is bound to that name (an abstract name is freed when its \
             socket closes): stop it or choose another name"
        }
        (io::ErrorKind::NotFound, false) => "; its directory does not exist: create it first",
        (io::ErrorKind::PermissionDenied, false) => {
            "; this process may not create files in its directory: choose another path"
        }
        _ => "",
    };
    io::Error::new(
        e.kind(),
        format!("could not bind {}: {e}{hint}", shown(path)),
    )
}

/// Tries `op` on every address in turn; the last error if all fail.
pub(crate) async fn try_each<T, F, Fut>(addr: impl ToSocketAddrs, mut op: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for a in resolve(addr).await? {
        match op(a).await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("resolve returns at least one address"))
}
