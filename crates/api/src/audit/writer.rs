//! Group commit without a writer thread: the first waiting request writes for everyone.
//!
//! A request queues its record (already rendered to JSON) and, if no other request is writing
//! at that moment, takes the [`Writer`] and becomes the leader: it yields once (so requests
//! ready on the same thread queue theirs too), then drains the queue, chains the lines,
//! writes them with one `write` call, acknowledges each, and repeats until the queue is
//! empty, then puts the writer back. Requests arriving meanwhile just queue and wait. So a line
//! is in the file (the kernel's page cache) before its request is answered, one system call
//! serves many requests under load, and no thread switch is added per request. The lock is
//! held only to queue or swap the queue, never during I/O.
//!
//! Before a write that would take the file past the size limit the leader rotates: fsync the
//! file, rename it to the next `<name>.<n>`, create a new one, fsync the directory (rare; the
//! only fsyncs on a request's path). A separate thread fsyncs the active file every sync
//! interval when something was written, so requests never wait for the disk otherwise.
//!
//! Once per batch the leader also `stat`s the active path: when it no longer leads to the
//! open file (removed, renamed, its directory gone) a new file is started and a `gap` line
//! declaring the lost lines heads it. Before writing, the batch must fit in the headroom above
//! the configured minimum free space, which the sync thread reads with `statvfs` every sync
//! interval (no system call on a request's path); otherwise it fails. After a rotation,
//! retention deletes the oldest rotated files, once a `pruned` line naming them is written.
//!
//! The fsync thread also publishes the durable head (the last fsynced line) at most once a
//! [`HEAD_INTERVAL`] while lines are written, the writer after each rotation and at close
//! (see [`Heads`]), so the caller can anchor the log outside it off the request path.
//!
//! A failed write fails every line of its batch; the chain then continues from the last line
//! written, and a torn partial line is cut off before the next write. An fsync failure fails
//! every batch until an fsync succeeds again. Choosing what a request does when its line
//! fails is the handler's business.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Seek as _, Write};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::chain::Link;
use super::event::{Declaration, GapReason};
use super::files;
use super::heads::{HEAD_INTERVAL, Heads, last_link};
use super::record::now_timestamp;
use super::{AuditConfig, Retention, SpaceGuard};

/// A record waiting to be written, and the request waiting for it.
pub struct Pending {
    /// The record's JSON object.
    pub body: String,
    /// Answered once the line is written (or failed).
    pub ack: oneshot::Sender<Result<(), ()>>,
}

/// The queue and the writer, shared by every request.
pub struct Shared {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    queue: Vec<Pending>,
    /// `None` while a leader is writing (or after closing).
    writer: Option<Writer>,
    closed: bool,
}

impl Shared {
    /// Shared state around `writer`.
    pub fn new(writer: Writer) -> Self {
        let state = State {
            writer: Some(writer),
            ..State::default()
        };
        Self {
            state: Mutex::new(state),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `pending`. If nobody is writing, this request leads: it yields once, so that
    /// requests ready on this thread queue their lines too, then writes the queue until it is
    /// empty. `Err` when the log is closed.
    pub async fn submit(&self, pending: Pending) -> Result<(), Pending> {
        let writer = {
            let mut state = self.lock();
            if state.closed {
                return Err(pending);
            }
            state.queue.push(pending);
            state.writer.take()
        };
        if let Some(writer) = writer {
            let mut leader = Leader {
                shared: self,
                writer: Some(writer),
            };
            tokio::task::yield_now().await;
            leader.lead();
        }
        Ok(())
    }

    /// Whether the log is closed.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Writes `last` (if the writer is free now; else the leader writing does), refuses
    /// further lines, and fsyncs and closes the file once no one is writing.
    pub fn close(&self, last: Option<String>) {
        let (writer, mut batch) = {
            let mut state = self.lock();
            if let Some(body) = last {
                let (ack, _) = oneshot::channel();
                state.queue.push(Pending { body, ack });
            }
            state.closed = true;
            let writer = state.writer.take();
            // A leader still writing drains the queue itself.
            let batch = match writer {
                Some(_) => std::mem::take(&mut state.queue),
                None => Vec::new(),
            };
            (writer, batch)
        };
        // Dropping the writer fsyncs it; a leader still writing drops it when it finishes.
        if let Some(mut writer) = writer
            && !batch.is_empty()
        {
            writer.process(&mut batch);
        }
    }
}

/// The writer while a request leads. If the request is dropped before writing (its client
/// went away during the yield), the queue is written anyway; after a panic the log closes,
/// so nobody waits forever.
struct Leader<'a> {
    shared: &'a Shared,
    writer: Option<Writer>,
}

impl Leader<'_> {
    /// Writes batches until the queue is empty, then hands the writer back.
    fn lead(&mut self) {
        let mut batch = Vec::new();
        loop {
            {
                let mut state = self.shared.lock();
                if state.queue.is_empty() {
                    let writer = self.writer.take();
                    if !state.closed {
                        state.writer = writer;
                    }
                    return;
                }
                std::mem::swap(&mut state.queue, &mut batch);
            }
            if let Some(w) = self.writer.as_mut() {
                w.process(&mut batch);
            }
        }
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if self.writer.is_none() {
            return;
        }
        if !std::thread::panicking() {
            self.lead();
            return;
        }
        let mut state = self.shared.lock();
        state.closed = true;
        state.queue.clear();
        tracing::error!("audit writer panicked; the audit log is closed");
    }
}

