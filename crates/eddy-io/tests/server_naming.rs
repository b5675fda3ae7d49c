//! The tasks a server spawns say whose they are: each connection's
//! handler task is named after the connection and recorded as spawned
//! where the user called `start_server` / `start_unix_server` (so
//! `task::all` and debug mode's slow-poll reports lead to the user's
//! server, not into eddy-io's accept loop), and so is the accept task.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use eddy_core::task::TaskInfo;
use eddy_io::io::{open_connection, open_unix_connection, start_server, start_unix_server};
use eddy_io::io::{StreamReader, StreamWriter};
use eddy_io::net::{TcpStream, UnixStream};

/// What a handler saw of its own task: name, file and line spawned at.
type Seen = Rc<RefCell<Vec<(String, &'static str, u32)>>>;

/// A handler that records its task's name and spawn location, then
/// echoes one line so the client knows it ran.
fn recording(
    seen: &Seen,
) -> impl Fn(StreamReader, StreamWriter) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
{
    let seen = seen.clone();
    move |mut r, mut w| {
        let seen = seen.clone();
        Box::pin(async move {
            let me = eddy_core::task::current().expect("a handler runs as a task");
            let at = me.spawned_at();
            seen.borrow_mut().push((
                me.name().unwrap_or("<unnamed>").to_owned(),
                at.file(),
                at.line(),
            ));
            let line = r.read_line().await.unwrap();
            w.write(&line).unwrap();
        })
    }
}

fn accept_task(name: &str) -> Option<TaskInfo> {
    eddy_core::task::all()
        .into_iter()
        .find(|t| t.name() == Some(name))
}

/// Sends `msg` (one line) and reads the handler's echo of it.
async fn round_trip<S>(stream: &mut S, msg: &[u8])
where
    S: futures::AsyncRead + futures::AsyncWrite + Unpin,
{
    use futures::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(msg).await.unwrap();
    let mut back = vec![0; msg.len()];
    stream.read_exact(&mut back).await.unwrap();
    assert_eq!(back, msg);
}

#[test]
fn tcp_connection_tasks_are_named_and_spawned_at_start_server() {
    common::run(async {
        let seen = Seen::default();
        let line = line!() + 1;
        let server = start_server("127.0.0.1:0", recording(&seen)).await.unwrap();
        let addr = server.local_addr().unwrap();

        let accept = accept_task(&format!("accept loop of the server on {addr}"))
            .expect("the accept task is named after the server");
        assert_eq!(
            (accept.spawned_at().file(), accept.spawned_at().line()),
            (file!(), line)
        );

        let mut clients = Vec::new();
        let mut ports = Vec::new();
        for _ in 0..2 {
            let mut c = TcpStream::connect(addr).await.unwrap();
            round_trip(&mut c, b"hi\n").await;
            ports.push(c.local_addr().unwrap());
            clients.push(c);
        }
        // Also through open_connection, the asyncio way.
        let (mut r, mut w) = open_connection(addr).await.unwrap();
        w.write(b"streams\n").unwrap();
        assert_eq!(r.read_line().await.unwrap(), b"streams\n");

        let seen = seen.borrow().clone();
        assert_eq!(seen.len(), 3);
        for ((name, file, at), client) in seen.iter().zip(&ports) {
            assert_eq!(*name, format!("connection from {client} to {addr}"));
            assert_eq!(
                (*file, *at),
                (file!(), line),
                "spawned where start_server was called"
            );
        }
        assert!(
            seen[2].0.starts_with("connection from 127.0.0.1:"),
            "{seen:?}"
        );
        drop((clients, r, w));
        server.close();
        server.wait_closed().await;
    });
}

#[test]
fn unix_connection_tasks_are_named_and_spawned_at_start_unix_server() {
    common::run(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("named.sock");
        let seen = Seen::default();
        let line = line!() + 1;
        let server = start_unix_server(&path, recording(&seen)).await.unwrap();

        let accept = accept_task(&format!("accept loop of the server on {}", path.display()))
            .expect("the accept task is named after the server");
        assert_eq!(
            (accept.spawned_at().file(), accept.spawned_at().line()),
            (file!(), line)
        );

        // A client that did not bind a path: the usual case.
        let (mut r, mut w) = open_unix_connection(&path).await.unwrap();
        w.write(b"anon\n").unwrap();
        assert_eq!(r.read_line().await.unwrap(), b"anon\n");

        // A client bound to a path of its own is named by it.
        let client_path = dir.path().join("client.sock");
        let sock =
            socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
        sock.bind(&socket2::SockAddr::unix(&client_path).unwrap())
            .unwrap();
        // A Unix connect completes as soon as the server's backlog takes it.
        sock.connect(&socket2::SockAddr::unix(&path).unwrap())
            .unwrap();
        let std_stream: std::os::unix::net::UnixStream = sock.into();
        std_stream.set_nonblocking(true).unwrap();
        let mut named = UnixStream::from_std(std_stream).unwrap();
        round_trip(&mut named, b"named\n").await;

        let seen = seen.borrow().clone();
        let names: Vec<_> = seen.iter().map(|(n, _, _)| n.clone()).collect();
        assert_eq!(
            names,
            [
                format!("connection from an unnamed socket to {}", path.display()),
                format!(
                    "connection from {} to {}",
                    client_path.display(),
                    path.display()
                ),
            ]
        );
        for (_, file, at) in seen {
            assert_eq!((file, at), (file!(), line));
        }
        drop((r, w, named));
        server.close();
        server.wait_closed().await;
    });
}
