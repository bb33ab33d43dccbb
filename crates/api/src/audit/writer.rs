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
//! A failed write fails every line of its batch; the chain then continues from the last line
//! written, and a torn partial line is cut off before the next write. An fsync failure fails
//! every batch until an fsync succeeds again. Choosing what a request does when its line
//! fails is the handler's business.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;

use super::chain::Link;
use super::files;

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

    /// Refuses further lines; fsyncs and closes the file once no one is writing.
    pub fn close(&self) {
        let writer = {
            let mut state = self.lock();
            state.closed = true;
            state.writer.take()
        };
        // Dropping the writer fsyncs it; a leader still writing drops it when it finishes.
        drop(writer);
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

/// Flags shared with the sync thread.
#[derive(Debug, Default)]
struct SyncState {
    /// Bytes were written since the last fsync.
    dirty: AtomicBool,
    /// The last fsync failed.
    failed: AtomicBool,
}

/// The active file and the chain's end; held by whichever request is writing.
pub struct Writer {
    active: PathBuf,
    file: Option<File>,
    /// Bytes of whole lines in the active file.
    len: u64,
    /// A failed write may have left part of a line after `len`.
    torn: bool,
    max_bytes: Option<u64>,
    next_archive: u64,
    /// The last line written.
    link: Link,
    buf: Vec<u8>,
    sync: Arc<SyncState>,
    /// Hands the sync thread each new active file.
    sync_files: Sender<File>,
}

impl Writer {
    /// A writer appending to the open `file` at `active`, continuing the chain at `link`;
    /// starts the sync thread.
    pub fn new(
        active: PathBuf,
        file: File,
        link: Link,
        max_bytes: Option<u64>,
        sync_interval: Duration,
    ) -> io::Result<Self> {
        let len = file.metadata()?.len();
        let next_archive = files::archives(&active)?.last().map_or(1, |(n, _)| n + 1);
        let sync = Arc::new(SyncState::default());
        let (sync_files, rx) = mpsc::channel();
        sync_files
            .send(file.try_clone()?)
            .map_err(|_| io::Error::other("sync thread"))?;
        let state = sync.clone();
        std::thread::Builder::new()
            .name("openkms-audit-sync".into())
            .spawn(move || run_syncer(&rx, &state, sync_interval))?;
        Ok(Self {
            active,
            file: Some(file),
            len,
            torn: false,
            max_bytes,
            next_archive,
            link,
            buf: Vec::new(),
            sync,
            sync_files,
        })
    }

    /// Writes the batch's lines with one call and answers each; leaves `batch` empty.
    fn process(&mut self, batch: &mut Vec<Pending>) {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let mut link = self.link.clone();
        for pending in batch.iter() {
            link = link.append(&pending.body, &mut buf);
        }
        let written = self.write(&buf);
        match &written {
            Ok(()) => self.link = link,
            Err(e) => tracing::error!(
                path = %self.active.display(),
                error = %e,
                lines = batch.len(),
                "audit log write failed"
            ),
        }
        for pending in batch.drain(..) {
            let _ = pending.ack.send(written.as_ref().map_err(|_| ()).copied());
        }
        self.buf = buf;
    }

    /// Appends whole lines to the active file, rotating or repairing it first if needed.
    fn write(&mut self, lines: &[u8]) -> io::Result<()> {
        self.prepare(lines.len() as u64)?;
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("no file"))?;
        if let Err(e) = file.write_all(lines) {
            self.torn = true;
            return Err(e);
        }
        self.len += lines.len() as u64;
        self.sync.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// Gets the active file ready for `incoming` more bytes.
    fn prepare(&mut self, incoming: u64) -> io::Result<()> {
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
        if self
            .max_bytes
            .is_some_and(|max| self.len > 0 && self.len + incoming > max)
        {
            self.rotate()?;
        }
        if self.file.is_none() {
            self.open_active()?;
        }
        Ok(())
    }

    /// fsync, rename to the next `<name>.<n>`, start a new file, fsync the directory.
    fn rotate(&mut self) -> io::Result<()> {
        if let Some(file) = &self.file {
            file.sync_data()?;
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

    fn open_active(&mut self) -> io::Result<()> {
        let file = open_append(&self.active)?;
        self.len = file.metadata()?.len();
        let _ = self.sync_files.send(file.try_clone()?);
        self.file = Some(file);
        Ok(())
    }
}

impl Drop for Writer {
    /// Closing: fsync what was written (the sync thread stops with its sender).
    fn drop(&mut self) {
        if let Some(Err(e)) = self.file.as_ref().map(File::sync_data) {
            tracing::error!(path = %self.active.display(), error = %e, "audit log fsync failed");
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

/// Every `interval`, fsyncs the active file if something was written to it.
fn run_syncer(files: &Receiver<File>, state: &SyncState, interval: Duration) {
    let mut current = None;
    loop {
        match files.recv_timeout(interval) {
            Ok(file) => current = Some(file),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if !state.dirty.swap(false, Ordering::AcqRel) {
            continue;
        }
        if let Some(Err(e)) = current.as_ref().map(File::sync_data) {
            tracing::error!(error = %e, "audit log fsync failed; requests fail until one succeeds");
            state.failed.store(true, Ordering::Release);
        }
    }
}
