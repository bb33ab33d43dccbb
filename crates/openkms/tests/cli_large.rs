//! The 200 MiB envelope round trip: `encrypt-file` then `decrypt-file` of a file far larger
//! than memory should ever need, checked byte for byte, with each command's peak RSS measured.
//!
//! Ignored by default (it writes about 600 MiB to a temporary directory); run it with
//! `cargo test -p openkms --test cli_large -- --ignored --nocapture`. It asserts the round trip
//! and a memory bound, never a wall time; the times it prints are for the record only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::{Noise, Server, run_ok, same_contents};

/// The size of the file round-tripped.
const SIZE: usize = 200 * 1024 * 1024;
/// The largest peak RSS allowed for one CLI command. The CLI holds one 64 KiB chunk at a time;
/// a debug build with its TLS stack needs a few tens of MiB whatever the file size, so this
/// bound catches a command that reads the whole file (200 MiB) into memory.
const MAX_RSS_KIB: u64 = 100 * 1024;
/// GNU time, when installed, reports a child's peak RSS with `-f %M` (KiB).
const GNU_TIME: &str = "/usr/bin/time";

#[test]
#[ignore = "writes ~600 MiB; run with --ignored"]
fn a_200_mib_file_round_trips_with_bounded_memory() {
    let server = Server::start();
    let key_id = server.create_key();
    let dir = server.dir.path();
    write_noise(&dir.join("big.bin"), SIZE);

    let (rss, secs) = measured(
        &server,
        &[
            "encrypt-file",
            "--key-id",
            &key_id,
            "--in",
            "big.bin",
            "--out",
            "big.enc",
        ],
    );
    report("encrypt-file", rss, secs);
    let sealed = std::fs::metadata(dir.join("big.enc")).unwrap().len();
    let chunks = SIZE.div_ceil(64 * 1024) as u64 + 1; // a whole number of chunks adds an empty last one
    assert!(
        sealed > SIZE as u64 + chunks * 16,
        "envelope too small: {sealed}"
    );

    let (rss2, secs2) = measured(
        &server,
        &["decrypt-file", "--in", "big.enc", "--out", "big.out"],
    );
    report("decrypt-file", rss2, secs2);
    assert!(
        same_contents(&dir.join("big.bin"), &dir.join("big.out")),
        "the 200 MiB round trip is not identical"
    );
    for (what, rss) in [("encrypt-file", rss), ("decrypt-file", rss2)] {
        if let Some(kib) = rss {
            assert!(
                kib < MAX_RSS_KIB,
                "{what} peaked at {kib} KiB for a {SIZE}-byte file"
            );
        }
    }
}

fn write_noise(path: &Path, size: usize) {
    let mut out = BufWriter::new(File::create(path).unwrap());
    let mut noise = Noise::new(0x5eed);
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..size / buf.len() {
        noise.fill(&mut buf);
        out.write_all(&buf).unwrap();
    }
    out.flush().unwrap();
}

/// Runs the CLI with `args` (under GNU time when present); returns the peak RSS in KiB, if
/// measured, and the seconds taken.
fn measured(server: &Server, args: &[&str]) -> (Option<u64>, f64) {
    let mut cli = server.cli();
    cli.args(args);
    let start = Instant::now();
    if !Path::new(GNU_TIME).exists() {
        run_ok(&mut cli);
        return (None, start.elapsed().as_secs_f64());
    }
    let mut timed = Command::new(GNU_TIME);
    timed
        .args(["-f", "%M"])
        .arg(cli.get_program())
        .args(cli.get_args())
        .env_clear()
        .current_dir(server.dir.path());
    for (k, v) in cli.get_envs() {
        if let Some(v) = v {
            timed.env(k, v);
        }
    }
    let out = run_ok(&mut timed);
    let kib = out
        .stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok());
    (kib, start.elapsed().as_secs_f64())
}

fn report(what: &str, rss: Option<u64>, secs: f64) {
    match rss {
        Some(kib) => eprintln!(
            "{what}: {SIZE} bytes in {secs:.1} s, peak RSS {:.1} MiB",
            kib as f64 / 1024.0
        ),
        None => {
            eprintln!("{what}: {SIZE} bytes in {secs:.1} s ({GNU_TIME} absent: RSS not measured)")
        }
    }
}
