//! The hierarchical timing wheel: six levels of 64 slots, 1 ms per tick.
//!
//! Level `L` has slots `64^L` ticks wide and spans `64^(L+1)` ticks, so the
//! wheel covers 64^6 ms (about 2.2 years) directly; later deadlines sit in
//! the top level and are re-cascaded each time their slot comes round.
//! Insert, cancel and reset are O(1): an entry lives in a doubly linked list
//! (indices into one slab) chosen from its deadline, and a per-level bitmap
//! finds the next occupied slot with one rotate and one count of zeros.
//!
//! Ordering: every pending entry with deadline `T` sits in the list chosen
//! by `level_for(elapsed, T)`, so entries with equal deadlines share one
//! list; lists are FIFO and cascading walks them in order, so equal
//! deadlines fire in insertion order, and slots fire in deadline order.
//!
//! The wheel is plain data with no locking; the driver keeps it behind a
//! mutex.

use slab::Slab;

use crate::clock::{Tick, NEVER};

const LEVELS: usize = 6;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
/// Ticks covered by the levels before clamping to the top level.
const MAX_SPAN: u64 = 1 << (SLOT_BITS * LEVELS as u32);
/// "No entry" in a list link.
const NIL: u32 = u32::MAX;

/// Where an entry is. `0..LEVELS`: in a slot list of that level.
type Loc = u8;
/// In the `expired` list: fires at the next `process`.
const LOC_EXPIRED: Loc = LEVELS as Loc;
/// Fired and unlinked; waits for its owner to collect or re-arm it.
const LOC_FIRED: Loc = LOC_EXPIRED + 1;
/// Unlinked and not fired: its deadline is [`NEVER`].
const LOC_IDLE: Loc = LOC_FIRED + 1;

/// One timer in the wheel.
pub(crate) struct Entry<T> {
    /// Deadline tick.
    when: Tick,
    prev: u32,
    next: u32,
    loc: Loc,
    /// What the driver does when it fires (a waker, a callback).
    pub(crate) payload: T,
}

/// A FIFO list threaded through the entries' `prev`/`next`.
#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

const EMPTY: List = List {
    head: NIL,
    tail: NIL,
};

/// Above this capacity an emptied wheel restarts its keys from 0 (see
/// `restart_keys`).
const SMALL_TABLE: usize = 64;

/// The timing wheel; `T` is each entry's payload.
pub(crate) struct Wheel<T> {
    /// Every deadline `<= elapsed` has fired or sits in `expired`.
    elapsed: Tick,
    /// Bit `s` of `occupied[L]`: slot `s` of level `L` is non-empty.
    occupied: [u64; LEVELS],
    slots: [[List; SLOTS]; LEVELS],
    expired: List,
    entries: Slab<Entry<T>>,
}

/// The level a deadline goes to: its highest base-64 digit that differs
/// from `elapsed` (clamped to the top level).
fn level_for(elapsed: Tick, when: Tick) -> usize {
    let mut masked = (elapsed ^ when) | (SLOTS as u64 - 1);
    if masked >= MAX_SPAN {
        masked = MAX_SPAN - 1;
    }
    let significant = 63 - masked.leading_zeros();
    (significant / SLOT_BITS) as usize
}

fn slot_of(when: Tick, level: usize) -> usize {
    ((when >> (SLOT_BITS as usize * level)) & (SLOTS as u64 - 1)) as usize
}

fn push_back<T>(list: &mut List, entries: &mut Slab<Entry<T>>, key: u32) {
    let e = &mut entries[key as usize];
    e.prev = list.tail;
    e.next = NIL;
    if list.tail == NIL {
        list.head = key;
    } else {
        entries[list.tail as usize].next = key;
    }
    list.tail = key;
}

fn unlink<T>(list: &mut List, entries: &mut Slab<Entry<T>>, key: u32) {
    let (prev, next) = {
        let e = &entries[key as usize];
        (e.prev, e.next)
    };
    if prev == NIL {
        list.head = next;
    } else {
        entries[prev as usize].next = next;
    }
    if next == NIL {
        list.tail = prev;
    } else {
        entries[next as usize].prev = prev;
    }
}

impl<T> Wheel<T> {
    pub(crate) fn new() -> Wheel<T> {
        Wheel {
            elapsed: 0,
            occupied: [0; LEVELS],
            slots: [[EMPTY; SLOTS]; LEVELS],
            expired: EMPTY,
            entries: Slab::new(),
        }
    }

