//! The PostgreSQL URL kept off the command line, run as the real binary: read from
//! `--database-url-file` (trimmed) and used, refused together with `--database-url`, and a
//! warning when a URL with a password is given on the command line (where every local user
//! can read it) that does not repeat the password.
//!
//! The PostgreSQL checks need `postgres://postgres@127.0.0.1:5432/test` (trust auth on
//! loopback) and `psql`; each makes a fresh database and drops it, and is skipped, saying so,
//! when the server cannot be reached. Not here: the URL leaving the environment
//! (`server/hygiene.rs`'s unit tests).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, BIN, Server};

/// Where the test databases are made.
const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh database, dropped when the test ends.
struct Database(String);

impl Database {
    /// A new database, or `None` (said on stderr) when PostgreSQL or psql is not there.
    fn create() -> Option<Self> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!(
            "openkms_urlfile_{}_{}",
            std::process::id(),
            nanos % 1_000_000_000
        );
        if psql(&format!("CREATE DATABASE {name}")) {
            Some(Self(name))
        } else {
            eprintln!("*** PostgreSQL not reachable at {ADMIN_URL}: test skipped ***");
            None
        }
    }

    fn url(&self, password: Option<&str>) -> String {
        let user = match password {
            Some(pw) => format!("postgres:{pw}"),
            None => "postgres".to_owned(),
        };
        format!("postgres://{user}@127.0.0.1:5432/{}", self.0)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        psql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.0));
    }
}

/// Runs `sql` as the admin; whether it succeeded.
fn psql(sql: &str) -> bool {
    Command::new("psql")
        .args([ADMIN_URL, "-v", "ON_ERROR_STOP=1", "-qAtc", sql])
        .env("PGCONNECT_TIMEOUT", "5")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn the_database_url_comes_from_a_file() {
    let Some(db) = Database::create() else {
        return;
    };
    let secrets = tempfile::tempdir().unwrap();
    let url_file = secrets.path().join("database-url");
    fs::write(&url_file, format!("  {}\n", db.url(None))).unwrap();
    fs::set_permissions(&url_file, fs::Permissions::from_mode(0o600)).unwrap();
    let server = Server::start_with(&["--database-url-file", url_file.to_str().unwrap()]);
    server.create_key();
    // The keys went to PostgreSQL: no SQLite database was made.
    assert!(!server.dir.path().join("data").join("openkms.db").exists());
    assert!(!server.log().contains("command line"), "{}", server.log());
}

#[test]
fn a_password_on_the_command_line_is_warned_about_without_showing_it() {
    let Some(db) = Database::create() else {
        return;
    };
    // Trust authentication ignores the password, so the server starts with it.
    let password = "NotShownAnywhere42";
    let url = db.url(Some(password));
    let server = Server::start_with(&["--database-url", &url]);
    server.create_key();
    let log = server.log();
    assert!(log.contains("on the command line"), "{log}");
    assert!(log.contains("--database-url-file"), "{log}");
    assert!(!log.contains(password), "{log}");
}

#[test]
fn a_url_and_a_url_file_are_refused_together() {
    let dir = tempfile::tempdir().unwrap();
    let url_file = dir.path().join("database-url");
    fs::write(&url_file, "postgres://postgres@127.0.0.1:5432/none\n").unwrap();
    let log = dir.path().join("stderr");
    let mut child = Command::new(BIN)
        .arg("server")
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--database-url-file", url_file.to_str().unwrap()])
        .env_clear()
        .env(
            "OPENKMS_DATABASE_URL",
            "postgres://postgres:Hidden99@127.0.0.1:5432/none",
        )
        .env("OPENKMS_ROOT_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("OPENKMS_ROOT_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the server started with both a URL and a URL file");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = fs::read_to_string(&log).unwrap();
    assert!(!status.success());
    assert!(
        stderr.contains("database_url_file: cannot be combined with database_url"),
        "{stderr}"
    );
    assert!(!stderr.contains("Hidden99"), "{stderr}");
}
