//! Programs that combine asyncio topics the way real ones do: a TaskGroup
//! under a timeout, workers of a queue inside a TaskGroup, a server that
//! stops itself, and writers whose peer went away.

mod common;

use std::cell::{Cell, RefCell};
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::Duration;

use common::port::{close_server, connect, flag, guard, paused, Finally};
use eddy::io::{open_connection, start_server, StreamReader, StreamWriter, WriteError};
use eddy::sync::Queue;
use eddy::TaskGroup;

#[test]
fn a_task_group_under_a_timeout_is_cancelled_whole() {
    // async with asyncio.timeout(t): async with TaskGroup() as tg: ...
    let rt = paused();
    rt.block_on(async {
        let dropped: Vec<_> = (0..3).map(|_| flag()).collect();
        let d = dropped.clone();
        let out = eddy::time::deadline(Duration::from_secs(5), |_| async move {
            let group = TaskGroup::<String>::new();
            for (i, flag) in d.into_iter().enumerate() {
                group
                    .spawn(async move {
                        let _finally = Finally(flag);
                        eddy::sleep(Duration::from_secs(10 * (i as u64 + 1))).await;
                        Ok(())
                    })
                    .unwrap();
            }
            group.join().await
        })
        .await;
        assert!(out.is_err(), "the deadline should have cancelled the group");
        // Every child was dropped before the timeout came back.
        assert!(dropped.iter().all(|f| f.get()));
    });
}

#[test]
fn queue_workers_in_a_task_group_stopped_by_cancel_after_join() {
    eddy::run(async {
        let queue = Rc::new(Queue::new(2));
        let total = Rc::new(Cell::new(0u64));
        let group = TaskGroup::<String>::new();
        for _ in 0..3 {
            let (queue, total) = (queue.clone(), total.clone());
            group
                .spawn(async move {
                    loop {
                        let n: u64 = queue.get().await.map_err(|e| e.to_string())?;
                        eddy::yield_now().await;
                        total.set(total.get() + n);
                        queue.task_done().map_err(|e| e.to_string())?;
                    }
                    #[allow(unreachable_code)]
                    Ok::<(), String>(())
                })
                .unwrap();
        }
        for n in 1..=100 {
            queue.put(n).await.unwrap();
        }
        guard("queue join", queue.join()).await;
        assert_eq!(total.get(), 5050);
        // The workers loop forever: cancel the group; cancellations are
        // not failures.
        group.cancel();
        assert!(guard("group", group.join()).await.is_ok());
    });
}

#[test]
fn queue_workers_stopped_by_shutdown_instead() {
    eddy::run(async {
        let queue = Rc::new(Queue::new(2));
        let seen = Rc::new(RefCell::new(Vec::new()));
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let (queue, seen) = (queue.clone(), seen.clone());
                eddy::spawn(async move {
                    let mut mine = 0;
                    while let Ok(n) = queue.get().await {
                        seen.borrow_mut().push(n);
                        queue.task_done().unwrap();
                        mine += 1;
                    }
                    mine
                })
            })
            .collect();
        for n in 0..30 {
            queue.put(n).await.unwrap();
        }
        queue.shutdown(false);
        let counts = guard("workers", eddy::gather_all(workers)).await;
        let handled: usize = counts.into_iter().map(Result::unwrap).sum();
        assert_eq!(handled, 30);
        let mut all = seen.borrow().clone();
        all.sort();
        assert_eq!(all, (0..30).collect::<Vec<_>>());
    });
}

