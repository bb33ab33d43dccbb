//! `openkms server`'s own environment: an empty `OPENKMS_*` variable counts as unset, as it
//! does for the CLI's connection settings and the SDKs.
//!
//! The server is started with every one of its variables set to the empty string, in a fresh
//! directory, with a config file naming the listen address: it must take the file's listen
//! address (not refuse `""`), the default data directory `./openkms-data`, TLS, SQLite and the
//! default audit log, and serve a request.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, BIN, bare_cli, run};

/// Every variable `openkms server` reads as a setting.
const SERVER_VARIABLES: &[&str] = &[
    "OPENKMS_CONFIG",
    "OPENKMS_DATA_DIR",
    "OPENKMS_LISTEN",
    "OPENKMS_TLS_CERT",
    "OPENKMS_TLS_KEY",
    "OPENKMS_INSECURE_HTTP",
    "OPENKMS_REGION_ID",
    "OPENKMS_ACCOUNT_ID",
    "OPENKMS_DATABASE_URL",
    "OPENKMS_DATABASE_URL_FILE",
    "OPENKMS_DATABASE_POOL_SIZE",
    "OPENKMS_METRICS_LISTEN",
    "OPENKMS_CACHE_TTL_MS",
    "OPENKMS_AUDIT_LOG",
    "OPENKMS_AUDIT_MAX_BYTES",
    "OPENKMS_AUDIT_FAIL_OPEN",
    "OPENKMS_MAX_CONNECTIONS",
    "OPENKMS_MAX_CONNECTIONS_PER_SOURCE",
    "OPENKMS_REQUEST_TIMEOUT_SECS",
    "OPENKMS_AUDIT_MIN_FREE_BYTES",
    "OPENKMS_AUDIT_MIN_FREE_PERCENT",
    "OPENKMS_AUDIT_KEEP_FILES",
    "OPENKMS_AUDIT_KEEP_DAYS",
    "OPENKMS_AUDIT_UNAUTHENTICATED_PER_SECOND",
    "OPENKMS_ROOT_KEY_FILE",
    "OPENKMS_ROOT_ACCESS_KEY_SECRET_FILE",
    "OPENKMS_ALLOW_OPEN_DATA_DIR",
    "OPENKMS_ALLOW_CORE_DUMPS",
];

/// Kills the server when the test ends, however it ends.
struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn empty_server_variables_count_as_unset() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), "listen = \"127.0.0.1:0\"\n").unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["server", "--config", "c.toml"])
        .env_clear()
        .env("OPENKMS_ROOT_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("OPENKMS_ROOT_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
        .env("OPENKMS_LOG", "warn")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in SERVER_VARIABLES.iter().filter(|n| **n != "OPENKMS_CONFIG") {
        cmd.env(name, "");
    }
    let mut server = Kill(cmd.spawn().unwrap());
    let stdout = server.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(90)).unwrap_or_default();
    let url = line.trim_end().strip_prefix("openkms: ready on ");
    let url = url.unwrap_or_else(|| {
        let _ = server.0.kill();
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(&mut server.0.stderr.take().unwrap(), &mut err);
        panic!("no ready line (got {line:?}); stderr:\n{err}")
    });
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert_ne!(
        url, "https://127.0.0.1:8443",
        "the file's listen address is used"
    );
    let data = dir.path().join("openkms-data");
    assert!(data.join("root.key").is_file());
    assert!(data.join("openkms.db").is_file());

    // The CLI, with its own empty variables, reaches it with the local CA.
    let out = run(bare_cli(dir.path())
        .arg("CreateKey")
        .env("OPENKMS_ENDPOINT", url)
        .env("ALIBABA_CLOUD_CA_BUNDLE", data.join("tls").join("ca.pem"))
        .env("OPENKMS_PROFILE", "")
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let audit = std::fs::read_to_string(data.join("audit").join("audit.log")).unwrap();
    assert!(audit.contains("CreateKey"), "{audit}");
}

#[test]
fn an_empty_config_variable_is_no_config_file() {
    // OPENKMS_CONFIG= is not a file to read: with it empty, the flags alone configure.
    let dir = tempfile::tempdir().unwrap();
    let out = run(Command::new(BIN)
        .args(["server", "--listen", "nope"])
        .env_clear()
        .env("OPENKMS_CONFIG", "")
        .current_dir(dir.path())
        .stdin(Stdio::null()));
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("listen: \"nope\""), "{}", out.stderr);
}
