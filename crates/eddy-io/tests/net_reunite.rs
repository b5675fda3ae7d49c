//! `reunite` of owned halves: the halves of one `into_split()` give the
//! stream back whole (and still working); halves of two streams give an
//! error that hands both back intact.

mod common;

use eddy_io::net::{TcpListener, TcpStream, UnixStream};
use futures::io::{AsyncReadExt, AsyncWriteExt};

async fn read_n<R: futures::io::AsyncRead + Unpin>(r: &mut R, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    r.read_exact(&mut buf).await.unwrap();
    buf
}

#[test]
fn tcp_halves_of_one_stream_reunite_and_the_stream_still_works() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut peer, _) = listener.accept().await.unwrap();
        let local = client.local_addr().unwrap();

        let (mut r, mut w) = client.into_split();
        w.write_all(b"half").await.unwrap();
        assert_eq!(read_n(&mut peer, 4).await, b"half");
        peer.write_all(b"to-half+rest").await.unwrap();
        assert_eq!(read_n(&mut r, 7).await, b"to-half");

        let mut stream = r.reunite(w).expect("the halves of one stream");
        assert_eq!(stream.local_addr().unwrap(), local);
        // Unread bytes are still there, and both directions still work:
        // reuniting did not shut the write side down.
        assert_eq!(read_n(&mut stream, 5).await, b"+rest");
        stream.write_all(b"whole").await.unwrap();
        assert_eq!(read_n(&mut peer, 5).await, b"whole");
        peer.write_all(b"back").await.unwrap();
        assert_eq!(read_n(&mut stream, 4).await, b"back");

        // Closing the reunited stream's write side is seen by the peer.
        stream.close().await.unwrap();
        let mut rest = Vec::new();
        peer.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    });
}

#[test]
fn unix_halves_reunite_from_the_write_side_too() {
    common::run(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let (r, w) = a.into_split();
        let mut a = w.reunite(r).expect("the halves of one stream");
        a.write_all(b"ping").await.unwrap();
        assert_eq!(read_n(&mut b, 4).await, b"ping");
        b.write_all(b"pong").await.unwrap();
        assert_eq!(read_n(&mut a, 4).await, b"pong");

        // Split and reunite again: still the same socket.
        let (r, w) = a.into_split();
        let mut a = r.reunite(w).expect("the halves of one stream");
        a.write_all(b"again").await.unwrap();
        assert_eq!(read_n(&mut b, 5).await, b"again");
    });
}

#[test]
fn halves_of_two_streams_give_both_back_intact() {
    common::run(async {
        let (a, mut a_peer) = UnixStream::pair().unwrap();
        let (b, mut b_peer) = UnixStream::pair().unwrap();
        let (a_read, a_write) = a.into_split();
        let (b_read, b_write) = b.into_split();

        let err = match a_read.reunite(b_write) {
            Ok(_) => panic!("halves of two streams were reunited"),
            Err(e) => e,
        };
        let msg = err.to_string();
        assert!(msg.contains("different streams"), "{msg}");
        assert!(msg.contains("into_split"), "{msg}");
        assert!(format!("{err:?}").starts_with("ReuniteError("));

        // Both halves come back and work; the write half was not shut
        // down on the way.
        let (mut a_read, mut b_write) = (err.0, err.1);
        a_peer.write_all(b"for a").await.unwrap();
        assert_eq!(read_n(&mut a_read, 5).await, b"for a");
        b_write.write_all(b"from b").await.unwrap();
        assert_eq!(read_n(&mut b_peer, 6).await, b"from b");

        // The mirror call fails the same way.
        let err = match b_write.reunite(a_read) {
            Ok(_) => panic!("halves of two streams were reunited"),
            Err(e) => e,
        };
        let (a_read, b_write) = (err.0, err.1);

        // Each half still reunites with its own partner.
        let mut a = a_read.reunite(a_write).expect("a's halves");
        let mut b = b_write.reunite(b_read).expect("b's halves");
        a.write_all(b"a whole").await.unwrap();
        assert_eq!(read_n(&mut a_peer, 7).await, b"a whole");
        b.write_all(b"b whole").await.unwrap();
        assert_eq!(read_n(&mut b_peer, 7).await, b"b whole");
    });
}

#[test]
fn a_write_side_closed_before_reuniting_stays_closed() {
    common::run(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let (r, mut w) = a.into_split();
        w.write_all(b"last").await.unwrap();
        w.close().await.unwrap();
        let mut a = r.reunite(w).expect("the halves of one stream");
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"last");
        // Reading still works on the reunited stream.
        b.write_all(b"reply").await.unwrap();
        assert_eq!(read_n(&mut a, 5).await, b"reply");
    });
}