#[test]
fn a_server_that_stops_after_three_clients() {
    eddy::run(async {
        let served = Rc::new(Cell::new(0));
        let stop = Rc::new(eddy::sync::Event::new());
        let (s, st) = (served.clone(), stop.clone());
        let server = start_server(
            "127.0.0.1:0",
            move |mut r: StreamReader, mut w: StreamWriter| {
                let (s, st) = (s.clone(), st.clone());
                async move {
                    let name = r.read_line().await.unwrap();
                    w.write(b"hello ").unwrap();
                    w.write(&name).unwrap();
                    s.set(s.get() + 1);
                    if s.get() == 3 {
                        st.set();
                    }
                }
            },
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap().to_string();
        let clients = (0..3).map(|i| {
            let addr = addr.clone();
            async move {
                let (mut r, mut w) = open_connection(&addr).await.unwrap();
                w.write(format!("client{i}\n").as_bytes()).unwrap();
                r.read_line().await.unwrap()
            }
        });
        let replies = guard("clients", eddy::gather_all(clients)).await;
        for (i, reply) in replies.iter().enumerate() {
            assert_eq!(reply, format!("hello client{i}\n").as_bytes());
        }
        // The main program waits for the stop signal, then closes.
        guard("stop", stop.wait()).await;
        server.close();
        guard("serve_forever", server.serve_forever()).await;
        guard("wait_closed", server.wait_closed()).await;
        assert_eq!(served.get(), 3);
    });
}

#[test]
fn writing_to_a_peer_that_went_away_fails_instead_of_hanging() {
    eddy::run(async {
        // The server hangs up at once, without reading.
        let server = start_server(
            "127.0.0.1:0",
            |r: StreamReader, mut w: StreamWriter| async move {
                drop(r);
                w.abort();
            },
        )
        .await
        .unwrap();
        let (mut r, mut w) = connect(&server).await;
        // The reader sees the end (or a reset).
        match guard("read", r.read_line()).await {
            Ok(line) => assert!(line.is_empty()),
            Err(e) => assert!(matches!(e, eddy::io::ReadError::Io(_)), "{e}"),
        }
        // Writing on goes wrong sooner or later, and says so.
        let failed = guard("write error", async {
            for _ in 0..10_000 {
                if let Err(e) = w.write(&[b'x'; 64 * 1024]) {
                    return e;
                }
                if let Err(e) = w.drain().await {
                    return e;
                }
            }
            panic!("10,000 writes to a closed connection all succeeded");
        })
        .await;
        match &failed {
            WriteError::Io(e) => assert!(
                matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset),
                "{e:?}"
            ),
            other => panic!("unexpected {other:?}"),
        }
        // close / wait_closed still finish.
        w.close();
        guard("wait_closed", w.wait_closed()).await;
        close_server(&server).await;
    });
}

#[test]
fn gather_of_connections_with_one_refused() {
    eddy::run(async {
        let server = start_server(
            "127.0.0.1:0",
            |_r: StreamReader, mut w: StreamWriter| async move {
                let _ = w.write(b"up\n");
            },
        )
        .await
        .unwrap();
        let good = server.local_addr().unwrap().to_string();
        // A port nothing listens on.
        let bad = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().to_string()
        };
        async fn probe(addr: String) -> std::io::Result<Vec<u8>> {
            let (mut r, _w) = open_connection(&addr).await?;
            Ok(r.read_line().await?)
        }
        // return_exceptions=True style: every outcome, in order.
        let (a, b) = eddy::gather!(probe(good.clone()), probe(bad.clone())).await;
        assert_eq!(a.unwrap(), b"up\n");
        assert_eq!(b.unwrap_err().kind(), ErrorKind::ConnectionRefused);
        // Default style: the first error.
        let err = eddy::try_gather!(probe(good), probe(bad))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        close_server(&server).await;
    });
}

#[test]
fn as_completed_over_connections_handles_the_fastest_first() {
    use futures::StreamExt;
    eddy::run(async {
        // Three servers; each answers when its gate opens. A conductor
        // opens them in the order 1, 2, 0, one after the other's answer
        // arrived, so the completion order does not depend on timing.
        let gates: Vec<_> = (0..3).map(|_| Rc::new(eddy::sync::Event::new())).collect();
        let mut servers = Vec::new();
        for (i, gate) in gates.iter().enumerate() {
            let gate = gate.clone();
            let server = start_server(
                "127.0.0.1:0",
                move |_r: StreamReader, mut w: StreamWriter| {
                    let gate = gate.clone();
                    async move {
                        gate.wait().await;
                        let _ = w.write(format!("server {i}\n").as_bytes());
                    }
                },
            )
            .await
            .unwrap();
            servers.push(server);
        }
        let answered = Rc::new(Cell::new(0));
        let asks = servers.iter().map(|s| {
            let addr = s.local_addr().unwrap().to_string();
            let answered = answered.clone();
            async move {
                let (mut r, _w) = open_connection(&addr).await.unwrap();
                let line = String::from_utf8(r.read_line().await.unwrap()).unwrap();
                answered.set(answered.get() + 1);
                line
            }
        });
        let conductor = {
            let answered = answered.clone();
            eddy::spawn(async move {
                for (n, i) in [1usize, 2, 0].into_iter().enumerate() {
                    gates[i].set();
                    while answered.get() == n {
                        eddy::sleep(Duration::from_millis(1)).await;
                    }
                }
            })
        };
        let order: Vec<_> = guard("as_completed", eddy::as_completed(asks).collect()).await;
        assert_eq!(order, ["server 1\n", "server 2\n", "server 0\n"]);
        guard("conductor", conductor).await.unwrap();
    });
}
