//! The audit log: one chained JSON line per API request, written before the reply is sent.
//!
//! [`AuditLog`] is the handle the request handler holds: [`AuditLog::append`] queues a
//! [`Record`] for the writer (group commit: the first waiting request writes the queue) and
//! waits until its line is written, so a request whose line cannot be written can fail
//! instead of going unrecorded. The line format and the chain are [`chain`]'s, the record's
//! content [`record`]'s, the log's own lines (gaps, prunes, flood summaries) [`event`]'s,
//! the budget of lines for requests that did not authenticate [`flood`]'s, file naming,
//! rotation order and verifying files [`files`]'s, the writing itself (group commit,
//! rotation, retention, removal detection, the free-space guard, fsync) the private
//! `writer`'s, and publishing the durable head for the caller to anchor elsewhere
//! ([`AuditLog::heads`]) the private `heads`'. Deciding what a request does when its line fails (fail closed, or open when
//! configured) is the handler's. The format, bounds and policies are documented in
//! `docs/audit.md`.

pub mod chain;
pub mod event;
pub mod files;
pub mod flood;
mod heads;
pub mod record;
mod writer;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{oneshot, watch};

pub use chain::{Break, GENESIS, Link, Note, Position, Problem, Start, Verifier, verify_lines};
pub use event::{Declaration, GapReason, Restored};
pub use files::{Verified, VerifyError, log_files, verify_paths};
pub use flood::DEFAULT_UNAUTHENTICATED_PER_SECOND;
pub use heads::HEAD_INTERVAL;
pub use record::{Facts, Record, Via};

/// Default size at which the active file is rotated: 100 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 100 * 1024 * 1024;
/// Default time between fsyncs of the active file while lines are being written.
pub const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_millis(100);
/// Default free space the log leaves on its volume: 256 MiB.
pub const DEFAULT_MIN_FREE_BYTES: u64 = 256 * 1024 * 1024;
/// Default free space the log leaves on its volume, in percent of its size.
pub const DEFAULT_MIN_FREE_PERCENT: u8 = 1;
/// Headroom below which requests are refused before they run (a few batches of lines).
const REFUSE_BELOW: u64 = 64 * 1024;

/// How much free space the log leaves on its volume: it refuses lines that would take the
/// free space under the larger of the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpaceGuard {
    /// Bytes left free.
    pub min_free_bytes: u64,
    /// Percent of the volume's size left free (0 to 100).
    pub min_free_percent: u8,
}

impl Default for SpaceGuard {
    fn default() -> Self {
        Self {
            min_free_bytes: DEFAULT_MIN_FREE_BYTES,
            min_free_percent: DEFAULT_MIN_FREE_PERCENT,
        }
    }
}

impl SpaceGuard {
    /// The free bytes to leave on a volume of `total` bytes.
    pub fn minimum(&self, total: u64) -> u64 {
        let percent = total / 100 * u64::from(self.min_free_percent.min(100));
        self.min_free_bytes.max(percent)
    }
}

/// Which rotated files are deleted (after each rotation, and at start); by default none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Keep at most this many rotated files (the newest).
    pub keep_files: Option<u64>,
    /// Delete rotated files last written more than this many days ago.
    pub keep_days: Option<u64>,
}

impl Retention {
    /// Whether anything is ever deleted.
    pub fn prunes(&self) -> bool {
        self.keep_files.is_some() || self.keep_days.is_some()
    }

    /// Whether the rotated file at `path`, the `rank`-th newest (from 1), goes.
    fn deletes(&self, rank: usize, path: &Path, now: SystemTime) -> bool {
        let too_many = self.keep_files.is_some_and(|keep| rank as u64 > keep);
        let too_old = self.keep_days.is_some_and(|days| {
            let age = std::fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|written| now.duration_since(written).ok());
            age.is_some_and(|age| age > Duration::from_secs(days.saturating_mul(86_400)))
        });
        too_many || too_old
    }
}

