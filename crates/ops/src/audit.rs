//! What an operation tells the audit log: typed facts, never a parameter value or a secret.
//!
//! The engine's caller (a front end) owns the audit line: who called, from where, the
//! outcome. The operation adds what it acted on: the key (as named, then as resolved) and the
//! key version.

/// The key facts of one request's audit line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// The key: as the request named it, replaced by the real id once it ran.
    pub key_id: Option<String>,
    /// The key version the run used or made, when it names one.
    pub key_version_id: Option<String>,
}

impl AuditEvent {
    /// Notes the key.
    pub fn key(&mut self, key_id: &str) {
        self.key_id = Some(key_id.to_owned());
    }

    /// Notes the key and the version.
    pub fn version(&mut self, key_id: &str, version_id: &str) {
        self.key(key_id);
        self.key_version_id = Some(version_id.to_owned());
    }
}
