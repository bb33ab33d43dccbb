//! Keeping the server's secrets to itself: secrets taken out of the environment, no core
//! dumps, files and directories private to the server's user.
//!
//! - [`EnvSecrets::take`] reads the root key, the chosen root AccessKey and the PKCS#11 PIN
//!   from the environment and removes them from it, first thing, while the process has one thread:
//!   later threads, child processes and `std::env` no longer see them. (The kernel's copy of
//!   the initial environment, `/proc/<pid>/environ`, keeps its bytes; the non-dumpable flag
//!   below makes it readable by root only. The file settings keep them out of it altogether.)
//!   `OPENKMS_DATABASE_URL` (its password) is removed the same way, after the arguments were
//!   read; [`database_password_in_arguments`] says when the URL's password sits on the command
//!   line instead, where every local user can read it (`/proc/<pid>/cmdline`, `ps`).
//! - [`harden_process`]: not dumpable (`PR_SET_DUMPABLE` 0: no core file, no ptrace attach by
//!   the same user, `/proc/<pid>/mem` and `environ` owned by root) and `RLIMIT_CORE` 0, unless
//!   `allow_core_dumps`; and a umask of 077, so every file the server creates (the database and
//!   its `-wal` and `-shm`, the audit log, TLS files) is mode 0600 and every directory 0700.
//! - [`check_data_dir`] refuses a data directory other users may enter or read (as
//!   PostgreSQL does), unless `allow_open_data_dir`, which starts with a warning.
//! - [`tighten`] takes group and other permissions off database files an older version left
//!   readable.
//!
//! Which secrets exist and what they unlock is decided elsewhere.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use openkms_core::SecretBytes;
use rustix::process::{DumpableBehavior, Resource, Rlimit};

/// The root key as base64, instead of a file.
pub const ENV_ROOT_KEY: &str = "OPENKMS_ROOT_KEY";
/// The root AccessKey id chosen at the first start.
pub const ENV_ROOT_AK_ID: &str = "OPENKMS_ROOT_ACCESS_KEY_ID";
/// Its secret.
pub const ENV_ROOT_AK_SECRET: &str = "OPENKMS_ROOT_ACCESS_KEY_SECRET";
/// The PKCS#11 token's user PIN, instead of `--pkcs11-pin-file`.
pub const ENV_PKCS11_PIN: &str = "OPENKMS_PKCS11_PIN";
/// The PostgreSQL URL, which may hold a password (already read with the arguments).
const ENV_DATABASE_URL: &str = "OPENKMS_DATABASE_URL";

/// The secrets the environment carried, taken out of it.
#[derive(Default)]
pub struct EnvSecrets {
    /// `OPENKMS_ROOT_KEY`, the root key's base64.
    pub root_key: Option<SecretBytes>,
    /// `OPENKMS_ROOT_ACCESS_KEY_ID` (not secret, but it belongs with its secret).
    pub root_access_key_id: Option<String>,
    /// `OPENKMS_ROOT_ACCESS_KEY_SECRET`.
    pub root_access_key_secret: Option<SecretBytes>,
    /// `OPENKMS_PKCS11_PIN`, the token's user PIN.
    pub pkcs11_pin: Option<SecretBytes>,
}

impl EnvSecrets {
    /// Reads the secrets from the process environment and removes them from it. Call it
    /// before any thread starts (first thing in `openkms server`).
    pub fn take() -> Self {
        Self::take_from(|name| std::env::var(name).ok(), remove_from_environment)
    }

    /// Reads each secret with `read`, then `remove`s it: the process environment, or a test's
    /// map. An empty value counts as unset (and is removed too).
    fn take_from(
        mut read: impl FnMut(&str) -> Option<String>,
        mut remove: impl FnMut(&str),
    ) -> Self {
        let mut take = |name: &str| {
            let value = read(name).filter(|v| !v.is_empty());
            remove(name);
            value
        };
        let secret = |v: Option<String>| v.map(|v| SecretBytes::new(v.into_bytes()));
        // Read into the arguments already: only removed here.
        drop(take(ENV_DATABASE_URL));
        Self {
            root_key: secret(take(ENV_ROOT_KEY)),
            root_access_key_id: take(ENV_ROOT_AK_ID),
            root_access_key_secret: secret(take(ENV_ROOT_AK_SECRET)),
            pkcs11_pin: secret(take(ENV_PKCS11_PIN)),
        }
    }
}

