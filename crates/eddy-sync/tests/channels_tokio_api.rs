//! tokio's channel API that eddy added later: mpsc `reserve`/`try_reserve`
//! permits, owned permits and `reserve_many`, and weak senders, watch `Sender::closed` and
//! `Receiver::mark_changed`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::Manual;
use eddy_sync::mpsc::{self, TryRecvError, TrySendError};
use futures::executor::block_on;

/// Counts drops, so tests can check a message was dropped, not leaked.
struct Counted(Arc<AtomicUsize>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn mpsc_permit_holds_a_slot_and_sends_without_waiting() {
    let (tx, mut rx) = mpsc::channel(2);
    let a = block_on(tx.reserve()).unwrap();
    let b = tx.try_reserve().unwrap();
    assert_eq!(tx.capacity(), 0, "both slots are the permits'");
    assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    // Permits send in the order they send, not the order they were taken.
    b.send(2);
    a.send(1);
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(tx.capacity(), 2);
}

#[test]
fn mpsc_permit_dropped_unused_gives_the_slot_to_the_next_waiting_sender() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = tx.try_reserve().unwrap();
    let mut send = Manual::new(tx.send(7));
    send.pending();
    let mut reserve = Manual::new(tx.reserve());
    reserve.pending();
    drop(permit);
    assert!(send.woken(), "the first in line gets the slot");
    assert!(!reserve.woken());
    assert!(
        matches!(tx.try_send(0), Err(TrySendError::Full(0))),
        "held for the woken send"
    );
    send.ready().unwrap();
    assert_eq!(rx.try_recv(), Ok(7));
    // The receiver freed the slot: it goes to the waiting reserve.
    assert!(reserve.woken());
    let permit = reserve.ready().unwrap();
    permit.send(8);
    assert_eq!(rx.try_recv(), Ok(8));
}

