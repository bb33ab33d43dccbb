//! The nonce journal: makes the single-node replay window survive a restart or a crash.
//!
//! Each accepted `SignatureNonce` is appended as 12 bytes — its 64-bit fingerprint (SipHash-1-3
//! under a key kept in the journal directory, the same fingerprint the in-memory set uses) and
//! the second its request's timestamp leaves the window — to the current segment file, and its
//! request waits until the entry is written. One writer thread does the appending, in groups:
//! it takes every entry queued while the previous group was being written and writes them with
//! one `write`. So a nonce is in the file before its request is acted on: it survives the
//! process being killed (`kill -9`, a panic, an OOM kill), since the kernel keeps what was
//! written. The thread makes the file durable with one `fdatasync` every [`SYNC_INTERVAL`] when
//! something was written, and at close: only a crash of the whole machine can lose nonces, those
//! of at most the last interval. Waiting for the disk on every request instead halved Encrypt's
//! throughput at 32 connections on this project's test machine (BENCHMARKS.md, round 4), for a
//! window a machine crash opens only for requests captured in that last fraction of a second.
//!
//! At start, [`NonceJournal::open`] reads the segments back and hands the unexpired entries to
//! the in-memory set ([`super::nonce::NonceCache`]), so a request captured before the restart
//! is refused after it. A segment is closed after [`ROTATE_SECS`] and deleted once every entry
//! in it has expired, so the journal holds about 40 minutes of requests (12 bytes each: about
//! 29 MB at 1,000 requests a second). A torn last entry (a crash mid-write) belongs to a request
//! that was never answered and is ignored. Nodes sharing a PostgreSQL database use the
//! database instead (`SharedNonces`); this journal is for the embedded store.

use std::fs::{File, OpenOptions};
use std::hash::Hasher as _;
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::{SystemTime, UNIX_EPOCH};

use siphasher::sip::SipHasher13;
use tokio::sync::oneshot;

/// Seconds a segment is appended to before the next one starts.
pub const ROTATE_SECS: i64 = 600;
/// Most entries written together.
const MAX_BATCH: usize = 1024;
/// How often written entries are made durable (when any were written).
pub const SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_millis(200);
/// Bytes of one entry: fingerprint (u64) and expiry (u32), little-endian.
const ENTRY: usize = 12;
/// The file holding the fingerprint key.
const KEY_FILE: &str = "key";
/// The suffix of segment files.
const SEGMENT_SUFFIX: &str = ".nonces";

/// The key of the nonce fingerprints; kept in the journal directory so that fingerprints
/// written before a restart match those computed after it.
#[derive(Clone, Copy)]
pub struct FingerprintKey([u8; 16]);

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FingerprintKey(<redacted>)")
    }
}

impl FingerprintKey {
    /// A fresh random key.
    pub fn random() -> Self {
        let mut key = [0u8; 16];
        if aws_lc_rs::rand::fill(&mut key).is_err() {
            // Only the collision resistance against a chosen nonce depends on it; fall back to
            // the standard library's per-process random hash keys.
            let seed = std::hash::BuildHasher::hash_one(&std::hash::RandomState::new(), 0u8);
            key[..8].copy_from_slice(&seed.to_le_bytes());
        }
        Self(key)
    }

    /// The fingerprint of `nonce` as used by `access_key_id`.
    pub fn fingerprint(&self, access_key_id: &str, nonce: &str) -> u64 {
        let mut h = SipHasher13::new_with_key(&self.0);
        h.write(access_key_id.as_bytes());
        h.write_u8(0xff);
        h.write(nonce.as_bytes());
        h.finish()
    }
}

/// Why a nonce could not be journaled.
#[derive(Debug, thiserror::Error)]
#[error("nonce journal: {0}")]
pub struct JournalError(io::ErrorKind);

/// One queued entry and the request waiting for it.
struct Pending {
    entry: [u8; ENTRY],
    expires: u32,
    done: oneshot::Sender<Result<(), io::ErrorKind>>,
}

/// The unexpired entries found at start: (fingerprint, expiry in seconds since the epoch).
pub type Restored = Vec<(u64, u32)>;

/// Handle to the journal's writer thread. Dropping it lets the thread write what is queued,
/// then waits for it.
pub struct NonceJournal {
    key: FingerprintKey,
    queue: Option<Sender<Pending>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for NonceJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceJournal")
    }
}

