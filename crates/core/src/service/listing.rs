//! Reading keys and aliases: DescribeKey, ListKeys with filters, ListAliases, and the tags
//! of every key (ListTagResources naming no key).
//!
//! Listings are read from the store (not the cache, which holds only keys in use) a page at
//! a time. A numbered page (`number` from 1, `size` entries) is one count of the listing,
//! then one keyset read of at most `size` records after the cursor where the page starts:
//! remembered from serving the page before (see `pages`), or, for a page asked for out of
//! order, found by skipping over the listing's index (no record is read for the skipped
//! entries). ListKeys' filters are pushed into the store's read as a [`KeySelection`], except
//! a `KeyState` filter: the store holds each key's stored state, while an EXTERNAL key whose
//! material expired is PendingImport (`imports::effective_state`), so a listing filtered by
//! state is read whole and filtered on the state each key is in now.

use super::pages::{PageMemo, offset};
use super::{KeyRef, KeyService};
use crate::error::KmsError;
use crate::model::{AliasRecord, KeyRecord, KeySpec, KeyState, KeyUsage, ProtectionLevel, Tag};
use crate::store::{KeyCursor, KeySelection, KeyTag, TagCursor, tag_matches};

/// One ListKeys filter: a key must match one of `values` for the attribute `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFilter {
    /// `KeyState`, `KeySpec`, `KeyUsage`, `ProtectionLevel` or `CreatorType`.
    pub key: String,
    /// Accepted values (OR).
    pub values: Vec<String>,
}

impl KeyFilter {
    /// Whether `record` passes this filter; an unknown attribute matches nothing.
    pub fn matches(&self, record: &KeyRecord) -> bool {
        selection(std::slice::from_ref(self)).matches(record)
    }
}

/// The selection of keys passing every filter (AND across filters, OR within values). A
/// value no key can have is dropped; an attribute given twice keeps the values both accept;
/// an unknown attribute, or a `CreatorType` without `User` (every key's creator type), selects
/// nothing.
pub fn selection(filters: &[KeyFilter]) -> KeySelection {
    let mut s = KeySelection::all();
    for f in filters {
        let values = f.values.iter().map(String::as_str);
        match f.key.as_str() {
            "KeyState" => narrow(&mut s.states, values.filter_map(KeyState::parse)),
            "KeySpec" => narrow(&mut s.specs, values.filter_map(KeySpec::parse)),
            "KeyUsage" => narrow(&mut s.usages, values.filter_map(KeyUsage::parse)),
            "ProtectionLevel" => narrow(
                &mut s.protection_levels,
                values.filter_map(ProtectionLevel::parse),
            ),
            "CreatorType" => s.nothing |= !f.values.iter().any(|v| v == "User"),
            _ => s.nothing = true,
        }
    }
    s
}

/// Keeps in `set` only the values in `accepted` (all of them when `set` is not given yet).
fn narrow<T: PartialEq>(set: &mut Option<Vec<T>>, accepted: impl Iterator<Item = T>) {
    let mut accepted: Vec<T> = accepted.collect();
    if let Some(held) = set.take() {
        accepted.retain(|v| held.contains(v));
    }
    *set = Some(accepted);
}

/// One numbered page of a listing and the size of the whole listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage<T> {
    /// The entries of the page, in listing order.
    pub items: Vec<T>,
    /// How many entries the whole listing has.
    pub total: u64,
}

impl<T> ListPage<T> {
    /// A page with nothing on it, of a listing of `total` entries.
    fn empty(total: u64) -> Self {
        Self {
            items: Vec::new(),
            total,
        }
    }
}

/// One page of the tags of every key, and where the next page starts, if there is more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPage {
    /// Tag rows, sorted by key id, then tag key.
    pub rows: Vec<KeyTag>,
    /// The cursor of the next page; `None` on the last page.
    pub next: Option<TagCursor>,
}

impl KeyService {
    /// DescribeKey: the record of a key named by id, alias or ARN, in any state (the state
    /// it is in now: an EXTERNAL key whose material expired is PendingImport).
    pub async fn describe_key(&self, key: &KeyRef) -> Result<KeyRecord, KmsError> {
        self.describe_key_expiry(key)
            .await
            .map(|(record, _)| record)
    }

