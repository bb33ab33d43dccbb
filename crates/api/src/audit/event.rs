//! Lines the log writes about itself: a declared gap, a retention prune, a flood summary.
//!
//! A request's line has `request_id` after `time`; an event line has `event` there, naming
//! what it records, and its own members after. Events are chained like every other line.
//! Two of them declare something [`super::chain::Verifier`] must know to tell a loss the
//! server noticed and said so from tampering:
//!
//! * `gap`: lines `from_seq..=to_seq` are missing (the active file was removed or replaced
//!   while the server ran, the history was missing at start, or shorter than the head the
//!   store had recorded). The line's `seq` is `to_seq + 1` and its `prev` the hash of line
//!   `to_seq` as the writer last knew it. Both are `null` when the extent is unknown (no
//!   history and nothing recorded about it): the line then starts a new chain at `seq` 1.
//! * `pruned`: retention deleted rotated files, whose last line was `last_seq` with hash
//!   `last_hash`; the oldest file left starts right after it.
//!
//! `suppressed` (a summary of refused unauthenticated requests not written one by one) only
//! informs; see [`super::flood`]. Rendering the summary is done there. So does `restored`
//! ([`Restored`]): the store was restored from a backup, so the log starts (or goes on)
//! without the history of the store's earlier life, which stays in the old logs.

use serde_json::{Value, json};

/// Why lines are missing, as a `gap` line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapReason {
    /// The active file (or the directory) was removed or renamed while the server ran.
    Removed,
    /// The server started over existing data without any audit history.
    HistoryMissing,
    /// The log ends before the head the store recorded at the last rotation or shutdown.
    BehindAnchor,
}

impl GapReason {
    /// The `reason` member.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Removed => "removed",
            Self::HistoryMissing => "history_missing",
            Self::BehindAnchor => "behind_anchor",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Removed, Self::HistoryMissing, Self::BehindAnchor]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// A restore from a backup, as `openkms restore` noted it in the store: the `restored` line a
/// node writes at its first start on the restored store, in place of a `gap` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// When the restore ran (RFC 3339).
    pub restored_at: String,
    /// The backup file's SHA-256 (lowercase hex), which names it.
    pub backup_sha256: String,
    /// When the backup was taken (RFC 3339).
    pub backup_created_at: String,
}

impl Restored {
    /// The line's JSON object (without `seq` and `prev`), stamped `time`.
    pub fn to_json(&self, time: &str) -> String {
        json!({
            "time": time,
            "event": "restored",
            "restored_at": self.restored_at,
            "backup_sha256": self.backup_sha256,
            "backup_created_at": self.backup_created_at,
        })
        .to_string()
    }
}

/// An event that declares something about the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declaration {
    /// Lines `from..=to` are missing; both `None` when unknown.
    Gap {
        /// Why.
        reason: GapReason,
        /// First missing line.
        from: Option<u64>,
        /// Last missing line.
        to: Option<u64>,
    },
    /// Retention deleted `files`, which ended with line `last_seq` (hash `last_hash`).
    Pruned {
        /// The file names deleted.
        files: Vec<String>,
        /// `seq` of their last line.
        last_seq: u64,
        /// Hash of their last line.
        last_hash: String,
    },
}

impl Declaration {
    /// The line's JSON object (without `seq` and `prev`), stamped `time`.
    pub fn to_json(&self, time: &str) -> String {
        let value = match self {
            Self::Gap { reason, from, to } => json!({
                "time": time,
                "event": "gap",
                "reason": reason.as_str(),
                "from_seq": from,
                "to_seq": to,
            }),
            Self::Pruned {
                files,
                last_seq,
                last_hash,
            } => json!({
                "time": time,
                "event": "pruned",
                "files": files,
                "last_seq": last_seq,
                "last_hash": last_hash,
            }),
        };
        value.to_string()
    }

    /// The declaration a parsed line makes, if it is a `gap` or `pruned` event.
    pub fn of(line: &serde_json::Map<String, Value>) -> Option<Self> {
        match line.get("event")?.as_str()? {
            "gap" => Some(Self::Gap {
                reason: GapReason::parse(line.get("reason")?.as_str()?)?,
                from: line.get("from_seq")?.as_u64(),
                to: line.get("to_seq")?.as_u64(),
            }),
            "pruned" => Some(Self::Pruned {
                files: line
                    .get("files")?
                    .as_array()?
                    .iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect(),
                last_seq: line.get("last_seq")?.as_u64()?,
                last_hash: line.get("last_hash")?.as_str()?.to_owned(),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn round_trip(d: &Declaration) -> Option<Declaration> {
        let text = d.to_json("2025-01-01T00:00:00.000Z");
        let Value::Object(map) = serde_json::from_str::<Value>(&text).unwrap() else {
            panic!("not an object");
        };
        Declaration::of(&map)
    }

    #[test]
    fn events_round_trip() {
        let gap = Declaration::Gap {
            reason: GapReason::Removed,
            from: Some(3),
            to: Some(9),
        };
        assert_eq!(round_trip(&gap), Some(gap));
        let unknown = Declaration::Gap {
            reason: GapReason::HistoryMissing,
            from: None,
            to: None,
        };
        assert_eq!(round_trip(&unknown), Some(unknown));
        let pruned = Declaration::Pruned {
            files: vec!["audit.log.1".into()],
            last_seq: 7,
            last_hash: "ab".repeat(32),
        };
        assert_eq!(round_trip(&pruned), Some(pruned.clone()));
        assert!(
            pruned
                .to_json("t")
                .starts_with("{\"time\":\"t\",\"event\":\"pruned\"")
        );
    }
}
