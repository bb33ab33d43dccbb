//! The nonce journal: makes the single-node replay window survive a restart or a crash.
//!
//! Each accepted `SignatureNonce` is appended as 12 bytes — its 64-bit fingerprint (SipHash-1-3
//! under a key kept in the journal directory, the same fingerprint the in-memory set uses) and
//! the second its request's timestamp leaves the window — to the current segment file, by the
//! request's own thread, with one `write` under a mutex, before the request is acted on. So the
//! nonce survives the process being killed (`kill -9`, a panic, an OOM kill), since the kernel
//! keeps what was written. A background thread makes the file durable with one `fdatasync`
//! every [`SYNC_INTERVAL`] when something was written, and at close: only a crash of the whole
//! machine can lose nonces, those of at most the last interval. Waiting for the disk on every
//! request instead halved Encrypt's throughput at 32 connections on this project's test
//! machine (BENCHMARKS.md, round 4), for a window a machine crash opens only for requests
//! captured in that last fraction of a second. Handing each nonce to a writer thread and
//! waiting to be woken (the first design) cost a quarter of Encrypt's throughput in thread
//! switches (BENCHMARKS.md, round 5); a 12-byte `write` from the request's thread costs about a
//! microsecond.
//!
//! At start, [`NonceJournal::open`] reads the segments back and hands the unexpired entries to
//! the in-memory set ([`super::nonce::NonceCache`]), so a request captured before the restart
//! is refused after it. The background thread closes a segment after [`ROTATE_SECS`] and
//! deletes it once every entry in it has expired, so the journal holds about 40 minutes of
//! requests (12 bytes each: about 29 MB at 1,000 requests a second). A torn last entry (a
//! crash mid-write) belongs to a request that was never answered and is ignored; after a
//! failed `write` (a full disk, say) the segment is abandoned, since a torn entry in its middle
//! would shift every later one, and requests are refused until the thread has started the
//! next. Nodes sharing a PostgreSQL database use the database instead (`SharedNonces`); this
//! journal is for the embedded store.

use std::fs::{File, OpenOptions};
use std::hash::Hasher as _;
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{SystemTime, UNIX_EPOCH};

use siphasher::sip::SipHasher13;

/// Seconds a segment is appended to before the next one starts.
pub const ROTATE_SECS: i64 = 600;
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

/// The unexpired entries found at start: (fingerprint, expiry in seconds since the epoch).
pub type Restored = Vec<(u64, u32)>;

/// Handle to the journal. Dropping it stops its background thread after a last sync.
pub struct NonceJournal {
    key: FingerprintKey,
    current: Arc<Mutex<Current>>,
    stop: Option<Sender<()>>,
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
        let (restored, closed) = restore(dir, now)?;
        let (file, path) = new_segment(dir, now, 0)?;
        let current = Arc::new(Mutex::new(Current::new(file, path, now)));
        let (stop, stopped) = mpsc::channel();
        let keeper = Keeper {
            dir: dir.to_owned(),
            current: Arc::clone(&current),
            closed,
            sequence: 1,
        };
        let thread = thread::Builder::new()
            .name("openkms-nonce-journal".to_owned())
            .spawn(move || keeper.run(&stopped))?;
        let journal = Self {
            key,
            current,
            stop: Some(stop),
            thread: Some(thread),
        };
        Ok((journal, restored))
    }

    /// The fingerprint key the in-memory set must use.
    pub fn key(&self) -> FingerprintKey {
        self.key
    }

    /// Appends (fingerprint, expiry) to the current segment: written when this returns.
    pub fn record(&self, fingerprint: u64, expires: i64) -> Result<(), JournalError> {
        let expires = u32::try_from(expires.max(0)).unwrap_or(u32::MAX);
        let mut entry = [0u8; ENTRY];
        entry[..8].copy_from_slice(&fingerprint.to_le_bytes());
        entry[8..].copy_from_slice(&expires.to_le_bytes());
        let mut current = lock(&self.current);
        if current.broken {
            return Err(JournalError(io::ErrorKind::Other));
        }
        if let Err(e) = (&*current.file).write_all(&entry) {
            current.broken = true;
            return Err(JournalError(e.kind()));
        }
        current.max = current.max.max(expires);
        current.unsynced = true;
        Ok(())
    }
}

