//! A chat server: every line a client sends is broadcast to all the other
//! clients, prefixed with the sender's address.
//!
//! Slow clients do not stall fast ones. Each client has a bounded outbox
//! (256 lines, an `eddy::sync::mpsc` channel) drained by its own writer
//! task; the broadcaster only ever `try_send`s. A client whose outbox is
//! full is **disconnected** (its outbox is dropped, its writer task ends and
//! the connection closes) rather than silently losing lines: a chat
//! transcript with holes is worse than a clean "you were too slow, rejoin".
//!
//! Run with `cargo run --release --example chat_server -- 9000`, then
//! connect a few `nc 127.0.0.1 9000` sessions and type.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use eddy::io::{start_server, StreamReader, StreamWriter};
use eddy::sync::{mpsc, Event};
use futures::FutureExt;

/// Lines a client may have queued before it counts as a laggard.
const OUTBOX: usize = 256;
/// Longest accepted line.
const MAX_LINE: usize = 4096;

type Line = Rc<[u8]>;

#[derive(Default)]
struct Room {
    next_id: u64,
    /// Each member's outbox and its "kicked out" flag.
    members: HashMap<u64, (mpsc::Sender<Line>, Rc<Event>)>,
}

impl Room {
    /// Sends `line` to everyone but `from`; disconnects members whose
    /// outbox is full.
    fn broadcast(&mut self, from: u64, line: Line) {
        let mut laggards = Vec::new();
        for (&id, (tx, _)) in &self.members {
            if id != from && tx.try_send(line.clone()).is_err() {
                laggards.push(id);
            }
        }
        for id in laggards {
            // Its writer task aborts the connection (queued lines are
            // dropped) and its reader task stops reading.
            if let Some((_, kicked)) = self.members.remove(&id) {
                kicked.set();
            }
            println!("client {id} disconnected: its outbox was full (too slow)");
        }
    }
}

/// Writes a client's outbox to its socket until the client leaves or is
/// kicked out as a laggard.
async fn pump(mut rx: mpsc::Receiver<Line>, mut writer: StreamWriter, kicked: Rc<Event>) {
    loop {
        let line = futures::select! {
            line = rx.recv().fuse() => line,
            _ = kicked.wait().fuse() => break,
        };
        let Some(line) = line else { break };
        if writer.write(&line).is_err() {
            return;
        }
        futures::select! {
            r = writer.drain().fuse() => if r.is_err() { return },
            _ = kicked.wait().fuse() => break,
        }
    }
    if kicked.is_set() {
        // It is not reading: drop what is queued rather than wait for it.
        writer.abort();
    } else {
        writer.close();
    }
}

async fn client(room: Rc<RefCell<Room>>, mut reader: StreamReader, writer: StreamWriter) {
    let name = writer
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|| "?".into());
    reader.set_limit(MAX_LINE);
    let (tx, rx) = mpsc::channel(OUTBOX);
    let kicked = Rc::new(Event::new());
    let id = {
        let mut room = room.borrow_mut();
        room.next_id += 1;
        let id = room.next_id;
        room.members.insert(id, (tx, kicked.clone()));
        id
    };
    let pump = eddy::spawn(pump(rx, writer, kicked.clone()));
    room.borrow_mut()
        .broadcast(id, format!("* {name} joined\n").into_bytes().into());
    loop {
        let read = futures::select! {
            read = reader.read_line().fuse() => read,
            _ = kicked.wait().fuse() => break, // a laggard: drop the connection
        };
        let line = match read {
            Ok(line) if line.is_empty() => break, // client closed
            Ok(line) => line,
            Err(e) => {
                println!("client {name}: {e}");
                break;
            }
        };
        let mut msg = format!("{name}: ").into_bytes();
        msg.extend_from_slice(&line);
        if !msg.ends_with(b"\n") {
            msg.push(b'\n');
        }
        room.borrow_mut().broadcast(id, msg.into());
    }
    room.borrow_mut().members.remove(&id);
    room.borrow_mut()
        .broadcast(id, format!("* {name} left\n").into_bytes().into());
    let _ = pump.await;
}

#[eddy::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::args().nth(1).unwrap_or_else(|| "9000".into());
    let room = Rc::new(RefCell::new(Room::default()));
    let server = start_server(&format!("127.0.0.1:{port}"), move |r, w| {
        client(room.clone(), r, w)
    })
    .await?;
    println!("chat server on {}", server.local_addr().unwrap());
    server.serve_forever().await;
    Ok(())
}
