//! What an operation tells the audit log: typed facts, never a parameter value or a secret.
//!
//! The engine's caller (a front end) owns the audit line: who called, from where, the
//! outcome. The operation adds what it acted on: the key (as named, then as resolved) and the
//! key version; a ReEncrypt also the key version that opened its source ciphertext.

/// Longest name an event keeps: a key named by a client is cut to this many bytes (an alias
/// ARN is about 330), so no request can make an audit line long.
pub const MAX_AUDIT_NAME_BYTES: usize = 512;

/// The key facts of one request's audit line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// The key: as the request named it, replaced by the real id once it ran.
    pub key_id: Option<String>,
    /// The key version the run used or made, when it names one.
    pub key_version_id: Option<String>,
    /// ReEncrypt only: the key that opened the source ciphertext, once it ran.
    pub source_key_id: Option<String>,
    /// ReEncrypt only: the version of it that opened the source ciphertext.
    pub source_key_version_id: Option<String>,
}

impl AuditEvent {
    /// Notes the key.
    pub fn key(&mut self, key_id: &str) {
        self.key_id = Some(bounded(key_id));
    }

    /// Notes the key and the version.
    pub fn version(&mut self, key_id: &str, version_id: &str) {
        self.key(key_id);
        self.key_version_id = Some(bounded(version_id));
    }

    /// Notes the key version that opened a ReEncrypt's source ciphertext.
    pub fn source(&mut self, key_id: &str, version_id: &str) {
        self.source_key_id = Some(bounded(key_id));
        self.source_key_version_id = Some(bounded(version_id));
    }
}

/// `name` cut to [`MAX_AUDIT_NAME_BYTES`] at a character boundary.
fn bounded(name: &str) -> String {
    let mut end = name.len().min(MAX_AUDIT_NAME_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_owned()
}
