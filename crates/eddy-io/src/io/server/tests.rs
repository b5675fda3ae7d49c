//! Unit tests that look inside the server's connection table.

use super::*;
use crate::net::TcpStream;

fn run<F: Future>(fut: F) -> F::Output {
    let driver = crate::driver::IoDriver::new().expect("reactor");
    let handle = driver.handle();
    let rt = eddy_core::Builder::new()
        .build_with_driver(Box::new(driver))
        .expect("runtime");
    let _io = handle.enter();
    rt.block_on(fut)
}

/// Yields until `done()` or gives up after many turns (a hang guard).
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..100_000 {
        if done() {
            return;
        }
        eddy_core::yield_now().await;
    }
    panic!("never happened: {what}");
}

/// A handler cancelled by `close_clients` never runs the code after its
/// last `.await`; its entry in the connection table must go anyway, or
/// every cancelled connection leaks its entry (and its task).
#[test]
fn cancelled_handlers_leave_the_connection_table() {
    run(async {
        let server = start_server("127.0.0.1:0", |mut r: StreamReader, _w| async move {
            let _ = r.read_line().await;
        })
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();
        for round in 1..=3 {
            let mut clients = Vec::new();
            for _ in 0..5 {
                clients.push(TcpStream::connect(addr).await.unwrap());
            }
            until("five handlers run", || server.connection_count() == 5).await;
            server.close_clients();
            until("the handlers are gone", || server.connection_count() == 0).await;
            let entries = server.shared.state.borrow().conns.len();
            assert_eq!(entries, 0, "round {round}: cancelled handlers left entries");
        }
        // Handlers that return on their own leave too.
        let mut c = TcpStream::connect(addr).await.unwrap();
        futures_util::AsyncWriteExt::write_all(&mut c, b"bye\n")
            .await
            .unwrap();
        until("one handler runs", || server.connection_count() == 1).await;
        until("it returns", || server.connection_count() == 0).await;
        assert_eq!(server.shared.state.borrow().conns.len(), 0);
        server.close();
        server.wait_closed().await;
    });
}
