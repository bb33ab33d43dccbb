//! Tests of the writer through [`AuditLog`]: lines on disk, rotation, resuming after a
//! restart, repairing an interrupted write, and failing when the file cannot be written.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use time::OffsetDateTime;

use super::*;

fn config(path: &Path, max_bytes: Option<u64>) -> AuditConfig {
    AuditConfig {
        max_bytes,
        sync_interval: Duration::from_millis(5),
        ..AuditConfig::new(path)
    }
}

async fn append(log: &AuditLog, request_id: &str) -> Result<(), AuditError> {
    let facts = Facts {
        action: Some("Encrypt"),
        outcome: Some("OK"),
        ..Facts::default()
    };
    let record = Record {
        time: OffsetDateTime::UNIX_EPOCH,
        request_id,
        source: None,
        facts: &facts,
        status: 200,
        latency_us: 1,
    };
    log.append(&record).await
}

fn verify_dir(dir: &Path) -> Verified {
    verify_paths(&[dir.to_owned()], Start::Genesis).unwrap()
}

#[tokio::test]
async fn lines_rotate_and_the_chain_spans_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit").join("audit.log");
    let log = AuditLog::open(&config(&path, Some(400))).unwrap();
    for i in 0..6 {
        append(&log, &format!("R{i}")).await.unwrap();
    }
    log.close();
    let verified = verify_dir(&dir.path().join("audit"));
    assert_eq!(verified.outcome.unwrap().unwrap().seq, 6);
    assert!(verified.files.len() >= 3, "{:?}", verified.files);
    assert_eq!(verified.files.last().unwrap(), &path);
    for file in &verified.files {
        assert!(std::fs::metadata(file).unwrap().len() <= 400);
    }
    // Closed: further lines are refused.
    assert_eq!(append(&log, "late").await, Err(AuditError::Closed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_each_get_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::open(&config(&path, Some(64 * 1024))).unwrap();
    let tasks: Vec<_> = (0..2000)
        .map(|i| {
            let log = log.clone();
            tokio::spawn(async move { append(&log, &format!("R{i}")).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    log.close();
    let verified = verify_dir(dir.path());
    assert_eq!(verified.outcome.unwrap().unwrap().seq, 2000);
    assert!(verified.files.len() > 1, "rotated under concurrency");
    let mut ids = std::collections::HashSet::new();
    for file in &verified.files {
        for line in std::fs::read_to_string(file).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            ids.insert(v["request_id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(ids.len(), 2000, "each request has exactly one line");
}

#[tokio::test]
async fn a_restart_continues_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    for round in 0..3 {
        let log = AuditLog::open(&config(&path, Some(600))).unwrap();
        for i in 0..2 {
            append(&log, &format!("R{round}-{i}")).await.unwrap();
        }
        log.close();
    }
    assert_eq!(verify_dir(dir.path()).outcome.unwrap().unwrap().seq, 6);
}

#[tokio::test]
async fn an_interrupted_write_is_cut_off_at_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::open(&config(&path, None)).unwrap();
    append(&log, "R1").await.unwrap();
    append(&log, "R2").await.unwrap();
    log.close();
    let mut bytes = std::fs::read(&path).unwrap();
    let whole = bytes.len();
    bytes.extend_from_slice(b"{\"seq\":3,\"prev\":\"ab");
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(
        verify_dir(dir.path()).outcome.unwrap_err().problem,
        Problem::Incomplete
    );
    let log = AuditLog::open(&config(&path, None)).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), whole as u64);
    append(&log, "R3").await.unwrap();
    log.close();
    assert_eq!(verify_dir(dir.path()).outcome.unwrap().unwrap().seq, 3);
}

#[tokio::test]
async fn a_damaged_last_line_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    std::fs::write(&path, "not a record\n").unwrap();
    let e = AuditLog::open(&config(&path, None)).unwrap_err();
    assert!(matches!(e, OpenError::NotARecord(_)), "{e}");
}

#[tokio::test]
async fn an_unwritable_log_fails_the_line_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let audit_dir = dir.path().join("audit");
    let path = audit_dir.join("audit.log");
    // Rotating before every line makes the writer touch the directory each time.
    let log = AuditLog::open(&config(&path, Some(1))).unwrap();
    append(&log, "R1").await.unwrap();
    std::fs::remove_dir_all(&audit_dir).unwrap();
    std::fs::write(&audit_dir, "a file where the directory was").unwrap();
    assert_eq!(append(&log, "R2").await, Err(AuditError::WriteFailed));
    assert_eq!(append(&log, "R3").await, Err(AuditError::WriteFailed));
    std::fs::remove_file(&audit_dir).unwrap();
    std::fs::create_dir(&audit_dir).unwrap();
    append(&log, "R4").await.unwrap();
    log.close();
    // The new file continues the chain after the last line written (R1, seq 1).
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("{\"seq\":2,"), "{text}");
    let verified = verify_paths(&[path], Start::Pruned).unwrap();
    assert_eq!(verified.outcome.unwrap().unwrap().seq, 2);
}
