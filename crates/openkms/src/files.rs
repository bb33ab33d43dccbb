//! Private files in the data directory: the root key and generated root credentials.
//!
//! Files holding secrets are created with mode 0600 and written durably (file and directory
//! fsynced) before anything that depends on them is acknowledged. The data directory itself is
//! created with mode 0700. What the secrets mean is decided elsewhere.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::Context;

/// Name of the root key file in the data directory.
pub const ROOT_KEY_FILE: &str = "root.key";
/// Name of the generated root credentials file.
pub const CREDENTIALS_FILE: &str = "root-credentials.json";
/// Name of the lock file a server (or an offline command) holds while it uses the directory.
pub const LOCK_FILE: &str = "lock";

/// Creates the data directory (mode 0700) if it does not exist.
pub fn ensure_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("data_dir: cannot create {}", dir.display()))
}

/// Writes `bytes` to `path` with mode 0600, atomically: a temporary file of a fresh random
/// name beside `path` (created exclusively, so a planted file or symbolic link is never opened),
/// fsync, rename over `path` (which replaces a link there rather than following it), directory
/// fsync. With `create_new`, an existing file is an error instead of replaced. On any error the
/// temporary file is removed.
pub fn write_private(path: &Path, bytes: &[u8], create_new: bool) -> anyhow::Result<()> {
    if create_new && path.exists() {
        anyhow::bail!(
            "{} exists already; refusing to overwrite it",
            path.display()
        );
    }
    let tmp = private_temp_file(path)?;
    write_synced(tmp.as_file(), bytes)
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    let persisted = if create_new {
        tmp.persist_noclobber(path)
    } else {
        tmp.persist(path)
    };
    persisted
        .map_err(|e| e.error)
        .with_context(|| format!("cannot create {}", path.display()))?;
    sync_dir(path)
}

/// A new empty file of mode 0600 beside `path`, named `.<name>.<random>.tmp`, created with
/// `O_CREAT|O_EXCL` (which fails on any existing name, a symbolic link too); removed when dropped
/// unless persisted.
fn private_temp_file(path: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    let dir = parent_dir(path);
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    prefix.push(".");
    tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))
}

/// Mode 0600 whatever the umask or a filesystem's defaults did, then the bytes, then fsync.
fn write_synced(mut file: &fs::File, bytes: &[u8]) -> std::io::Result<()> {
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Takes the data directory's lock (`<data-dir>/lock`, an advisory lock the kernel releases
/// when the process ends, even by `kill -9`), held until the returned file is dropped: one
/// server, or one offline command such as `root-key rotate`, uses a data directory at a time.
pub fn lock_data_dir(dir: &Path) -> anyhow::Result<fs::File> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(file),
        Err(rustix::io::Errno::WOULDBLOCK) => anyhow::bail!(
            "{} is in use by another openkms process (a running server?); stop it first",
            dir.display()
        ),
        Err(e) => {
            Err(std::io::Error::from(e)).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Reads a private file, warning when its mode lets others read it.
pub fn read_private(path: &Path) -> anyhow::Result<Vec<u8>> {
    let meta = fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!(path = %path.display(), "file is readable by others; chmod 600 it");
    }
    fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Fsyncs the directory holding `path`, so a rename into it is durable.
pub fn sync_parent(path: &Path) -> anyhow::Result<()> {
    sync_dir(path)
}

fn sync_dir(path: &Path) -> anyhow::Result<()> {
    let dir = parent_dir(path);
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_0600_and_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("root.key");
        write_private(&p, b"one", true).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(write_private(&p, b"two", true).is_err());
        assert_eq!(read_private(&p).unwrap(), b"one");
        write_private(&p, b"three", false).unwrap();
        assert_eq!(read_private(&p).unwrap(), b"three");
    }

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    /// What a directory holds, by name.
    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_link_planted_at_the_old_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"victim").unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o644)).unwrap();
        let out = dir.path().join("backup.okb");
        std::os::unix::fs::symlink(&victim, dir.path().join("backup.okb.tmp")).unwrap();
        write_private(&out, b"secret", false).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"victim");
        assert_eq!(mode(&victim), 0o644);
        assert_eq!(fs::read(&out).unwrap(), b"secret");
        assert_eq!(mode(&out), 0o600);
    }

    #[test]
    fn a_link_at_the_path_itself_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"victim").unwrap();
        let out = dir.path().join("root.key");
        std::os::unix::fs::symlink(&victim, &out).unwrap();
        write_private(&out, b"secret", false).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"victim");
        assert!(fs::symlink_metadata(&out).unwrap().is_file());
        assert_eq!(mode(&out), 0o600);
    }

    #[test]
    fn readable_files_at_the_path_or_the_old_temporary_name_end_0600() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("root-credentials.json");
        for p in [out.clone(), dir.path().join("root-credentials.json.tmp")] {
            fs::write(&p, b"old").unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        }
        write_private(&out, b"new", false).unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"new");
        assert_eq!(mode(&out), 0o600);
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("inside"), b"x").unwrap();
        assert!(write_private(&out, b"secret", false).is_err());
        assert_eq!(entries(dir.path()), ["out"]);
        let taken = dir.path().join("taken");
        fs::write(&taken, b"old").unwrap();
        assert!(write_private(&taken, b"secret", true).is_err());
        assert_eq!(entries(dir.path()), ["out", "taken"]);
        assert_eq!(fs::read(&taken).unwrap(), b"old");
    }
}
