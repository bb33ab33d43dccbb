//! Requests refused before the API sees them, in process: a head over the limit is the
//! handler's 431 in the API's error format with a `RequestId` and an audit line, and bytes
//! hyper cannot read as a request (answered by hyper itself) still leave an audit line.
//!
//! Not here: body deadlines and connection caps (server.rs), the bad-input catalogue
//! (tests/e2e/test_bad_input.py).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use openkms_api::ServerOptions;
use openkms_api::audit::{AuditConfig, AuditLog};
use serde_json::Value;
use support::{BareConnection, TestServer, Transport};

const PROMPTLY: Duration = Duration::from_secs(10);

async fn audited(dir: &Path) -> TestServer {
    let log = AuditLog::open(&AuditConfig::new(dir.join("audit.log"))).unwrap();
    TestServer::start_custom(Transport::Http, ServerOptions::default(), |app| {
        app.with_audit(log)
    })
    .await
}

/// The audit lines, once one contains `needle` (waiting for it a while).
async fn line_with(dir: &Path, needle: &str) -> Value {
    let started = Instant::now();
    while started.elapsed() < PROMPTLY {
        let text = std::fs::read_to_string(dir.join("audit.log")).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains(needle)) {
            return serde_json::from_str(line).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no audit line with {needle}");
}

#[tokio::test]
async fn a_head_over_the_limit_is_431_in_the_api_format_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let server = audited(dir.path()).await;
    let mut conn = BareConnection::connect(server.addr).await;
    let padding = "x".repeat(150 * 1024);
    let head = format!(
        "POST /?Action=ListKeys HTTP/1.1\r\nhost: {}\r\nx-padding: {padding}\r\ncontent-length: 0\r\n\r\n",
        server.addr
    );
    conn.send(head.as_bytes()).await;
    let reply = conn.read_reply(PROMPTLY).await;
    assert_eq!(reply.status, 431);
    let body: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(body["Code"], "InvalidParameter");
    let request_id = body["RequestId"].as_str().unwrap();
    assert_eq!(request_id.len(), 36);
    let line = line_with(dir.path(), request_id).await;
    assert_eq!(line["status"], 431);
}

#[tokio::test]
async fn bytes_that_are_no_request_leave_an_audit_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = audited(dir.path()).await;
    let mut conn = BareConnection::connect(server.addr).await;
    conn.send(b"NOT A REQUEST LINE\r\n\r\n").await;
    let (status, _) = conn.read_head(PROMPTLY).await;
    assert_eq!(status, 400);
    let line = line_with(dir.path(), "MalformedRequest").await;
    assert_eq!(line["status"], 400);
    assert_eq!(line["request_id"].as_str().unwrap().len(), 36);
    assert!(line["source"].as_str().unwrap().starts_with("127.0.0.1:"));
}
