//! Guard shapes tokio users rely on: owned `RwLock` guards, write-guard
//! downgrade, mapped guards.
//!
//! Single-threaded except where a guard has to cross threads, so the file
//! also runs under Miri (the mapped guards hold raw pointers):
//! `MIRIFLAGS="-Zmiri-disable-isolation" cargo +nightly miri test -p eddy-sync --test guards`

mod common;

use std::future::Future;
use std::sync::Arc;

use common::wakers::{panicking_waker, poll_with};
use common::Manual;
use eddy_sync::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard,
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
use futures::executor::block_on;
use futures::task::noop_waker_ref;

#[test]
fn owned_rwlock_guards_move_to_other_threads_and_release_there() {
    let lock = Arc::new(RwLock::new(0));
    let mut w: OwnedRwLockWriteGuard<i32> = block_on(lock.clone().write_owned());
    assert!(lock.try_read().is_err());
    let writer = std::thread::spawn(move || {
        *w += 1;
        // dropped here, on this thread
    });
    writer.join().unwrap();
    let r: OwnedRwLockReadGuard<i32> = block_on(lock.clone().read_owned());
    let reader = std::thread::spawn(move || *r);
    assert_eq!(reader.join().unwrap(), 1);
    assert!(lock.try_write().is_ok(), "both guards released the lock");
    assert_eq!(
        Arc::strong_count(&lock),
        1,
        "the guards gave their Arc back"
    );
}

#[test]
fn owned_rwlock_waits_are_fifo_and_writer_preferring() {
    let lock = Arc::new(RwLock::new(0));
    let r1 = lock.clone().try_read_owned().unwrap();
    let mut w = Manual::new(lock.clone().write_owned());
    w.pending();
    assert!(
        lock.clone().try_read_owned().is_err(),
        "a reader may not pass a waiting writer"
    );
    let mut r2 = Manual::new(lock.clone().read_owned());
    r2.pending();
    drop(r1);
    let mut wg = w.ready();
    *wg = 5;
    assert!(!r2.woken());
    drop(wg);
    assert_eq!(*r2.ready(), 5);
}

#[test]
fn owned_try_forms_refuse_in_conflicting_modes() {
    let lock = Arc::new(RwLock::new(()));
    let r = lock.clone().try_read_owned().unwrap();
    let r2 = lock.clone().try_read_owned().unwrap();
    assert!(lock.clone().try_write_owned().is_err());
    drop((r, r2));
    let w = lock.clone().try_write_owned().unwrap();
    assert!(lock.clone().try_read_owned().is_err());
    assert!(lock.clone().try_write_owned().is_err());
    assert!(Arc::ptr_eq(w.rwlock(), &lock));
    drop(w);
    assert_eq!(Arc::strong_count(&lock), 1, "refused calls drop their Arc");
}

#[test]
fn owned_wait_cancelled_passes_its_grant_on() {
    let lock = Arc::new(RwLock::new(()));
    let r1 = lock.clone().try_read_owned().unwrap();
    let mut w = Manual::new(lock.clone().write_owned());
    w.pending();
    let mut r2 = Manual::new(lock.clone().read_owned());
    r2.pending();
    drop(w); // its partial grant goes on to r2
    assert!(r2.woken());
    drop((r1, r2.ready()));
    assert!(lock.try_write().is_ok());
}

#[test]
fn downgrade_keeps_the_value_and_lets_readers_but_not_writers_in() {
    let lock = RwLock::new(1);
    let mut w = lock.try_write().unwrap();
    *w = 2;
    let r = w.downgrade();
    assert_eq!(*r, 2);
    let r2 = lock
        .try_read()
        .expect("readers share with a downgraded guard");
    assert!(lock.try_write().is_err(), "the lock is still read-held");
    drop(r);
    assert!(lock.try_write().is_err(), "one reader is left");
    drop(r2);
    assert!(lock.try_write().is_ok());
}

#[test]
fn downgrade_wakes_the_readers_at_the_front_and_no_writer() {
    let lock = RwLock::new(0);
    let mut w = lock.try_write().unwrap();
    let mut ra = Manual::new(lock.read());
    let mut rb = Manual::new(lock.read());
    let mut w2 = Manual::new(lock.write());
    let mut rc = Manual::new(lock.read());
    // Queued in this order: ra, rb, w2, rc.
    ra.pending();
    rb.pending();
    w2.pending();
    rc.pending();
    *w = 7;
    let r = w.downgrade();
    // The two readers in front of the writer get in with the downgraded
    // guard; the writer waits for all three, and the reader behind it waits
    // behind it (FIFO, writer-preferring).
    assert!(ra.woken() && rb.woken());
    assert!(!w2.woken() && !rc.woken());
    let (ga, gb) = (ra.ready(), rb.ready());
    assert_eq!(*ga + *gb + *r, 21);
    w2.pending();
    rc.pending();
    assert!(
        lock.try_read().is_err(),
        "newcomers queue behind the writer"
    );
    drop((ga, r));
    assert!(!w2.woken());
    drop(gb);
    assert!(w2.woken() && !rc.woken());
    *w2.ready() = 8;
    assert_eq!(*rc.ready(), 8);
}