/// Removes `name` from the process environment.
#[allow(unsafe_code)]
fn remove_from_environment(name: &str) {
    // SAFETY: called only from `EnvSecrets::take`, the first step of `openkms server`, while
    // the process has a single thread (nothing has spawned one yet: argument parsing and the
    // log setup start none), so no other thread can be reading the environment.
    unsafe { std::env::remove_var(name) }
}

/// Whether `args` (the process's arguments) give `--database-url` a URL with a password.
pub fn database_password_in_arguments(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    let mut args = args.into_iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--database-url") {
            Some("") => args.next(),
            Some(rest) => rest.strip_prefix('=').map(str::to_owned),
            None => None,
        };
        if value.is_some_and(|url| url_has_password(&url)) {
            return true;
        }
    }
    false
}

/// Whether a PostgreSQL URL carries a password: `user:password@` or a `password` parameter.
fn url_has_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = before_query.split('/').next().unwrap_or("");
    let in_userinfo = authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'));
    in_userinfo
        || query
            .split('&')
            .any(|pair| pair.split('=').next() == Some("password"))
}

/// Makes the process not dumpable, with no core dumps, unless `allow_core_dumps`; sets the
/// umask so what the server creates is private.
pub fn harden_process(allow_core_dumps: bool) -> anyhow::Result<()> {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    if allow_core_dumps {
        tracing::warn!("core dumps allowed: a dump of this process would hold the root key");
        return Ok(());
    }
    rustix::process::set_dumpable_behavior(DumpableBehavior::NotDumpable)
        .context("cannot make the process non-dumpable (prctl PR_SET_DUMPABLE)")?;
    let none = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    rustix::process::setrlimit(Resource::Core, none)
        .context("cannot turn core dumps off (setrlimit RLIMIT_CORE)")?;
    Ok(())
}

/// Refuses a data directory whose mode gives group or other users any access, unless
/// `allow_open`, which only warns.
pub fn check_data_dir(dir: &Path, allow_open: bool) -> anyhow::Result<()> {
    let mode = fs::metadata(dir)
        .with_context(|| format!("data_dir: cannot read {}", dir.display()))?
        .permissions()
        .mode();
    if mode & 0o077 == 0 {
        return Ok(());
    }
    if !allow_open {
        bail!(
            "data_dir: {} has mode {:o}, open to other users; run `chmod 700 {}` \
             (or start with --allow-open-data-dir)",
            dir.display(),
            mode & 0o777,
            dir.display()
        );
    }
    tracing::warn!(
        dir = %dir.display(),
        mode = format!("{:o}", mode & 0o777),
        "THE DATA DIRECTORY IS OPEN TO OTHER USERS: they may read key metadata, aliases, tags and policies; chmod 700 it"
    );
    Ok(())
}

/// Sets each of `files` that exists and is open to others to mode 0600, with a warning.
pub fn tighten(files: &[PathBuf]) -> anyhow::Result<()> {
    for path in files {
        let Ok(meta) = fs::metadata(path) else {
            continue;
        };
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "file was open to other users; set to mode 0600");
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))
                .with_context(|| format!("cannot chmod 600 {}", path.display()))?;
        }
    }
    Ok(())
}

/// The SQLite files in `data_dir`.
pub fn database_files(data_dir: &Path) -> Vec<PathBuf> {
    ["openkms.db", "openkms.db-wal", "openkms.db-shm"]
        .iter()
        .map(|name| data_dir.join(name))
        .collect()
}

