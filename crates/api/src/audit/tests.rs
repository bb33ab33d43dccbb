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
        user: Some("root".into()),
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
    // The new file continues the chain after the last line written (R1, seq 1), with the
    // loss of the file that held it declared first.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("{\"seq\":2,"), "{text}");
    let verified = verify_paths(&[path], Start::Genesis).unwrap();
    assert_eq!(verified.outcome.unwrap().unwrap().seq, 3);
    assert!(matches!(
        verified.notes[..],
        [Note::Lost {
            reason: GapReason::Removed,
            from: 1,
            to: 1,
            ..
        }]
    ));
}

async fn append_unauthenticated(log: &AuditLog, request_id: &str) -> Result<(), AuditError> {
    let facts = Facts {
        access_key_id: Some("x".repeat(4096)),
        outcome: Some("InvalidAccessKeyId.NotFound"),
        ..Facts::default()
    };
    let record = Record {
        time: OffsetDateTime::UNIX_EPOCH,
        request_id,
        source: Some("192.0.2.7:4000".parse().unwrap()),
        facts: &facts,
        status: 404,
        latency_us: 1,
    };
    log.append(&record).await
}

fn lines_of(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn unauthenticated_lines_beyond_the_budget_are_summarised() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::open(&AuditConfig {
        unauthenticated_per_second: 3,
        ..config(&path, None)
    })
    .unwrap();
    for i in 0..100 {
        append_unauthenticated(&log, &format!("U{i}"))
            .await
            .unwrap();
    }
    append(&log, "A1").await.unwrap();
    log.close();
    let lines = lines_of(&path);
    assert_eq!(
        lines.len(),
        5,
        "3 compact lines, the authenticated one, the summary"
    );
    assert!(lines[..3].iter().all(|l| l["truncated"] == true));
    assert_eq!(lines[3]["request_id"], "A1");
    assert_eq!(lines[4]["event"], "suppressed");
    assert_eq!(lines[4]["count"], 97);
    assert_eq!(lines[4]["sources"][0]["ip"], "192.0.2.7");
    assert_eq!(verify_dir(dir.path()).outcome.unwrap().unwrap().seq, 5);
}

#[tokio::test]
async fn retention_prunes_and_says_so_in_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let retention = Retention {
        keep_files: Some(2),
        keep_days: None,
    };
    let log = AuditLog::open(&AuditConfig {
        retention,
        ..config(&path, Some(700))
    })
    .unwrap();
    for i in 0..12 {
        append(&log, &format!("R{i}")).await.unwrap();
    }
    log.close();
    let verified = verify_dir(dir.path());
    assert_eq!(verified.files.len(), 3, "{:?}", verified.files);
    let head = verified.outcome.unwrap().unwrap();
    assert!(head.seq > 12, "the pruned lines are in the chain too");
    assert!(matches!(verified.notes.last(), Some(Note::Pruned { .. })));
    assert!(verified.notes.iter().all(|n| !n.is_loss()));
    // Deleting a file by hand is still found.
    std::fs::remove_file(&verified.files[0]).unwrap();
    let e = verify_dir(dir.path()).outcome.unwrap_err();
    assert_eq!(e.problem, Problem::NotFromGenesis);
}

#[tokio::test]
async fn old_rotated_files_are_pruned_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::open(&config(&path, Some(700))).unwrap();
    for i in 0..6 {
        append(&log, &format!("R{i}")).await.unwrap();
    }
    log.close();
    let before = verify_dir(dir.path()).files;
    let old = std::time::SystemTime::now() - Duration::from_secs(3 * 86_400);
    for file in &before[..2] {
        let f = std::fs::File::options().write(true).open(file).unwrap();
        f.set_modified(old).unwrap();
    }
    let log = AuditLog::open(&AuditConfig {
        retention: Retention {
            keep_files: None,
            keep_days: Some(2),
        },
        ..config(&path, Some(700))
    })
    .unwrap();
    log.close();
    let after = verify_dir(dir.path());
    assert_eq!(after.files.len(), before.len() - 2);
    assert!(after.outcome.is_ok(), "{:?}", after.outcome);
    assert!(matches!(after.notes[..], [Note::Pruned { .. }]));
}

