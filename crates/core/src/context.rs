//! EncryptionContext: the map of strings bound to a ciphertext.
//!
//! Clients serialise the same context differently (`{"k": "v"}`, `{"k":"v"}`, or flattened as
//! `EncryptionContext.k=v`), so the context is compared as a map (§7.5 of the wire contract).
//! [`EncryptionContext::canonical_bytes`] gives the one byte form that is authenticated: keys
//! sorted, compact JSON. Parsing the wire forms into a map is done here for the JSON form; the
//! flattened form is assembled by the api crate.

use crate::error::Field;
use std::collections::BTreeMap;

use crate::error::{InvalidReason, KmsError};

/// Largest accepted context, in bytes of its canonical form.
pub const MAX_CONTEXT_BYTES: usize = 8192;
/// Longest key of one context entry, in bytes (Alibaba states no per-entry limit; this one
/// keeps a single entry from being the whole context's worth of a policy condition's input).
pub const MAX_CONTEXT_KEY_BYTES: usize = 1024;
/// Longest value of one context entry, in bytes (see [`MAX_CONTEXT_KEY_BYTES`]).
pub const MAX_CONTEXT_VALUE_BYTES: usize = 4096;

/// A map of strings bound to a ciphertext as associated data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncryptionContext(BTreeMap<String, String>);

impl EncryptionContext {
    /// The empty context.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Parses the JSON-object form. Every value must be a string; an empty text is the empty map.
    pub fn from_json(text: &str) -> Result<Self, KmsError> {
        let invalid = || {
            KmsError::invalid(
                Field::EncryptionContext,
                InvalidReason::NotAJsonObjectOfStrings,
            )
        };
        if text.trim().is_empty() {
            return Ok(Self::empty());
        }
        let value: serde_json::Value = serde_json::from_str(text).map_err(|_| invalid())?;
        let object = value.as_object().ok_or_else(invalid)?;
        let mut map = BTreeMap::new();
        for (k, v) in object {
            map.insert(k.clone(), v.as_str().ok_or_else(invalid)?.to_owned());
        }
        Self::from_map(map)
    }

    /// Builds a context from a map, checking its size and each entry's.
    pub fn from_map(map: BTreeMap<String, String>) -> Result<Self, KmsError> {
        for (key, value) in &map {
            entry_bound(key, MAX_CONTEXT_KEY_BYTES)?;
            entry_bound(value, MAX_CONTEXT_VALUE_BYTES)?;
        }
        let ctx = Self(map);
        if ctx.canonical_bytes().len() > MAX_CONTEXT_BYTES {
            return Err(KmsError::invalid(
                Field::EncryptionContext,
                InvalidReason::TooLong {
                    max: MAX_CONTEXT_BYTES,
                },
            ));
        }
        Ok(ctx)
    }

    /// Whether the context has no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The authenticated form: empty for the empty map, else compact JSON with sorted keys.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        if self.0.is_empty() {
            return Vec::new();
        }
        // A BTreeMap of strings always serialises.
        serde_json::to_vec(&self.0).unwrap_or_default()
    }

    /// The entries, sorted by key.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Refuses a context key or value longer than `max` bytes.
fn entry_bound(text: &str, max: usize) -> Result<(), KmsError> {
    match text.len() <= max {
        true => Ok(()),
        false => Err(KmsError::invalid(
            Field::EncryptionContext,
            InvalidReason::TooLong { max },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_bounded() {
        let key = "k".repeat(MAX_CONTEXT_KEY_BYTES);
        let value = "v".repeat(MAX_CONTEXT_VALUE_BYTES);
        let fits = BTreeMap::from([(key.clone(), value.clone())]);
        assert!(EncryptionContext::from_map(fits).is_ok());
        let long_key = BTreeMap::from([(key + "k", "v".to_owned())]);
        assert!(EncryptionContext::from_map(long_key).is_err());
        let long_value = BTreeMap::from([("k".to_owned(), value + "v")]);
        assert!(EncryptionContext::from_map(long_value).is_err());
    }

    #[test]
    fn serialisations_of_one_map_are_equal() {
        let a = EncryptionContext::from_json(r#"{"purpose": "test a*b~c", "a": "1"}"#).unwrap();
        let b = EncryptionContext::from_json(r#"{"a":"1","purpose":"test a*b~c"}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.canonical_bytes(), br#"{"a":"1","purpose":"test a*b~c"}"#);
    }

    #[test]
    fn rejects_non_string_values_and_non_objects() {
        assert!(EncryptionContext::from_json(r#"{"a":1}"#).is_err());
        assert!(EncryptionContext::from_json(r#"["a"]"#).is_err());
        assert!(EncryptionContext::from_json("{").is_err());
    }

    #[test]
    fn empty_forms_are_the_empty_context() {
        assert!(EncryptionContext::from_json("").unwrap().is_empty());
        assert!(EncryptionContext::from_json("{}").unwrap().is_empty());
        assert!(EncryptionContext::empty().canonical_bytes().is_empty());
    }
}
