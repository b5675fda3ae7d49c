//! `net::lookup_host` (tokio's `lookup_host`, asyncio's `getaddrinfo`):
//! host names are resolved on the driver's offload, numeric addresses
//! never go there.

use std::future::Future;
use std::io::ErrorKind;
use std::net::{Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use eddy_io::net::lookup_host;

/// Runs `fut` on a loop whose reactor counts the blocking jobs it offloads
/// (name lookups) and runs each on a thread of its own; returns the output
/// and the count.
fn run_counting<F: Future>(fut: F) -> (F::Output, usize) {
    let jobs = Arc::new(AtomicUsize::new(0));
    let counter = jobs.clone();
    let driver = eddy_io::driver::IoDriver::builder()
        .offload(move |job| {
            counter.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(job);
        })
        .build()
        .expect("reactor");
    let handle = driver.handle();
    let rt = eddy_core::Builder::new()
        .build_with_driver(Box::new(driver))
        .expect("runtime");
    let _io = handle.enter();
    let out = rt.block_on(fut);
    (out, jobs.load(Ordering::SeqCst))
}

#[test]
fn localhost_resolves_to_loopback_on_the_offload() {
    let (addrs, jobs) = run_counting(async {
        let mut all: Vec<SocketAddr> = lookup_host("localhost:80").await.unwrap().collect();
        all.extend(lookup_host(("localhost", 80)).await.unwrap());
        all
    });
    assert!(!addrs.is_empty());
    for a in &addrs {
        assert!(a.ip().is_loopback(), "{a} is not a loopback address");
        assert_eq!(a.port(), 80);
    }
    assert_eq!(jobs, 2, "each host name is looked up off the loop");
}

#[test]
fn numeric_addresses_come_back_as_they_are_without_a_lookup() {
    let v6: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
    let (got, jobs) = run_counting(async move {
        let mut got = Vec::new();
        for addrs in [
            lookup_host("[2001:db8::1]:443")
                .await
                .unwrap()
                .collect::<Vec<_>>(),
            lookup_host(("2001:db8::1", 443)).await.unwrap().collect(),
            lookup_host((Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 443))
                .await
                .unwrap()
                .collect(),
            lookup_host(v6).await.unwrap().collect(),
            lookup_host(&[v6, v6][..]).await.unwrap().collect(),
        ] {
            got.push(addrs);
        }
        got
    });
    assert_eq!(
        got,
        vec![vec![v6], vec![v6], vec![v6], vec![v6], vec![v6, v6]]
    );
    assert_eq!(jobs, 0, "a numeric address needs no lookup");
}

#[test]
fn an_unresolvable_name_fails_naming_it() {
    let ((unknown, no_port, empty), jobs) = run_counting(async {
        (
            lookup_host("no-such-host.invalid:80").await.err().unwrap(),
            lookup_host("localhost").await.err().unwrap(),
            lookup_host(&[][..]).await.err().unwrap(),
        )
    });
    let msg = unknown.to_string();
    assert!(msg.contains("no-such-host.invalid:80"), "{msg}");
    let msg = no_port.to_string();
    assert!(msg.contains("\"localhost\""), "{msg}");
    assert_eq!(empty.kind(), ErrorKind::InvalidInput);
    assert_eq!(jobs, 2);
}
