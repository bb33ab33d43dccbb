//! A restart of `openkms server` over existing data whose audit history is gone (issue 13,
//! finding 4): the server says so on stderr, a `gap` line starts the new log (declaring the
//! lines up to the head recorded in the store, the audit anchor), and `openkms audit verify`
//! reports it and exits 3 (0 with `--accept-gaps`). A restart over an
//! intact log continues it with no gap. The servers run on one data directory this file
//! owns (the shared `Server` makes a new one per start).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{BIN, Running, run};

fn verify(dir: &Path, extra: &[&str]) -> common::Run {
    run(Command::new(BIN)
        .args(["audit", "verify"])
        .args(extra)
        .arg(dir)
        .env_clear())
}

#[tokio::test]
async fn a_restart_without_audit_history_records_the_gap() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let audit = data.join("audit");
    let log = dir.path().join("server.log");
    for _ in 0..2 {
        let server = Running::start(&data, &log);
        server.calls(1).await;
        server.stop();
    }
    let intact = verify(&audit, &[]);
    assert_eq!(intact.code, 0, "{}{}", intact.stdout, intact.stderr);
    assert!(
        intact.stdout.starts_with("intact: 2 lines"),
        "{}",
        intact.stdout
    );

    std::fs::remove_dir_all(&audit).unwrap();
    let server = Running::start(&data, &log);
    server.calls(1).await;
    drop(server);
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(stderr.contains("AUDIT HISTORY MISSING"), "{stderr}");
    let text = std::fs::read_to_string(audit.join("audit.log")).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    // Lines 1 and 2 are known lost (the anchor); the chain goes on from line 3.
    assert_eq!(
        (first["seq"].as_u64(), first["event"].as_str()),
        (Some(3), Some("gap"))
    );
    assert_eq!(first["reason"], "history_missing");
    assert_eq!(
        (first["from_seq"].as_u64(), first["to_seq"].as_u64()),
        (Some(1), Some(2))
    );

    let reported = verify(&audit, &[]);
    assert_eq!(reported.code, 3, "{}{}", reported.stdout, reported.stderr);
    assert!(
        reported.stdout.contains(
            "lines 1 to 2 lost: the server started over existing data without audit history"
        ),
        "{}",
        reported.stdout
    );
    let accepted = verify(&audit, &["--accept-gaps"]);
    assert_eq!(accepted.code, 0, "{}{}", accepted.stdout, accepted.stderr);
}
