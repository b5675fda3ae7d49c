//! An echo server: every line a client sends comes back to it.
//!
//! ```python
//! async def handle(reader, writer):
//!     while data := await reader.read(65536):
//!         writer.write(data)
//!         await writer.drain()
//!     writer.close()
//!
//! server = await asyncio.start_server(handle, "127.0.0.1", port)
//! await server.serve_forever()
//! ```
//!
//! Run with `cargo run --release --example echo_server -- 8888` (port
//! optional, default 8888), then `cargo run --release --example echo_client
//! -- 127.0.0.1:8888`, or `nc 127.0.0.1 8888`.

use eddy::io::{start_server, StreamReader, StreamWriter};

/// Echoes bytes as they arrive (not line by line, so any client works).
async fn echo(mut reader: StreamReader, mut writer: StreamWriter) -> std::io::Result<()> {
    loop {
        let data = reader.read(64 * 1024).await?;
        if data.is_empty() {
            return Ok(()); // the client closed; dropping the writer closes ours
        }
        writer.write(&data)?;
        writer.drain().await?;
    }
}

#[eddy::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::args().nth(1).unwrap_or_else(|| "8888".into());
    let server = start_server(&format!("127.0.0.1:{port}"), echo).await?;
    println!("echo server on {}", server.local_addr().unwrap());
    server.serve_forever().await;
    Ok(())
}
