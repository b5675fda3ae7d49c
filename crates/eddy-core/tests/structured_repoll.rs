//! Polling a combinator again after it finished, or after a panic that
//! came out of it was caught: a clear panic (or, for `as_completed`, the
//! rest of the stream), never a hang or made-up output.

use std::cell::Cell;
use std::future::{pending, poll_fn, ready, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures::Stream;

use eddy_core::task::{as_completed, gather_all, try_gather_all, TaskGroup};
use eddy_core::{run, shield, spawn, wait, yield_now, ReturnWhen};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// The panic message of `f`, or what it returned.
fn caught<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

/// One poll of `f` with a waker that does nothing, panics caught.
fn poll_once<F: Future + Unpin>(f: &mut F) -> Result<Poll<F::Output>, String> {
    caught(|| Pin::new(f).poll(&mut Context::from_waker(Waker::noop())))
}

/// Pending until `armed`, then panics once ("child failure"); pending for
/// good after that, like a future that caught its own failure.
fn panics_once_armed(armed: Rc<Cell<bool>>) -> BoxFuture<u32> {
    let mut fired = false;
    Box::pin(poll_fn(move |_| {
        if armed.get() && !fired {
            fired = true;
            panic!("child failure");
        }
        Poll::Pending
    }))
}

async fn child_failure() -> Result<(), ()> {
    panic!("child failure")
}

fn assert_repoll_panics<F: Future + Unpin>(f: &mut F, name: &str) {
    let msg = match poll_once(f) {
        Err(msg) => msg,
        Ok(Poll::Pending) => panic!("polled again, {name} returned Pending: it would hang"),
        Ok(Poll::Ready(_)) => panic!("polled again, {name} returned a second output"),
    };
    assert!(
        msg.contains(&format!("{name} polled after completion")),
        "{msg}"
    );
}

#[test]
fn gather_all_repolled_after_a_child_panicked_in_a_later_pass_panics() {
    let armed = Rc::new(Cell::new(false));
    let futures: Vec<BoxFuture<u32>> = vec![
        panics_once_armed(armed.clone()),
        Box::pin(ready(2)),
        Box::pin(pending()),
    ];
    let mut gather = gather_all(futures);
    assert!(poll_once(&mut gather).unwrap().is_pending());
    armed.set(true);
    // The next pass polls the first future again: its panic comes out.
    assert_eq!(poll_once(&mut gather).unwrap_err(), "child failure");
    assert_repoll_panics(&mut gather, "gather_all");
}

#[test]
fn gather_all_repolled_after_a_child_panicked_in_the_first_pass_panics() {
    let futures: Vec<BoxFuture<u32>> = vec![
        Box::pin(ready(1)),
        panics_once_armed(Rc::new(Cell::new(true))),
        Box::pin(pending()),
    ];
    let mut gather = gather_all(futures);
    assert_eq!(poll_once(&mut gather).unwrap_err(), "child failure");
    assert_repoll_panics(&mut gather, "gather_all");
}

#[test]
fn gather_all_repolled_after_its_outputs_panics_with_its_name() {
    let mut gather = gather_all([ready(1), ready(2)]);
    assert_eq!(poll_once(&mut gather).unwrap(), Poll::Ready(vec![1, 2]));
    assert_repoll_panics(&mut gather, "gather_all");
    // Also with nothing to gather.
    let mut empty = gather_all(Vec::<std::future::Ready<u8>>::new());
    assert_eq!(poll_once(&mut empty).unwrap(), Poll::Ready(vec![]));
    assert_repoll_panics(&mut empty, "gather_all");
}

#[test]
fn try_gather_all_repolled_after_an_error_panics_instead_of_returning_ok() {
    let futures: Vec<BoxFuture<Result<u32, &str>>> =
        vec![Box::pin(pending()), Box::pin(ready(Err("bad")))];
    let mut gather = try_gather_all(futures);
    assert_eq!(poll_once(&mut gather).unwrap(), Poll::Ready(Err("bad")));
    assert_repoll_panics(&mut gather, "try_gather_all");
}

#[test]
fn try_gather_all_repolled_after_a_child_panicked_panics() {
    let armed = Rc::new(Cell::new(false));
    let mut inner = panics_once_armed(armed.clone());
    let failing: BoxFuture<Result<u32, ()>> =
        Box::pin(poll_fn(move |cx| inner.as_mut().poll(cx).map(Ok)));
    let futures: Vec<BoxFuture<Result<u32, ()>>> =
        vec![failing, Box::pin(ready(Ok(2))), Box::pin(pending())];
    let mut gather = try_gather_all(futures);
    assert!(poll_once(&mut gather).unwrap().is_pending());
    armed.set(true);
    assert_eq!(poll_once(&mut gather).unwrap_err(), "child failure");
    assert_repoll_panics(&mut gather, "try_gather_all");
}

#[test]
fn as_completed_goes_on_after_a_caught_child_panic_and_then_stays_ended() {
    let futures: Vec<BoxFuture<u32>> = vec![
        Box::pin(ready(1)),
        panics_once_armed(Rc::new(Cell::new(true))),
        Box::pin(ready(3)),
    ];
    let mut stream = as_completed(futures);
    let mut outputs = Vec::new();
    let mut panics = 0;
    loop {
        let next =
            caught(|| Pin::new(&mut stream).poll_next(&mut Context::from_waker(Waker::noop())));
        match next {
            Ok(Poll::Ready(Some(v))) => outputs.push(v),
            Ok(Poll::Ready(None)) => break,
            Ok(Poll::Pending) => panic!("as_completed pending with every future settled"),
            Err(msg) => {
                assert_eq!(msg, "child failure");
                panics += 1;
            }
        }
    }
    // The panicking future was dropped; the others came out.
    outputs.sort();
    assert_eq!((outputs, panics), (vec![1, 3], 1));
    let again = Pin::new(&mut stream).poll_next(&mut Context::from_waker(Waker::noop()));
    assert_eq!(again, Poll::Ready(None));
}

#[test]
fn wait_shield_and_group_join_repolled_after_completion_panic() {
    run(async {
        let mut waiting = Box::pin(wait(vec![spawn(async { 1 })], ReturnWhen::AllCompleted));
        let (done, _) = (&mut waiting).await.unwrap();
        assert_eq!(done.len(), 1);
        let msg = poll_once(&mut waiting).unwrap_err();
        assert!(msg.contains("resumed after completion"), "{msg}");

        let mut shielded = shield(async { 2 });
        assert_eq!((&mut shielded).await.unwrap(), 2);
        let msg = poll_once(&mut shielded).unwrap_err();
        assert!(msg.contains("polled after it returned its output"), "{msg}");

        // join re-raises a child's panic; polled again, it panics anew
        // rather than waiting for children that are gone.
        let group = TaskGroup::<()>::new();
        group.spawn(child_failure()).unwrap();
        let mut join = Box::pin(group.join());
        let first = loop {
            match poll_once(&mut join) {
                Ok(Poll::Pending) => yield_now().await,
                Ok(Poll::Ready(_)) => panic!("join returned over a child's panic"),
                Err(msg) => break msg,
            }
        };
        assert_eq!(first, "child failure");
        let msg = poll_once(&mut join).unwrap_err();
        assert!(msg.contains("resumed after panicking"), "{msg}");
    });
}