/// Flags and readings shared with the sync thread.
#[derive(Debug)]
pub struct SyncState {
    /// Bytes were written since the last fsync.
    dirty: AtomicBool,
    /// The last fsync failed.
    failed: AtomicBool,
    /// Bytes that may still be written before the volume's free space falls under the
    /// minimum: set from `statvfs` by the sync thread, lowered by each write.
    headroom: AtomicU64,
    /// The volume's size as last read, for the percentage.
    total: AtomicU64,
    /// A free-space reading that replaces the real one (tests); `u64::MAX` when none.
    fake_free: AtomicU64,
    guard: SpaceGuard,
}

impl SyncState {
    fn new(guard: SpaceGuard) -> Self {
        Self {
            dirty: AtomicBool::new(false),
            failed: AtomicBool::new(false),
            headroom: AtomicU64::new(u64::MAX),
            total: AtomicU64::new(0),
            fake_free: AtomicU64::new(u64::MAX),
            guard,
        }
    }

    /// Reads the free space of `file`'s volume and sets the headroom from it.
    fn refresh(&self, file: &File) {
        match rustix::fs::fstatvfs(file) {
            Ok(v) => {
                let unit = v.f_frsize.max(1);
                self.total
                    .store(v.f_blocks.saturating_mul(unit), Ordering::Relaxed);
                self.set_free(v.f_bavail.saturating_mul(unit));
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read the audit volume's free space; refusing lines");
                self.headroom.store(0, Ordering::Release);
            }
        }
    }

    /// Sets the headroom for `free` bytes free (or the fake reading, when set).
    fn set_free(&self, free: u64) {
        let fake = self.fake_free.load(Ordering::Relaxed);
        let free = if fake == u64::MAX { free } else { fake };
        let minimum = self.guard.minimum(self.total.load(Ordering::Relaxed));
        self.headroom
            .store(free.saturating_sub(minimum), Ordering::Release);
    }

    /// Whether `bytes` more fit above the minimum free space.
    pub fn has_room(&self, bytes: u64) -> bool {
        self.headroom.load(Ordering::Acquire) >= bytes
    }

    fn spent(&self, bytes: u64) {
        let _ = self
            .headroom
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |h| {
                Some(h.saturating_sub(bytes))
            });
    }

    /// Replaces the free-space reading with `free` (`None`: the real one again, at the next
    /// reading); takes effect at once.
    pub fn fake_free_space(&self, free: Option<u64>) {
        self.fake_free
            .store(free.unwrap_or(u64::MAX), Ordering::Relaxed);
        if let Some(free) = free {
            self.set_free(free);
        }
    }
}

/// The active file and the chain's end; held by whichever request is writing.
pub struct Writer {
    active: PathBuf,
    file: Option<File>,
    /// Device and inode of `file`, to notice the path no longer leads to it.
    identity: Option<(u64, u64)>,
    /// Bytes of whole lines in the active file.
    len: u64,
    /// `seq` of the active file's first line (or of the next line, while it has none).
    active_start: u64,
    /// A failed write may have left part of a line after `len`.
    torn: bool,
    max_bytes: Option<u64>,
    retention: Retention,
    /// Rotated files to delete once the `pruned` line naming them is written.
    doomed: Vec<PathBuf>,
    next_archive: u64,
    /// The last line written.
    link: Link,
    buf: Vec<u8>,
    sync: Arc<SyncState>,
    /// Hands the sync thread each new active file.
    sync_files: Sender<File>,
    /// Where durable heads are published.
    heads: Arc<Heads>,
}