/// Where and how to write the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    /// The active file; rotated files sit beside it as `<name>.1`, `<name>.2`, ….
    pub path: PathBuf,
    /// Rotate before a write would take the active file past this size; `None` never does.
    pub max_bytes: Option<u64>,
    /// Serve requests even when their line cannot be written (for test setups only).
    pub fail_open: bool,
    /// How often written lines are fsynced (and the free space read).
    pub sync_interval: Duration,
    /// The free space left on the volume.
    pub space: SpaceGuard,
    /// Which rotated files are deleted.
    pub retention: Retention,
    /// Requests that did not authenticate written one by one per second; the rest are
    /// summarised.
    pub unauthenticated_per_second: u32,
}

impl AuditConfig {
    /// The defaults for a log at `path`: rotation at [`DEFAULT_MAX_BYTES`], fail closed.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            max_bytes: Some(DEFAULT_MAX_BYTES),
            fail_open: false,
            sync_interval: DEFAULT_SYNC_INTERVAL,
            space: SpaceGuard::default(),
            retention: Retention::default(),
            unauthenticated_per_second: DEFAULT_UNAUTHENTICATED_PER_SECOND,
        }
    }
}

/// What the caller knows about the history the log should continue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// The store already holds data: a log without any line has lost its history.
    pub data_exists: bool,
    /// The head last recorded outside the log (the store): a log ending before it has lost
    /// lines.
    pub anchor: Option<Link>,
    /// The store was restored from this backup. Without an anchor (this node has recorded
    /// no head since the restore) the log is not expected to hold the store's history: a
    /// `restored` line records the restore instead of a `gap` line.
    pub restored: Option<Restored>,
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
    space: Arc<writer::SyncState>,
    flood: Arc<flood::Flood>,
    fail_open: bool,
    heads: watch::Receiver<Link>,
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
    /// chain from its last line, and starts the fsync thread (and, inside a Tokio runtime,
    /// the ticker writing flood summaries). An incomplete last line, left by an interrupted
    /// write, is cut off with a warning. Retention runs once.
    pub fn open(config: &AuditConfig) -> Result<Self, OpenError> {
        Self::open_expecting(config, &Expected::default())
    }

    /// [`Self::open`], first checking the history against `expected`: a log without lines
    /// over existing data, or ending before the anchor, is reported on stderr as an error and
    /// a `gap` line declaring the loss starts the new lines.
    pub fn open_expecting(config: &AuditConfig, expected: &Expected) -> Result<Self, OpenError> {
        let io_error = |source| OpenError::Io {
            path: config.path.clone(),
            source,
        };
        create_dir(files::parent(&config.path)).map_err(io_error)?;
        let mut file = writer::open_append(&config.path).map_err(io_error)?;
        tighten(&config.path).map_err(io_error)?;
        let link = resume(&config.path, &mut file)?;
        let (published, heads) = heads::Heads::new(link.clone());
        let mut writer = writer::Writer::new(config, file, link, published).map_err(io_error)?;
        let mut events: Vec<String> = history_gap(&mut writer, expected).into_iter().collect();
        events.extend(writer.prune_now().map_err(io_error)?);
        if !events.is_empty() {
            writer.write_events(&events).map_err(io_error)?;
        }
        let space = writer.sync_state();
        let shared = Arc::new(writer::Shared::new(writer));
        let flood = Arc::new(flood::Flood::new(config.unauthenticated_per_second));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(tick(Arc::downgrade(&shared), flood.clone()));
        }
        Ok(Self {
            shared,
            space,
            flood,
            fail_open: config.fail_open,
            heads,
        })
    }

    /// Writes `record`'s line; returns once it is written (not yet fsynced). A request that
    /// did not authenticate beyond the second's budget is only counted, and returns at once,
    /// unless its facts say it is [`Facts::always_written`].
    pub async fn append(&self, record: &Record<'_>) -> Result<(), AuditError> {
        if !record.authenticated() && !record.facts.always_written {
            let source = record.source.map(|s| s.ip());
            let verdict = self.flood.admit(source, Instant::now());
            if let Some(summary) = verdict.summary {
                submit_unwaited(&self.shared, summary).await;
            }
            if !verdict.write {
                return Ok(());
            }
        }
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

    /// Whether the volume has room above the minimum free space (as last read): when not,
    /// requests are refused before they run.
    pub fn has_room(&self) -> bool {
        self.space.has_room(REFUSE_BELOW)
    }

    /// Replaces the volume's free-space reading with `free` bytes (`None`: the real reading
    /// again, from the next one). For tests of the free-space guard.
    #[doc(hidden)]
    pub fn fake_free_space(&self, free: Option<u64>) {
        self.space.fake_free_space(free);
    }

    /// The log's durable head (the last line known to be fsynced) as it moves on: published
    /// at most every [`HEAD_INTERVAL`] while lines are written, after each rotation, and once
    /// more when the log is closed, after its last fsync. The channel closes after that. For
    /// recording the head outside the log, to pass back as [`Expected::anchor`] at the next
    /// open; never on a request's path.
    pub fn heads(&self) -> watch::Receiver<Link> {
        self.heads.clone()
    }

    /// Whether requests are served when their line cannot be written.
    pub fn fail_open(&self) -> bool {
        self.fail_open
    }

    /// Writes the summary of requests suppressed so far, refuses further lines and fsyncs the
    /// file (once lines being written are written).
    pub fn close(&self) {
        self.shared.close(self.flood.take_all());
    }
}

