//! What the PostgreSQL integration tests share: finding the database, skipping or failing
//! when it is absent, and one fresh schema per test.
//!
//! The database is `OPENKMS_TEST_DATABASE_URL` (default [`DEFAULT_URL`]). It is probed once
//! per test binary. If it cannot be reached, the tests fail when `CI` is set, and otherwise
//! return early after saying so on the terminal (written past libtest's output capture, so
//! a passing-but-skipped run is visible). This module owns no checks.
#![allow(dead_code)]

use std::io::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_postgres::NoTls;

/// The database used when `OPENKMS_TEST_DATABASE_URL` is unset (trust auth on loopback).
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Connections per store in the tests: enough for real concurrency, few enough that the
/// checks running in parallel stay far below `max_connections`.
pub const POOL_SIZE: usize = 4;

/// The test database URL.
pub fn database_url() -> String {
    std::env::var("OPENKMS_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// Whether `CI` is set to something other than empty, `0` or `false`.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// Whether the database is usable. Panics under CI when it is not; otherwise tells the
/// terminal once that the PostgreSQL tests were NOT run.
pub fn database_available() -> bool {
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    static TOLD: OnceLock<()> = OnceLock::new();
    let Err(reason) = PROBE.get_or_init(probe_from_own_thread) else {
        return true;
    };
    let url = redact(&database_url());
    if in_ci() {
        panic!("CI is set but PostgreSQL is not reachable at {url}: {reason}");
    }
    TOLD.get_or_init(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\n*** PostgreSQL not reachable at {url} ({reason}): conformance suite NOT run \
             (every PostgreSQL test here is skipped). \
             Set OPENKMS_TEST_DATABASE_URL to run it. ***\n"
        );
    });
    false
}

/// Runs [`probe`] on a thread of its own, since the caller may be inside a runtime (which
/// cannot block).
fn probe_from_own_thread() -> Result<(), String> {
    std::thread::spawn(probe)
        .join()
        .unwrap_or_else(|_| Err("the probe panicked".to_owned()))
}

/// Connects once and runs `SELECT 1`, on a runtime of its own.
fn probe() -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let attempt = async {
            let client = raw_client(None).await?;
            client.simple_query("SELECT 1").await?;
            Ok::<_, tokio_postgres::Error>(())
        };
        match tokio::time::timeout(Duration::from_secs(10), attempt).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(describe(&e)),
            Err(_) => Err("timed out".to_owned()),
        }
    })
}

/// The error and its cause ("connection refused" hides in the cause).
fn describe(error: &tokio_postgres::Error) -> String {
    match std::error::Error::source(error) {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

/// The URL with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(a key=value connection string)".to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// A plain connection to the test database, its `search_path` set to `schema` if given.
pub async fn raw_client(
    schema: Option<&str>,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(&database_url(), NoTls).await?;
    tokio::spawn(connection);
    if let Some(schema) = schema {
        client
            .batch_execute(&format!("SET search_path TO \"{schema}\""))
            .await?;
    }
    Ok(client)
}

/// A schema name no other test, process or earlier run uses.
fn unique_schema_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("openkms_test_{}_{n}_{nanos}", std::process::id())
}

/// A fresh schema name for one test; the schema (once a store creates it) is dropped with
/// everything in it when this value is dropped.
pub struct TestSchema {
    /// The schema name.
    pub name: String,
}

impl TestSchema {
    /// A new, unused name.
    pub fn new() -> Self {
        Self {
            name: unique_schema_name(),
        }
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        // Drop may run inside a runtime, which cannot block: clean up from a thread of its own.
        let name = self.name.clone();
        let cleanup = std::thread::spawn(move || drop_schema(&name));
        let _ = cleanup.join();
    }
}

/// `DROP SCHEMA ... CASCADE`, best effort: a leftover schema only costs disk space.
fn drop_schema(name: &str) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async {
        if let Ok(client) = raw_client(None).await {
            // Never wait long for a lock: a session the test left open must not hang it.
            let sql = format!("SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS \"{name}\" CASCADE");
            let _ = client.batch_execute(&sql).await;
        }
    });
}