/// Reads a secret file (its first line, trimmed), warning when others may read it.
pub fn read_secret_file(setting: &str, path: &Path) -> anyhow::Result<SecretBytes> {
    let bytes = SecretBytes::new(
        crate::files::read_private(path).with_context(|| format!("{setting}: unreadable"))?,
    );
    let text = std::str::from_utf8(bytes.expose_secret()).unwrap_or("");
    let line = text.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        bail!("{setting}: {} is empty", path.display());
    }
    Ok(SecretBytes::new(line.as_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn secrets_are_taken_out_of_the_environment() {
        let mut env: HashMap<String, String> = [
            (ENV_ROOT_KEY, "a2V5"),
            (ENV_ROOT_AK_ID, "LTAIroot"),
            (ENV_ROOT_AK_SECRET, ""),
            (ENV_PKCS11_PIN, "1234"),
            ("OTHER", "kept"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let seen = env.clone();
        let taken = EnvSecrets::take_from(|n| seen.get(n).cloned(), |n| drop(env.remove(n)));
        assert_eq!(
            taken.root_key.map(|k| k.expose_secret().to_vec()),
            Some(b"a2V5".to_vec())
        );
        assert_eq!(taken.root_access_key_id.as_deref(), Some("LTAIroot"));
        assert!(taken.root_access_key_secret.is_none(), "empty is unset");
        assert_eq!(
            taken.pkcs11_pin.map(|k| k.expose_secret().to_vec()),
            Some(b"1234".to_vec())
        );
        assert_eq!(env.keys().collect::<Vec<_>>(), ["OTHER"]);
    }

    #[test]
    fn the_database_url_leaves_the_environment() {
        let mut env: HashMap<String, String> = [(ENV_DATABASE_URL, "postgres://u:p@h/db")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let seen = env.clone();
        let _ = EnvSecrets::take_from(|n| seen.get(n).cloned(), |n| drop(env.remove(n)));
        assert!(env.is_empty());
    }

    #[test]
    fn a_database_password_on_the_command_line_is_noticed() {
        let found = |args: &[&str]| {
            database_password_in_arguments(args.iter().map(std::ffi::OsString::from))
        };
        assert!(found(&[
            "openkms",
            "server",
            "--database-url",
            "postgres://u:pw@h/db"
        ]));
        assert!(found(&[
            "openkms",
            "server",
            "--database-url=postgresql://u:pw@h:5432/db"
        ]));
        assert!(found(&[
            "x",
            "--database-url",
            "postgres://u@h/db?sslmode=require&password=pw"
        ]));
        assert!(!found(&[
            "x",
            "--database-url",
            "postgres://postgres@127.0.0.1:5432/test"
        ]));
        assert!(!found(&["x", "--database-url", "postgres://h/db?user=u"]));
        assert!(!found(&["x", "--database-url-file", "/run/secrets/u:pw@h"]));
        assert!(!found(&["x", "--listen", "postgres://u:pw@h/db"]));
    }

    #[test]
    fn an_open_data_dir_is_refused_unless_allowed() {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        assert!(check_data_dir(dir.path(), false).is_ok());
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let e = check_data_dir(dir.path(), false).unwrap_err().to_string();
        assert!(e.contains("chmod 700"), "{e}");
        assert!(check_data_dir(dir.path(), true).is_ok());
    }

    #[test]
    fn open_database_files_are_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let files = database_files(dir.path());
        fs::write(&files[0], b"db").unwrap();
        fs::set_permissions(&files[0], fs::Permissions::from_mode(0o644)).unwrap();
        tighten(&files).unwrap();
        let mode = fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    /// The test process itself ends up non-dumpable, with no core limit: harmless.
    #[test]
    fn the_process_is_not_dumpable_and_dumps_no_core() {
        harden_process(false).unwrap();
        let dumpable = rustix::process::dumpable_behavior().unwrap();
        assert_eq!(dumpable, DumpableBehavior::NotDumpable);
        let core = rustix::process::getrlimit(Resource::Core);
        assert_eq!((core.current, core.maximum), (Some(0), Some(0)));
    }
}
