//! What the paged reads of the store capabilities take and return: where a listing resumes
//! (its keyset cursors), which keys a key listing shows ([`KeySelection`], ListKeys' filters
//! typed), and one tag row of the tag listing.
//!
//! A paged read returns at most `limit` rows in listing order, starting just after a cursor
//! (the last row of the previous page), so its cost depends on the page, not on how many
//! rows come before it. This module does not know SQL.

use crate::model::{KeyRecord, KeySpec, KeyState, KeyUsage, ProtectionLevel, Tag};

/// Where a key listing (oldest first: creation time, then key id in byte order) resumes: just
/// after the key with this creation time and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCursor {
    /// The creation time of the last key shown.
    pub created_at: i64,
    /// Its key id.
    pub key_id: String,
}

impl KeyCursor {
    /// The cursor just after `key`.
    pub fn after(key: &KeyRecord) -> Self {
        Self {
            created_at: key.created_at,
            key_id: key.key_id.clone(),
        }
    }

    /// Whether `key` comes after this cursor in listing order.
    pub fn precedes(&self, key: &KeyRecord) -> bool {
        (self.created_at, self.key_id.as_str()) < (key.created_at, key.key_id.as_str())
    }
}

/// Which keys a key listing shows: a key must be in every set that is given (`None` is any
/// value); `nothing` selects no key at all (a filter no key can pass).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySelection {
    /// Accepted states.
    pub states: Option<Vec<KeyState>>,
    /// Accepted specs.
    pub specs: Option<Vec<KeySpec>>,
    /// Accepted usages.
    pub usages: Option<Vec<KeyUsage>>,
    /// Accepted protection levels.
    pub protection_levels: Option<Vec<ProtectionLevel>>,
    /// No key passes (an unknown filter attribute, or a `CreatorType` other than `User`).
    pub nothing: bool,
}

impl KeySelection {
    /// Every key.
    pub fn all() -> Self {
        Self::default()
    }

    /// Whether this selects every key (no set given).
    pub fn is_all(&self) -> bool {
        *self == Self::default()
    }

    /// Whether `key` is selected.
    pub fn matches(&self, key: &KeyRecord) -> bool {
        !self.nothing
            && within(&self.states, &key.state)
            && within(&self.specs, &key.spec)
            && within(&self.usages, &key.usage)
            && within(&self.protection_levels, &key.protection_level)
    }

    /// The stored names of the accepted states, specs, usages and protection levels, in
    /// that order (`None` for a set not given): what a SQL backend binds.
    pub fn names(&self) -> [Option<Vec<&'static str>>; 4] {
        [
            names(&self.states, |s| s.as_str()),
            names(&self.specs, |s| s.as_str()),
            names(&self.usages, |u| u.as_str()),
            names(&self.protection_levels, |p| p.as_str()),
        ]
    }
}

/// Whether `value` is in `set` (any value when no set is given).
fn within<T: PartialEq>(set: &Option<Vec<T>>, value: &T) -> bool {
    set.as_ref().is_none_or(|s| s.contains(value))
}

/// The stored names of a set, if given.
fn names<T: Copy>(
    set: &Option<Vec<T>>,
    name: impl Fn(T) -> &'static str,
) -> Option<Vec<&'static str>> {
    set.as_ref().map(|s| s.iter().map(|&v| name(v)).collect())
}

/// One tag of one key, as the tag listing returns it (sorted by key id, then tag key, both
/// in byte order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTag {
    /// The key.
    pub key_id: String,
    /// The tag.
    pub tag: Tag,
}

/// Where a tag listing resumes: just after this key's tag with this tag key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCursor {
    /// The key id of the last row shown.
    pub key_id: String,
    /// Its tag key.
    pub tag_key: String,
}

impl TagCursor {
    /// The cursor just after `row`.
    pub fn after(row: &KeyTag) -> Self {
        Self {
            key_id: row.key_id.clone(),
            tag_key: row.tag.key.clone(),
        }
    }

    /// Whether `row` comes after this cursor in listing order.
    pub fn precedes(&self, row: &KeyTag) -> bool {
        (self.key_id.as_str(), self.tag_key.as_str()) < (row.key_id.as_str(), row.tag.key.as_str())
    }
}

/// Which tags a tag listing shows: those with tag key `key`, and value `value` unless it is
/// empty (then any value).
pub fn tag_matches(filter: &Tag, tag: &Tag) -> bool {
    filter.key == tag.key && (filter.value.is_empty() || filter.value == tag.value)
}
