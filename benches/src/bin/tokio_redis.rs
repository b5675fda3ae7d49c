//! The tokio peer of `examples/mini_redis.rs` for the `resp_cpu` and
//! `syscalls_per_req` compare lines: the same RESP code (included from the
//! example, not copied) behind tokio's current-thread runtime, one
//! `spawn_local` task per connection, like eddy's single-threaded loop.
//!
//! Usage: `tokio_redis PORT` (binds 127.0.0.1:PORT).

use std::cell::RefCell;
use std::rc::Rc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[path = "../../../examples/mini_redis/resp.rs"]
mod resp;

async fn serve(mut stream: TcpStream, db: Rc<RefCell<resp::Db>>) -> std::io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut filled = 0;
    let mut out = Vec::new();
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            return Ok(());
        }
        filled += n;
        let result = resp::process(&mut db.borrow_mut(), &buf[..filled], &mut out);
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
        let consumed = match result {
            Ok(consumed) => consumed,
            Err(_) => return Ok(()),
        };
        buf.copy_within(consumed..filled, 0);
        filled -= consumed;
    }
}

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(6380);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        eprintln!("tokio_redis listening on {}", listener.local_addr()?);
        let db = Rc::new(RefCell::new(resp::Db::default()));
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let db = db.clone();
            tokio::task::spawn_local(async move {
                if let Err(e) = serve(stream, db).await {
                    eprintln!("connection error: {e}");
                }
            });
        }
    })
}
