//! A child's pipes read and write through the reactor's transfer path:
//! a short read (the pipe drained) or a short write (the pipe filled)
//! clears readiness, so the next call waits for the other side instead of
//! making a system call that returns EAGAIN, and vectored reads fill every
//! buffer. These check that nothing is lost or left waiting by that.

mod common;

use std::io::IoSliceMut;

use common::stress::guarded;
use eddy_io::process::{Command, Stdio};
use futures::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn many_exact_round_trips_through_cat() {
    guarded(60, || {
        common::run(async {
            let (mut child, mut stdin, mut stdout) = common::cat();
            let mut back = [0u8; 100];
            for round in 0..2_000u32 {
                let msg = [round as u8; 100];
                stdin.write_all(&msg).await.unwrap();
                // Each read is short (cat forwards what it has), draining
                // the pipe; the next must still be woken by cat's write.
                stdout.read_exact(&mut back).await.unwrap();
                assert_eq!(back, msg, "round {round}");
            }
            stdin.close().await.unwrap();
            let mut rest = Vec::new();
            stdout.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
            assert!(child.wait().await.unwrap().success());
        })
    });
}

#[test]
fn a_vectored_read_of_a_child_pipe_fills_every_buffer() {
    guarded(30, || {
        common::run(async {
            let mut child = Command::shell("printf abcdefghij")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdout = child.stdout.take().unwrap();
            assert!(child.wait().await.unwrap().success());
            // All ten bytes are in the pipe now; one readv takes them.
            let (mut a, mut b, mut c) = ([0u8; 3], [0u8; 3], [0u8; 10]);
            let n = {
                let mut bufs = [
                    IoSliceMut::new(&mut a),
                    IoSliceMut::new(&mut b),
                    IoSliceMut::new(&mut c),
                ];
                stdout.read_vectored(&mut bufs).await.unwrap()
            };
            assert_eq!(n, 10);
            assert_eq!((&a, &b, &c[..4]), (b"abc", b"def", &b"ghij"[..]));
            let mut rest = Vec::new();
            stdout.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
        })
    });
}

#[test]
fn a_large_transfer_through_cat_with_full_pipes_arrives_intact() {
    guarded(60, || {
        common::run(async {
            let (mut child, mut stdin, mut stdout) = common::cat();
            // 4 MiB: far more than both pipes hold, so writes come back
            // short and wait for cat, and cat waits for our reads.
            let data: Vec<u8> = (0..4u32 << 20).map(|i| (i % 251) as u8).collect();
            let expected = data.clone();
            let writer = eddy_core::spawn(async move {
                stdin.write_all(&data).await.unwrap();
                stdin.close().await.unwrap();
            });
            let mut got = Vec::new();
            stdout.read_to_end(&mut got).await.unwrap();
            writer.await.unwrap();
            assert!(
                got == expected,
                "{} of {} bytes, or out of order",
                got.len(),
                expected.len()
            );
            assert!(child.wait().await.unwrap().success());
        })
    });
}