    /// ListKeys: every key passing every filter (AND across filters), oldest first, each in
    /// the state it is in now.
    pub async fn list_keys(&self, filters: &[KeyFilter]) -> Result<Vec<KeyRecord>, KmsError> {
        let keys = self.store.list_keys().await?;
        let selection = selection(filters);
        let mut passing = Vec::new();
        for key in keys {
            let key = self.with_effective_state(key).await?;
            if selection.matches(&key) {
                passing.push(key);
            }
        }
        Ok(passing)
    }

    /// ListKeys, one numbered page (`number` from 1, `size` keys): the keys passing every
    /// filter, oldest first, and how many pass.
    pub async fn list_keys_page(
        &self,
        filters: &[KeyFilter],
        number: usize,
        size: usize,
    ) -> Result<ListPage<KeyRecord>, KmsError> {
        let selection = selection(filters);
        if selection.nothing {
            return Ok(ListPage::empty(0));
        }
        if selection.states.is_some() {
            return self.list_keys_page_by_state(filters, number, size).await;
        }
        let total = self.store.count_keys(&selection).await?;
        let Some(before) = offset(number, size, total) else {
            return Ok(ListPage::empty(total));
        };
        let listing = format!("keys {selection:?}");
        let after = match before {
            0 => None,
            _ => match self.key_pages.start_of(&listing, size, number, total) {
                Some(cursor) => Some(cursor),
                None => self.store.key_cursor_at(&selection, before - 1).await?,
            },
        };
        let items = self
            .store
            .page_keys(&selection, after.as_ref(), size)
            .await?;
        remember(
            &self.key_pages,
            &listing,
            (size, number, total),
            &items,
            KeyCursor::after,
        );
        Ok(ListPage { items, total })
    }

    /// ListKeys with a `KeyState` filter, one numbered page: the whole listing filtered on
    /// each key's state now (see the module doc), then the page cut from it.
    async fn list_keys_page_by_state(
        &self,
        filters: &[KeyFilter],
        number: usize,
        size: usize,
    ) -> Result<ListPage<KeyRecord>, KmsError> {
        let passing = self.list_keys(filters).await?;
        let total = passing.len() as u64;
        let Some(before) = offset(number, size, total) else {
            return Ok(ListPage::empty(total));
        };
        let skip = usize::try_from(before).unwrap_or(usize::MAX);
        let items = passing.into_iter().skip(skip).take(size).collect();
        Ok(ListPage { items, total })
    }

    /// ListAliases / ListAliasesByKeyId: aliases sorted by name.
    pub async fn list_aliases(&self, key: Option<&KeyRef>) -> Result<Vec<AliasRecord>, KmsError> {
        let key_id = self.alias_owner(key).await?;
        Ok(self.store.list_aliases(key_id.as_deref()).await?)
    }

    /// ListAliases / ListAliasesByKeyId, one numbered page (`number` from 1, `size` aliases):
    /// aliases sorted by name, and how many there are.
    pub async fn list_aliases_page(
        &self,
        key: Option<&KeyRef>,
        number: usize,
        size: usize,
    ) -> Result<ListPage<AliasRecord>, KmsError> {
        let key_id = self.alias_owner(key).await?;
        let key_id = key_id.as_deref();
        let total = self.store.count_aliases(key_id).await?;
        let Some(before) = offset(number, size, total) else {
            return Ok(ListPage::empty(total));
        };
        let listing = format!("aliases {key_id:?}");
        let after = match before {
            0 => None,
            _ => match self.alias_pages.start_of(&listing, size, number, total) {
                Some(name) => Some(name),
                None => self.store.alias_name_at(key_id, before - 1).await?,
            },
        };
        let items = self
            .store
            .page_aliases(key_id, after.as_deref(), size)
            .await?;
        let name = |a: &AliasRecord| a.name.clone();
        remember(
            &self.alias_pages,
            &listing,
            (size, number, total),
            &items,
            name,
        );
        Ok(ListPage { items, total })
    }

