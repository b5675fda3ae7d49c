//! A future that becomes ready in the same loop turn as its deadline
//! passes: asyncio returns the result (the body is polled before the
//! deadline is checked), for `timeout` and deadline scopes, nested or not,
//! whichever of the two timers was registered first.

mod common;

use std::time::Duration;

use common::block_on;
use eddy_time::{deadline, deadline_at, sleep, sleep_until, timeout, timeout_at, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn timeout_returns_a_result_ready_at_its_deadline() {
    block_on(true, async {
        let at = Instant::now() + ms(10);
        // The body's timer registered first, then the timeout's.
        assert_eq!(
            timeout_at(at, async {
                sleep_until(at).await;
                1
            })
            .await,
            Ok(1)
        );
        // The timeout's timer first: the body's sleep is created later.
        let at = Instant::now() + ms(10);
        let body = async move {
            eddy_core::yield_now().await;
            sleep_until(at).await;
            2
        };
        assert_eq!(timeout_at(at, body).await, Ok(2));
        // And with a jump well past both (a busy loop, a late wake-up).
        let at = Instant::now() + ms(10);
        let late = timeout_at(at, async move {
            sleep_until(at - ms(5)).await;
            3
        });
        eddy_time::advance(ms(50)).await;
        assert_eq!(late.await, Ok(3));
    });
}

#[test]
fn scopes_return_a_result_ready_at_their_deadline() {
    block_on(true, async {
        let at = Instant::now() + ms(10);
        let out = deadline_at(at, |scope| async move {
            sleep_until(at).await;
            scope.expired()
        })
        .await;
        assert_eq!(out, Ok(false));
        // Nested, all three deadlines equal: the body's result comes out of
        // both scopes untouched.
        let at = Instant::now() + ms(10);
        let out = deadline_at(at, |outer| async move {
            let inner = deadline_at(at, |_| async move {
                sleep_until(at).await;
                4
            })
            .await;
            (inner, outer.expired())
        })
        .await;
        assert_eq!(out, Ok((Ok(4), false)));
        // A scope rescheduled to the body's own deadline.
        let out = deadline(Duration::from_secs(60), |scope| async move {
            let at = Instant::now() + ms(3);
            scope.reschedule(Some(at));
            sleep_until(at).await;
            5
        })
        .await;
        assert_eq!(out, Ok(5));
        // A timeout nested in a scope, both due with the body.
        let out = deadline(ms(10), |_| timeout(ms(10), sleep(ms(10)))).await;
        assert_eq!(out, Ok(Ok(())));
    });
}
