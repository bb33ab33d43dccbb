//! [`AnchorStore`]: where each node's audit log head is recorded, outside the log.
//!
//! Not part of [`super::Store`]: the key service never touches it. The binary records the
//! head of a node's audit log here (its last durable line's `seq` and hash) now and then and
//! at a clean shutdown, and at start compares the log on disk with it, so a log whose end was
//! cut off is noticed (docs/audit.md). One small value per node, overwritten in place; the
//! backends keep it in their metadata table under [`AuditAnchor::meta_name`], encoded by
//! [`AuditAnchor::to_meta`], so no schema change is needed.

use async_trait::async_trait;

use super::StoreError;

/// The head of an audit log as recorded: the `seq` of its last durable line and that line's
/// SHA-256 (lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditAnchor {
    /// The line's number in the log (from 1).
    pub seq: u64,
    /// The line's hash, 64 lowercase hex digits.
    pub hash: String,
}

impl AuditAnchor {
    /// The metadata name under which `node`'s anchor is kept (a namespace of its own, apart
    /// from the names written once).
    pub fn meta_name(node: &str) -> String {
        format!("audit-anchor/{node}")
    }

    /// The stored form: `<seq> <hash>` in ASCII.
    pub fn to_meta(&self) -> Vec<u8> {
        format!("{} {}", self.seq, self.hash).into_bytes()
    }

    /// Reads the stored form back; `Corrupt` when it is not one.
    pub fn from_meta(bytes: &[u8]) -> Result<Self, StoreError> {
        let corrupt = || StoreError::Corrupt("audit anchor".into());
        let text = std::str::from_utf8(bytes).map_err(|_| corrupt())?;
        let (seq, hash) = text.split_once(' ').ok_or_else(corrupt)?;
        let seq = seq.parse().map_err(|_| corrupt())?;
        let hex = hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        match hex {
            true => Ok(Self {
                seq,
                hash: hash.to_owned(),
            }),
            false => Err(corrupt()),
        }
    }
}

/// The recorded heads of the nodes' audit logs, one per node.
#[async_trait]
pub trait AnchorStore: Send + Sync + 'static {
    /// The head recorded for `node`, if any.
    async fn audit_anchor(&self, node: &str) -> Result<Option<AuditAnchor>, StoreError>;

    /// Records `anchor` as `node`'s head, replacing the one recorded before. Durable like
    /// other writes; touches no other node's anchor and no other metadata.
    async fn set_audit_anchor(&self, node: &str, anchor: &AuditAnchor) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips_and_refuses_garbage() {
        let anchor = AuditAnchor {
            seq: 42,
            hash: "ab".repeat(32),
        };
        assert_eq!(AuditAnchor::from_meta(&anchor.to_meta()).ok(), Some(anchor));
        for bad in [&b""[..], b"42", b"x abab", b"42 ABAB", &[0xff, b' ']] {
            assert!(AuditAnchor::from_meta(bad).is_err(), "{bad:?}");
        }
    }
}
