//! The shared engine of [`Queue`](crate::Queue), [`LifoQueue`](crate::LifoQueue),
//! [`PriorityQueue`](crate::PriorityQueue) and the [`mpsc`](crate::mpsc) channels.
//!
//! One mutex guards the stored items and the waiter lists. A put with a
//! getter waiting either writes the item straight into that getter's node
//! (the mpsc channels: their one receiver holds at most one handed item,
//! so giving it back to the front keeps the order) or stores it and sets
//! one stored item aside for the getter, which pops the front item when it
//! runs (the asyncio queues: with several getters woken and dropped, giving
//! handed items back would reorder them; see [`Store::HANDS_OFF`]). Either
//! way the item counts toward `len` and `maxsize` until that getter runs and
//! returns it (asyncio counts it in `qsize()` until the getter resumes), so
//! a getter that is dropped after it was woken passes its item or turn on
//! without the queue ever holding more than `maxsize`. A get
//! that frees a slot while putters wait **reserves** the slot for the first
//! putter and wakes it; the putter moves its item in when it runs. The item
//! stays in the put future until then, so a put that is dropped before it
//! completes never delivered its item (asyncio's and tokio's rule: a
//! cancelled put or send did not happen), and a dropped putter's
//! reservation passes to the next putter. Order is FIFO among getters and
//! among putters, and a woken task never races a newcomer: reserved slots
//! count as taken for everyone else.
//!
//! A channel sender can also take a slot ahead of its item: a **permit**
//! (`mpsc::Sender::reserve`, see `permit.rs`), counted in `permits` until
//! its item is accepted or it is dropped (its slot then goes to the first
//! putter). A permit taken before a shutdown may still deliver its item
//! unless the shutdown was immediate, so getters see the end only once the
//! store is empty and no permit is outstanding (tokio's rule).
//!
//! A reservation may want several slots at once (`reserve_many`), all or
//! none. It waits in the same line; when it is first, every slot that
//! frees is reserved for it (`PutTurn::Waiting::held`) until it has all it
//! wants, and only then is it woken. Nobody behind it overtakes it, and if
//! it is dropped or refused, what it had gathered goes on down the line.
//!
//! One slot may also sit in the **credit**: counted in `permits` like a
//! permit's, but held by nobody yet, so the next reservation takes it with
//! one atomic swap instead of a lock round trip (see `permit.rs`). Anyone
//! who finds the queue full takes the credit back first, so it is never
//! room that a put cannot use, and it exists only while no putter waits.
//!
//! A [`LifoQueue`](crate::LifoQueue) or [`PriorityQueue`](crate::PriorityQueue)
//! does not hand a put's item to the waiting getter: the getter would then
//! return the first item put after it started waiting, where asyncio's
//! getter takes the newest or smallest item when it runs. The item is
//! stored, one stored item is **claimed** for the getter, and the getter
//! pops when it runs; nobody else pops claimed items, and a getter dropped
//! with a claim passes it to the next getter (or frees it). The item never
//! leaves the store, so nothing has to be put back.
//!
//! Invariants (under the lock):
//! - getters are queued only while every stored item is claimed (see
//!   below; for a FIFO store, which hands items off, only while it is
//!   empty);
//! - `claimed <= items`, and claims are held only by woken getters;
//! - `items + handed + reserved + permits <= maxsize`: stored items, items
//!   handed to woken getters that have not run yet, slots held for woken
//!   putters that have not run yet (and gathered by the first in line),
//!   and slots held by permits, together never exceed the capacity;
//! - putters are queued only while that sum is at capacity;
//! - `unfinished` counts accepted items not yet `task_done` (a `u64`: see
//!   [`State::unfinished`]);
//! - the credit is set only while no putter is queued and the queue is not
//!   shut down (only lock holders set it; anyone may clear it).
//!
//! A [`PriorityQueue`](crate::PriorityQueue) compares items with the user's
//! `Ord`, which may panic. The store then fails before it changed anything
//! (see `store.rs`) and hands back the panic and the item it was storing;
//! this engine puts the state right (the item is not accepted, so nothing
//! is counted for it; a slot it held goes to the next putter), releases
//! the lock, wakes whom it served, drops that item and resumes the panic
//! (see [`Caught`]). A panic while popping leaves every item stored.
//!
//! The `poll_*` methods (`wait.rs`) do not ask the cooperative budget
//! ([`crate::budget`]): the futures (`futures.rs`) and the channel's public
//! poll methods wrap them in it, so a non-waiting form (`try_recv`
//! collecting an item handed to an earlier `recv`, `nowait.rs`) can poll
//! without being refused. This file holds the state and the bookkeeping
//! every operation shares (offering, accepting, granting and collecting).

