//! Proves that writes acknowledged by [`SqliteStore`] survive the process being killed.
//!
//! The test re-runs its own binary as a child in "writer" mode: the child creates keys from
//! several tasks at once and prints `ACK <key id>` after each `create_key` returns `Ok`. The
//! parent kills it with SIGKILL partway through, reopens the database, and checks that every
//! acknowledged key is there, whole. The assertions do not depend on timing: however many
//! acks arrive before the kill, each one must be durable. This file does not test power loss
//! (that needs `synchronous=FULL` and a real disk, not a killed process).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use openkms_core::{KeyStore, TagStore};
use openkms_store_sqlite::SqliteStore;
use openkms_store_tests::fixtures::{disabled_key, key_id};

/// Set in the child's environment to the database path; selects writer mode.
const CHILD_DB_ENV: &str = "OPENKMS_SQLITE_SIGKILL_CHILD_DB";
/// Acknowledgements to wait for before killing the child.
const ACKS_BEFORE_KILL: usize = 300;
/// Concurrent writer tasks in the child, so writes are in flight when it dies.
const CHILD_WRITERS: u32 = 8;
/// Keys each child task writes at most (the child normally dies long before).
const KEYS_PER_WRITER: u32 = 100_000;
/// How long the parent waits for the next acknowledgement before giving up.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);

/// Kills and reaps the child however the test ends, so no writer is left running.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts this test binary as the writer child over `db`.
fn spawn_child(db: &Path) -> KillOnDrop {
    let exe = std::env::current_exe().expect("the test binary's path");
    let child = Command::new(exe)
        .args([
            "--exact",
            "sigkill_child_writer",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DB_ENV, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the writer child");
    KillOnDrop(child)
}

/// Reads the child's acknowledged key ids until `want` arrive; fewer if its output ends.
fn collect_acks(child: &mut KillOnDrop, want: usize) -> Vec<String> {
    let stdout = child.0.stdout.take().expect("the child's stdout is piped");
    let (lines, acks) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(id) = line.strip_prefix("ACK ") {
                if lines.send(id.to_owned()).is_err() {
                    break;
                }
            }
        }
    });
    let mut ids = Vec::with_capacity(want);
    while ids.len() < want {
        match acks.recv_timeout(ACK_TIMEOUT) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
    }
    ids
}

/// Asserts that every acknowledged key reads back whole from a reopened store.
async fn assert_all_present(db: &Path, acked: &[String]) {
    let store = SqliteStore::open(db).expect("reopen the database after the kill");
    for id in acked {
        let n = parse_n(id);
        let expected = disabled_key(n);
        let key = store.get_key(id).await.expect("get_key");
        assert_eq!(
            key,
            Some(expected.key),
            "acknowledged key {id} survives SIGKILL"
        );
        let version = store
            .get_version(&expected.version.version_id)
            .await
            .expect("get");
        assert_eq!(version, Some(expected.version), "its version survives too");
        let tags = store.list_tags(id).await.expect("list_tags");
        assert_eq!(tags, expected.tags, "its tags survive too");
    }
}

/// The fixture number encoded in a key id made by `key_id(n)`.
fn parse_n(id: &str) -> u32 {
    let n = u32::from_str_radix(&id[..8], 16).expect("a fixture key id");
    assert_eq!(key_id(n), id, "the child acknowledged a fixture key id");
    n
}

/// Asserts that SQLite finds the database file itself intact.
fn assert_integrity(db: &PathBuf) {
    let conn = rusqlite::Connection::open(db).expect("open the database");
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check");
    assert_eq!(verdict, "ok", "the database is intact after SIGKILL");
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("openkms.db");
    let mut child = spawn_child(&db);
    let acked = collect_acks(&mut child, ACKS_BEFORE_KILL);
    child.0.kill().expect("SIGKILL the writer child");
    let status = child.0.wait().expect("reap the writer child");
    assert!(
        !status.success(),
        "the child was killed, not finished: {status:?}"
    );
    assert_eq!(
        acked.len(),
        ACKS_BEFORE_KILL,
        "the child acknowledged writes before the kill"
    );
    assert_integrity(&db);
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(assert_all_present(&db, &acked));
}

/// The writer child: only runs when the parent test starts it.
#[test]
#[ignore = "the child process of acknowledged_writes_survive_sigkill"]
fn sigkill_child_writer() {
    let Some(db) = std::env::var_os(CHILD_DB_ENV) else {
        return;
    };
    let store = std::sync::Arc::new(SqliteStore::open(Path::new(&db)).expect("open"));
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async move {
        let mut writers = tokio::task::JoinSet::new();
        for writer in 0..CHILD_WRITERS {
            writers.spawn(write_keys(std::sync::Arc::clone(&store), writer));
        }
        while writers.join_next().await.is_some() {}
    });
}

/// Creates keys `writer`, `writer + CHILD_WRITERS`, ...; prints an ack after each `Ok`.
async fn write_keys(store: std::sync::Arc<SqliteStore>, writer: u32) {
    for i in 0..KEYS_PER_WRITER {
        let new = disabled_key(i * CHILD_WRITERS + writer);
        store
            .create_key(&new.key, &new.version, &new.tags)
            .await
            .expect("create_key");
        let mut out = std::io::stdout().lock();
        writeln!(out, "ACK {}", new.key.key_id).expect("write the ack");
        out.flush().expect("flush the ack");
    }
}
