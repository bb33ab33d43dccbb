//! End-to-end tests of the audit log: a real `openkms server` over TLS, requests through
//! `openkms-client`, and `openkms audit verify` on the files the server wrote.
//!
//! Covered: a success and a refused request (bad signature) each leave one line with the
//! caller, action, key and outcome; no plaintext, ciphertext or secret reaches the file; the
//! real log verifies, and fails to after a line is altered or a rotated file removed; when the
//! log cannot be written, requests fail with 500 `InternalFailure`, unless fail-open; a
//! request whose client hangs up at once still completes and is recorded.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use common::{ACCESS_KEY_ID as AK_ID, ACCESS_KEY_SECRET as AK_SECRET, BIN, Server, run};
use openkms_client::{ClientError, RawRequest};
use serde_json::Value;

/// Every line of the log's files, in order, parsed.
fn records(dir: &Path) -> Vec<Value> {
    openkms_api::audit::log_files(dir)
        .unwrap()
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `openkms audit verify <paths>`: exit code, stdout, stderr.
fn verify(paths: &[&Path]) -> (i32, String, String) {
    let out = run(Command::new(BIN)
        .args(["audit", "verify"])
        .args(paths)
        .env_clear());
    (out.code, out.stdout, out.stderr)
}

#[tokio::test]
async fn requests_are_recorded_without_secrets_and_the_log_verifies() {
    let server = Server::start();
    let client = server.client(AK_SECRET);
    let created = client.call("CreateKey", &[]).await.unwrap();
    let key_id = created["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let plaintext = "audit-test: the plaintext that must never be logged";
    let b64 = base64::engine::general_purpose::STANDARD.encode(plaintext);
    let encrypted = client
        .call("Encrypt", &[("KeyId", &key_id), ("Plaintext", &b64)])
        .await
        .unwrap();
    let blob = encrypted["CiphertextBlob"].as_str().unwrap();
    let version = encrypted["KeyVersionId"].as_str().unwrap();
    client
        .call("Decrypt", &[("CiphertextBlob", blob)])
        .await
        .unwrap();
    let forger = server.client("WrongSecretWrongSecretWrong0");
    let refused = forger
        .call("Encrypt", &[("KeyId", &key_id), ("Plaintext", &b64)])
        .await
        .unwrap_err();
    assert_eq!(refused.api_code(), Some("SignatureDoesNotMatch"));

    let lines = records(&server.audit_dir());
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let encrypt = &lines[1];
    assert_eq!(encrypt["action"], "Encrypt");
    assert_eq!(encrypt["outcome"], "OK");
    assert_eq!(encrypt["status"], 200);
    assert_eq!(encrypt["access_key_id"], AK_ID);
    assert_eq!(encrypt["user"], "root");
    assert_eq!(encrypt["key_id"], key_id.as_str());
    assert_eq!(encrypt["key_version_id"], version);
    assert!(
        encrypt["source"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert!(encrypt["request_id"].as_str().unwrap().len() >= 32);
    assert!(encrypt["latency_us"].is_u64() && encrypt["time"].is_string());
    assert_eq!(
        lines[0]["key_id"],
        key_id.as_str(),
        "CreateKey names its key"
    );
    assert_eq!(lines[2]["action"], "Decrypt");
    assert_eq!(lines[2]["key_id"], key_id.as_str());
    let bad = &lines[3];
    assert_eq!(bad["outcome"], "SignatureDoesNotMatch");
    assert_eq!(bad["status"], 400);
    assert_eq!(bad["access_key_id"], AK_ID, "the claimed AccessKeyId");
    assert_eq!(bad["user"], Value::Null, "not authenticated");
    assert_eq!(bad["action"], "Encrypt");
    assert_eq!(bad["key_id"], key_id.as_str());

    let path = server.audit_dir().join("audit.log");
    let text = std::fs::read_to_string(&path).unwrap();
    for secret in [plaintext, &b64, blob, AK_SECRET, "WrongSecret"] {
        assert!(!text.contains(secret), "{secret} leaked into the audit log");
    }

    let (code, stdout, stderr) = verify(&[&server.audit_dir()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("intact: 4 lines"), "{stdout}");

    // Alter the second line: verify names it.
    let mut altered: Vec<String> = text.lines().map(str::to_owned).collect();
    altered[1] = altered[1].replace("\"status\":200", "\"status\":201");
    let tampered = altered.join("\n") + "\n";
    assert_ne!(tampered, text);
    std::fs::write(&path, tampered).unwrap();
    let (code, _, stderr) = verify(&[&path]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("audit.log line 2: altered"), "{stderr}");
}

#[tokio::test]
async fn rotation_keeps_the_chain_across_files() {
    let server = Server::start_with(&["--audit-max-bytes", "1"]);
    let client = server.client(AK_SECRET);
    for _ in 0..4 {
        client.call("DescribeRegions", &[]).await.unwrap();
    }
    let dir = server.audit_dir();
    let files = openkms_api::audit::log_files(&dir).unwrap();
    assert_eq!(files.len(), 4, "{files:?}");
    assert_eq!(files[0], dir.join("audit.log.1"));
    let (code, stdout, stderr) = verify(&[&dir]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("4 lines in 4 file(s)"), "{stdout}");
    // The same files named one by one, in order, verify too; out of order they do not.
    let named: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    assert_eq!(verify(&named).0, 0);
    let (code, _, stderr) = verify(&[named[1], named[0]]);
    assert_eq!(code, 1, "{stderr}");
    // A rotated file removed: reported where its lines are missing.
    std::fs::remove_file(dir.join("audit.log.2")).unwrap();
    let (code, _, stderr) = verify(&[&dir]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("audit.log.3 line 1: seq 3 where 2"),
        "{stderr}"
    );
}

/// Makes the log unwritable after start: every line rotates, and the directory the file
/// lives in becomes a plain file (this works for root too, unlike permissions).
fn break_the_log(server: &Server) {
    let dir = server.audit_dir();
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, "not a directory").unwrap();
}

#[tokio::test]
async fn an_unwritable_log_fails_requests() {
    let server = Server::start_with(&["--audit-max-bytes", "1"]);
    let client = server.client(AK_SECRET);
    client.call("DescribeRegions", &[]).await.unwrap();
    break_the_log(&server);
    let e = client.call("DescribeRegions", &[]).await.unwrap_err();
    let ClientError::Api { status, code, .. } = &e else {
        panic!("expected an API error, got {e}");
    };
    assert_eq!((*status, code.as_str()), (500, "InternalFailure"));
}

#[tokio::test]
async fn fail_open_serves_requests_it_cannot_record() {
    let server = Server::start_with(&["--audit-max-bytes", "1", "--audit-fail-open"]);
    let client = server.client(AK_SECRET);
    client.call("DescribeRegions", &[]).await.unwrap();
    break_the_log(&server);
    client.call("DescribeRegions", &[]).await.unwrap();
}

#[tokio::test]
async fn a_request_whose_client_hangs_up_is_still_recorded() {
    let server = Server::start_with(&["--insecure-http"]);
    let client = server.client(AK_SECRET);
    let addr = server.url.trim_start_matches("http://").to_owned();
    const ABANDONED: usize = 8;
    for _ in 0..ABANDONED {
        // CreateKey waits for its commit; the client sends it and closes at once.
        let req = client.prepare(RawRequest::new("CreateKey")).unwrap();
        let body = req.form_body.clone().unwrap_or_default();
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n",
            req.method.as_str(),
            req.path_and_query,
            body.len()
        );
        if req.form_body.is_some() {
            head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        }
        for (name, value) in &req.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream
            .write_all(format!("{head}\r\n{body}").as_bytes())
            .unwrap();
        drop(stream);
    }
    // Every abandoned request runs to completion, and every key created has its line.
    let recorded = |lines: &[Value]| {
        lines
            .iter()
            .filter(|l| l["action"] == "CreateKey" && l["outcome"] == "OK")
            .count()
    };
    let mut counts = (0, 0);
    for _ in 0..100 {
        let keys = client
            .call("ListKeys", &[("PageSize", "100")])
            .await
            .unwrap();
        let created = usize::try_from(keys["TotalCount"].as_u64().unwrap()).unwrap();
        counts = (created, recorded(&records(&server.audit_dir())));
        if counts == (ABANDONED, ABANDONED) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(counts, (ABANDONED, ABANDONED), "(keys created, lines)");
}

#[test]
fn verify_reports_unreadable_files() {
    let (code, _, stderr) = verify(&[Path::new("/nonexistent/audit.log")]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot read /nonexistent/audit.log"),
        "{stderr}"
    );
}
