//! The RESP protocol and command set of `mini_redis`, with no runtime in
//! it: the eddy example and the tokio benchmark peer
//! (`benches/src/bin/tokio_redis.rs`) both include this file, so the two
//! servers differ only in their I/O.
//!
//! A connection loop reads bytes, hands everything buffered to [`process`],
//! drops the bytes it consumed, writes the replies it produced, and reads
//! again. Pipelined requests are answered in one write.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

/// Largest bulk string accepted (a request over it is a protocol error).
const MAX_BULK: usize = 64 * 1024 * 1024;
/// Largest number of arguments in one multibulk request.
const MAX_ARGS: usize = 1024 * 1024;
/// Longest inline request or header line.
const MAX_LINE: usize = 64 * 1024;

/// The key space: one per server, shared by its connections on the loop
/// thread.
#[derive(Default)]
pub struct Db {
    map: HashMap<Vec<u8>, Vec<u8>, BuildFnv>,
}

/// FNV-1a: keys are short and not attacker-chosen in a benchmark server,
/// so a cheap hash beats SipHash here (a real server would keep SipHash).
#[derive(Default, Clone, Copy)]
pub struct BuildFnv;

/// The FNV-1a state.
pub struct Fnv(u64);

impl std::hash::BuildHasher for BuildFnv {
    type Hasher = Fnv;
    fn build_hasher(&self) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A request that cannot be parsed; the server replies with it as a RESP
/// error and closes the connection (what Redis does).
#[derive(Debug)]
pub struct ProtocolError(String);

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Protocol error: {}", self.0)
    }
}

impl std::error::Error for ProtocolError {}

fn perr(msg: &str) -> ProtocolError {
    ProtocolError(msg.to_string())
}

/// Parses and executes every complete request at the start of `input`,
/// appending replies to `out`. Returns how many bytes were consumed; an
/// incomplete request at the end is left for the next call.
///
/// On a protocol error the error reply is appended to `out` and the error
/// returned: the caller sends `out` and closes the connection.
pub fn process(db: &mut Db, input: &[u8], out: &mut Vec<u8>) -> Result<usize, ProtocolError> {
    let mut args: Vec<Range<usize>> = Vec::new();
    let mut argv: Vec<&[u8]> = Vec::new();
    let mut consumed = 0;
    loop {
        args.clear();
        match parse(&input[consumed..], &mut args) {
            Ok(Some(n)) => {
                let base = consumed;
                argv.clear();
                argv.extend(args.iter().map(|r| &input[base + r.start..base + r.end]));
                if !argv.is_empty() {
                    execute(db, &argv, out);
                }
                consumed += n;
            }
            Ok(None) => return Ok(consumed),
            Err(e) => {
                out.extend_from_slice(b"-ERR ");
                out.extend_from_slice(e.to_string().as_bytes());
                out.extend_from_slice(b"\r\n");
                return Err(e);
            }
        }
    }
}

/// Finds `\r\n` (or a bare `\n` for inline requests) from `from`.
fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    buf[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| from + i)
}

fn parse_int(digits: &[u8]) -> Option<i64> {
    let (neg, digits) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    Some(if neg { -n } else { n })
}

