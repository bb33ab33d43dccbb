//! The audit anchor: the audit log's head recorded in the store, so that a restart notices
//! a log whose end was cut off or replaced by an older copy (issue 13, finding 4).
//!
//! At start [`read`] gives the head recorded for this node, which `open_audit` passes to the
//! audit log ([`openkms_api::audit::Expected::anchor`]); a log ending before it records a
//! `gap` line. While the server runs, [`record`] stores each durable head the log publishes
//! (at most once a second while lines are written, at each rotation, and at close): a store
//! write off the request path, never one per request. The node is [`node`]'s: on SQLite the
//! one node there is; on PostgreSQL, where nodes share the store but each keeps its own log,
//! a random id kept in `<data-dir>/node-id`. What an anchor can and cannot prove is in
//! `docs/audit.md`. Anchors are not part of a backup; [`restored`] reads the note
//! `openkms restore` leaves, so a node's first start on a restored store records the restore
//! instead of reporting its history missing (docs/backup.md).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use openkms_api::audit::{Link, Restored};
use openkms_core::store::RESTORED_META;
use openkms_core::{AnchorStore, AuditAnchor, MetaStore};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{ServerConfig, Storage};
use crate::files;

/// The file in the data directory naming this node's anchor on PostgreSQL.
pub const NODE_ID_FILE: &str = "node-id";
/// The anchor's node on SQLite: the database serves one server only.
const SQLITE_NODE: &str = "sqlite";
/// How long the exit waits for the last head to be stored.
const GRACE: Duration = Duration::from_secs(10);

/// The name this node's anchor is kept under; on PostgreSQL read from (or first written to)
/// `<data-dir>/node-id`.
pub fn node(config: &ServerConfig) -> anyhow::Result<String> {
    match config.storage {
        Storage::Sqlite => Ok(SQLITE_NODE.to_owned()),
        Storage::Postgres { .. } => node_id(&config.data_dir),
    }
}

/// The id in `<data_dir>/node-id`, made (16 random bytes in hex) when missing.
fn node_id(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join(NODE_ID_FILE);
    if path.exists() {
        let bytes = files::read_private(&path)?;
        let id = String::from_utf8(bytes)
            .unwrap_or_default()
            .trim()
            .to_owned();
        let valid = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
        anyhow::ensure!(
            valid,
            "{} is not a node id; remove it to have a new one made",
            path.display()
        );
        return Ok(id);
    }
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("no randomness for a node id"))?;
    let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    files::write_private(&path, format!("{id}\n").as_bytes(), true)?;
    tracing::info!(path = %path.display(), "new node id for this node's audit anchor");
    Ok(id)
}

/// The head recorded for `node`, as the audit log's chain link.
pub async fn read(anchors: &dyn AnchorStore, node: &str) -> anyhow::Result<Option<Link>> {
    let anchor = anchors
        .audit_anchor(node)
        .await
        .context("audit anchor: cannot read the audit log's recorded head from the store")?;
    Ok(anchor.map(|a| Link {
        seq: a.seq,
        hash: a.hash,
    }))
}

/// The restore `openkms restore` noted in the store, if it restored this store. A note that
/// cannot be read is ignored (with a warning): the start then reports the history as missing.
pub async fn restored(meta: &(impl MetaStore + ?Sized)) -> anyhow::Result<Option<Restored>> {
    let note = meta
        .get_meta(RESTORED_META)
        .await
        .context("audit: cannot read the store's restore note")?;
    let Some(note) = note else {
        return Ok(None);
    };
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&note).ok();
    let field = |name: &str| {
        let value = parsed.as_ref()?.get(name)?.as_str()?;
        Some(value.to_owned())
    };
    match (
        field("restored_at"),
        field("backup_sha256"),
        field("backup_created_at"),
    ) {
        (Some(restored_at), Some(backup_sha256), Some(backup_created_at)) => Ok(Some(Restored {
            restored_at,
            backup_sha256,
            backup_created_at,
        })),
        _ => {
            tracing::warn!("audit: the store's restore note is unreadable; ignored");
            Ok(None)
        }
    }
}

/// Stores each head published on `heads` until the log closes (the last one included).
/// Starts by storing the log's head at open when it is past `stored`.
pub fn record(
    mut heads: watch::Receiver<Link>,
    anchors: Arc<dyn AnchorStore>,
    node: String,
    stored: Option<Link>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut recorder = Recorder {
            anchors,
            node,
            stored,
            failing: false,
        };
        let opened = heads.borrow_and_update().clone();
        recorder.store(opened).await;
        loop {
            let closed = heads.changed().await.is_err();
            let head = heads.borrow_and_update().clone();
            recorder.store(head).await;
            if closed {
                return;
            }
        }
    })
}

/// Waits (boundedly) for the recorder to store the head the closed log published last.
pub async fn finish(recorder: JoinHandle<()>) {
    match tokio::time::timeout(GRACE, recorder).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "audit anchor: the recorder ended abnormally"),
        Err(_) => tracing::error!(
            "audit anchor: the audit log's last head was not stored in time; the next start may report lines missing that are not"
        ),
    }
}

/// What the recorder has stored.
struct Recorder {
    anchors: Arc<dyn AnchorStore>,
    node: String,
    /// The head stored last (or found at start).
    stored: Option<Link>,
    /// The last write failed (logged once until one succeeds).
    failing: bool,
}

impl Recorder {
    /// Stores `head` if it is past the head stored.
    async fn store(&mut self, head: Link) {
        if head.seq == 0 || self.stored.as_ref().is_some_and(|s| s.seq >= head.seq) {
            return;
        }
        let anchor = AuditAnchor {
            seq: head.seq,
            hash: head.hash.clone(),
        };
        match self.anchors.set_audit_anchor(&self.node, &anchor).await {
            Ok(()) => {
                if self.failing {
                    tracing::info!(seq = head.seq, "audit anchor: recorded again");
                }
                self.failing = false;
                self.stored = Some(head);
            }
            Err(e) if !self.failing => {
                self.failing = true;
                tracing::error!(error = %e, seq = head.seq, "audit anchor: cannot record the audit log's head in the store; retrying with the next head");
            }
            Err(_) => {}
        }
    }
}