#[tokio::test]
async fn the_free_space_guard_refuses_lines_before_the_volume_is_full() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    // The real statvfs reading: no volume is 100% free.
    let all_free = SpaceGuard {
        min_free_bytes: 0,
        min_free_percent: 100,
    };
    let log = AuditLog::open(&AuditConfig {
        space: all_free,
        ..config(&path, None)
    })
    .unwrap();
    assert!(!log.has_room());
    assert_eq!(append(&log, "R1").await, Err(AuditError::WriteFailed));
    log.close();
    // A reading below the minimum, then above it again.
    let log = AuditLog::open(&config(&path, None)).unwrap();
    assert!(log.has_room());
    append(&log, "R2").await.unwrap();
    log.fake_free_space(Some(DEFAULT_MIN_FREE_BYTES + 100));
    assert!(!log.has_room());
    assert_eq!(append(&log, "R3").await, Err(AuditError::WriteFailed));
    log.fake_free_space(Some(u64::MAX / 2));
    append(&log, "R4").await.unwrap();
    log.fake_free_space(None);
    log.close();
    assert_eq!(verify_dir(dir.path()).outcome.unwrap().unwrap().seq, 2);
    assert_eq!(lines_of(&path)[1]["request_id"], "R4");
}

#[tokio::test]
async fn a_renamed_active_file_is_noticed_and_the_loss_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let audit_dir = dir.path().join("audit");
    let path = audit_dir.join("audit.log");
    let log = AuditLog::open(&config(&path, None)).unwrap();
    append(&log, "R1").await.unwrap();
    append(&log, "R2").await.unwrap();
    std::fs::rename(&path, dir.path().join("elsewhere.log")).unwrap();
    append(&log, "R3").await.unwrap();
    log.close();
    let lines = lines_of(&path);
    assert_eq!(lines[0]["event"], "gap");
    assert_eq!(
        (lines[0]["from_seq"].as_u64(), lines[0]["to_seq"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(lines[1]["request_id"], "R3");
    let verified = verify_dir(&audit_dir);
    assert_eq!(verified.outcome.unwrap().unwrap().seq, 4);
    assert!(verified.notes.iter().any(Note::is_loss));
}

#[tokio::test]
async fn missing_history_over_existing_data_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let expected = Expected {
        data_exists: true,
        anchor: None,
        restored: None,
    };
    AuditLog::open_expecting(&config(&path, None), &expected)
        .unwrap()
        .close();
    let lines = lines_of(&path);
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0]["event"].as_str(), lines[0]["reason"].as_str()),
        (Some("gap"), Some("history_missing"))
    );
    assert!(matches!(
        verify_dir(dir.path()).notes[..],
        [Note::HistoryMissing { .. }]
    ));
    // A second start over that history finds nothing missing.
    let log = AuditLog::open_expecting(&config(&path, None), &expected).unwrap();
    append(&log, "R1").await.unwrap();
    log.close();
    assert_eq!(lines_of(&path).len(), 2);
}

#[tokio::test]
async fn a_restored_store_starts_its_log_with_a_restored_line_not_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let restored = crate::audit::Restored {
        restored_at: "2026-01-02T03:04:05Z".into(),
        backup_sha256: "ab".repeat(32),
        backup_created_at: "2026-01-01T00:00:00Z".into(),
    };
    let expected = Expected {
        data_exists: true,
        anchor: None,
        restored: Some(restored),
    };
    let log = AuditLog::open_expecting(&config(&path, None), &expected).unwrap();
    append(&log, "R1").await.unwrap();
    log.close();
    let lines = lines_of(&path);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["event"], "restored");
    assert_eq!(lines[0]["backup_sha256"], "ab".repeat(32));
    assert_eq!(lines[0]["seq"], 1);
    let verified = verify_dir(dir.path());
    assert!(verified.outcome.is_ok());
    assert!(verified.notes.is_empty(), "{:?}", verified.notes);
    // Once this node has recorded a head, the note no longer changes anything.
    let anchor = verified.outcome.unwrap().unwrap();
    let later = Expected {
        anchor: Some(anchor),
        ..expected
    };
    AuditLog::open_expecting(&config(&path, None), &later)
        .unwrap()
        .close();
    assert_eq!(lines_of(&path).len(), 2, "no second restored line");
}