#[test]
fn downgrade_leaves_a_writer_at_the_front_waiting_even_with_readers_behind() {
    let lock = RwLock::new(());
    let w = lock.try_write().unwrap();
    let mut w2 = Manual::new(lock.write());
    let mut r = Manual::new(lock.read());
    w2.pending();
    r.pending();
    let g = w.downgrade();
    assert!(
        !w2.woken() && !r.woken(),
        "no writer slips in, no reader jumps it"
    );
    drop(g);
    assert!(w2.woken() && !r.woken());
    drop(w2.ready());
    assert!(r.woken());
    drop(r.ready());
    assert!(lock.try_write().is_ok());
}

#[test]
fn writer_waiting_behind_a_downgraded_guard_cancelled_lets_readers_in() {
    let lock = RwLock::new(());
    let w = lock.try_write().unwrap();
    let mut w2 = Manual::new(lock.write());
    let mut r = Manual::new(lock.read());
    w2.pending();
    r.pending();
    let g = w.downgrade(); // w2 now holds all but one permit, still queued
    drop(w2);
    assert!(
        r.woken(),
        "the cancelled writer's partial grant goes to the reader"
    );
    let gr = r.ready();
    assert!(lock.try_write().is_err());
    drop((g, gr));
    assert!(lock.try_write().is_ok());
}

#[test]
fn downgrade_of_an_owned_guard() {
    let lock = Arc::new(RwLock::new(String::from("a")));
    let mut w = lock.clone().try_write_owned().unwrap();
    let mut w2 = Manual::new(lock.clone().write_owned());
    let mut r = Manual::new(lock.clone().read_owned());
    r.pending();
    w2.pending();
    w.push('b');
    let g: OwnedRwLockReadGuard<String> = w.downgrade();
    assert!(r.woken() && !w2.woken());
    assert_eq!(*r.ready(), "ab");
    assert_eq!(*g, "ab");
    assert!(Arc::ptr_eq(g.rwlock(), &lock));
    drop(g);
    assert!(w2.woken());
    w2.ready().push('c');
    assert_eq!(*lock.try_read().unwrap(), "abc");
    assert_eq!(Arc::strong_count(&lock), 1, "no Arc leaked by downgrade");
}

#[test]
fn downgrade_with_a_panicking_waker_leaves_the_lock_usable() {
    let lock = RwLock::new(());
    let w = lock.try_write().unwrap();
    let mut r = std::pin::pin!(lock.read());
    assert!(poll_with(r.as_mut(), &panicking_waker()).is_pending());
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.downgrade()));
    assert!(out.is_err(), "the waker's panic reaches the caller");
    // The downgraded guard died in the unwind; the reader was served.
    assert!(poll_with(r.as_mut(), noop_waker_ref()).is_ready());
    assert!(lock.try_write().is_ok(), "nothing is held any more");
}

#[test]
fn downgrade_under_block_on_with_a_writer_on_another_thread() {
    let lock = Arc::new(RwLock::new(0));
    let w = block_on(lock.write());
    let l2 = lock.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let writer = std::thread::spawn(move || {
        block_on(async {
            let mut fut = std::pin::pin!(l2.write());
            futures::future::poll_fn(|cx| {
                let p = fut.as_mut().poll(cx);
                if p.is_pending() {
                    let _ = tx.send(()); // queued now
                }
                p.map(|g| {
                    let mut g = g;
                    *g += 10;
                })
            })
            .await
        })
    });
    rx.recv().unwrap();
    let r = w.downgrade();
    // The writer cannot have got in: the downgraded guard still reads 0.
    assert_eq!(*r, 0);
    drop(r);
    writer.join().unwrap();
    assert_eq!(*block_on(lock.read()), 10);
}

// ---- mapped guards ----

#[derive(Debug, Default, PartialEq)]
struct Conn {
    name: String,
    hits: u32,
    buf: Vec<u8>,
}

