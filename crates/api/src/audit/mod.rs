//! The audit log: one chained JSON line per API request, written before the reply is sent.
//!
//! [`AuditLog`] is the handle the request handler holds: [`AuditLog::append`] queues a
//! [`Record`] for the writer (group commit: the first waiting request writes the queue) and
//! waits until its line is written, so a request whose line cannot be written can fail
//! instead of going unrecorded. The line format and the chain are [`chain`]'s, the record's
//! content [`record`]'s, file naming, rotation order and verifying files [`files`]'s, the
//! writing itself (group commit, rotation, fsync) the private `writer`'s. Deciding what a
//! request does when its line fails (fail closed, or open when configured) is the handler's.
//! The format, rotation and fsync policy are documented in `docs/audit.md`.

pub mod chain;
pub mod files;
pub mod record;
mod writer;

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

pub use chain::{Break, GENESIS, Link, Position, Problem, Start, Verifier, verify_lines};
pub use files::{Verified, VerifyError, log_files, verify_paths};
pub use record::{Facts, Record};

/// Default size at which the active file is rotated: 100 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 100 * 1024 * 1024;
/// Default time between fsyncs of the active file while lines are being written.
pub const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_millis(100);

/// Where and how to write the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    /// The active file; rotated files sit beside it as `<name>.1`, `<name>.2`, ….
    pub path: PathBuf,
    /// Rotate before a write would take the active file past this size; `None` never does.
    pub max_bytes: Option<u64>,
    /// Serve requests even when their line cannot be written (for test setups only).
    pub fail_open: bool,
    /// How often written lines are fsynced.
    pub sync_interval: Duration,
}

impl AuditConfig {
    /// The defaults for a log at `path`: rotation at [`DEFAULT_MAX_BYTES`], fail closed.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            max_bytes: Some(DEFAULT_MAX_BYTES),
            fail_open: false,
            sync_interval: DEFAULT_SYNC_INTERVAL,
        }
    }
}

/// Why the audit log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file, its directory or a rotated file could not be created or read.
    #[error("cannot open {path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The last line of the log is not an audit record, so the chain cannot continue.
    #[error(
        "{0}: the last line is not an audit record; run `openkms audit verify` on the log and move the damaged file aside"
    )]
    NotARecord(PathBuf),
}

/// Why a line was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// The write failed (the writer logged the cause).
    #[error("the audit line could not be written")]
    WriteFailed,
    /// The log is closed or its writer stopped.
    #[error("the audit log is closed")]
    Closed,
}

/// The handle to an open audit log. Cheap to clone; clones share the writer.
#[derive(Clone)]
pub struct AuditLog {
    shared: Arc<writer::Shared>,
    fail_open: bool,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("fail_open", &self.fail_open)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens the log (creating its directory, mode 0700, and file, mode 0600), continues the
    /// chain from its last line, and starts the fsync thread. An incomplete last line, left by
    /// an interrupted write, is cut off with a warning.
    pub fn open(config: &AuditConfig) -> Result<Self, OpenError> {
        let io_error = |source| OpenError::Io {
            path: config.path.clone(),
            source,
        };
        create_dir(files::parent(&config.path)).map_err(io_error)?;
        let mut file = writer::open_append(&config.path).map_err(io_error)?;
        let link = resume(&config.path, &mut file)?;
        let writer = writer::Writer::new(
            config.path.clone(),
            file,
            link,
            config.max_bytes,
            config.sync_interval,
        )
        .map_err(io_error)?;
        Ok(Self {
            shared: Arc::new(writer::Shared::new(writer)),
            fail_open: config.fail_open,
        })
    }

    /// Writes `record`'s line; returns once it is written (not yet fsynced).
    pub async fn append(&self, record: &Record<'_>) -> Result<(), AuditError> {
        let (ack, written) = oneshot::channel();
        let body = record.to_json();
        let pending = writer::Pending { body, ack };
        self.shared
            .submit(pending)
            .await
            .map_err(|_| AuditError::Closed)?;
        match written.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(())) => Err(AuditError::WriteFailed),
            Err(_) => Err(AuditError::Closed),
        }
    }

    /// Whether requests are served when their line cannot be written.
    pub fn fail_open(&self) -> bool {
        self.fail_open
    }

    /// Refuses further lines and fsyncs the file (once lines being written are written).
    pub fn close(&self) {
        self.shared.close();
    }
}

fn create_dir(dir: &std::path::Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// The link to continue from: the active file's last line, else the newest rotated file's,
/// else the genesis. Cuts an incomplete last line off the active file.
fn resume(path: &std::path::Path, file: &mut std::fs::File) -> Result<Link, OpenError> {
    let io_error = |path: &std::path::Path| {
        let path = path.to_owned();
        move |source| OpenError::Io { path, source }
    };
    if file.metadata().map_err(io_error(path))?.is_file() {
        let len = file.metadata().map_err(io_error(path))?.len();
        let last = files::last_line(file).map_err(io_error(path))?;
        let end = last.as_ref().map_or(0, |(_, end)| *end);
        if end < len {
            tracing::warn!(path = %path.display(), bytes = len - end, "audit log ended in an incomplete line (an interrupted write); cutting it off");
            file.set_len(end).map_err(io_error(path))?;
        }
        if let Some((line, _)) = last {
            return Link::of_line(&line).ok_or_else(|| OpenError::NotARecord(path.to_owned()));
        }
    }
    let archives = files::archives(path).map_err(io_error(path))?;
    let Some((_, newest)) = archives.last() else {
        return Ok(Link::genesis());
    };
    let mut archive = std::fs::File::open(newest).map_err(io_error(newest))?;
    match files::last_line(&mut archive).map_err(io_error(newest))? {
        Some((line, _)) => {
            Link::of_line(&line).ok_or_else(|| OpenError::NotARecord(newest.clone()))
        }
        None => Ok(Link::genesis()),
    }
}

#[cfg(test)]
mod tests;
