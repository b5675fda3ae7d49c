//! mini_redis: a RESP server that `redis-cli` and `redis-benchmark` can
//! drive — inline and multibulk requests, pipelining, and PING, ECHO, SET,
//! GET, DEL, INCR, EXISTS, CONFIG GET (which returns an empty array, so
//! `redis-benchmark` starts; it prints "Could not fetch server CONFIG" and
//! carries on).
//!
//! The protocol and commands live in `mini_redis/resp.rs`, shared with the
//! tokio peer used by the `resp_cpu` benchmark; this file is only the eddy
//! I/O: read what arrived, answer every complete request in it with one
//! write, read again.
//!
//! Run with `cargo run --release --example mini_redis -- 6380`, then
//! `redis-cli -p 6380 set k v` or
//! `redis-benchmark -p 6380 -t ping_mbulk,set,get -n 200000 -c 50 -P 16 -q`.

use std::cell::RefCell;
use std::rc::Rc;

use eddy::io::{start_server, StreamReader, StreamWriter};

#[path = "mini_redis/resp.rs"]
mod resp;

async fn connection(
    db: Rc<RefCell<resp::Db>>,
    mut reader: StreamReader,
    mut writer: StreamWriter,
) -> std::io::Result<()> {
    let mut out = Vec::new();
    loop {
        if reader.fill().await? == 0 {
            return Ok(()); // client closed
        }
        let result = resp::process(&mut db.borrow_mut(), reader.buffer(), &mut out);
        if !out.is_empty() {
            writer.write(&out)?;
            out.clear();
            writer.drain().await?;
        }
        match result {
            Ok(consumed) => {
                reader.discard(consumed);
            }
            // The error reply is written; Redis closes the connection too.
            Err(_) => return Ok(()),
        }
    }
}

#[eddy::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::args().nth(1).unwrap_or_else(|| "6380".into());
    let db = Rc::new(RefCell::new(resp::Db::default()));
    let server = start_server(&format!("127.0.0.1:{port}"), move |r, w| {
        connection(db.clone(), r, w)
    })
    .await?;
    println!("mini_redis on {}", server.local_addr().unwrap());
    server.serve_forever().await;
    Ok(())
}