#[test]
fn mpsc_reserve_dropped_after_being_granted_a_slot_passes_it_on() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut first = Manual::new(tx.reserve());
    first.pending();
    let mut second = Manual::new(tx.reserve());
    second.pending();
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(first.woken() && !second.woken());
    drop(first); // granted, never ran: the slot must not be lost
    assert!(second.woken());
    second.ready().unwrap().send(1);
    assert_eq!(rx.try_recv(), Ok(1));
    // And a reserve dropped while still queued holds nothing.
    tx.try_send(2).unwrap();
    let mut queued = Manual::new(tx.reserve());
    queued.pending();
    drop(queued);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn mpsc_reserve_waits_in_fifo_order_with_sends() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut reserve = Manual::new(tx.reserve());
    reserve.pending();
    let mut send = Manual::new(tx.send(2));
    send.pending();
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(reserve.woken() && !send.woken());
    send.pending(); // a later sender cannot take the slot held for the reserve
    reserve.ready().unwrap().send(1);
    assert_eq!(rx.try_recv(), Ok(1));
    send.ready().unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn mpsc_close_fails_reservations_but_delivers_permits_taken_before() {
    let (tx, mut rx) = mpsc::channel(2);
    let early = tx.try_reserve().unwrap();
    let unused = tx.try_reserve().unwrap();
    let mut waiting = Manual::new(tx.reserve());
    waiting.pending();
    rx.close();
    assert!(waiting.woken());
    assert_eq!(waiting.ready().unwrap_err(), mpsc::SendError(()));
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Closed(()))));
    assert!(block_on(tx.reserve()).is_err());
    // Permits are still out: the receiver waits for them, not None.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    {
        let mut recv = Manual::new(rx.recv());
        recv.pending();
        early.send(1);
        assert!(recv.woken());
        assert_eq!(recv.ready(), Some(1));
    }
    {
        let mut recv = Manual::new(rx.recv());
        recv.pending();
        drop(unused); // the last permit: now nothing more can come
        assert!(recv.woken());
        assert_eq!(recv.ready(), None);
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn mpsc_recv_many_after_close_waits_for_outstanding_permits() {
    let (tx, mut rx) = mpsc::channel(4);
    tx.try_send(1).unwrap();
    let permit = tx.try_reserve().unwrap();
    rx.close();
    let mut buf = Vec::new();
    assert_eq!(block_on(rx.recv_many(&mut buf, 8)), 1);
    {
        let mut more = Manual::new(rx.recv_many(&mut buf, 8));
        more.pending();
        permit.send(2);
        assert_eq!(more.ready(), 1);
    }
    assert_eq!(buf, [1, 2]);
    assert_eq!(block_on(rx.recv_many(&mut buf, 8)), 0);
}

#[test]
fn mpsc_permit_of_a_dropped_receiver_drops_its_message() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel(1);
    let permit = tx.try_reserve().unwrap();
    drop(rx);
    assert!(tx.is_closed());
    permit.send(Counted(drops.clone()));
    assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped at once, not kept");
    // Also when the receiver had closed, waited for the permit, and gave up.
    let (tx, mut rx) = mpsc::channel(1);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    Manual::new(rx.recv()).pending();
    drop(rx);
    permit.send(Counted(drops.clone()));
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn mpsc_prepaid_slot_after_a_reservation_is_still_free_room_for_everyone() {
    // A reservation that leaves room prepays one slot for the next one;
    // that slot must stay usable by plain sends, waiting senders and
    // capacity(), and must not keep a closed channel's receiver waiting.
    let (tx, mut rx) = mpsc::channel(3);
    let a = tx.try_reserve().unwrap();
    assert_eq!(tx.capacity(), 2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap(); // the last free slot was the prepaid one
    assert_eq!(tx.capacity(), 0);
    assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    // A waiting sender gets the slot the permit gives back, not a
    // reservation that comes later.
    let mut send = Manual::new(tx.send(4));
    send.pending();
    drop(a);
    assert!(send.woken());
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    send.ready().unwrap();
    let mut got = Vec::new();
    while let Ok(v) = rx.try_recv() {
        got.push(v);
    }
    assert_eq!(got, [1, 2, 4]);
    assert_eq!(tx.capacity(), 3);
    // Reserve + send in a loop (the prepaid path) keeps the count exact.
    for i in 0..3 {
        block_on(tx.reserve()).unwrap().send(i);
    }
    assert_eq!(tx.capacity(), 0);
    assert_eq!(rx.len(), 3);
    // Close with a prepaid slot out: the receiver still ends.
    for i in 0..3 {
        assert_eq!(rx.try_recv(), Ok(i));
    }
    let p = tx.try_reserve().unwrap();
    rx.close();
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Closed(()))));
    p.send(9);
    assert_eq!(block_on(rx.recv()), Some(9));
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn mpsc_reserve_many_takes_all_or_none() {
    let (tx, mut rx) = mpsc::channel(3);
    let mut three = tx.try_reserve_many(3).unwrap();
    assert_eq!(three.len(), 3);
    assert_eq!(tx.capacity(), 0);
    assert!(matches!(
        tx.try_reserve_many(1),
        Err(TrySendError::Full(()))
    ));
    three.next().unwrap().send(1);
    assert_eq!(three.len(), 2);
    drop(three); // the two not yielded go back
    assert_eq!(tx.capacity(), 2);
    // Two wanted, one free after a send: refused, and nothing taken.
    tx.try_send(2).unwrap();
    assert!(matches!(
        tx.try_reserve_many(2),
        Err(TrySendError::Full(()))
    ));
    assert_eq!(tx.capacity(), 1);
    // More than the channel can ever hold panics, naming the capacity
    // (an error would read as "closed" or, retried, as "full" forever).
    let too_many = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = tx.try_reserve_many(4);
    }))
    .unwrap_err();
    let message = too_many.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("reserve_many(4) on a channel of capacity 3"),
        "{message}"
    );
    let too_many = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = block_on(tx.reserve_many(4));
    }));
    assert!(too_many.is_err());
    assert_eq!(tx.capacity(), 1, "nothing was taken");
    // Zero.
    assert_eq!(tx.try_reserve_many(0).unwrap().count(), 0);
    assert_eq!(block_on(tx.reserve_many(0)).unwrap().len(), 0);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    let mut permits = block_on(tx.reserve_many(3)).unwrap();
    for (permit, v) in permits.by_ref().zip(3..) {
        permit.send(v);
    }
    assert!(permits.next().is_none(), "fused once used up");
    drop(permits);
    assert_eq!(tx.capacity(), 0);
    rx.close();
    assert!(matches!(
        tx.try_reserve_many(0),
        Err(TrySendError::Closed(()))
    ));
    assert!(block_on(tx.reserve_many(1)).is_err());
}

