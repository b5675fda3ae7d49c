//! StreamReader / StreamWriter edge cases found by review: counts and
//! lengths that come from the peer.

use eddy_io::io::{ReadError, StreamReader};

/// `read_exactly(n)` with `n` from a length prefix: a huge claim must not
/// allocate (or overflow) up front; the reader waits for the bytes and,
/// at end of file, reports what did arrive.
#[test]
fn read_exactly_with_a_huge_count_reports_the_partial_data() {
    eddy_core::run(async {
        let mut r = StreamReader::new(&b"abc"[..]);
        let err = r.read_exactly(usize::MAX).await.unwrap_err();
        assert!(
            matches!(&err, ReadError::IncompleteRead { partial, expected: Some(usize::MAX) } if partial == b"abc"),
            "{err:?}"
        );
        assert!(r.at_eof());

        // A large read that does complete is intact.
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut r = StreamReader::new(&data[..]);
        assert_eq!(
            r.read_exactly(data.len() - 1).await.unwrap(),
            data[..data.len() - 1]
        );
        assert_eq!(r.read_exactly(1).await.unwrap(), data[data.len() - 1..]);
    });
}