impl Writer {
    /// A writer appending to the open `file` at `config.path`, continuing the chain at
    /// `link`; starts the sync thread. Durable heads go to `heads`.
    pub fn new(config: &AuditConfig, file: File, link: Link, heads: Heads) -> io::Result<Self> {
        let active = config.path.clone();
        let len = file.metadata()?.len();
        let next_archive = files::archives(&active)?.last().map_or(1, |(n, _)| n + 1);
        let sync = Arc::new(SyncState::new(config.space));
        sync.refresh(&file);
        let (sync_files, rx) = mpsc::channel();
        sync_files
            .send(file.try_clone()?)
            .map_err(|_| io::Error::other("sync thread"))?;
        let state = sync.clone();
        let interval = config.sync_interval;
        let heads = Arc::new(heads);
        let published = heads.clone();
        std::thread::Builder::new()
            .name("openkms-audit-sync".into())
            .spawn(move || run_syncer(&rx, &state, &published, interval))?;
        let active_start = first_seq(&file)?.unwrap_or(link.seq + 1);
        Ok(Self {
            identity: Some(identity(&file.metadata()?)),
            active,
            file: Some(file),
            len,
            active_start,
            torn: false,
            max_bytes: config.max_bytes,
            retention: config.retention,
            doomed: Vec::new(),
            next_archive,
            link,
            buf: Vec::new(),
            sync,
            sync_files,
            heads,
        })
    }

    /// What the sync thread shares (the free-space guard).
    pub fn sync_state(&self) -> Arc<SyncState> {
        self.sync.clone()
    }

    /// The last line written.
    pub fn link(&self) -> &Link {
        &self.link
    }

    /// Writes the log's own lines now (at open): a declared gap, a prune.
    pub fn write_events(&mut self, bodies: &[String]) -> io::Result<()> {
        let mut buf = Vec::new();
        let mut link = self.link.clone();
        for body in bodies {
            link = link.append(body, &mut buf);
        }
        self.check_room(buf.len() as u64)?;
        self.write(&buf)?;
        self.link = link;
        self.finish_prune();
        Ok(())
    }

    /// Starts from `link` instead (a declared gap jumps the chain); only before writing.
    pub fn jump_to(&mut self, link: Link) {
        if self.len == 0 {
            self.active_start = link.seq + 1;
        }
        self.link = link;
    }

    /// Decides what retention deletes now; the `pruned` line to write first, if any.
    pub fn prune_now(&mut self) -> io::Result<Option<String>> {
        self.prune()
    }

    /// Writes the batch's lines with one call and answers each; leaves `batch` empty.
    pub fn process(&mut self, batch: &mut Vec<Pending>) {
        let written = self.write_batch(batch);
        if let Err(e) = &written {
            tracing::error!(
                path = %self.active.display(),
                error = %e,
                lines = batch.len(),
                "audit log write failed"
            );
        }
        for pending in batch.drain(..) {
            let _ = pending.ack.send(written.as_ref().map_err(|_| ()).copied());
        }
    }