#[test]
fn mpsc_reserve_many_first_in_line_gathers_slots_and_is_not_overtaken() {
    let (tx, mut rx) = mpsc::channel(3);
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    let mut many = Manual::new(tx.reserve_many(2));
    many.pending();
    let mut send = Manual::new(tx.send(9));
    send.pending();
    assert_eq!(rx.try_recv(), Ok(0));
    // One of two: held for it, not woken, and not free for the send or a
    // newcomer.
    assert!(!many.woken());
    assert!(!send.woken());
    assert_eq!(tx.capacity(), 0);
    assert!(matches!(tx.try_send(8), Err(TrySendError::Full(8))));
    many.pending();
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(many.woken() && !send.woken());
    let permits = many.ready().unwrap();
    assert_eq!(permits.len(), 2);
    send.pending(); // still full: the two slots are the permits'
    for (p, v) in permits.zip([10, 11]) {
        p.send(v);
    }
    assert_eq!(rx.try_recv(), Ok(2));
    assert!(send.woken());
    send.ready().unwrap();
    let rest: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert_eq!(rest, [10, 11, 9]);
}

#[test]
fn mpsc_reserve_many_cancelled_gives_back_what_it_gathered_and_wakes_the_next() {
    // Dropped while first in line, holding one slot of two.
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    let mut many = Manual::new(tx.reserve_many(2));
    many.pending();
    let mut send = Manual::new(tx.send(5));
    send.pending();
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(!send.woken());
    drop(many);
    assert!(send.woken(), "the gathered slot goes to the next in line");
    send.ready().unwrap();
    assert_eq!(tx.capacity(), 0);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(tx.capacity(), 2);

    // Dropped after it was granted both slots, before it ran: one each
    // for the two waiting behind it.
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    let mut many = Manual::new(tx.reserve_many(2));
    many.pending();
    let mut one = Manual::new(tx.reserve());
    one.pending();
    let mut send = Manual::new(tx.send(7));
    send.pending();
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(many.woken() && !one.woken() && !send.woken());
    drop(many);
    assert!(one.woken() && send.woken());
    one.ready().unwrap().send(6);
    send.ready().unwrap();
    assert_eq!(rx.try_recv(), Ok(6));
    assert_eq!(rx.try_recv(), Ok(7));

    // Dropped while queued behind another: held nothing, changes nothing.
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    let mut first = Manual::new(tx.reserve());
    first.pending();
    let mut many = Manual::new(tx.reserve_many(2));
    many.pending();
    drop(many);
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(first.woken());
    drop(first.ready().unwrap());
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn mpsc_close_refuses_a_reserve_many_that_had_gathered_slots() {
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    let mut many = Manual::new(tx.reserve_many(2));
    many.pending();
    assert_eq!(rx.try_recv(), Ok(0)); // one slot gathered
    rx.close();
    assert!(many.woken());
    assert_eq!(many.ready().unwrap_err(), mpsc::SendError(()));
    // Nothing is left counted: the drain ends.
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn mpsc_owned_permit_hands_the_sender_back_and_keeps_the_channel_open() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = block_on(tx.clone().reserve_owned()).unwrap();
    let Err(TrySendError::Full(tx)) = tx.try_reserve_owned() else {
        panic!("the slot is the owned permit's");
    };
    drop(tx);
    // The permit's sender keeps the channel open.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    let permit = std::thread::spawn(move || permit).join().unwrap();
    let tx = permit.send(1);
    assert_eq!(rx.try_recv(), Ok(1));
    let tx = tx.try_reserve_owned().unwrap().release();
    assert_eq!(tx.capacity(), 1);
    // Dropped unused: the slot goes to a waiting sender, the sender goes.
    {
        let permit = tx.clone().try_reserve_owned().unwrap();
        let mut send = Manual::new(tx.send(2));
        send.pending();
        drop(permit);
        assert!(send.woken());
        send.ready().unwrap();
    }
    assert_eq!(rx.try_recv(), Ok(2));
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    // Closed: the sender comes back in the error.
    let (tx, rx) = mpsc::channel::<u8>(1);
    drop(rx);
    assert!(matches!(
        tx.try_reserve_owned(),
        Err(TrySendError::Closed(_))
    ));
}

#[test]
fn mpsc_reserve_owned_dropped_after_being_granted_passes_the_slot_on() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut owned = Manual::new(tx.clone().reserve_owned());
    owned.pending();
    let mut send = Manual::new(tx.send(1));
    send.pending();
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(owned.woken() && !send.woken());
    drop(owned);
    assert!(send.woken());
    send.ready().unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn mpsc_permits_work_across_threads() {
    let (tx, mut rx) = mpsc::channel(2);
    let producers: Vec<_> = (0..2)
        .map(|t: u32| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                block_on(async {
                    for i in 0..200u32 {
                        let permit = tx.reserve().await.unwrap();
                        if i.is_multiple_of(3) {
                            drop(permit); // given back unused
                        } else {
                            permit.send(t * 1000 + i);
                        }
                    }
                })
            })
        })
        .collect();
    drop(tx);
    let got = block_on(async {
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
        }
        got
    });
    for p in producers {
        p.join().unwrap();
    }
    let mut expected: Vec<_> = (0..2)
        .flat_map(|t| {
            (0..200u32)
                .filter(|i| !i.is_multiple_of(3))
                .map(move |i| t * 1000 + i)
        })
        .collect();
    let mut got = got;
    got.sort_unstable();
    expected.sort_unstable();
    assert_eq!(got, expected);
}

