//! What the third asyncio porting pass (asyncio_port3_*) found, checked
//! now that it is fixed: the limit of separator reads counts only the
//! bytes before the separator, and a handler's `Err` is logged where the
//! usual filter shows it.

#[path = "../../eddy-time/tests/common/capture.rs"]
mod capture;
mod common;

use common::port::{close_server, connect, guard};
use eddy::io::{start_server, ReadError, StreamReader, StreamWriter};

/// asyncio's `readuntil`/`readline` count only the bytes *before* the
/// separator against the limit (`isep > limit` raises): with
/// `StreamReader(limit=4)`, `b"abcd\n"` reads as `b"abcd\n"` and even
/// `b"abcd\r\n"` with separator `b"\r\n"` is accepted (checked with
/// CPython 3.11). eddy counted the separator too, so a record whose data
/// was exactly the limit long was refused the moment its separator
/// arrived; now it follows asyncio.
#[test]
fn a_line_of_exactly_limit_bytes_reads_as_in_asyncio() {
    eddy::run(async {
        let mut r = StreamReader::with_limit(&b"abcd\n"[..], 4);
        assert_eq!(r.read_line().await.unwrap(), b"abcd\n");
        let mut r = StreamReader::with_limit(&b"abc\r\n"[..], 4);
        assert_eq!(r.read_until(b"\r\n").await.unwrap(), b"abc\r\n");
        let mut r = StreamReader::with_limit(&b"abcd\r\n"[..], 4);
        assert_eq!(r.read_until(b"\r\n").await.unwrap(), b"abcd\r\n");
        // Still refused beyond the limit, as asyncio does.
        let mut r = StreamReader::with_limit(&b"abcde\n"[..], 4);
        assert!(matches!(
            r.read_line().await,
            Err(ReadError::LimitOverrun { .. })
        ));
    });
}

/// asyncio logs an exception escaping a `start_server` callback at ERROR
/// ("Unhandled exception in client_connected_cb", through the loop's
/// exception handler). eddy logged a handler's `Err` at DEBUG, which the
/// usual INFO filter hides; it is WARN now (a panic stays ERROR).
#[test]
fn a_handler_err_is_logged_at_a_visible_level() {
    capture::capture();
    eddy::run(async {
        let server = start_server(
            "127.0.0.1:0",
            |mut r: StreamReader, _w: StreamWriter| async move {
                r.read_line().await?;
                Err::<(), _>(std::io::Error::other("port3 visible handler error"))
            },
        )
        .await
        .unwrap();
        let (mut r, mut w) = connect(&server).await;
        w.write(b"go\n").unwrap();
        let _ = guard("end", r.read_to_end()).await;
        close_server(&server).await;
    });
    let lines = capture::lines_with(&["port3 visible handler error"]);
    assert_eq!(lines.len(), 1, "{}", capture::all_lines());
    assert!(
        lines[0].starts_with("ERROR") || lines[0].starts_with("WARN"),
        "logged as: {}",
        lines[0]
    );
}
