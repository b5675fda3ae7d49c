//! A busy task must not starve the others: eddy's design promises a
//! cooperative budget ("resources return Pending and wake the task when it
//! runs out, so a busy task cannot starve I/O or its siblings"). These
//! programs drain a lot of ready work in one loop and check that a sibling
//! task got to run before the loop ended.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

const ITEMS: usize = 100_000;

/// Spawns a sibling that records when it first runs (as the number of
/// items the busy loop had handled by then).
fn sibling(progress: Rc<Cell<usize>>) -> (Rc<Cell<Option<usize>>>, eddy::JoinHandle<()>) {
    let ran_at = Rc::new(Cell::new(None));
    let r = ran_at.clone();
    let task = eddy::spawn(async move {
        r.set(Some(progress.get()));
    });
    (ran_at, task)
}

#[test]
fn a_busy_reader_of_a_socket_lets_siblings_run() {
    use futures::AsyncReadExt;
    eddy::run(async {
        let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = eddy::net::TcpStream::connect(addr).await.unwrap();
        let (mut conn, _) = listener.accept().await.unwrap();
        futures::AsyncWriteExt::write_all(&mut conn, &vec![7u8; ITEMS])
            .await
            .unwrap();
        // Let it all arrive, so every small read below is ready at once.
        let mut peek = vec![0u8; ITEMS];
        while client.peek(&mut peek).await.unwrap() < ITEMS {
            eddy::sleep(Duration::from_millis(1)).await;
        }
        let reader = eddy::spawn(async move {
            let progress = Rc::new(Cell::new(0));
            let (ran_at, task) = sibling(progress.clone());
            let mut buf = [0u8; 16];
            let mut total = 0;
            while total < ITEMS {
                total += client.read(&mut buf).await.unwrap();
                progress.set(total);
            }
            task.await.unwrap();
            ran_at.get().unwrap()
        });
        let at = reader.await.unwrap();
        assert!(
            at < ITEMS,
            "the sibling ran only after all {ITEMS} bytes were read"
        );
        drop(conn);
    });
}

#[test]
fn a_busy_consumer_of_a_channel_lets_siblings_run() {
    eddy::run(async {
        let (tx, mut rx) = eddy::sync::mpsc::unbounded_channel();
        for i in 0..ITEMS {
            tx.send(i).unwrap();
        }
        let consumer = eddy::spawn(async move {
            let progress = Rc::new(Cell::new(0));
            let (ran_at, task) = sibling(progress.clone());
            for _ in 0..ITEMS {
                let i = rx.recv().await.unwrap();
                progress.set(i + 1);
            }
            task.await.unwrap();
            ran_at.get().unwrap()
        });
        let at = consumer.await.unwrap();
        assert!(
            at < ITEMS,
            "the sibling ran only after the consumer had taken all {ITEMS} items"
        );
    });
}

#[test]
fn a_busy_consumer_of_a_queue_lets_a_timer_fire() {
    eddy::run(async {
        let q = eddy::sync::Queue::new(0);
        for i in 0..ITEMS {
            q.try_put(i).unwrap();
        }
        let fired_at = Rc::new(Cell::new(None));
        let progress = Rc::new(Cell::new(0));
        let (f, p) = (fired_at.clone(), progress.clone());
        eddy::call_later(Duration::ZERO, move || f.set(Some(p.get())));
        let consumer = eddy::spawn(async move {
            // Give the timer time to be due while the loop is not looking.
            std::thread::sleep(Duration::from_millis(5));
            for _ in 0..ITEMS {
                let i = q.get().await.unwrap();
                progress.set(i + 1);
            }
        });
        consumer.await.unwrap();
        eddy::sleep(Duration::from_millis(1)).await;
        let at = fired_at.get().unwrap();
        assert!(
            at < ITEMS,
            "the due timer fired only after the consumer had taken all {ITEMS} items"
        );
    });
}

#[test]
fn a_busy_task_that_yields_lets_timers_fire() {
    eddy::run(async {
        let fired = Rc::new(Cell::new(false));
        let f = fired.clone();
        eddy::call_later(Duration::from_millis(1), move || f.set(true));
        let spins = eddy::spawn({
            let fired = fired.clone();
            async move {
                let mut spins = 0u64;
                while !fired.get() {
                    eddy::yield_now().await;
                    spins += 1;
                }
                spins
            }
        });
        assert!(spins.await.unwrap() > 0);
    });
}

#[test]
fn a_busy_accept_loop_lets_handlers_run() {
    // Many connections queued at once: the accept loop must not hold the
    // loop until the backlog is empty.
    eddy::run(async {
        let handled = Rc::new(Cell::new(0));
        let h = handled.clone();
        let server = eddy::io::start_server(
            "127.0.0.1:0",
            move |_r: eddy::io::StreamReader, mut w: eddy::io::StreamWriter| {
                let h = h.clone();
                async move {
                    h.set(h.get() + 1);
                    let _ = w.write(b"ok\n");
                }
            },
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();
        // Blocking connects from this thread fill the backlog before the
        // loop gets a turn.
        let clients: Vec<_> = (0..64)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        let ok = eddy::wait_for(
            async {
                while handled.get() < clients.len() {
                    eddy::sleep(Duration::from_millis(1)).await;
                }
            },
            Duration::from_secs(20),
        )
        .await;
        assert!(ok.is_ok(), "only {} of 64 handled", handled.get());
        drop(clients);
        server.close();
        server.wait_closed().await;
    });
}