#[test]
fn mpsc_weak_sender_does_not_keep_the_channel_open() {
    let (tx, mut rx) = mpsc::channel(4);
    let weak = tx.downgrade();
    let weak2 = weak.clone();
    let strong = weak.upgrade().unwrap();
    assert!(strong.same_channel(&tx));
    drop(tx);
    assert!(!rx.is_closed(), "the upgraded sender is a real one");
    strong.try_send(1).unwrap();
    drop(strong);
    assert!(rx.is_closed(), "only weak senders are left");
    assert!(weak.upgrade().is_none());
    assert!(weak2.upgrade().is_none());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    // A receiver waiting when the last strong sender goes is woken.
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let weak = tx.downgrade();
    let mut recv = Manual::new(rx.recv());
    recv.pending();
    drop(tx);
    assert!(recv.woken());
    assert_eq!(recv.ready(), None);
    drop(weak);
}

#[test]
fn mpsc_weak_sender_upgrades_after_the_receiver_closed_but_sends_fail() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let weak = tx.downgrade();
    rx.close();
    let again = weak.upgrade().expect("a sender is still alive");
    assert!(again.try_send(1).is_err());
}

#[test]
fn mpsc_weak_unbounded_sender() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let weak = tx.downgrade();
    weak.clone().upgrade().unwrap().send(1).unwrap();
    drop(tx);
    assert!(weak.upgrade().is_none());
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn mpsc_upgrades_racing_the_last_sender_drop_never_reopen_the_channel() {
    for _ in 0..200 {
        let (tx, mut rx) = mpsc::channel::<u8>(4);
        let weak = tx.downgrade();
        let upgrader = std::thread::spawn(move || match weak.upgrade() {
            Some(tx) => tx.try_send(1).is_ok(),
            None => false,
        });
        drop(tx);
        let sent = upgrader.join().unwrap();
        // Closed either way once every strong sender is gone.
        assert_eq!(block_on(rx.recv()), sent.then_some(1));
        assert_eq!(block_on(rx.recv()), None);
    }
}

