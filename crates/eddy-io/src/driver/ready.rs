//! Readiness sets ([`Ready`]) and what a registration waits for
//! ([`Interest`]).

use std::fmt;
use std::ops;

/// What a registration waits for: readable, writable or both.
///
/// # Example
///
/// ```
/// use eddy_io::driver::Interest;
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Interest(u8);

impl Interest {
    /// Wait for data to read (or the peer closing).
    pub const READABLE: Interest = Interest(1);
    /// Wait for room to write.
    pub const WRITABLE: Interest = Interest(2);

    /// Whether reading is of interest.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(eddy_io::driver::Interest::READABLE.is_readable());
    /// ```
    pub const fn is_readable(self) -> bool {
        self.0 & 1 != 0
    }

    /// Whether writing is of interest.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(!eddy_io::driver::Interest::READABLE.is_writable());
    /// ```
    pub const fn is_writable(self) -> bool {
        self.0 & 2 != 0
    }

    pub(crate) fn to_mio(self) -> mio::Interest {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => mio::Interest::READABLE | mio::Interest::WRITABLE,
            (false, true) => mio::Interest::WRITABLE,
            _ => mio::Interest::READABLE,
        }
    }

    /// The readiness bits that complete a wait for this interest.
    pub(crate) fn mask(self) -> Ready {
        let mut r = Ready::EMPTY;
        if self.is_readable() {
            r = r | Ready::READABLE | Ready::READ_CLOSED;
        }
        if self.is_writable() {
            r = r | Ready::WRITABLE | Ready::WRITE_CLOSED;
        }
        r | Ready::ERROR
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        Interest(self.0 | rhs.0)
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            (false, true) => f.write_str("WRITABLE"),
            (false, false) => f.write_str("(none)"),
        }
    }
}

/// A set of readiness bits, as the reactor last saw them for one
/// registration.
///
/// # Example
///
/// ```
/// use eddy_io::driver::Ready;
/// let r = Ready::READABLE | Ready::READ_CLOSED;
/// assert!(r.is_readable() && r.is_read_closed() && !r.is_writable());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Ready(usize);

impl Ready {
    /// No readiness.
    pub const EMPTY: Ready = Ready(0);
    /// Data can be read without blocking.
    pub const READABLE: Ready = Ready(1);
    /// Data can be written without blocking.
    pub const WRITABLE: Ready = Ready(2);
    /// The read side is closed (EOF or `shutdown(Read)` by the peer).
    pub const READ_CLOSED: Ready = Ready(4);
    /// The write side is closed (the peer is gone).
    pub const WRITE_CLOSED: Ready = Ready(8);
    /// An error is pending on the descriptor.
    pub const ERROR: Ready = Ready(16);

    /// All readiness bits.
    pub(crate) const ALL: Ready = Ready(31);

    pub(crate) const fn from_bits(bits: usize) -> Ready {
        Ready(bits & Ready::ALL.0)
    }

    pub(crate) const fn bits(self) -> usize {
        self.0
    }

    pub(crate) fn from_event(event: &mio::event::Event) -> Ready {
        let mut r = Ready::EMPTY;
        if event.is_readable() {
            r = r | Ready::READABLE;
        }
        if event.is_writable() {
            r = r | Ready::WRITABLE;
        }
        if event.is_read_closed() {
            r = r | Ready::READ_CLOSED;
        }
        if event.is_write_closed() {
            r = r | Ready::WRITE_CLOSED;
        }
        if event.is_error() {
            r = r | Ready::ERROR;
        }
        r
    }

    /// Whether no bit is set.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(eddy_io::driver::Ready::EMPTY.is_empty());
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `READABLE` is set.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(eddy_io::driver::Ready::READABLE.is_readable());
    /// ```
    pub const fn is_readable(self) -> bool {
        self.0 & Ready::READABLE.0 != 0
    }

    /// Whether `WRITABLE` is set.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(eddy_io::driver::Ready::WRITABLE.is_writable());
    /// ```
    pub const fn is_writable(self) -> bool {
        self.0 & Ready::WRITABLE.0 != 0
    }

    /// Whether `READ_CLOSED` is set.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(!eddy_io::driver::Ready::READABLE.is_read_closed());
    /// ```
    pub const fn is_read_closed(self) -> bool {
        self.0 & Ready::READ_CLOSED.0 != 0
    }

    /// Whether `WRITE_CLOSED` is set.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(eddy_io::driver::Ready::WRITE_CLOSED.is_write_closed());
    /// ```
    pub const fn is_write_closed(self) -> bool {
        self.0 & Ready::WRITE_CLOSED.0 != 0
    }

    /// Whether `ERROR` is set.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(eddy_io::driver::Ready::ERROR.is_error());
    /// ```
    pub const fn is_error(self) -> bool {
        self.0 & Ready::ERROR.0 != 0
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;
    fn bitand(self, rhs: Ready) -> Ready {
        Ready(self.0 & rhs.0)
    }
}

impl ops::Sub for Ready {
    type Output = Ready;
    fn sub(self, rhs: Ready) -> Ready {
        Ready(self.0 & !rhs.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Ready::READABLE, "READABLE"),
            (Ready::WRITABLE, "WRITABLE"),
            (Ready::READ_CLOSED, "READ_CLOSED"),
            (Ready::WRITE_CLOSED, "WRITE_CLOSED"),
            (Ready::ERROR, "ERROR"),
        ];
        let mut first = true;
        for (bit, name) in names {
            if self.0 & bit.0 != 0 {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("EMPTY")?;
        }
        Ok(())
    }
}