#[test]
fn mutex_map_keeps_the_lock_until_the_mapped_guard_drops() {
    let m = Mutex::new(Conn::default());
    let mut hits: MappedMutexGuard<'_, u32> =
        MutexGuard::map(m.try_lock().unwrap(), |c| &mut c.hits);
    let mut waiter = Manual::new(m.lock());
    waiter.pending();
    *hits += 1;
    assert!(m.try_lock().is_err());
    assert!(!waiter.woken());
    drop(hits);
    assert!(
        waiter.woken(),
        "dropping the mapped guard hands the lock on"
    );
    let g = waiter.ready();
    assert_eq!(g.hits, 1);
}

#[test]
fn mutex_map_chains_and_reaches_unsized_parts() {
    let m = Mutex::new(Conn {
        buf: vec![1, 2, 3, 4],
        ..Conn::default()
    });
    let buf = MutexGuard::map(block_on(m.lock()), |c| &mut c.buf);
    let mut tail: MappedMutexGuard<'_, [u8]> = MappedMutexGuard::map(buf, |b| &mut b[2..]);
    tail.reverse();
    assert_eq!(format!("{tail:?}"), "[4, 3]");
    drop(tail);
    assert_eq!(m.try_lock().unwrap().buf, [1, 2, 4, 3]);
}

#[test]
fn mutex_try_map_gives_the_guard_back_still_locked() {
    let m = Mutex::new(vec![1]);
    let g = MutexGuard::try_map(m.try_lock().unwrap(), |v| v.get_mut(3)).unwrap_err();
    assert!(
        m.try_lock().is_err(),
        "the returned guard still holds the lock"
    );
    let g = MutexGuard::try_map(g, |v| v.get_mut(0)).unwrap();
    let mut g = MappedMutexGuard::try_map(g, |_| None::<&mut u8>).unwrap_err();
    *g = 5;
    drop(g);
    assert_eq!(*m.try_lock().unwrap(), [5]);
}

#[test]
fn mutex_map_whose_closure_panics_releases_the_lock() {
    let m = Mutex::new(0);
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        MutexGuard::map(m.try_lock().unwrap(), |_| -> &mut i32 { panic!("in map") })
    }));
    assert!(out.is_err());
    assert!(m.try_lock().is_ok(), "the guard was dropped in the unwind");
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let g = MutexGuard::map(m.try_lock().unwrap(), |v| v);
        MappedMutexGuard::try_map(g, |_| -> Option<&mut i32> { panic!("in try_map") })
    }));
    assert!(out.is_err());
    assert!(m.try_lock().is_ok());
}

#[test]
fn owned_mapped_mutex_guard_crosses_threads_and_returns_the_arc() {
    let m = Arc::new(Mutex::new(Conn::default()));
    let g = OwnedMutexGuard::map(block_on(m.clone().lock_owned()), |c| &mut c.name);
    assert!(Arc::ptr_eq(g.mutex(), &m));
    let g: OwnedMappedMutexGuard<Conn, String> =
        OwnedMappedMutexGuard::try_map(g, |_| None::<&mut String>).unwrap_err();
    let worker = std::thread::spawn(move || {
        let mut g = g;
        g.push_str("db");
        // unlocks here, on the worker
    });
    worker.join().unwrap();
    assert_eq!(block_on(m.lock()).name, "db");
    let g = m.clone().try_lock_owned().unwrap();
    let g = OwnedMutexGuard::try_map(g, |c| c.buf.first_mut()).unwrap_err();
    let mut hits = OwnedMappedMutexGuard::map(OwnedMutexGuard::map(g, |c| c), |c| &mut c.hits);
    *hits = 3;
    drop(hits);
    assert_eq!(m.try_lock().unwrap().hits, 3);
    assert_eq!(Arc::strong_count(&m), 1, "no Arc leaked by mapping");
}

#[test]
fn rwlock_read_map_stays_a_read_lock() {
    let lock = RwLock::new(Conn {
        name: "primary".into(),
        ..Conn::default()
    });
    let name: RwLockReadGuard<'_, str> =
        RwLockReadGuard::map(lock.try_read().unwrap(), |c| c.name.as_str());
    let other = lock.try_read().expect("readers still share");
    let mut w = Manual::new(lock.write());
    w.pending();
    assert_eq!(&*name, "primary");
    drop(other);
    assert!(!w.woken(), "the mapped guard still holds a read permit");
    drop(name);
    let mut g = w.ready();
    g.hits = 1;
    drop(g);
    let g = RwLockReadGuard::try_map(lock.try_read().unwrap(), |c| c.buf.first()).unwrap_err();
    let hits = RwLockReadGuard::try_map(g, |c| Some(&c.hits)).unwrap();
    assert_eq!(*hits, 1);
}