#[test]
fn watch_sender_closed_waits_for_every_receiver() {
    use eddy_sync::watch;
    let (tx, rx) = watch::channel(0);
    let rx2 = tx.subscribe();
    let mut closed = Manual::new(tx.closed());
    closed.pending();
    let mut other = Manual::new(tx.closed());
    other.pending();
    drop(rx);
    assert!(!closed.woken(), "a receiver is left");
    closed.pending();
    drop(rx2);
    assert!(closed.woken() && other.woken());
    closed.ready();
    other.ready();
    // No receiver: returns at once; and a dropped wait leaves nothing behind.
    block_on(tx.closed());
    let rx3 = tx.subscribe();
    Manual::new(tx.closed()).pending();
    let mut again = Manual::new(tx.closed());
    again.pending();
    drop(rx3);
    again.ready();
    assert!(tx.is_closed());
}

#[test]
fn watch_mark_changed_makes_the_current_value_unseen() {
    use eddy_sync::watch;
    let (tx, mut rx) = watch::channel(1);
    assert!(!rx.has_changed().unwrap());
    rx.mark_changed();
    assert!(rx.has_changed().unwrap());
    let clone = rx.clone(); // has seen what rx has: nothing
    assert!(clone.has_changed().unwrap());
    block_on(rx.changed()).unwrap();
    assert!(!rx.has_changed().unwrap());
    let mut waiting = Manual::new(rx.changed());
    waiting.pending();
    drop(waiting);
    rx.mark_changed();
    rx.mark_unchanged();
    assert!(!rx.has_changed().unwrap());
    // wait_for sees the value again, as on a new one.
    rx.mark_changed();
    assert_eq!(*block_on(rx.wait_for(|v| *v == 1)).unwrap(), 1);
    assert!(!rx.has_changed().unwrap());
    // After the sender is gone, a marked change is still returned once.
    rx.mark_changed();
    drop(tx);
    assert!(rx.has_changed().is_err());
    assert_eq!(block_on(rx.changed()), Ok(()));
    assert_eq!(block_on(rx.changed()), Err(watch::RecvError));
}

thread_local! {
    /// Whether the budget hook refuses polls on this thread (only the test
    /// below sets it, so the hook changes nothing for the other tests).
    static REFUSE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn refuse_when_asked(cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
    if REFUSE.with(|r| r.get()) {
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    } else {
        std::task::Poll::Ready(())
    }
}

/// The waits added with tokio's API ask the budget as the other awaiting
/// operations do (the budget module lists them): each of these would
/// complete on its first poll, and a spent budget makes it `Pending`,
/// having taken nothing.
#[test]
fn the_added_waits_ask_the_budget_even_when_they_would_not_wait() {
    use eddy_sync::budget::{set_hook, Hook};
    use eddy_sync::{watch, OnceCell};
    // Nothing else in this binary installs a hook.
    assert!(set_hook(Hook {
        poll_proceed: refuse_when_asked,
        made_progress: || {},
    })
    .is_ok());

    let (tx, _rx) = mpsc::channel::<u8>(1);
    let (wtx, mut wrx) = watch::channel(0);
    let (ctx, crx) = watch::channel(());
    drop(crx);
    let cell = OnceCell::<u8>::new(); // empty, nobody initialising
    wtx.send(1).unwrap();

    REFUSE.with(|r| r.set(true));
    let mut reserve = Manual::new(tx.reserve());
    let mut wait_for = Manual::new(wrx.wait_for(|v| *v == 2));
    let mut closed = Manual::new(ctx.closed());
    let mut init = Manual::new(cell.get_or_init(|| async { 7 }));
    reserve.pending();
    wait_for.pending();
    closed.pending();
    init.pending();
    assert!(reserve.woken() && wait_for.woken() && closed.woken() && init.woken());
    assert_eq!(tx.capacity(), 1, "a refused reserve took no slot");
    assert!(cell.get().is_none(), "a refused get_or_init ran nothing");

    REFUSE.with(|r| r.set(false));
    reserve.ready().unwrap().send(3);
    wait_for.pending(); // now truly waiting, for 2
    wtx.send(2).unwrap();
    assert_eq!(*wait_for.ready().unwrap(), 2);
    closed.ready();
    assert_eq!(*init.ready(), 7);
}