/// The `gap` line the history calls for at open, if any (and the chain moved to the anchor);
/// or the `restored` line of a node's first start on a restored store.
fn history_gap(writer: &mut writer::Writer, expected: &Expected) -> Option<String> {
    let head = writer.link().clone();
    let anchor = expected.anchor.as_ref();
    if let (Some(restored), None) = (&expected.restored, anchor) {
        tracing::info!(
            log_ends_at_seq = head.seq,
            backup_sha256 = %restored.backup_sha256,
            "the store was restored from a backup: recording the restore as the next audit line (the earlier history is in the old logs)"
        );
        return Some(restored.to_json(&record::now_timestamp()));
    }
    let (reason, from, to) = match anchor {
        _ if head.seq == 0 && expected.data_exists => {
            let to = anchor.map(|a| a.seq).filter(|seq| *seq > 0);
            (GapReason::HistoryMissing, to.map(|_| 1), to)
        }
        Some(a) if a.seq > head.seq => (GapReason::BehindAnchor, Some(head.seq + 1), Some(a.seq)),
        _ => return None,
    };
    let what = match reason {
        GapReason::BehindAnchor => {
            "the audit log ends before the head recorded in the store (lines cut off the end, \
             or an older copy put back)"
        }
        _ => "the store holds data but the audit log lacks the lines recorded before",
    };
    tracing::error!(
        log_ends_at_seq = head.seq,
        anchored_seq = anchor.map(|a| a.seq),
        reason = reason.as_str(),
        "AUDIT HISTORY MISSING: {what}; recording the gap as the next line (see docs/audit.md)"
    );
    if let (Some(a), Some(_)) = (anchor, to) {
        writer.jump_to(a.clone());
    }
    Some(Declaration::Gap { reason, from, to }.to_json(&record::now_timestamp()))
}

/// Writes `body` without waiting for it (a flood summary).
async fn submit_unwaited(shared: &writer::Shared, body: String) {
    let (ack, _) = oneshot::channel();
    let _ = shared.submit(writer::Pending { body, ack }).await;
}

/// Every window, writes the flood summary of the window just over, until the log closes.
async fn tick(shared: Weak<writer::Shared>, flood: Arc<flood::Flood>) {
    let mut interval = tokio::time::interval(flood::WINDOW);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if shared.is_closed() {
            return;
        }
        if let Some(summary) = flood.take_due(Instant::now()) {
            submit_unwaited(&shared, summary).await;
        }
    }
}

/// Makes the active file and the rotated ones 0600 when an earlier version or an operator left
/// them readable by others (they name users, keys and addresses), and warns when their
/// directory is open to others (it is the operator's to close; new files are 0600 anyway).
fn tighten(active: &std::path::Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let open_to_others = |path: &std::path::Path| {
        std::fs::metadata(path).map(|m| m.permissions().mode() & 0o077 != 0)
    };
    let dir = files::parent(active);
    if open_to_others(dir)? {
        tracing::warn!(dir = %dir.display(), "the audit log's directory is open to other users");
    }
    let rotated = files::archives(active)?.into_iter().map(|(_, path)| path);
    for path in std::iter::once(active.to_owned()).chain(rotated) {
        if open_to_others(&path)? {
            tracing::warn!(file = %path.display(), "audit file was open to other users: now 0600");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// Creates `dir` (and its parents) mode 0700 if missing.
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