impl NonceJournal {
    /// Opens (creating, mode 0700) the journal in `dir`: reads its key and the entries still
    /// live, deletes the segments that have wholly expired, and starts a new segment.
    pub fn open(dir: &Path) -> io::Result<(Self, Restored)> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let key = read_or_make_key(dir)?;
        let now = unix_now();
        let (restored, old) = restore(dir, now)?;
        let segments = Segments::start(dir.to_owned(), old, now)?;
        let (queue, pending) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("openkms-nonce-journal".to_owned())
            .spawn(move || run(segments, pending))?;
        let journal = Self {
            key,
            queue: Some(queue),
            thread: Some(thread),
        };
        Ok((journal, restored))
    }

    /// The fingerprint key the in-memory set must use.
    pub fn key(&self) -> FingerprintKey {
        self.key
    }

    /// Appends (fingerprint, expiry) and waits until it is durable.
    pub async fn record(&self, fingerprint: u64, expires: i64) -> Result<(), JournalError> {
        let expires = u32::try_from(expires.max(0)).unwrap_or(u32::MAX);
        let mut entry = [0u8; ENTRY];
        entry[..8].copy_from_slice(&fingerprint.to_le_bytes());
        entry[8..].copy_from_slice(&expires.to_le_bytes());
        let (done, wait) = oneshot::channel();
        let stopped = || JournalError(io::ErrorKind::BrokenPipe);
        let queue = self.queue.as_ref().ok_or_else(stopped)?;
        queue
            .send(Pending {
                entry,
                expires,
                done,
            })
            .map_err(|_| stopped())?;
        wait.await.map_err(|_| stopped())?.map_err(JournalError)
    }
}

impl Drop for NonceJournal {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer thread: one write per group of queued entries, one sync per [`SYNC_INTERVAL`]
/// with something written, and a last sync when the journal closes.
fn run(mut segments: Segments, pending: Receiver<Pending>) {
    let mut unsynced = false;
    loop {
        let first = match pending.recv_timeout(SYNC_INTERVAL) {
            Ok(first) => first,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                unsynced = unsynced && segments.sync().is_err();
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let mut group = Vec::with_capacity(64);
        group.push(first);
        group.extend(pending.try_iter().take(MAX_BATCH - 1));
        let outcome = segments.append(&group).map_err(|e| e.kind());
        unsynced = true;
        for p in group {
            // The request may have given up waiting; the entry stands either way.
            let _ = p.done.send(outcome);
        }
        if segments.since_sync.elapsed() >= SYNC_INTERVAL {
            unsynced = unsynced && segments.sync().is_err();
        }
    }
    if unsynced {
        let _ = segments.sync();
    }
}

/// The segment being appended to, and the closed ones not yet wholly expired.
struct Segments {
    dir: PathBuf,
    current: File,
    current_path: PathBuf,
    /// When `current` was started (seconds since the epoch).
    started: i64,
    /// The latest expiry written to `current`.
    current_max: u32,
    /// Closed segments and the latest expiry in each.
    closed: Vec<(PathBuf, u32)>,
    /// Keeps segment names unique within one second of one process.
    sequence: u64,
    /// When `current` was last made durable.
    since_sync: std::time::Instant,
}

impl Segments {
    fn start(dir: PathBuf, closed: Vec<(PathBuf, u32)>, now: i64) -> io::Result<Self> {
        let (current, current_path) = new_segment(&dir, now, 0)?;
        Ok(Self {
            dir,
            current,
            current_path,
            started: now,
            current_max: 0,
            closed,
            sequence: 1,
            since_sync: std::time::Instant::now(),
        })
    }

    fn append(&mut self, group: &[Pending]) -> io::Result<()> {
        let now = unix_now();
        if now - self.started >= ROTATE_SECS {
            self.rotate(now)?;
        }
        let mut bytes = Vec::with_capacity(group.len() * ENTRY);
        for p in group {
            bytes.extend_from_slice(&p.entry);
            self.current_max = self.current_max.max(p.expires);
        }
        self.current.write_all(&bytes)
    }

    /// Makes what was written to the current segment durable.
    fn sync(&mut self) -> io::Result<()> {
        self.since_sync = std::time::Instant::now();
        let synced = self.current.sync_data();
        if let Err(e) = &synced {
            tracing::error!(error = %e, "nonce journal: cannot sync (tried again)");
        }
        synced
    }

    /// Starts a new segment and deletes the closed ones whose every entry has expired.
    fn rotate(&mut self, now: i64) -> io::Result<()> {
        self.sync()?;
        let (file, path) = new_segment(&self.dir, now, self.sequence)?;
        self.sequence += 1;
        self.current = file;
        let previous = std::mem::replace(&mut self.current_path, path);
        self.closed.push((previous, self.current_max));
        self.started = now;
        self.current_max = 0;
        let horizon = u32::try_from(now.max(0)).unwrap_or(u32::MAX);
        self.closed.retain(|(path, max)| {
            // Still needed, or could not be removed (tried again at the next rotation).
            *max >= horizon || std::fs::remove_file(path).is_err()
        });
        Ok(())
    }
}

fn segment_path(dir: &Path, started: i64, sequence: u64) -> PathBuf {
    let name = format!(
        "{started}-{}-{sequence}{SEGMENT_SUFFIX}",
        std::process::id()
    );
    dir.join(name)
}

/// Creates a segment file (mode 0600) and makes its directory entry durable.
fn new_segment(dir: &Path, now: i64, sequence: u64) -> io::Result<(File, PathBuf)> {
    let path = segment_path(dir, now, sequence);
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)?;
    File::open(dir)?.sync_all()?;
    Ok((file, path))
}

/// Reads every segment: the live entries, and the segments that still hold some (those that
/// hold none are deleted).
fn restore(dir: &Path, now: i64) -> io::Result<(Restored, Vec<(PathBuf, u32)>)> {
    let horizon = u32::try_from(now.max(0)).unwrap_or(u32::MAX);
    let (mut live, mut kept) = (Vec::new(), Vec::new());
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.to_string_lossy().ends_with(SEGMENT_SUFFIX) {
            continue;
        }
        let mut bytes = Vec::new();
        File::open(&path)?.read_to_end(&mut bytes)?;
        let mut max = 0;
        // `chunks_exact` leaves out a torn last entry.
        for chunk in bytes.chunks_exact(ENTRY) {
            let (fp, exp) = chunk.split_at(8);
            let fp = u64::from_le_bytes(fp.try_into().unwrap_or_default());
            let exp = u32::from_le_bytes(exp.try_into().unwrap_or_default());
            max = max.max(exp);
            if exp >= horizon {
                live.push((fp, exp));
            }
        }
        match max >= horizon {
            true => kept.push((path, max)),
            false => std::fs::remove_file(&path)?,
        }
    }
    Ok((live, kept))
}