use std::fmt;
use std::panic::resume_unwind;

use crate::loom::{AtomicBool, Mutex, Ordering};
use crate::waitlist::{Registration, Stale, WaitList, WakeBatch};

pub(crate) use super::store::{ClaimedFifo, Fifo, Lifo, Panic, Smallest, Store};

mod futures;
mod handoff;
mod nowait;
mod permit;
mod wait;
pub(crate) use futures::{Get, Join, Put};
pub(crate) use handoff::{Closers, Getters, Joiners, Putters};

pub(crate) struct State<T, S> {
    items: S,
    /// Capacity; `usize::MAX` when unbounded.
    maxsize: usize,
    /// Waiting getters, and what a served one was woken with.
    getters: WaitList<GetTurn<T>>,
    /// Waiting putters (their items stay in their futures) and what they
    /// were woken with.
    putters: WaitList<PutTurn>,
    /// Items handed to woken getters that have not returned them yet (in
    /// the getters' nodes, out of the store, still in the queue).
    handed: usize,
    /// Stored items set aside for woken getters of a store that does not
    /// hand items off ([`Store::HANDS_OFF`]): each such getter pops one
    /// when it runs, so it gets the item that is first then. Never more
    /// than the stored items; nobody else pops those.
    claimed: usize,
    /// Slots held for woken putters that have not moved their items in yet.
    reserved: usize,
    /// Slots held by permits (`permit.rs`) whose items have not come yet.
    permits: usize,
    /// Shut down with `immediate`: a permit's item is dropped, not stored.
    discard: bool,
    /// Tasks in `join`.
    joiners: WaitList<()>,
    /// Tasks waiting for `shutdown` (a channel sender's `closed()`).
    closers: WaitList<()>,
    /// Accepted items not yet `task_done`. Not bounded by the capacity:
    /// items leave the queue long before they are done, a channel never
    /// calls `task_done` (so there it counts every message ever sent), and
    /// neither does a `Queue` user who never joins. So it is a `u64`, not
    /// a `usize`: on a 32-bit target a `usize` would overflow after 2^32
    /// puts (a panic under the lock with overflow checks on, a wrong
    /// `join` without), a few minutes of a busy channel; 2^64 is out of
    /// reach.
    unfinished: u64,
    shut_down: bool,
}

/// What a getter was woken with.
pub(crate) enum GetTurn<T> {
    /// Still queued; or woken empty-handed (the queue ended, or an item
    /// may be back): it looks at the store again.
    Empty,
    /// This item, handed over by a put (a store that hands items off: it
    /// is the item the getter would pop). Counted in `handed`.
    Item(T),
    /// One stored item is set aside for it (counted in `claimed`): it pops
    /// the first one when it runs.
    Claim,
}

/// What a queued putter waits for, and what it was woken with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PutTurn {
    /// Still queued, for `want` slots (1 but for a channel's
    /// `reserve_many`), of which it already holds `held` (counted in
    /// `reserved`). Only the first in line holds any: freed slots go to
    /// it until it has all it wants, so nobody behind it overtakes it.
    Waiting { want: usize, held: usize },
    /// Woken with this many slots reserved for it (counted in `reserved`).
    Granted(usize),
    /// The queue was shut down: the put fails. It holds nothing.
    Refused,
}

impl PutTurn {
    /// A new putter's turn: waiting for `want` slots, holding none.
    pub(crate) const fn wants(want: usize) -> Self {
        PutTurn::Waiting { want, held: 0 }
    }

    /// Slots held (counted in `reserved`).
    pub(crate) const fn held(self) -> usize {
        match self {
            PutTurn::Waiting { held, .. } => held,
            PutTurn::Granted(n) => n,
            PutTurn::Refused => 0,
        }
    }
}

/// Why `try_put` refused an item (the item is handed back).
pub(crate) enum PutRefused<T> {
    Full(T),
    ShutDown(T),
}