    /// Chains the batch (after any lines the log writes about itself first), checks the
    /// free space and writes it.
    fn write_batch(&mut self, batch: &[Pending]) -> io::Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let mut link = self.link.clone();
        for pending in batch {
            link = link.append(&pending.body, &mut buf);
        }
        let events = self.prepare(buf.len() as u64);
        let result = events.and_then(|events| {
            if !events.is_empty() {
                buf.clear();
                link = self.link.clone();
                for body in events.iter().chain(batch.iter().map(|p| &p.body)) {
                    link = link.append(body, &mut buf);
                }
            }
            self.check_room(buf.len() as u64)?;
            self.write(&buf)
        });
        self.buf = buf;
        result?;
        self.link = link;
        self.finish_prune();
        Ok(())
    }

    fn check_room(&self, bytes: u64) -> io::Result<()> {
        match self.sync.has_room(bytes) {
            true => Ok(()),
            false => Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "the audit volume's free space is at the configured minimum",
            )),
        }
    }

    /// Appends whole lines to the active file.
    fn write(&mut self, lines: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            self.open_active()?;
        }
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("no file"))?;
        if let Err(e) = file.write_all(lines) {
            self.torn = true;
            return Err(e);
        }
        self.len += lines.len() as u64;
        self.sync.spent(lines.len() as u64);
        self.sync.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// Gets the active file ready for `incoming` more bytes: repairs it, notices it was
    /// removed or replaced, rotates. Returns the lines to write before the batch.
    fn prepare(&mut self, incoming: u64) -> io::Result<Vec<String>> {
        if self.sync.failed.load(Ordering::Acquire) {
            if let Some(file) = &self.file {
                file.sync_data()?;
            }
            self.sync.failed.store(false, Ordering::Release);
        }
        if self.torn {
            if let Some(file) = &self.file {
                file.set_len(self.len)?;
            }
            self.torn = false;
        }
        let mut events = Vec::new();
        if let Some(gap) = self.notice_removal()? {
            events.push(gap);
        }
        if self
            .max_bytes
            .is_some_and(|max| self.len > 0 && self.len + incoming > max)
        {
            self.rotate()?;
            events.extend(self.prune()?);
        }
        if self.file.is_none() {
            self.open_active()?;
        }
        Ok(events)
    }

    /// One `stat` of the path per batch: when it no longer leads to the open file (removed,
    /// renamed, the directory gone), starts a new file and returns the `gap` line declaring
    /// the lines the lost file held.
    fn notice_removal(&mut self) -> io::Result<Option<String>> {
        let Some(open) = self.identity else {
            return Ok(None);
        };
        match std::fs::metadata(&self.active) {
            Ok(m) if identity(&m) == open => return Ok(None),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let archives_left = files::archives(&self.active).is_ok_and(|a| !a.is_empty());
        let from = if archives_left { self.active_start } else { 1 };
        tracing::error!(
            path = %self.active.display(),
            from_seq = from,
            to_seq = self.link.seq,
            "the audit log file was removed or replaced while in use; starting a new file and recording the loss"
        );
        self.file = None;
        self.identity = None;
        self.open_active()?;
        let gap = Declaration::Gap {
            reason: GapReason::Removed,
            from: Some(from),
            to: Some(self.link.seq),
        };
        Ok(Some(gap.to_json(&now_timestamp())))
    }

    /// fsync, rename to the next `<name>.<n>`, start a new file, fsync the directory.
    fn rotate(&mut self) -> io::Result<()> {
        if let Some(file) = &self.file {
            file.sync_data()?;
            self.heads.advance(self.link.clone());
        }
        let mut archive = files::archive_path(&self.active, self.next_archive);
        while archive.symlink_metadata().is_ok() {
            self.next_archive += 1;
            archive = files::archive_path(&self.active, self.next_archive);
        }
        match std::fs::rename(&self.active, &archive) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::warn!(path = %self.active.display(), "the audit log was moved away; starting a new file");
            }
            Err(e) => return Err(e),
        }
        self.next_archive += 1;
        self.file = None;
        self.len = 0;
        self.open_active()?;
        sync_dir(files::parent(&self.active))
    }

    /// The rotated files retention deletes now (the oldest ones, in order, up to the first
    /// kept) and the `pruned` line naming them; they are deleted once it is written.
    fn prune(&mut self) -> io::Result<Option<String>> {
        if !self.retention.prunes() {
            return Ok(None);
        }
        let archives = files::archives(&self.active)?;
        let now = std::time::SystemTime::now();
        let count = archives.len();
        let doomed: Vec<PathBuf> = archives
            .into_iter()
            .enumerate()
            .take_while(|(i, (_, path))| self.retention.deletes(count - i, path, now))
            .map(|(_, (_, path))| path)
            .collect();
        let Some(last) = doomed.last() else {
            return Ok(None);
        };
        let Some(link) =
            files::last_line(&mut File::open(last)?)?.and_then(|(line, _)| Link::of_line(&line))
        else {
            tracing::warn!(path = %last.display(), "not pruning: the file does not end in an audit record");
            return Ok(None);
        };
        let names = doomed
            .iter()
            .filter_map(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        self.doomed = doomed;
        let pruned = Declaration::Pruned {
            files: names,
            last_seq: link.seq,
            last_hash: link.hash,
        };
        Ok(Some(pruned.to_json(&now_timestamp())))
    }

    /// Deletes the files a written `pruned` line names (after an fsync, so the line is on
    /// disk first). A failure is logged; the files are then pruned again later.
    fn finish_prune(&mut self) {
        if self.doomed.is_empty() {
            return;
        }
        let doomed = std::mem::take(&mut self.doomed);
        let deleted = self
            .file
            .as_ref()
            .map_or(Ok(()), File::sync_data)
            .and_then(|()| doomed.iter().try_for_each(std::fs::remove_file))
            .and_then(|()| sync_dir(files::parent(&self.active)));
        match deleted {
            Ok(()) => tracing::info!(
                files = doomed.len(),
                "audit retention: deleted rotated files"
            ),
            Err(e) => tracing::error!(error = %e, "audit retention: cannot delete rotated files"),
        }
    }

    fn open_active(&mut self) -> io::Result<()> {
        super::create_dir(files::parent(&self.active))?;
        let file = open_append(&self.active)?;
        let meta = file.metadata()?;
        self.len = meta.len();
        self.identity = Some(identity(&meta));
        self.active_start = self.link.seq + 1;
        let _ = self.sync_files.send(file.try_clone()?);
        self.file = Some(file);
        Ok(())
    }
}

