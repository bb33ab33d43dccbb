//! File and process hygiene of `openkms server`, run as the real binary: everything in the
//! data directory private to the server's user, no core dumps, an open data directory or a
//! short chosen root secret refused at start, and the root key and root secret read from
//! files instead of the environment.
//!
//! Not here: the environment being emptied of secrets (`server/hygiene.rs`'s unit tests) or
//! what the settings mean (docs/configuration.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, BIN, Server, mode};

/// Every file and directory under `dir`, recursively.
fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(entries(&path));
        }
        out.push(path);
    }
    out
}

#[test]
fn everything_in_the_data_dir_is_private_and_no_core_is_dumped() {
    let server = Server::start();
    server.create_key();
    let data = server.dir.path().join("data");
    assert_eq!(mode(&data), 0o700);
    let all = entries(&data);
    assert!(all.iter().any(|p| p.ends_with("openkms.db-wal")), "{all:?}");
    for path in all {
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), expected, "{}", path.display());
    }
    let limits = fs::read_to_string(format!("/proc/{}/limits", server.pid())).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(fields[4..6], ["0", "0"], "{core}");
}

/// The exit code and stderr of `openkms server` with `args` and `env`, or `None` if it was
/// still running after a while (it was killed then).
fn start_fails(args: &[&str], env: &[(&str, &str)]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr");
    let mut child = Command::new(BIN)
        .arg("server")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success());
            return Some(fs::read_to_string(&log).unwrap());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn an_open_data_dir_and_a_short_root_secret_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).unwrap();
    let open = open.to_str().unwrap();
    let credentials = [
        ("OPENKMS_ROOT_ACCESS_KEY_ID", ACCESS_KEY_ID),
        ("OPENKMS_ROOT_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET),
    ];
    let refused = start_fails(&["--data-dir", open], &credentials).expect("it starts");
    assert!(refused.contains("chmod 700"), "{refused}");
    let fresh = dir.path().join("fresh");
    let short = [
        ("OPENKMS_ROOT_ACCESS_KEY_ID", ACCESS_KEY_ID),
        ("OPENKMS_ROOT_ACCESS_KEY_SECRET", "x"),
    ];
    let refused = start_fails(&["--data-dir", fresh.to_str().unwrap()], &short);
    let refused = refused.expect("it starts");
    assert!(refused.contains("at least 16"), "{refused}");
}

#[test]
fn the_root_key_and_secret_come_from_files() {
    let secrets = tempfile::tempdir().unwrap();
    let key_file = secrets.path().join("root-key");
    fs::write(&key_file, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").unwrap();
    let secret_file = secrets.path().join("root-secret");
    fs::write(&secret_file, format!("{ACCESS_KEY_SECRET}\n")).unwrap();
    for file in [&key_file, &secret_file] {
        fs::set_permissions(file, fs::Permissions::from_mode(0o600)).unwrap();
    }
    let server = Server::start_with_env(
        &[
            "--root-key-file",
            key_file.to_str().unwrap(),
            "--root-access-key-secret-file",
            secret_file.to_str().unwrap(),
        ],
        &[("OPENKMS_ROOT_ACCESS_KEY_ID", ACCESS_KEY_ID)],
    );
    // Signed with the secret from the file; no root.key was made, the file's key is used.
    server.create_key();
    assert!(!server.dir.path().join("data").join("root.key").exists());
}