#[test]
fn rwlock_write_map_stays_a_write_lock_and_hands_over_on_drop() {
    let lock = RwLock::new(Conn::default());
    let buf: RwLockMappedWriteGuard<'_, Vec<u8>> =
        RwLockWriteGuard::map(lock.try_write().unwrap(), |c| &mut c.buf);
    let mut r = Manual::new(lock.read());
    r.pending();
    assert!(lock.try_read().is_err());
    let mut buf = RwLockMappedWriteGuard::try_map(buf, |b| b.get_mut(0)).unwrap_err();
    buf.push(7);
    let mut first = RwLockMappedWriteGuard::map(buf, |b| &mut b[0]);
    *first += 1;
    assert!(!r.woken());
    drop(first);
    assert!(r.woken());
    assert_eq!(r.ready().buf, [8]);
    let g = RwLockWriteGuard::try_map(lock.try_write().unwrap(), |c| c.buf.get_mut(4)).unwrap_err();
    let g = g.downgrade();
    let b = RwLockReadGuard::map(g, |c| &c.buf[..]);
    assert_eq!(&*b, [8]);
    assert!(lock.try_read().is_ok() && lock.try_write().is_err());
}

#[test]
fn rwlock_write_map_whose_closure_panics_releases_the_lock() {
    let lock = RwLock::new(0);
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        RwLockWriteGuard::map(lock.try_write().unwrap(), |_| -> &mut i32 {
            panic!("in map")
        })
    }));
    assert!(out.is_err());
    assert!(lock.try_write().is_ok());
}

#[test]
fn owned_rwlock_mapped_guards_cross_threads_and_return_the_arc() {
    let lock = Arc::new(RwLock::new(Conn::default()));
    let w = OwnedRwLockWriteGuard::map(block_on(lock.clone().write_owned()), |c| &mut c.name);
    assert!(Arc::ptr_eq(w.rwlock(), &lock));
    let w: OwnedRwLockMappedWriteGuard<Conn, String> =
        OwnedRwLockMappedWriteGuard::try_map(w, |_| None::<&mut String>).unwrap_err();
    std::thread::spawn(move || {
        let mut w = w;
        w.push_str("replica");
    })
    .join()
    .unwrap();
    let w = lock.clone().try_write_owned().unwrap();
    let w = OwnedRwLockWriteGuard::try_map(w, |c| c.buf.last_mut()).unwrap_err();
    let mut hits =
        OwnedRwLockMappedWriteGuard::map(OwnedRwLockWriteGuard::map(w, |c| c), |c| &mut c.hits);
    *hits = 9;
    drop(hits);
    let r = OwnedRwLockReadGuard::map(block_on(lock.clone().read_owned()), |c| c.name.as_str());
    let r: OwnedRwLockReadGuard<Conn, str> =
        OwnedRwLockReadGuard::try_map(r, |_| None::<&str>).unwrap_err();
    let also = lock.clone().try_read_owned().unwrap();
    assert!(lock.try_write().is_err());
    let reader = std::thread::spawn(move || r.to_owned());
    assert_eq!(reader.join().unwrap(), "replica");
    let hits = OwnedRwLockReadGuard::try_map(also, |c| Some(&c.hits)).unwrap();
    assert_eq!(*hits, 9);
    drop(hits);
    assert_eq!(Arc::strong_count(&lock), 1, "no Arc leaked by mapping");
}

#[test]
fn mapped_guards_released_then_relocked_see_each_others_writes() {
    // The pattern Miri checks: a mapped guard's pointer is used, the lock
    // passes to a new guard that writes the same field, then a new mapped
    // guard reads it.
    let m = Mutex::new((0u64, [0u8; 8]));
    for i in 1..=3u8 {
        let mut bytes = MutexGuard::map(m.try_lock().unwrap(), |t| &mut t.1);
        bytes[usize::from(i)] = i;
        drop(bytes);
        let mut whole = m.try_lock().unwrap();
        whole.0 += u64::from(whole.1[usize::from(i)]);
        drop(whole);
    }
    let total = MutexGuard::map(m.try_lock().unwrap(), |t| &mut t.0);
    assert_eq!(*total, 6);
    drop(total);

    let lock = RwLock::new([0u32; 4]);
    for i in 0..4 {
        let mut slot = RwLockWriteGuard::map(lock.try_write().unwrap(), |a| &mut a[i]);
        *slot = i as u32 + 1;
        drop(slot);
        let a = RwLockReadGuard::map(lock.try_read().unwrap(), |a| &a[..=i]);
        let b = RwLockReadGuard::map(lock.try_read().unwrap(), |a| &a[i]);
        assert_eq!(a.iter().sum::<u32>(), (1..=i as u32 + 1).sum::<u32>());
        assert_eq!(*b, i as u32 + 1);
    }
}
