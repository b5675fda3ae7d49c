//! [`OpenOptions`]: how to open an async [`File`].

use std::io;
use std::path::Path;

use super::{run_on, File};
use crate::Pool;

/// How to open a [`File`]: the same switches as [`std::fs::OpenOptions`],
/// set the same way (`&mut self`, as std and tokio do), so a chain ending
/// in `open` works and so does a builder kept in a variable.
///
/// ```
/// use eddy_blocking::fs::OpenOptions;
/// # use eddy_blocking::Pool;
/// # let pool = Pool::new(); let _g = pool.enter();
/// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("log");
/// let f = futures::executor::block_on(
///     OpenOptions::new().append(true).create(true).open(&p),
/// ).unwrap();
/// # drop(f);
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions(std::fs::OpenOptions);

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new()
    }
}

macro_rules! switch {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub fn $name(&mut self, on: bool) -> &mut Self {
            self.0.$name(on);
            self
        }
    };
}

impl OpenOptions {
    /// All switches off (set at least one of read/write/append).
    ///
    /// ```
    /// let mut opts = eddy_blocking::fs::OpenOptions::new();
    /// opts.read(true);
    /// ```
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    switch!(
        /// Open for reading.
        ///
        /// ```
        /// let mut o = eddy_blocking::fs::OpenOptions::new();
        /// o.read(true);
        /// ```
        read
    );
    switch!(
        /// Open for writing.
        ///
        /// ```
        /// let mut o = eddy_blocking::fs::OpenOptions::new();
        /// o.write(true);
        /// ```
        write
    );
    switch!(
        /// Every write goes to the end of the file.
        ///
        /// ```
        /// let mut o = eddy_blocking::fs::OpenOptions::new();
        /// o.append(true);
        /// ```
        append
    );
    switch!(
        /// Truncate an existing file to length 0.
        ///
        /// ```
        /// let mut o = eddy_blocking::fs::OpenOptions::new();
        /// o.write(true).truncate(true);
        /// ```
        truncate
    );
    switch!(
        /// Create the file if it does not exist.
        ///
        /// ```
        /// let mut o = eddy_blocking::fs::OpenOptions::new();
        /// o.write(true).create(true);
        /// ```
        create
    );
    switch!(
        /// Create the file, failing if it exists.
        ///
        /// ```
        /// let mut o = eddy_blocking::fs::OpenOptions::new();
        /// o.write(true).create_new(true);
        /// ```
        create_new
    );

    /// The permission bits a newly created file gets, before the process
    /// umask is applied (default `0o666`); Unix only
    /// ([`std::os::unix::fs::OpenOptionsExt::mode`]).
    ///
    /// ```
    /// # use eddy_blocking::{fs::OpenOptions, Pool};
    /// use std::os::unix::fs::PermissionsExt;
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("secret");
    /// let mut opts = OpenOptions::new();
    /// opts.write(true).create_new(true).mode(0o600);
    /// let f = futures::executor::block_on(opts.open(&p)).unwrap();
    /// assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
    /// # drop(f);
    /// ```
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::mode(&mut self.0, mode);
        self
    }

    /// Extra `open(2)` flags such as `libc::O_NOFOLLOW` or `O_NOATIME`,
    /// or'ed into the ones the other switches choose; Unix only
    /// ([`std::os::unix::fs::OpenOptionsExt::custom_flags`]). The access
    /// mode bits (`O_RDONLY`/`O_WRONLY`/`O_RDWR`) are ignored here: use
    /// [`read`](Self::read)/[`write`](Self::write).
    ///
    /// ```
    /// # use eddy_blocking::{fs::OpenOptions, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap(); let link = dir.path().join("l");
    /// # std::os::unix::fs::symlink("/etc/hostname", &link).unwrap();
    /// let mut opts = OpenOptions::new();
    /// opts.read(true).custom_flags(libc::O_NOFOLLOW);
    /// // O_NOFOLLOW refuses to open through a symbolic link.
    /// assert!(futures::executor::block_on(opts.open(&link)).is_err());
    /// ```
    #[cfg(unix)]
    pub fn custom_flags(&mut self, flags: i32) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut self.0, flags);
        self
    }

    /// Opens `path` on the current pool.
    ///
    /// # Errors
    ///
    /// [`std::fs::OpenOptions::open`]'s: `InvalidInput` for switches that
    /// do not go together (none of read/write/append, or `create` or
    /// `truncate` without write access), `NotFound` without `create`,
    /// `AlreadyExists` with `create_new`, no permission; or the pool could
    /// not run the call (kind `Other`, see the [module docs](super)).
    ///
    /// # Panics
    ///
    /// When awaited on a thread with no current pool.
    ///
    /// # Cancel safety
    ///
    /// Opening is cancel safe (a file opened after the future was dropped
    /// is closed again), but creation or truncation may have happened.
    ///
    /// ```
    /// # use eddy_blocking::{fs::OpenOptions, Pool};
    /// # let pool = Pool::new(); let _g = pool.enter();
    /// # let dir = tempfile::tempdir().unwrap(); let p = dir.path().join("f");
    /// let f = futures::executor::block_on(
    ///     OpenOptions::new().write(true).create_new(true).open(&p),
    /// ).unwrap();
    /// # drop(f);
    /// ```
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let opts = self.0.clone();
        let pool = Pool::current();
        let std = run_on(&pool, move || opts.open(path)).await?;
        Ok(File::with_pool(std, pool))
    }
}