fn read_or_make_key(dir: &Path) -> io::Result<FingerprintKey> {
    let path = dir.join(KEY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let key: [u8; 16] = bytes.try_into().map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, "the key file is not 16 bytes")
            })?;
            Ok(FingerprintKey(key))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let key = FingerprintKey::random();
            let mut file = OpenOptions::new()
                .create_new(true)
                .write(true)
                .mode(0o600)
                .open(&path)?;
            file.write_all(&key.0)?;
            file.sync_all()?;
            File::open(dir)?.sync_all()?;
            Ok(key)
        }
        Err(e) => Err(e),
    }
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    #[test]
    fn entries_survive_a_reopen_and_expired_segments_go() {
        let dir = tempfile::tempdir().unwrap();
        let now = unix_now();
        let (journal, restored) = NonceJournal::open(dir.path()).unwrap();
        assert!(restored.is_empty());
        let key = journal.key();
        let fp = key.fingerprint("ak", "n1");
        rt().block_on(async {
            journal.record(fp, now + 900).await.unwrap();
            journal.record(7, now - 10).await.unwrap();
        });
        drop(journal);
        // A torn entry at the end of a segment is ignored.
        let torn = dir.path().join(format!("1-1-1{SEGMENT_SUFFIX}"));
        std::fs::write(&torn, [1u8; ENTRY + 5]).unwrap();
        let (again, restored) = NonceJournal::open(dir.path()).unwrap();
        assert_eq!(again.key().fingerprint("ak", "n1"), fp);
        assert_eq!(restored, vec![(fp, u32::try_from(now + 900).unwrap())]);
        assert!(!torn.exists(), "a wholly expired segment is deleted");
    }

    #[test]
    fn fingerprints_depend_on_the_key_and_both_names() {
        let (a, b) = (FingerprintKey::random(), FingerprintKey::random());
        assert_ne!(a.fingerprint("ak", "n"), b.fingerprint("ak", "n"));
        assert_ne!(a.fingerprint("ak", "n"), a.fingerprint("akn", ""));
        assert_eq!(a.fingerprint("ak", "n"), a.fingerprint("ak", "n"));
    }
}
