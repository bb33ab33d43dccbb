//! The server's configuration file (`crates/openkms/src/config.rs`, compiled in here by
//! path: the binary crate has no library to link), loaded through `ServerConfig::load` as
//! `openkms server --config <file>` loads it.
//!
//! Checks: no panic; what loads is valid (a region of lowercase letters, digits and `-`, an
//! account of 1 to 32 digits, a pool size of 1 to 1024, a cache TTL of 1 to 3,600,000 ms,
//! PostgreSQL only for postgres:// URLs); neither the loaded configuration's `Debug` nor a
//! refusal shows the password of a database URL.
#![no_main]

#[allow(dead_code, unused_imports)]
#[path = "../../crates/openkms/src/config.rs"]
mod config;

/// What config.rs uses of the binary's CLI module.
mod cli {
    pub mod profile {
        pub(crate) fn path_or_empty(
            value: &str,
        ) -> Result<std::path::PathBuf, std::convert::Infallible> {
            Ok(std::path::PathBuf::from(value))
        }
    }
}

/// What config.rs uses of the binary's `files` module (there it also warns when the file is
/// readable by others, which changes nothing a fuzz input can reach).
mod files {
    pub(crate) fn read_private(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
        Ok(std::fs::read(path)?)
    }
}

use std::path::PathBuf;
use std::sync::OnceLock;

use config::{ServerArgs, ServerConfig, Storage};
use libfuzzer_sys::fuzz_target;

/// The password the fuzzer finds in the seeds' database URLs.
const PASSWORD: &str = "s3cretPassw0rd";

fuzz_target!(|data: &[u8]| {
    let path = scratch_file();
    std::fs::write(path, data).expect("the scratch file is writable");
    let args = ServerArgs {
        config: Some(path.clone()),
        ..Default::default()
    };
    let loaded = ServerConfig::load(args);
    let shown = match &loaded {
        Ok(c) => format!("{c:?}"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        !shown.contains(PASSWORD) || quoted_elsewhere(data),
        "the database password was shown: {shown}"
    );
    let Ok(c) = loaded else {
        return;
    };
    assert!(!c.region_id.is_empty() && c.region_id.len() <= 64);
    assert!(
        c.region_id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    );
    if let Some(a) = &c.account_id {
        assert!((1..=32).contains(&a.len()) && a.bytes().all(|b| b.is_ascii_digit()));
    }
    if let Storage::Postgres { url, pool_size } = &c.storage {
        assert!(url.0.starts_with("postgres://") || url.0.starts_with("postgresql://"));
        assert!((1..=1024).contains(pool_size));
    }
    if let Some(ms) = c.cache_ttl_ms {
        assert!((1..=3_600_000).contains(&ms));
    }
});

/// Whether the password is also in the input outside `database_url` (a key, or the value of
/// another setting such as an invalid `account_id`, which a refusal may quote): there it is
/// not the database's password, and a message naming it shows nothing secret.
fn quoted_elsewhere(data: &[u8]) -> bool {
    let Ok(table) = std::str::from_utf8(data).map(str::parse::<toml::Table>) else {
        return false;
    };
    let Ok(table) = table else {
        return false;
    };
    table
        .iter()
        .any(|(k, v)| k.contains(PASSWORD) || (k != "database_url" && holds_password(v)))
}

/// Whether a TOML value holds the password in a string or a key, however deep.
fn holds_password(value: &toml::Value) -> bool {
    match value {
        toml::Value::String(s) => s.contains(PASSWORD),
        toml::Value::Array(a) => a.iter().any(holds_password),
        toml::Value::Table(t) => t
            .iter()
            .any(|(k, v)| k.contains(PASSWORD) || holds_password(v)),
        _ => false,
    }
}

/// One file per process, rewritten for every input (in memory where /dev/shm exists).
fn scratch_file() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = ["/dev/shm", "/tmp"]
            .iter()
            .map(PathBuf::from)
            .find(|d| d.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        dir.join(format!("openkms-fuzz-config-{}.toml", std::process::id()))
    })
}