/// Appends the decimal digits of `n`.
fn push_decimal(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Parses one request; pushes argument ranges (relative to `buf`) and
/// returns its length, or `None` if it is not complete yet.
fn parse(buf: &[u8], args: &mut Vec<Range<usize>>) -> Result<Option<usize>, ProtocolError> {
    if buf.is_empty() {
        return Ok(None);
    }
    if buf[0] != b'*' {
        return parse_inline(buf, args);
    }
    let Some(nl) = line_end(buf, 0) else {
        return if buf.len() > MAX_LINE {
            Err(perr("too big mbulk count string"))
        } else {
            Ok(None)
        };
    };
    if nl < 2 || buf[nl - 1] != b'\r' {
        return Err(perr("expected '\\r\\n' after mbulk count"));
    }
    let count = parse_int(&buf[1..nl - 1]).ok_or_else(|| perr("invalid multibulk length"))?;
    if count > MAX_ARGS as i64 {
        return Err(perr("invalid multibulk length"));
    }
    let mut pos = nl + 1;
    for _ in 0..count.max(0) {
        if pos >= buf.len() {
            return Ok(None);
        }
        if buf[pos] != b'$' {
            return Err(perr(&format!("expected '$', got '{}'", buf[pos] as char)));
        }
        let Some(nl) = line_end(buf, pos) else {
            return if buf.len() - pos > MAX_LINE {
                Err(perr("too big bulk count string"))
            } else {
                Ok(None)
            };
        };
        if buf[nl - 1] != b'\r' {
            return Err(perr("expected '\\r\\n' after bulk length"));
        }
        let len = parse_int(&buf[pos + 1..nl - 1]).ok_or_else(|| perr("invalid bulk length"))?;
        if len < 0 || len as usize > MAX_BULK {
            return Err(perr("invalid bulk length"));
        }
        let start = nl + 1;
        let end = start + len as usize;
        if buf.len() < end + 2 {
            return Ok(None);
        }
        if &buf[end..end + 2] != b"\r\n" {
            return Err(perr("expected '\\r\\n' after bulk data"));
        }
        args.push(start..end);
        pos = end + 2;
    }
    Ok(Some(pos))
}

/// An inline request: one line, arguments separated by spaces.
fn parse_inline(buf: &[u8], args: &mut Vec<Range<usize>>) -> Result<Option<usize>, ProtocolError> {
    let Some(nl) = line_end(buf, 0) else {
        return if buf.len() > MAX_LINE {
            Err(perr("too big inline request"))
        } else {
            Ok(None)
        };
    };
    let line_len = if nl > 0 && buf[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    let mut i = 0;
    while i < line_len {
        if buf[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < line_len && !buf[i].is_ascii_whitespace() {
            i += 1;
        }
        args.push(start..i);
    }
    Ok(Some(nl + 1))
}

fn simple(out: &mut Vec<u8>, s: &str) {
    out.push(b'+');
    out.extend_from_slice(s.as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn error(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(b"-ERR ");
    out.extend_from_slice(s.as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn integer(out: &mut Vec<u8>, n: i64) {
    out.push(b':');
    if n < 0 {
        out.push(b'-');
    }
    push_decimal(out, n.unsigned_abs());
    out.extend_from_slice(b"\r\n");
}

fn bulk(out: &mut Vec<u8>, data: Option<&[u8]>) {
    match data {
        None => out.extend_from_slice(b"$-1\r\n"),
        Some(d) => {
            out.push(b'$');
            push_decimal(out, d.len() as u64);
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(d);
            out.extend_from_slice(b"\r\n");
        }
    }
}

fn wrong_args(out: &mut Vec<u8>, cmd: &[u8]) {
    error(
        out,
        &format!(
            "wrong number of arguments for '{}' command",
            String::from_utf8_lossy(cmd).to_lowercase()
        ),
    );
}

/// Runs one command and appends its reply.
pub fn execute(db: &mut Db, argv: &[&[u8]], out: &mut Vec<u8>) {
    let cmd = argv[0];
    let args = &argv[1..];
    let is = |name: &str| cmd.eq_ignore_ascii_case(name.as_bytes());
    if is("PING") {
        match args {
            [] => simple(out, "PONG"),
            [msg] => bulk(out, Some(msg)),
            _ => wrong_args(out, cmd),
        }
    } else if is("ECHO") {
        match args {
            [msg] => bulk(out, Some(msg)),
            _ => wrong_args(out, cmd),
        }
    } else if is("GET") {
        match args {
            [key] => bulk(out, db.map.get(*key).map(Vec::as_slice)),
            _ => wrong_args(out, cmd),
        }
    } else if is("SET") {
        match args {
            [key, value] => {
                match db.map.get_mut(*key) {
                    Some(v) => {
                        v.clear();
                        v.extend_from_slice(value);
                    }
                    None => {
                        db.map.insert(key.to_vec(), value.to_vec());
                    }
                }
                simple(out, "OK");
            }
            [_, _, ..] => error(out, "syntax error (SET options are not supported)"),
            _ => wrong_args(out, cmd),
        }
    } else if is("DEL") || is("EXISTS") {
        if args.is_empty() {
            return wrong_args(out, cmd);
        }
        let del = is("DEL");
        let n = args
            .iter()
            .filter(|k| {
                if del {
                    db.map.remove(**k).is_some()
                } else {
                    db.map.contains_key(**k)
                }
            })
            .count();
        integer(out, n as i64);
    } else if is("INCR") {
        match args {
            [key] => {
                let current = match db.map.get(*key) {
                    None => Some(0),
                    Some(v) => parse_int(v),
                };
                match current.and_then(|n| n.checked_add(1)) {
                    Some(n) => {
                        db.map.insert(key.to_vec(), n.to_string().into_bytes());
                        integer(out, n);
                    }
                    None => error(out, "value is not an integer or out of range"),
                }
            }
            _ => wrong_args(out, cmd),
        }
    } else if is("CONFIG") {
        match args {
            [sub, _, ..] if sub.eq_ignore_ascii_case(b"GET") => out.extend_from_slice(b"*0\r\n"),
            _ => error(
                out,
                "only CONFIG GET is supported (it returns no parameters)",
            ),
        }
    } else {
        error(
            out,
            &format!(
                "unknown command '{}'",
                String::from_utf8_lossy(cmd)
                    .chars()
                    .take(64)
                    .collect::<String>()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8]) -> (Result<usize, ProtocolError>, String) {
        let mut db = Db::default();
        let mut out = Vec::new();
        let r = process(&mut db, input, &mut out);
        (r, String::from_utf8(out).unwrap())
    }

    #[test]
    fn pipelined_multibulk_and_inline() {
        let input = b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n41\r\nINCR k\r\nGET k\nEXISTS k nope\r\nDEL k\r\nGET k\r\n*2\r\n$4\r\nECHO";
        let (r, out) = run(input);
        assert_eq!(
            out,
            "+PONG\r\n+OK\r\n:42\r\n$2\r\n42\r\n:1\r\n:1\r\n$-1\r\n"
        );
        // The trailing incomplete request is not consumed.
        assert_eq!(r.unwrap(), input.len() - b"*2\r\n$4\r\nECHO".len());
    }

    #[test]
    fn integers_and_lengths_are_formatted_by_hand_correctly() {
        let (_, out) = run(b"SET n -5\r\nINCR n\r\nSET m 9223372036854775807\r\nINCR m\r\nSET x abc\r\nINCR x\r\nECHO 0123456789ab\r\n");
        assert_eq!(
            out,
            "+OK\r\n:-4\r\n+OK\r\n-ERR value is not an integer or out of range\r\n+OK\r\n-ERR value is not an integer or out of range\r\n$12\r\n0123456789ab\r\n"
        );
    }

    #[test]
    fn config_get_is_empty_and_errors_are_errors() {
        let (_, out) = run(b"CONFIG GET save\r\nFOO\r\nINCR\r\n");
        assert!(out.starts_with("*0\r\n-ERR unknown command 'FOO'\r\n-ERR wrong number"));
    }

    #[test]
    fn protocol_error_is_reported() {
        let (r, out) = run(b"*1\r\n#4\r\nPING\r\n");
        assert!(r.is_err());
        assert!(out.starts_with("-ERR Protocol error"));
    }
}