    /// The tick the wheel has processed up to.
    pub(crate) fn elapsed(&self) -> Tick {
        self.elapsed
    }

    /// Entries held (linked, fired-but-uncollected and idle).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds an entry firing at `when` (at the next `process` if that is
    /// already past; never if it is [`NEVER`]) and returns its key.
    pub(crate) fn insert(&mut self, when: Tick, payload: T) -> u32 {
        let key = self.entries.insert(Entry {
            when,
            prev: NIL,
            next: NIL,
            loc: LOC_IDLE,
            payload,
        });
        let key = u32::try_from(key).expect("more than 4 billion timers");
        self.link(key);
        key
    }

    /// Removes an entry wherever it is and returns its payload.
    ///
    /// `#[inline]`: the cold restart call below made the compiler keep this
    /// out of line, which cost the drop of every `Sleep` a call and about
    /// 23 instructions (cachegrind, timer_insert_cancel).
    #[inline]
    pub(crate) fn remove(&mut self, key: u32) -> T {
        self.unlink(key);
        let entry = self.entries.remove(key as usize);
        if self.entries.is_empty() && self.entries.capacity() > SMALL_TABLE {
            self.restart_keys();
        }
        entry.payload
    }

    /// Called when an emptied wheel had grown: the slab's free list is in
    /// the order entries were removed, which after a burst of timers is
    /// scattered over the whole table, so every later insert would land on
    /// a cold cache line. Start again from key 0 (the capacity is kept). A
    /// runtime reused for burst after burst spent twice the CPU on its
    /// timers without this. Kept out of line so the common remove (a few
    /// timers at a time, where the free list stays within a cache line or
    /// two) pays one comparison.
    #[cold]
    #[inline(never)]
    fn restart_keys(&mut self) {
        self.entries.clear();
    }

    /// Moves an entry (pending or fired) to a new deadline; it is pending
    /// again afterwards.
    pub(crate) fn reset(&mut self, key: u32, when: Tick) {
        self.unlink(key);
        self.entries[key as usize].when = when;
        self.link(key);
    }

    /// Whether the entry has fired (and not been reset since).
    pub(crate) fn is_fired(&self, key: u32) -> bool {
        self.entries[key as usize].loc == LOC_FIRED
    }

    /// The payload under `key`, if that key is in use.
    pub(crate) fn get(&self, key: u32) -> Option<&T> {
        self.entries.get(key as usize).map(|e| &e.payload)
    }

    pub(crate) fn payload_mut(&mut self, key: u32) -> &mut T {
        &mut self.entries[key as usize].payload
    }

    /// The earliest tick at which `process` has something to do.
    pub(crate) fn next_expiration(&self) -> Option<Tick> {
        if self.expired.head != NIL {
            return Some(self.elapsed);
        }
        self.next_slot().map(|(_, _, deadline)| deadline)
    }

    /// Fires every entry due at `now`, in deadline order (insertion order
    /// among equal deadlines), appending their keys to `fired`. Fired
    /// entries stay in the slab until removed or reset.
    pub(crate) fn process(&mut self, now: Tick, fired: &mut Vec<u32>) {
        let mut key = std::mem::replace(&mut self.expired, EMPTY).head;
        while key != NIL {
            let e = &mut self.entries[key as usize];
            let next = e.next;
            e.loc = LOC_FIRED;
            fired.push(key);
            key = next;
        }
        while let Some((level, slot, deadline)) = self.next_slot() {
            if deadline > now {
                break;
            }
            self.elapsed = self.elapsed.max(deadline);
            self.occupied[level] &= !(1 << slot);
            let mut key = std::mem::replace(&mut self.slots[level][slot], EMPTY).head;
            while key != NIL {
                let e = &mut self.entries[key as usize];
                let next = e.next;
                if e.when <= self.elapsed {
                    e.loc = LOC_FIRED;
                    fired.push(key);
                } else {
                    // Cascade to a lower level (or back to the top one).
                    self.link(key);
                }
                key = next;
            }
        }
        if now > self.elapsed {
            self.elapsed = now;
        }
    }

