//! The audit log against a hostile or careless outside (issue 13, findings 3 and 4), through
//! a real server in this process: a flood of unsigned junk with 4 KB claimed identifiers
//! grows the log by less than the stated bound while signed requests are still each
//! recorded in full; a full audit volume refuses requests before they change anything; the
//! audit directory removed or the active file renamed while the server runs is noticed, the
//! next line lands in a new file after a `gap` line, and verifying reports the loss.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // shared with server.rs; this file uses part of it
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use openkms_api::ServerOptions;
use openkms_api::audit::flood::{MAX_SUMMARY_LINE, WINDOW};
use openkms_api::audit::record::MAX_COMPACT_LINE;
use openkms_api::audit::{
    AuditConfig, AuditLog, DEFAULT_UNAUTHENTICATED_PER_SECOND, GapReason, Note, Start, verify_paths,
};
use openkms_client::ClientError;
use serde_json::Value;
use support::{BareConnection, TestServer, Transport};

/// A server recording to an audit log in its own temporary directory.
struct Audited {
    server: TestServer,
    log: AuditLog,
    dir: tempfile::TempDir,
}

impl Audited {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = AuditConfig {
            sync_interval: Duration::from_millis(20),
            ..AuditConfig::new(dir.path().join("audit").join("audit.log"))
        };
        let log = AuditLog::open(&config).unwrap();
        let for_app = log.clone();
        let server = TestServer::start_custom(Transport::Http, ServerOptions::default(), |app| {
            app.with_audit(for_app)
        })
        .await;
        Self { server, log, dir }
    }

    fn audit_dir(&self) -> PathBuf {
        self.dir.path().join("audit")
    }

    fn active(&self) -> PathBuf {
        self.audit_dir().join("audit.log")
    }

    fn bytes(&self) -> u64 {
        std::fs::metadata(self.active()).map_or(0, |m| m.len())
    }

    async fn encrypt(&self, key: &str) -> Result<Value, ClientError> {
        self.server
            .client
            .call("Encrypt", &[("KeyId", key), ("Plaintext", "aGVsbG8=")])
            .await
    }
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Sends `count` unsigned requests claiming a 4 KB AccessKeyId and KeyId on one
/// connection, each answered before the next.
async fn junk(addr: std::net::SocketAddr, count: usize) {
    let claim = "A".repeat(4096);
    let request = format!(
        "GET /?Action=Encrypt&Version=2016-01-20&AccessKeyId={claim}&KeyId={claim}\
         &Signature=junk&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0\
         &SignatureNonce=n&Timestamp=2020-01-01T00:00:00Z&Format=JSON HTTP/1.1\r\n\
         Host: kms\r\n\r\n"
    );
    let mut conn = BareConnection::connect(addr).await;
    for _ in 0..count {
        conn.send(request.as_bytes()).await;
        let reply = conn.read_reply(Duration::from_secs(20)).await;
        assert!((400..500).contains(&reply.status), "{}", reply.status);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_junk_grows_the_log_within_the_bound() {
    let audited = Audited::start().await;
    let key = audited.server.key().await;
    audited.encrypt(&key).await.unwrap();
    let before = audited.bytes();
    let started = Instant::now();
    let senders: Vec<_> = (0..4)
        .map(|_| tokio::spawn(junk(audited.server.addr, 1000)))
        .collect();
    for s in senders {
        s.await.unwrap();
    }
    // Let the ticker write the last window's summary.
    tokio::time::sleep(WINDOW * 2).await;
    let elapsed = started.elapsed();
    let grown = audited.bytes() - before;
    let per_second = DEFAULT_UNAUTHENTICATED_PER_SECOND as u64 * MAX_COMPACT_LINE as u64
        + MAX_SUMMARY_LINE as u64;
    let windows = elapsed.as_secs() + 2;
    let bound = per_second * windows;
    assert!(
        grown <= bound,
        "4000 junk requests grew the log by {grown} bytes in {elapsed:?}; bound {bound}"
    );
    // Signed requests are still each recorded, in full.
    for _ in 0..20 {
        audited.encrypt(&key).await.unwrap();
    }
    audited.log.close();
    let all = lines(&audited.active());
    let suppressed: u64 = all
        .iter()
        .filter(|l| l["event"] == "suppressed")
        .map(|l| l["count"].as_u64().unwrap())
        .sum();
    let written = all.iter().filter(|l| l["truncated"] == true).count() as u64;
    assert_eq!(
        written + suppressed,
        4000,
        "every junk request written or counted"
    );
    let signed: Vec<&Value> = all.iter().filter(|l| l["user"] == "root").collect();
    assert_eq!(signed.len(), 21);
    assert!(signed.iter().all(|l| l["access_key_id"] == support::AK_ID
        && l["key_id"] == key.as_str()
        && l.get("truncated").is_none()));
    let verified = verify_paths(&[audited.audit_dir()], Start::Genesis).unwrap();
    assert!(verified.outcome.is_ok(), "{:?}", verified.outcome);
}

#[tokio::test]
async fn a_full_audit_volume_refuses_requests_before_they_run() {
    let audited = Audited::start().await;
    let client = &audited.server.client;
    let key = audited.server.key().await;
    audited.log.fake_free_space(Some(0));
    let e = client.call("CreateKey", &[]).await.unwrap_err();
    let ClientError::Api { status, code, .. } = &e else {
        panic!("expected an API error, got {e}");
    };
    assert_eq!((*status, code.as_str()), (500, "InternalFailure"));
    let e = audited.encrypt(&key).await.unwrap_err();
    assert_eq!(e.api_code(), Some("InternalFailure"));
    audited.log.fake_free_space(Some(u64::MAX / 2));
    let listed = client.call("ListKeys", &[]).await.unwrap();
    assert_eq!(
        listed["Keys"]["Key"].as_array().unwrap().len(),
        1,
        "the refused CreateKey created nothing"
    );
    audited.encrypt(&key).await.unwrap();
}

async fn loss_is_recorded(lose: impl FnOnce(&Audited)) {
    let audited = Audited::start().await;
    let key = audited.server.key().await;
    audited.encrypt(&key).await.unwrap();
    audited.encrypt(&key).await.unwrap();
    lose(&audited);
    audited.encrypt(&key).await.unwrap();
    audited.log.close();
    let new = lines(&audited.active());
    assert_eq!(new[0]["event"], "gap", "{new:?}");
    assert_eq!(new[0]["reason"], "removed");
    assert_eq!(
        (new[0]["from_seq"].as_u64(), new[0]["to_seq"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(
        (new[1]["action"].as_str(), new[1]["seq"].as_u64()),
        (Some("Encrypt"), Some(4))
    );
    let verified = verify_paths(&[audited.audit_dir()], Start::Genesis).unwrap();
    assert_eq!(verified.outcome.unwrap().unwrap().seq, 4);
    assert!(matches!(
        verified.notes[..],
        [Note::Lost {
            reason: GapReason::Removed,
            from: 1,
            to: 2,
            ..
        }]
    ));
}

#[tokio::test]
async fn a_removed_audit_directory_is_noticed_before_the_next_line() {
    loss_is_recorded(|a| std::fs::remove_dir_all(a.audit_dir()).unwrap()).await;
}

#[tokio::test]
async fn a_renamed_active_file_is_noticed_before_the_next_line() {
    loss_is_recorded(|a| std::fs::rename(a.active(), a.dir.path().join("moved.log")).unwrap())
        .await;
}