impl Drop for NonceJournal {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock(current: &Mutex<Current>) -> MutexGuard<'_, Current> {
    current.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The segment being appended to.
struct Current {
    file: Arc<File>,
    path: PathBuf,
    /// When it was started (seconds since the epoch).
    started: i64,
    /// The latest expiry written to it.
    max: u32,
    /// Written to since the last sync.
    unsynced: bool,
    /// A write failed: nothing more may be appended to it.
    broken: bool,
}

impl Current {
    fn new(file: File, path: PathBuf, started: i64) -> Self {
        Self {
            file: Arc::new(file),
            path,
            started,
            max: 0,
            unsynced: false,
            broken: false,
        }
    }
}

/// The background thread's state: syncs the current segment, starts the next one, deletes
/// the closed ones that have wholly expired.
struct Keeper {
    dir: PathBuf,
    current: Arc<Mutex<Current>>,
    /// Closed segments and the latest expiry in each.
    closed: Vec<(PathBuf, u32)>,
    /// Keeps segment names unique within one second of one process.
    sequence: u64,
}

impl Keeper {
    /// One sync per [`SYNC_INTERVAL`] with something written, and a last one when the journal
    /// closes.
    fn run(mut self, stop: &Receiver<()>) {
        loop {
            let stopping = !matches!(
                stop.recv_timeout(SYNC_INTERVAL),
                Err(mpsc::RecvTimeoutError::Timeout)
            );
            self.sync();
            if stopping {
                break;
            }
            let (started, broken) = {
                let current = lock(&self.current);
                (current.started, current.broken)
            };
            let now = unix_now();
            if broken || now - started >= ROTATE_SECS {
                if let Err(e) = self.rotate(now) {
                    tracing::error!(error = %e, "nonce journal: cannot start a segment (tried again)");
                }
            }
        }
    }

    /// Makes what was written to the current segment durable.
    fn sync(&self) {
        let file = {
            let mut current = lock(&self.current);
            if !current.unsynced {
                return;
            }
            current.unsynced = false;
            Arc::clone(&current.file)
        };
        if let Err(e) = file.sync_data() {
            tracing::error!(error = %e, "nonce journal: cannot sync (tried again)");
            lock(&self.current).unsynced = true;
        }
    }

    /// Starts a new segment, syncs the one it replaces, and deletes the closed ones whose
    /// every entry has expired.
    fn rotate(&mut self, now: i64) -> io::Result<()> {
        let (file, path) = new_segment(&self.dir, now, self.sequence)?;
        self.sequence += 1;
        let old = std::mem::replace(&mut *lock(&self.current), Current::new(file, path, now));
        if let Err(e) = old.file.sync_data() {
            tracing::error!(error = %e, "nonce journal: cannot sync a closed segment");
        }
        self.closed.push((old.path, old.max));
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

    #[test]
    fn entries_survive_a_reopen_and_expired_segments_go() {
        let dir = tempfile::tempdir().unwrap();
        let now = unix_now();
        let (journal, restored) = NonceJournal::open(dir.path()).unwrap();
        assert!(restored.is_empty());
        let key = journal.key();
        let fp = key.fingerprint("ak", "n1");
        journal.record(fp, now + 900).unwrap();
        journal.record(7, now - 10).unwrap();
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
    fn concurrent_records_stay_whole_entries() {
        let dir = tempfile::tempdir().unwrap();
        let now = unix_now();
        let (journal, _) = NonceJournal::open(dir.path()).unwrap();
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let journal = &journal;
                s.spawn(move || {
                    for i in 0..500u64 {
                        journal.record(t << 32 | i, now + 900).unwrap();
                    }
                });
            }
        });
        drop(journal);
        let (_again, mut restored) = NonceJournal::open(dir.path()).unwrap();
        restored.sort_unstable();
        let mut want: Vec<_> = (0..4u64)
            .flat_map(|t| {
                (0..500u64).map(move |i| (t << 32 | i, u32::try_from(now + 900).unwrap()))
            })
            .collect();
        want.sort_unstable();
        assert_eq!(restored, want);
    }

    #[test]
    fn fingerprints_depend_on_the_key_and_both_names() {
        let (a, b) = (FingerprintKey::random(), FingerprintKey::random());
        assert_ne!(a.fingerprint("ak", "n"), b.fingerprint("ak", "n"));
        assert_ne!(a.fingerprint("ak", "n"), a.fingerprint("akn", ""));
        assert_eq!(a.fingerprint("ak", "n"), a.fingerprint("ak", "n"));
    }
}