    /// Takes every entry out (shutdown).
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.occupied = [0; LEVELS];
        self.slots = [[EMPTY; SLOTS]; LEVELS];
        self.expired = EMPTY;
        self.entries.drain().map(|e| e.payload)
    }

    /// The first occupied slot: `(level, slot, tick it starts at)`.
    fn next_slot(&self) -> Option<(usize, usize, Tick)> {
        for level in 0..LEVELS {
            let occupied = self.occupied[level];
            if occupied == 0 {
                continue;
            }
            let shift = SLOT_BITS as usize * level;
            let slot_range = 1u64 << shift;
            let level_range = slot_range << SLOT_BITS;
            let now_slot = slot_of(self.elapsed, level);
            // The slot `elapsed` is in was processed when the clock entered
            // it, so whatever it holds now (only possible on the top level)
            // is a whole span or more ahead: it comes round after every
            // other occupied slot.
            let later = occupied & !(1 << now_slot);
            let search = if later != 0 { later } else { occupied };
            let offset = search.rotate_right(now_slot as u32).trailing_zeros() as usize;
            let slot = (now_slot + offset) % SLOTS;
            let level_start = self.elapsed & !(level_range - 1);
            let mut deadline = level_start + slot as u64 * slot_range;
            if deadline <= self.elapsed {
                // Only the top level wraps: it holds deadlines beyond the
                // wheel's span, whose slot comes round once per span.
                deadline += level_range;
            }
            return Some((level, slot, deadline));
        }
        None
    }

    fn link(&mut self, key: u32) {
        let when = self.entries[key as usize].when;
        let loc = if when == NEVER {
            LOC_IDLE
        } else if when <= self.elapsed {
            push_back(&mut self.expired, &mut self.entries, key);
            LOC_EXPIRED
        } else {
            let level = level_for(self.elapsed, when);
            let slot = slot_of(when, level);
            push_back(&mut self.slots[level][slot], &mut self.entries, key);
            self.occupied[level] |= 1 << slot;
            level as Loc
        };
        self.entries[key as usize].loc = loc;
    }

    fn unlink(&mut self, key: u32) {
        let e = &self.entries[key as usize];
        let (loc, when) = (e.loc, e.when);
        match loc {
            LOC_EXPIRED => unlink(&mut self.expired, &mut self.entries, key),
            LOC_FIRED | LOC_IDLE => {}
            level => {
                let level = level as usize;
                let slot = slot_of(when, level);
                let list = &mut self.slots[level][slot];
                unlink(list, &mut self.entries, key);
                if list.head == NIL {
                    self.occupied[level] &= !(1 << slot);
                }
            }
        }
        self.entries[key as usize].loc = LOC_IDLE;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Processes one tick at a time up to `until`, returning (tick, payload).
    fn run(wheel: &mut Wheel<u32>, until: Tick) -> Vec<(Tick, u32)> {
        let mut out = Vec::new();
        let mut fired = Vec::new();
        for now in wheel.elapsed()..=until {
            wheel.process(now, &mut fired);
            for key in fired.drain(..) {
                out.push((now, wheel.remove(key)));
            }
        }
        out
    }

    #[test]
    fn fires_in_deadline_then_insertion_order() {
        let mut wheel = Wheel::new();
        // Equal deadlines at every level, interleaved with others.
        let deadlines = [5u64, 70, 5, 4097, 70, 300_000, 5, 4097, 1, 300_000];
        for (i, &d) in deadlines.iter().enumerate() {
            wheel.insert(d, i as u32);
        }
        let fired = run(&mut wheel, 300_000);
        let mut expected: Vec<(Tick, u32)> = deadlines
            .iter()
            .enumerate()
            .map(|(i, &d)| (d, i as u32))
            .collect();
        expected.sort(); // by deadline, then by insertion index
        assert_eq!(fired, expected);
        assert_eq!(wheel.len(), 0);
    }

    #[test]
    fn jumping_far_ahead_fires_everything_in_order() {
        let mut wheel = Wheel::new();
        let mut expected = Vec::new();
        // A pseudo-random spread of deadlines, many equal.
        let mut x = 12345u64;
        for i in 0..5_000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let when = 1 + (x >> 33) % 10_000_000;
            wheel.insert(when, i);
            expected.push((when, i));
        }
        expected.sort();
        let mut fired = Vec::new();
        let mut got = Vec::new();
        // Irregular steps, as a parked driver wakes at arbitrary times.
        let mut now = 0;
        while now < 10_000_000 {
            now += 1 + (now % 7919) * 3;
            wheel.process(now, &mut fired);
            for key in fired.drain(..) {
                got.push(wheel.remove(key));
            }
        }
        let order: Vec<u32> = expected.iter().map(|&(_, i)| i).collect();
        assert_eq!(got, order);
    }

    #[test]
    fn cancel_and_reset_move_entries() {
        let mut wheel = Wheel::new();
        let a = wheel.insert(10, 0u32);
        let b = wheel.insert(20, 1);
        let c = wheel.insert(5000, 2);
        assert_eq!(wheel.remove(b), 1);
        wheel.reset(c, 3); // earlier
        wheel.reset(a, 100_000); // later
        assert_eq!(wheel.next_expiration(), Some(3));
        let fired = run(&mut wheel, 200_000);
        assert_eq!(fired, vec![(3, 2), (100_000, 0)]);
    }

    #[test]
    fn past_and_never_deadlines() {
        let mut wheel: Wheel<u32> = Wheel::new();
        let mut fired = Vec::new();
        wheel.process(50, &mut fired);
        assert!(fired.is_empty());
        let never = wheel.insert(NEVER, 0);
        let past = wheel.insert(7, 1);
        assert_eq!(wheel.next_expiration(), Some(50));
        wheel.process(50, &mut fired);
        assert_eq!(fired, vec![past]);
        assert!(wheel.is_fired(past));
        assert!(!wheel.is_fired(never));
        assert_eq!(wheel.next_expiration(), None);
        // A fired entry can be re-armed.
        wheel.reset(past, 60);
        assert!(!wheel.is_fired(past));
        fired.clear();
        wheel.process(59, &mut fired);
        assert!(fired.is_empty());
        wheel.process(60, &mut fired);
        assert_eq!(fired, vec![past]);
    }

    #[test]
    fn a_far_timer_in_the_current_top_slot_does_not_hide_nearer_ones() {
        let mut wheel = Wheel::new();
        let slot = 1u64 << (SLOT_BITS * (LEVELS as u32 - 1));
        // More than a span out, in top-level slot 5.
        let far = 2 * MAX_SPAN + 5 * slot + 17;
        wheel.insert(far, 0u32);
        let mut fired = Vec::new();
        // Slot 5 comes round: the far entry cascades back into it, and
        // `elapsed` now sits in that same slot.
        wheel.process(5 * slot, &mut fired);
        assert!(fired.is_empty());
        // A timer two top-level slots ahead is due long before the far
        // one's next round.
        let near = 7 * slot + 3;
        wheel.insert(near, 1);
        assert_eq!(wheel.next_expiration(), Some(7 * slot));
        wheel.process(near, &mut fired);
        assert_eq!(fired.len(), 1);
        assert_eq!(wheel.remove(fired[0]), 1);
    }

    #[test]
    fn deadlines_beyond_the_span_wait_their_turn() {
        let mut wheel = Wheel::new();
        let span = MAX_SPAN;
        let far = 3 * span + 12_345;
        wheel.insert(far, 0u32);
        wheel.insert(span + 1, 1);
        let mut fired = Vec::new();
        let mut now = 0;
        let mut got = Vec::new();
        // Walk in big steps; nothing may fire early or be lost.
        while now < far + 10 {
            now = (now + span / 3).min(far + 10);
            wheel.process(now, &mut fired);
            for key in fired.drain(..) {
                let when = wheel.entries[key as usize].when;
                assert!(when <= now);
                got.push((when, wheel.remove(key)));
            }
            if let Some(next) = wheel.next_expiration() {
                assert!(next > now);
            }
        }
        assert_eq!(got, vec![(span + 1, 1), (far, 0)]);
    }

    #[test]
    fn an_emptied_wheel_hands_out_keys_from_zero_again() {
        // Removed in an order other than insertion's, as timers fire by
        // deadline: the keys of the next burst must not follow that
        // scattered free list.
        let mut wheel = Wheel::new();
        let keys: Vec<u32> = (0..1000u64)
            .map(|i| wheel.insert(1 + (i * 37) % 100, i))
            .collect();
        let mut fired = Vec::new();
        wheel.process(200, &mut fired);
        assert_eq!(fired.len(), keys.len());
        for key in fired.drain(..) {
            wheel.remove(key);
        }
        let again: Vec<u32> = (0..10u64).map(|i| wheel.insert(300 + i, i)).collect();
        assert_eq!(again, (0..10).collect::<Vec<u32>>());
        // Still a working wheel.
        wheel.process(400, &mut fired);
        let got: Vec<u64> = fired.drain(..).map(|k| wheel.remove(k)).collect();
        assert_eq!(got, (0..10).collect::<Vec<u64>>());
    }
}
