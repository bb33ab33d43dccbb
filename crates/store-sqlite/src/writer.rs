//! The writer thread and its group commit.
//!
//! Owns the one read-write connection. Callers queue a [`WriteOp`] and await its answer; the
//! thread takes one command (blocking), drains whatever else is queued (up to
//! [`MAX_BATCH`]), runs them in one `BEGIN IMMEDIATE` transaction with a savepoint per
//! command, commits (an fsync, since `synchronous=FULL`), and only then answers each caller.
//! So an `Ok` always means committed, a failing command rolls back only itself, and a failed
//! COMMIT fails every command of its batch. Does not own the SQL of each command (`ops`).

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};

use openkms_core::StoreError;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::oneshot;

use crate::error::{map_error, writer_stopped};
use crate::ops::WriteOp;

/// The most commands committed together.
const MAX_BATCH: usize = 256;

/// What a command answers: the count of [`WriteOp::apply`] (1 or 0 for a yes-or-no command,
/// the rows deleted for a purge).
type Answer = Result<u64, StoreError>;

/// A queued write and where to send its answer.
struct Command {
    /// The write.
    op: WriteOp,
    /// The caller waiting for the commit.
    reply: oneshot::Sender<Answer>,
}

/// Handle to the writer thread. Dropping it lets the thread finish the queued commands, then
/// waits for it to exit.
pub(crate) struct Writer {
    /// The queue; `None` only while dropping.
    queue: Option<Sender<Command>>,
    /// The thread; `None` only while dropping.
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread, which takes ownership of `conn`.
    pub(crate) fn start(conn: Connection) -> Result<Self, StoreError> {
        let (queue, commands) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("openkms-sqlite-writer".to_owned())
            .spawn(move || run(conn, commands))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer: {e}")))?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Queues `op` and waits until its batch has committed (or failed).
    pub(crate) async fn submit(&self, op: WriteOp) -> Answer {
        let (reply, answer) = oneshot::channel();
        let queue = self.queue.as_ref().ok_or_else(writer_stopped)?;
        queue
            .send(Command { op, reply })
            .map_err(|_| writer_stopped())?;
        answer.await.map_err(|_| writer_stopped())?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            // A panicked writer has nothing left to flush; there is no one to report it to.
            let _ = thread.join();
        }
    }
}

/// The thread's loop: ends when every sender is gone and the queue is empty.
fn run(mut conn: Connection, commands: Receiver<Command>) {
    while let Ok(first) = commands.recv() {
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        batch.extend(commands.try_iter().take(MAX_BATCH - 1));
        commit_batch(&mut conn, batch);
    }
}

/// Runs and commits one batch, then answers every caller in it.
fn commit_batch(conn: &mut Connection, batch: Vec<Command>) {
    let answers = match run_batch(conn, &batch) {
        Ok(answers) => answers,
        Err(error) => batch.iter().map(|_| Err(map_error(&error))).collect(),
    };
    let mut done = batch.iter().zip(&answers);
    if done.any(|(command, answer)| command.op.destroys() && answer.is_ok()) {
        scrub_wal(conn);
    }
    for (command, answer) in batch.into_iter().zip(answers) {
        // The caller may have stopped waiting; the write stands either way.
        let _ = command.reply.send(answer);
    }
}

/// After a key was destroyed: copies the WAL into the database file and truncates it, so the
/// destroyed material does not linger in WAL frames written before its rows were deleted
/// (`secure_delete` zeroes the rows in the pages themselves).
///
/// Best effort: the destruction is committed either way, and a checkpoint that cannot finish
/// (a reader held its snapshot past the busy timeout) leaves the frames to be overwritten by
/// later ones. Runs before the callers are answered, so the material is gone when
/// `destroy_key` returns.
fn scrub_wal(conn: &Connection) {
    // The result row only says how far the checkpoint got; there is no one to report it to.
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

/// One transaction over the batch; `Err` if the batch as a whole failed (nothing written).
fn run_batch(conn: &mut Connection, batch: &[Command]) -> rusqlite::Result<Vec<Answer>> {
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut answers = Vec::with_capacity(batch.len());
    for command in batch {
        answers.push(apply_isolated(&mut tx, &command.op)?);
    }
    tx.commit()?;
    Ok(answers)
}

/// Runs one command in a savepoint, rolling back only that command if it fails.
///
/// The outer `Err` means the savepoint itself could not be managed, which dooms the batch.
fn apply_isolated(tx: &mut Transaction<'_>, op: &WriteOp) -> rusqlite::Result<Answer> {
    let savepoint = tx.savepoint()?;
    match op.apply(&savepoint) {
        Ok(written) => {
            savepoint.commit()?;
            Ok(Ok(written))
        }
        Err(error) => {
            savepoint.finish()?;
            Ok(Err(error.into_store_error()))
        }
    }
}