/// Why [`QueueCore::offer`] did not accept an item (handed back).
enum Refusal<T> {
    /// No room.
    Full(T),
    /// The store's comparison panicked; nothing changed.
    Panicked(T, Panic),
}

/// A panic caught from the store's comparisons (a user `Ord`), with the
/// item that was not stored: kept until the lock is released and the
/// wakers are woken, then the item is dropped and the panic resumed.
/// Declare it before taking the lock.
pub(crate) struct Caught<T>(Option<(Option<T>, Panic)>);

impl<T> Caught<T> {
    #[inline]
    pub(crate) const fn new() -> Self {
        Caught(None)
    }

    #[inline]
    fn set(&mut self, item: Option<T>, panic: Panic) {
        self.0 = Some((item, panic));
    }

    #[inline]
    fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// Resumes the caught panic, if any.
    #[inline]
    pub(crate) fn resume(self) {
        if let Some((item, panic)) = self.0 {
            Self::rethrow(item, panic)
        }
    }

    #[cold]
    #[inline(never)]
    fn rethrow(item: Option<T>, panic: Panic) -> ! {
        drop(item);
        resume_unwind(panic)
    }
}

/// Why `try_get` returned nothing.
pub(crate) enum GetRefused {
    Empty,
    ShutDown,
}

pub(crate) struct QueueCore<T, S> {
    state: Mutex<State<T, S>>,
    /// One prepaid slot, counted in `permits`, for the next reservation to
    /// take without the lock (`permit.rs`). Set only under the lock, by
    /// permit operations of a queue with room and no putter waiting;
    /// cleared by whoever takes it, with or without the lock.
    pub(super) credit: AtomicBool,
}

impl<T, S: Store<T>> QueueCore<T, S> {
    /// A queue holding at most `maxsize` items (0 = unbounded).
    pub(crate) fn new(maxsize: usize) -> Self {
        QueueCore {
            state: Mutex::new(State {
                items: S::default(),
                maxsize: if maxsize == 0 { usize::MAX } else { maxsize },
                getters: WaitList::new(),
                putters: WaitList::new(),
                handed: 0,
                claimed: 0,
                reserved: 0,
                permits: 0,
                discard: false,
                joiners: WaitList::new(),
                closers: WaitList::new(),
                unfinished: 0,
                shut_down: false,
            }),
            credit: AtomicBool::new(false),
        }
    }

    pub(crate) fn maxsize(&self) -> usize {
        let m = self.state.lock().maxsize;
        if m == usize::MAX {
            0
        } else {
            m
        }
    }

    /// Items in the queue: stored, or handed to a getter that has not
    /// returned them yet.
    pub(crate) fn len(&self) -> usize {
        let st = self.state.lock();
        st.items.len() + st.handed
    }

    /// Slots a `try_put` could fill right now (saturating at `usize::MAX`
    /// for an unbounded queue).
    pub(crate) fn free_slots(&self) -> usize {
        let st = self.state.lock();
        // The credit is free room: a put takes it back when it needs it.
        (st.maxsize - Self::taken(&st))
            .saturating_add(usize::from(self.credit.load(Ordering::Relaxed)))
    }

    pub(crate) fn is_full(&self) -> bool {
        self.free_slots() == 0
    }

    /// Slots in use: stored items, handed items, reserved slots and
    /// permits.
    #[inline]
    fn taken(st: &State<T, S>) -> usize {
        st.items.len() + st.handed + st.reserved + st.permits
    }