/// Device and inode.
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

/// `seq` of a file's first line, if it has a record there.
fn first_seq(file: &File) -> io::Result<Option<u64>> {
    let mut reader = io::BufReader::new(file.try_clone()?);
    reader.seek(io::SeekFrom::Start(0))?;
    let mut line = Vec::new();
    io::BufRead::read_until(&mut (&mut reader).take(64 * 1024), b'\n', &mut line)?;
    let seq = serde_json::from_slice::<serde_json::Value>(&line)
        .ok()
        .and_then(|v| v.get("seq").and_then(serde_json::Value::as_u64));
    Ok(seq)
}

impl Drop for Writer {
    /// Closing: fsync what was written and publish the head (the sync thread stops with its
    /// sender).
    fn drop(&mut self) {
        match self.file.as_ref().map(File::sync_data) {
            Some(Err(e)) => {
                tracing::error!(path = %self.active.display(), error = %e, "audit log fsync failed");
            }
            Some(Ok(())) if !self.torn => self.heads.advance(self.link.clone()),
            _ => {}
        }
    }
}

/// Opens (creating, mode 0600) `path` for appending (and reading its last line).
pub fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Every `interval`: reads the volume's free space, and fsyncs the active file if something
/// was written to it; every [`HEAD_INTERVAL`] at most, publishes the durable head.
fn run_syncer(files: &Receiver<File>, state: &SyncState, heads: &Heads, interval: Duration) {
    let mut current = None;
    let mut anchor = Anchoring::default();
    loop {
        match files.recv_timeout(interval) {
            Ok(file) => current = Some(file),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let Some(file) = current.as_mut() else {
            continue;
        };
        state.refresh(file);
        let dirty = state.dirty.swap(false, Ordering::AcqRel);
        // Read before the fsync: every line read is then on disk once it returns.
        let due = anchor.due(dirty);
        let head = due.then(|| last_link(file)).flatten();
        if dirty && let Err(e) = file.sync_data() {
            tracing::error!(error = %e, "audit log fsync failed; requests fail until one succeeds");
            state.failed.store(true, Ordering::Release);
            continue;
        }
        anchor.done(dirty, due);
        if let Some(head) = head {
            heads.advance(head);
        }
    }
}

/// When the fsync thread publishes a head.
struct Anchoring {
    /// When the head was last read.
    last: Instant,
    /// Lines were fsynced since, not covered by a published head.
    pending: bool,
}

impl Default for Anchoring {
    fn default() -> Self {
        Self {
            last: Instant::now(),
            pending: false,
        }
    }
}

impl Anchoring {
    /// Whether to read the head now: lines were written since the last one, and the
    /// interval is over.
    fn due(&self, dirty: bool) -> bool {
        (dirty || self.pending) && self.last.elapsed() >= HEAD_INTERVAL
    }

    /// After a pass that fsynced new lines (`dirty`) and read the head (`due`) or not.
    fn done(&mut self, dirty: bool, due: bool) {
        if due {
            self.last = Instant::now();
            self.pending = false;
        } else {
            self.pending |= dirty;
        }
    }
}
