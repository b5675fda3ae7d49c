//! Subprocesses: asyncio's `create_subprocess_exec` / `_shell`.
//!
//! ```python
//! proc = await asyncio.create_subprocess_exec(
//!     "tr", "a-z", "A-Z", stdin=PIPE, stdout=PIPE)
//! out, err = await proc.communicate(b"hello")
//!
//! proc = await asyncio.create_subprocess_shell("for i in 1 2 3; do echo $i; done", stdout=PIPE)
//! async for line in proc.stdout:
//!     print(line)
//! print(await proc.wait())
//! ```
//!
//! Run with `cargo run --release --example subprocess`.

use eddy::process::{Command, Stdio};

#[eddy::main]
async fn main() -> std::io::Result<()> {
    // 1. Run a command to completion and collect its output.
    let out = Command::new("uname").arg("-s").output().await?;
    println!(
        "uname -s -> {:?} ({})",
        String::from_utf8_lossy(&out.stdout).trim(),
        out.status
    );

    // 2. communicate: write stdin, read stdout and stderr, all at once.
    let mut child = Command::new("tr")
        .args(["a-z", "A-Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let (upper, _) = child
        .communicate(Some(b"hello, subprocess".to_vec()))
        .await?;
    println!("tr a-z A-Z -> {}", String::from_utf8_lossy(&upper));

    // 3. Read a child's stdout line by line as it runs.
    let mut child = Command::shell("for i in 1 2 3; do echo line $i; sleep 0.1; done; exit 3")
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = child.stdout.take().expect("piped").into_stream_reader();
    loop {
        let line = lines.read_line().await.map_err(std::io::Error::from)?;
        if line.is_empty() {
            break;
        }
        print!("child says: {}", String::from_utf8_lossy(&line));
    }
    let status = child.wait().await?;
    println!("exit status: {status} (code {:?})", status.code());

    // 4. Stop a long-running child.
    let mut sleeper = Command::new("sleep").arg("1000").spawn()?;
    sleeper.terminate()?;
    println!("sleep 1000 after terminate(): {}", sleeper.wait().await?);

    // 5. A missing program: the error names it.
    match Command::new("no-such-program-here").spawn() {
        Ok(_) => unreachable!(),
        Err(e) => println!("spawn error: {e}"),
    }
    Ok(())
}
