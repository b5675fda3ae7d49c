//! `net::lookup_host` (tokio's `lookup_host`, asyncio's `getaddrinfo`) and
//! `UdpSocket::send_to` with anything `ToSocketAddrs` takes: host names are
//! resolved on the driver's offload, numeric addresses never go there.

use std::future::Future;
use std::io::ErrorKind;
use std::net::{Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use eddy_io::net::{lookup_host, UdpSocket};

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

#[test]
fn send_to_a_socket_addr_takes_no_lookup() {
    let (got, jobs) = run_counting(async {
        let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = rx.local_addr().unwrap();
        tx.send_to(b"by value", to).await.unwrap();
        tx.send_to(b"by reference", &to).await.unwrap();
        tx.send_to(b"as text", to.to_string()).await.unwrap();
        tx.send_to(b"as a pair", ("127.0.0.1", to.port()))
            .await
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        for _ in 0..4 {
            let (n, from) = rx.recv_from(&mut buf).await.unwrap();
            assert_eq!(from, tx.local_addr().unwrap());
            got.push(String::from_utf8(buf[..n].to_vec()).unwrap());
        }
        got
    });
    assert_eq!(got, ["by value", "by reference", "as text", "as a pair"]);
    assert_eq!(jobs, 0, "a numeric target needs no lookup");
}

#[test]
fn send_to_a_host_name_goes_to_its_first_address() {
    let (got, jobs) = run_counting(async {
        // Bind where "localhost" points first (127.0.0.1 or ::1).
        let first = lookup_host(("localhost", 0)).await.unwrap().next().unwrap();
        let rx = UdpSocket::bind((first.ip(), 0)).await.unwrap();
        let tx = UdpSocket::bind((first.ip(), 0)).await.unwrap();
        let port = rx.local_addr().unwrap().port();
        let n = tx.send_to(b"by name", ("localhost", port)).await.unwrap();
        assert_eq!(n, 7);
        let mut buf = [0u8; 64];
        let (n, from) = rx.recv_from(&mut buf).await.unwrap();
        assert_eq!(from, tx.local_addr().unwrap());
        buf[..n].to_vec()
    });
    assert_eq!(got, b"by name");
    assert_eq!(
        jobs, 2,
        "the lookup_host and the send_to looked the name up"
    );
}

#[test]
fn send_to_an_unresolvable_name_fails_naming_it() {
    let (err, _) = run_counting(async {
        let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        tx.send_to(b"lost", "no-such-host.invalid:9")
            .await
            .unwrap_err()
    });
    assert!(err.to_string().contains("no-such-host.invalid:9"), "{err}");
}