#[tokio::test]
async fn a_log_behind_its_anchor_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::open(&config(&path, None)).unwrap();
    for i in 0..4 {
        append(&log, &format!("R{i}")).await.unwrap();
    }
    log.close();
    let anchor = verify_dir(dir.path()).outcome.unwrap().unwrap();
    // The last two lines cut off (a consistent truncation the chain alone cannot see).
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text.lines().take(2).collect();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    assert!(verify_dir(dir.path()).outcome.is_ok());
    let expected = Expected {
        data_exists: true,
        anchor: Some(anchor.clone()),
        restored: None,
    };
    let log = AuditLog::open_expecting(&config(&path, None), &expected).unwrap();
    append(&log, "R5").await.unwrap();
    log.close();
    let verified = verify_dir(dir.path());
    assert_eq!(verified.outcome.unwrap().unwrap().seq, anchor.seq + 2);
    assert!(matches!(
        verified.notes[..],
        [Note::Lost {
            reason: GapReason::BehindAnchor,
            from: 3,
            to: 4,
            ..
        }]
    ));
}

#[test]
fn files_left_open_to_others_are_closed_at_open() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let active = dir.path().join("audit.log");
    let rotated = files::archive_path(&active, 1);
    for path in [&active, &rotated] {
        std::fs::write(path, b"").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let log = AuditLog::open(&config(&active, None)).unwrap();
    for path in [&active, &rotated] {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    log.close();
}

/// The last head published on `heads` once the channel closes (the log closed).
async fn final_head(mut heads: watch::Receiver<Link>) -> Link {
    let closed = async {
        while heads.changed().await.is_ok() {}
        heads.borrow().clone()
    };
    tokio::time::timeout(Duration::from_secs(10), closed)
        .await
        .expect("the head channel closes after the log does")
}

#[tokio::test]
async fn the_durable_head_is_published_while_writing_and_at_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::open(&config(&path, None)).unwrap();
    let mut heads = log.heads();
    assert_eq!(heads.borrow().seq, 0, "an empty log starts at the genesis");
    for i in 0..3 {
        append(&log, &format!("R{i}")).await.unwrap();
    }
    // Published by the fsync thread within the interval, without closing.
    tokio::time::timeout(HEAD_INTERVAL * 5, heads.changed())
        .await
        .expect("a head within the interval")
        .unwrap();
    let on_disk = verify_dir(dir.path()).outcome.unwrap().unwrap();
    assert_eq!(heads.borrow_and_update().clone(), on_disk);
    append(&log, "R3").await.unwrap();
    log.close();
    let last = final_head(heads).await;
    assert_eq!(last, verify_dir(dir.path()).outcome.unwrap().unwrap());
    assert_eq!(last.seq, 4);
}

#[tokio::test]
async fn each_rotation_publishes_the_head_of_the_file_it_closes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::open(&config(&path, Some(400))).unwrap();
    let heads = log.heads();
    for i in 0..4 {
        append(&log, &format!("R{i}")).await.unwrap();
    }
    let rotated = verify_paths(&[files::archive_path(&path, 1)], Start::Genesis).unwrap();
    let closed_file = rotated.outcome.unwrap().unwrap();
    assert!(
        heads.borrow().seq >= closed_file.seq,
        "published at rotation, before any interval: {:?} < {closed_file:?}",
        *heads.borrow()
    );
    log.close();
}
