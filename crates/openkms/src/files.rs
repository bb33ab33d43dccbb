//! Private files in the data directory: the root key and generated root credentials.
//!
//! Files holding secrets are created with mode 0600 and written durably (file and directory
//! fsynced) before anything that depends on them is acknowledged. The data directory itself is
//! created with mode 0700. What the secrets mean is decided elsewhere.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

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

/// Writes `bytes` to `path` with mode 0600, atomically (temporary file, fsync, rename,
/// directory fsync). With `create_new`, an existing file is an error instead of replaced.
pub fn write_private(path: &Path, bytes: &[u8], create_new: bool) -> anyhow::Result<()> {
    if create_new && path.exists() {
        anyhow::bail!(
            "{} exists already; refusing to overwrite it",
            path.display()
        );
    }
    let tmp = tmp_path(path);
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot create {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot create {}", path.display()))?;
    sync_dir(path)
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

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Fsyncs the directory holding `path`, so a rename into it is durable.
pub fn sync_parent(path: &Path) -> anyhow::Result<()> {
    sync_dir(path)
}

fn sync_dir(path: &Path) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))
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
}