    /// The key whose aliases are listed (checked to exist), or `None` for every alias.
    async fn alias_owner(&self, key: Option<&KeyRef>) -> Result<Option<String>, KmsError> {
        let Some(key) = key else {
            return Ok(None);
        };
        let key_id = self.resolve(key).await?;
        self.store
            .get_key(&key_id)
            .await?
            .ok_or(KmsError::KeyNotFound)?;
        Ok(Some(key_id))
    }

    /// The tags of every key, one page of at most `limit` rows after `after`, sorted by key
    /// id then tag key: only tags matching one of `filter` (same tag key, and same value
    /// unless the filter's value is empty), every tag when `filter` is empty.
    ///
    /// Each filter entry is one keyset read of at most `limit + 1` rows over the store's tag
    /// index, and the reads are merged, so a page costs `filter.len() * limit` rows at most,
    /// whatever the number of keys and tags.
    pub async fn list_tags_page(
        &self,
        filter: &[Tag],
        after: Option<&TagCursor>,
        limit: usize,
    ) -> Result<TagPage, KmsError> {
        let want = limit.saturating_add(1);
        let mut rows = match filter.is_empty() {
            true => self.store.page_tags(None, after, want).await?,
            false => self.filtered_tags(filter, after, want).await?,
        };
        let next = match rows.len() > limit {
            true => {
                rows.truncate(limit);
                rows.last().map(TagCursor::after)
            }
            false => None,
        };
        Ok(TagPage { rows, next })
    }

    /// The first `want` tag rows after `after` matching any entry of `filter`, merged.
    async fn filtered_tags(
        &self,
        filter: &[Tag],
        after: Option<&TagCursor>,
        want: usize,
    ) -> Result<Vec<KeyTag>, KmsError> {
        let mut rows = Vec::new();
        for entry in filter {
            rows.extend(self.store.page_tags(Some(entry), after, want).await?);
        }
        rows.sort_by(|a, b| (&a.key_id, &a.tag.key).cmp(&(&b.key_id, &b.tag.key)));
        rows.dedup_by(|a, b| a.key_id == b.key_id && a.tag.key == b.tag.key);
        rows.retain(|r| filter.iter().any(|f| tag_matches(f, &r.tag)));
        rows.truncate(want);
        Ok(rows)
    }

    /// The ARN of an alias.
    pub fn alias_arn(&self, name: &str) -> String {
        format!("acs:kms:{}:{}:{}", self.region_id, self.account_id, name)
    }
}

/// When a page came back full, remembers that the next page starts after its last entry.
fn remember<T, C: Clone>(
    memo: &PageMemo<C>,
    listing: &str,
    (size, number, total): (usize, usize, u64),
    items: &[T],
    cursor: impl Fn(&T) -> C,
) {
    if items.len() != size {
        return;
    }
    if let Some(last) = items.last() {
        memo.remember(listing, size, number.saturating_add(1), total, cursor(last));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(key: &str, values: &[&str]) -> KeyFilter {
        KeyFilter {
            key: key.to_owned(),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    #[test]
    fn filters_become_a_selection() {
        let s = selection(&[filter("KeyState", &["Enabled", "Bogus", "Disabled"])]);
        assert_eq!(s.states, Some(vec![KeyState::Enabled, KeyState::Disabled]));
        let twice = selection(&[
            filter("KeyState", &["Enabled", "Disabled"]),
            filter("KeyState", &["Disabled", "PendingDeletion"]),
        ]);
        assert_eq!(
            twice.states,
            Some(vec![KeyState::Disabled]),
            "AND across filters"
        );
        assert!(selection(&[filter("Colour", &["Red"])]).nothing);
        assert!(selection(&[filter("CreatorType", &["Service"])]).nothing);
        assert!(selection(&[filter("CreatorType", &["User"])]).is_all());
        let none = selection(&[filter("KeySpec", &["Bogus"])]);
        assert_eq!(none.specs, Some(vec![]), "no value any key has");
    }
}
