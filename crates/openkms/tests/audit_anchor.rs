//! A restart of `openkms server` over an audit log whose end was cut off (issue 13, finding
//! 4): the head recorded in the store (the audit anchor) shows the lines missing, the server
//! says so on stderr, a `gap` line (`behind_anchor`) declares them, and `openkms audit verify`
//! reports it and exits 3. Both ways the anchor is written are covered: at a clean shutdown
//! (SIGTERM; whole lines then cut from the end) and every second while running (kill -9; an
//! older copy of the audit directory then put back). On SQLite; the store side runs on every
//! backend in the conformance suite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{BIN, Running, run};

/// A data directory with its audit directory and a file for the server's stderr.
struct Setup {
    _dir: tempfile::TempDir,
    data: PathBuf,
    audit: PathBuf,
    log: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        Self {
            audit: data.join("audit"),
            log: dir.path().join("server.log"),
            data,
            _dir: dir,
        }
    }

    fn start(&self) -> Running {
        Running::start(&self.data, &self.log)
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// The active file's lines, parsed.
    fn lines(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.audit.join("audit.log")).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn verify(&self, extra: &[&str]) -> common::Run {
        run(Command::new(BIN)
            .args(["audit", "verify"])
            .args(extra)
            .arg(&self.audit)
            .env_clear())
    }
}

/// The one `gap` line of `lines`: its seq, reason and extent.
fn gap_of(lines: &[serde_json::Value]) -> (u64, String, u64, u64) {
    let gaps: Vec<_> = lines.iter().filter(|l| l["event"] == "gap").collect();
    assert_eq!(gaps.len(), 1, "{lines:?}");
    let g = gaps[0];
    (
        g["seq"].as_u64().unwrap(),
        g["reason"].as_str().unwrap().to_owned(),
        g["from_seq"].as_u64().unwrap(),
        g["to_seq"].as_u64().unwrap(),
    )
}

/// `verify` exits 3 naming the lost lines, and 0 with `--accept-gaps`.
fn assert_reported(setup: &Setup, from: u64, to: u64) {
    let reported = setup.verify(&[]);
    assert_eq!(reported.code, 3, "{}{}", reported.stdout, reported.stderr);
    let expected =
        format!("lines {from} to {to} lost: the log ended before the head the store recorded");
    assert!(reported.stdout.contains(&expected), "{}", reported.stdout);
    let accepted = setup.verify(&["--accept-gaps"]);
    assert_eq!(accepted.code, 0, "{}{}", accepted.stdout, accepted.stderr);
}

#[tokio::test]
async fn lines_cut_off_the_end_after_a_clean_stop_are_reported() {
    let setup = Setup::new();
    let server = setup.start();
    server.calls(3).await;
    server.stop();
    // Whole lines cut from the end: the chain alone still verifies.
    let text = std::fs::read_to_string(setup.audit.join("audit.log")).unwrap();
    let first = text.split_inclusive('\n').next().unwrap().to_owned();
    std::fs::write(setup.audit.join("audit.log"), first).unwrap();
    let cut = setup.verify(&[]);
    assert_eq!(cut.code, 0, "{}{}", cut.stdout, cut.stderr);

    let server = setup.start();
    server.calls(1).await;
    server.stop();
    let stderr = setup.stderr();
    assert!(stderr.contains("AUDIT HISTORY MISSING"), "{stderr}");
    assert!(stderr.contains("before the head recorded"), "{stderr}");
    let lines = setup.lines();
    assert_eq!(gap_of(&lines), (4, "behind_anchor".into(), 2, 3));
    assert_eq!(lines.len(), 3, "line 1, the gap, the new request");
    assert_reported(&setup, 2, 3);

    // An untouched log over its anchor: nothing more is reported.
    let server = setup.start();
    server.calls(1).await;
    server.stop();
    assert!(
        !setup.stderr().contains("AUDIT HISTORY"),
        "{}",
        setup.stderr()
    );
    assert_eq!(gap_of(&setup.lines()).0, 4);
}

#[tokio::test]
async fn an_older_copy_put_back_after_a_crash_is_reported() {
    let setup = Setup::new();
    let server = setup.start();
    server.calls(2).await;
    server.stop();
    let copy = setup.data.with_file_name("audit-copy");
    std::fs::create_dir(&copy).unwrap();
    std::fs::copy(setup.audit.join("audit.log"), copy.join("audit.log")).unwrap();

    let server = setup.start();
    server.calls(3).await;
    // Recorded while running: within a second or so of the lines being written.
    tokio::time::sleep(openkms_api::audit::HEAD_INTERVAL * 4).await;
    drop(server); // kill -9: no clean stop records the head
    std::fs::remove_dir_all(&setup.audit).unwrap();
    std::fs::rename(&copy, &setup.audit).unwrap();

    let server = setup.start();
    server.calls(1).await;
    server.stop();
    assert!(
        setup.stderr().contains("AUDIT HISTORY MISSING"),
        "{}",
        setup.stderr()
    );
    let lines = setup.lines();
    assert_eq!(gap_of(&lines), (6, "behind_anchor".into(), 3, 5));
    assert_reported(&setup, 3, 5);
}