    /// Takes the credit (without the lock, or with it): `true` if this
    /// caller now owns its slot, which is still counted in `permits`.
    #[inline]
    fn take_credit(&self) -> bool {
        self.credit.load(Ordering::Relaxed)
            && self
                .credit
                .compare_exchange(true, false, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
    }

    /// Room for one more item or permit, with the lock held: a free slot,
    /// or else the credit, taken back (its slot leaves `permits`).
    #[inline]
    fn has_room(&self, st: &mut State<T, S>) -> bool {
        Self::taken(st) < st.maxsize || self.reclaim_credit(st)
    }

    /// Takes the credit back into free room, with the lock held.
    #[cold]
    fn reclaim_credit(&self, st: &mut State<T, S>) -> bool {
        // No permit counted: no credit either (its slot is one of them).
        if st.permits > 0 && self.take_credit() {
            st.permits -= 1;
            true
        } else {
            false
        }
    }

    /// Shut down and no permit can bring an item any more: an empty store
    /// stays empty.
    #[inline]
    fn ended(st: &State<T, S>) -> bool {
        st.shut_down && (st.permits == 0 || st.discard)
    }

    /// Nothing is left for a getter, so gets fail: the queue [`ended`](Self::ended),
    /// the store is empty, and no woken getter holds an item or a claim
    /// that it would give back if it were dropped (asyncio fails a get
    /// only once the queue is empty, and `len` counts those).
    #[inline]
    fn drained(st: &State<T, S>) -> bool {
        Self::ended(st) && st.items.len() == 0 && st.handed == 0 && st.claimed == 0
    }

    /// Wakes the queued getters (empty-handed) once the queue is drained.
    #[cold]
    pub(super) fn wake_getters_if_drained(st: &mut State<T, S>, wakers: &mut WakeBatch) {
        if Self::drained(st) {
            st.getters.wake_all(wakers, |_| {});
        }
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.state.lock().shut_down
    }

    /// [`State::unfinished`], saturating at `usize::MAX` (only reachable
    /// on a 32-bit target).
    pub(crate) fn unfinished(&self) -> usize {
        usize::try_from(self.state.lock().unfinished).unwrap_or(usize::MAX)
    }

    /// Accepts `item` if there is room, with the lock held; hands it back
    /// when full. Handed items and reserved slots are not room, even for a
    /// waiting getter (asyncio's `put` waits while `full()` too).
    #[inline]
    fn offer(
        &self,
        st: &mut State<T, S>,
        item: T,
        wakers: &mut WakeBatch,
    ) -> Result<(), Refusal<T>> {
        if !self.has_room(st) {
            return Err(Refusal::Full(item));
        }
        Self::accept(st, item, wakers).map_err(|(item, panic)| Refusal::Panicked(item, panic))
    }

    /// Accepts `item` into a slot the caller made sure of: to the first
    /// getter, else into the store. Fails, having changed nothing, only
    /// when the store's comparison panicked.
    ///
    /// The no-getter case stays inline and the rest does not (as in
    /// [`grant_slot`](Self::grant_slot)): inlined whole, the function went
    /// out of line once the claim case was added, which cost every put a
    /// call and its register spills (about 20 instructions per item on
    /// queue_put_get).
    #[inline(always)]
    fn accept(st: &mut State<T, S>, item: T, wakers: &mut WakeBatch) -> Result<(), (T, Panic)> {
        if st.getters.is_empty() {
            st.items.push(item)?;
            st.unfinished += 1;
            Ok(())
        } else {
            Self::accept_for_getter(st, item, wakers)
        }
    }

    /// [`accept`](Self::accept) with a getter waiting.
    fn accept_for_getter(
        st: &mut State<T, S>,
        item: T,
        wakers: &mut WakeBatch,
    ) -> Result<(), (T, Panic)> {
        if S::HANDS_OFF {
            st.handed += 1;
            wakers.push_opt(st.getters.wake_front(|turn| *turn = GetTurn::Item(item)));
        } else {
            // Stored, and one stored item set aside for the first getter:
            // it pops when it runs, so it gets the item at the front then
            // (the oldest, newest or smallest), as asyncio's getter does,
            // not necessarily this one.
            st.items.push(item)?;
            st.claimed += 1;
            wakers.push_opt(st.getters.wake_front(|turn| *turn = GetTurn::Claim));
        }
        st.unfinished += 1;
        Ok(())
    }

    /// Reserves a freed slot for the first waiting putter, if any; wakes
    /// it once it holds all the slots it waits for.
    ///
    /// Called for every item taken, and most of the time nobody waits to
    /// put: that check stays inline, the grant itself does not (inlining
    /// the whole grant made the compiler keep this out of line, which cost
    /// every get a call: about 11 instructions per item on mpsc_bounded).
    #[inline(always)]
    fn grant_slot(st: &mut State<T, S>, wakers: &mut WakeBatch) {
        if !st.putters.is_empty() {
            Self::grant_slot_to_first(st, wakers);
        }
    }

    /// [`grant_slot`](Self::grant_slot) with a putter waiting.
    fn grant_slot_to_first(st: &mut State<T, S>, wakers: &mut WakeBatch) {
        let Some(turn) = st.putters.front_mut() else {
            return;
        };
        st.reserved += 1;
        if let PutTurn::Waiting { want, held } = turn {
            if *held + 1 < *want {
                *held += 1;
                return;
            }
        }
        wakers.push_opt(st.putters.wake_front(|turn| {
            if let PutTurn::Waiting { want, .. } = *turn {
                *turn = PutTurn::Granted(want);
            }
        }));
    }

    /// Gives `n` slots a putter held back (it left, or was refused): to the
    /// putters next in line, or free.
    pub(super) fn return_slots(st: &mut State<T, S>, n: usize, wakers: &mut WakeBatch) {
        st.reserved -= n;
        Self::grant_slots(st, n, wakers);
    }

    /// `n` slots just freed go to the putters in line, as far as they
    /// reach; the rest stay free.
    pub(super) fn grant_slots(st: &mut State<T, S>, n: usize, wakers: &mut WakeBatch) {
        for _ in 0..n {
            if st.putters.is_empty() {
                break;
            }
            Self::grant_slot(st, wakers);
        }
    }

    /// A woken getter returns the item it was handed: its slot frees and
    /// goes to the first waiting putter.
    #[inline]
    fn collect(st: &mut State<T, S>, item: T, wakers: &mut WakeBatch) -> T {
        st.handed -= 1;
        Self::grant_slot(st, wakers);
        if st.shut_down {
            Self::wake_getters_if_drained(st, wakers);
        }
        item
    }

    /// A woken getter pops the item set aside for it: its slot frees and
    /// goes to the first waiting putter. If the store's comparison panics,
    /// nothing is taken and the claim passes on as if the getter had left.
    fn take_claimed(st: &mut State<T, S>, wakers: &mut WakeBatch) -> Result<T, Panic> {
        match st.items.pop() {
            Ok(Some(item)) => {
                st.claimed -= 1;
                Self::grant_slot(st, wakers);
                if st.shut_down {
                    Self::wake_getters_if_drained(st, wakers);
                }
                Ok(item)
            }
            Ok(None) => unreachable!("a claim is always on a stored item"),
            Err(panic) => {
                Self::pass_claim(st, wakers);
                Err(panic)
            }
        }
    }

    /// The getter holding a claim left without using it: the claim goes to
    /// the next queued getter, or else the item is anyone's.
    pub(super) fn pass_claim(st: &mut State<T, S>, wakers: &mut WakeBatch) {
        if st.getters.is_empty() {
            st.claimed -= 1;
        } else {
            wakers.push_opt(st.getters.wake_front(|turn| *turn = GetTurn::Claim));
        }
    }

    /// What a getter woken with `turn` (`Empty` for one not queued) gets
    /// now: the item it was handed, the one set aside for it, or else the
    /// next unclaimed stored item; `None` when there is none. Fails, having
    /// taken nothing, only when the store's comparison panicked.
    #[inline]
    fn collect_turn(
        st: &mut State<T, S>,
        turn: GetTurn<T>,
        wakers: &mut WakeBatch,
    ) -> Result<Option<T>, Panic> {
        match turn {
            GetTurn::Item(item) => Ok(Some(Self::collect(st, item, wakers))),
            GetTurn::Claim => Self::take_claimed(st, wakers).map(Some),
            GetTurn::Empty => Self::take(st, wakers),
        }
    }

    /// Takes the next item nobody has claimed with the lock held; the freed
    /// slot goes to the first waiting putter. Fails, having changed
    /// nothing, only when the store's comparison panicked.
    #[inline]
    fn take(st: &mut State<T, S>, wakers: &mut WakeBatch) -> Result<Option<T>, Panic> {
        if !S::HANDS_OFF && st.items.len() == st.claimed {
            return Ok(None);
        }
        let item = st.items.pop()?;
        if item.is_some() {
            Self::grant_slot(st, wakers);
        }
        Ok(item)
    }
}

impl<T, S: Store<T>> fmt::Debug for QueueCore<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("Queue")
            // As `len()` counts: also items handed to woken getters.
            .field("len", &(st.items.len() + st.handed))
            .field(
                "maxsize",
                &if st.maxsize == usize::MAX {
                    0
                } else {
                    st.maxsize
                },
            )
            .field("unfinished", &st.unfinished)
            .field("shut_down", &st.shut_down)
            .finish()
    }
}
