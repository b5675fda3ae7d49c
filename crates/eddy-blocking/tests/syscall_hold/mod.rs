//! Holds chosen system calls of a test binary (Linux, glibc): this module
//! defines the libc functions that std calls for `File::set_len`
//! (`ftruncate64`), `sync_all` (`fsync`), `metadata` (`statx`),
//! `set_permissions` (`fchmod`) and every seek (`lseek64`); the linker
//! picks them over glibc's. A call on a descriptor a test [`arm`]ed waits
//! until the test lets it go or makes it fail; every other call goes
//! straight to the kernel. It lets a test hold a pool job that has
//! started, which nothing else can (its closure is std code).
//!
//! Include it (`mod syscall_hold;`) only in a binary that wants that.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use libc::{c_char, c_int, c_uint, off64_t};

/// A system call that can be held.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sys {
    /// `File::set_len`.
    Ftruncate,
    /// `File::sync_all`.
    Fsync,
    /// `File::metadata`.
    Statx,
    /// `File::set_permissions`.
    Fchmod,
    /// Every seek, such as the one back over read-ahead.
    Lseek,
}

/// How a held call goes on once the test lets it go.
#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Run,
    /// Fails with this errno without reaching the kernel.
    Fail(c_int),
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Armed,
    /// Made, and waiting for the test.
    Reached,
    Let(Outcome),
    /// Returned to its caller.
    Returned,
    /// The test never let it go: it went on by itself.
    GaveUp,
}

struct Entry {
    id: u64,
    fd: c_int,
    sys: Sys,
    phase: Phase,
}

struct Table {
    next_id: u64,
    entries: Vec<Entry>,
}

static TABLE: Mutex<Table> = Mutex::new(Table {
    next_id: 0,
    entries: Vec::new(),
});
static CHANGED: Condvar = Condvar::new();

/// How long either side waits for the other before giving up, so that
/// a broken test fails instead of hanging.
const HANG_GUARD: Duration = Duration::from_secs(10);

fn table() -> MutexGuard<'static, Table> {
    TABLE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn phase(t: &Table, id: u64) -> Option<Phase> {
    t.entries.iter().find(|e| e.id == id).map(|e| e.phase)
}

fn set_phase(t: &mut Table, id: u64, phase: Phase) {
    if let Some(e) = t.entries.iter_mut().find(|e| e.id == id) {
        e.phase = phase;
    }
    CHANGED.notify_all();
}

/// The next `sys` call on `fd`, armed to wait for [`Held::release`] or
/// [`Held::fail`].
pub struct Held {
    id: u64,
}

pub fn arm(fd: c_int, sys: Sys) -> Held {
    let mut t = table();
    let id = t.next_id;
    t.next_id += 1;
    t.entries.push(Entry {
        id,
        fd,
        sys,
        phase: Phase::Armed,
    });
    Held { id }
}

impl Held {
    /// Whether the armed call has been made (and is held).
    pub fn is_reached(&self) -> bool {
        phase(&table(), self.id) == Some(Phase::Reached)
    }

    /// Lets the held call go on to the kernel and waits until it has
    /// returned. `false` if it was not held (never made, or it gave up
    /// waiting: the test hung somewhere).
    pub fn release(self) -> bool {
        self.finish(Outcome::Run)
    }

    /// Makes the held call fail with `errno`; `false` as for `release`.
    pub fn fail(self, errno: c_int) -> bool {
        self.finish(Outcome::Fail(errno))
    }

    fn finish(&self, outcome: Outcome) -> bool {
        let mut t = table();
        if phase(&t, self.id) == Some(Phase::Reached) {
            set_phase(&mut t, self.id, Phase::Let(outcome));
            t = CHANGED
                .wait_timeout_while(t, HANG_GUARD, |t| {
                    matches!(phase(t, self.id), Some(Phase::Let(_)))
                })
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let done = phase(&t, self.id) == Some(Phase::Returned);
        t.entries.retain(|e| e.id != self.id);
        done
    }
}

impl Drop for Held {
    /// A test that failed lets the call go (or disarms it).
    fn drop(&mut self) {
        self.finish(Outcome::Run);
    }
}

/// Holds the calling thread if `sys` on `fd` is armed. Then the entry's
/// id and, if the call must fail instead of going to the kernel, the
/// errno.
fn pass(fd: c_int, sys: Sys) -> Option<(u64, Option<c_int>)> {
    let mut t = table();
    let id = t
        .entries
        .iter()
        .find(|e| e.fd == fd && e.sys == sys && e.phase == Phase::Armed)?
        .id;
    set_phase(&mut t, id, Phase::Reached);
    let mut t = CHANGED
        .wait_timeout_while(t, HANG_GUARD, |t| phase(t, id) == Some(Phase::Reached))
        .unwrap_or_else(PoisonError::into_inner)
        .0;
    match phase(&t, id) {
        Some(Phase::Let(Outcome::Fail(errno))) => Some((id, Some(errno))),
        Some(Phase::Let(Outcome::Run)) => Some((id, None)),
        _ => {
            set_phase(&mut t, id, Phase::GaveUp);
            None
        }
    }
}

/// Runs `call` unless `sys` on `fd` is armed to fail, after holding it
/// if it is armed.
fn held(fd: c_int, sys: Sys, call: impl FnOnce() -> c_int) -> c_int {
    let Some((id, fail)) = pass(fd, sys) else {
        return call();
    };
    let ret = match fail {
        Some(errno) => {
            // SAFETY: the calling thread's errno slot, always valid.
            unsafe { *libc::__errno_location() = errno };
            -1
        }
        None => call(),
    };
    // SAFETY: as above; saved because the lock below may set it.
    let errno = unsafe { *libc::__errno_location() };
    set_phase(&mut table(), id, Phase::Returned);
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
    ret
}

#[no_mangle]
pub extern "C" fn ftruncate64(fd: c_int, len: off64_t) -> c_int {
    held(fd, Sys::Ftruncate, || {
        // SAFETY: std's arguments, handed to the kernel unchanged.
        unsafe { libc::syscall(libc::SYS_ftruncate, fd, len) as c_int }
    })
}

#[no_mangle]
pub extern "C" fn fsync(fd: c_int) -> c_int {
    held(fd, Sys::Fsync, || {
        // SAFETY: as in `ftruncate64`.
        unsafe { libc::syscall(libc::SYS_fsync, fd) as c_int }
    })
}

#[no_mangle]
pub extern "C" fn fchmod(fd: c_int, mode: libc::mode_t) -> c_int {
    held(fd, Sys::Fchmod, || {
        // SAFETY: as in `ftruncate64`.
        unsafe { libc::syscall(libc::SYS_fchmod, fd, mode) as c_int }
    })
}

#[no_mangle]
pub extern "C" fn lseek64(fd: c_int, offset: off64_t, whence: c_int) -> off64_t {
    let mut pos = 0;
    let res = held(fd, Sys::Lseek, || {
        // SAFETY: as in `ftruncate64`.
        pos = unsafe { libc::syscall(libc::SYS_lseek, fd, offset, whence) };
        if pos < 0 {
            -1
        } else {
            0
        }
    });
    if res < 0 {
        -1
    } else {
        pos
    }
}

#[no_mangle]
pub extern "C" fn statx(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mask: c_uint,
    buf: *mut libc::statx,
) -> c_int {
    held(dirfd, Sys::Statx, || {
        // SAFETY: as in `ftruncate64`; the pointers are the caller's.
        unsafe { libc::syscall(libc::SYS_statx, dirfd, path, flags, mask, buf) as c_int }
    })
}
