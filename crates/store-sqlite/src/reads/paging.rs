//! The paged (keyset) reads: a page of keys, aliases, tags, users or custom policies after a
//! cursor, the counts the numbered listings report, and the index-only skip of a page asked
//! for out of order.
//!
//! Every page is `WHERE <cursor and filters> ORDER BY <listing order> LIMIT ?` over an index
//! in that order, so SQLite walks the index from the cursor and stops after the page:
//! `keys_listing` (`created_at, key_id`, then the filtered columns, so filters and skips read
//! the index only), the primary keys of `aliases`, `users`, `policies` and `key_tags`, and the
//! tag indexes `key_tags_by_key` and `key_tags_by_value` for a tag filter. The tests pin the
//! query plans. Does not choose connections (see `pool`).

use rusqlite::types::Value;
use rusqlite::{Connection, Row, params_from_iter};

use openkms_core::store::records;
use openkms_core::{
    AliasRecord, KeyCursor, KeyRecord, KeySelection, KeyTag, PolicyRecord, StoreError, Tag,
    TagCursor, UserRecord,
};

use super::{column, parse_alias, parse_key, query_all};
use crate::error::map_error;
use crate::row::SqlRow;

/// The columns of a key, as [`parse_key`] reads them.
const KEY_COLUMNS: &str = "key_id, description, spec, usage, origin, protection_level, state, \
     creator, created_at, delete_at, primary_version, last_rotation_at, rotation_interval, \
     next_rotation_at, deletion_protection, policy, revision";

/// The conditions of a `WHERE` clause and the values of their `?` placeholders, in order.
#[derive(Default)]
struct Conditions {
    terms: Vec<String>,
    values: Vec<Value>,
}

impl Conditions {
    /// Adds a condition whose placeholders take `values`.
    fn add(&mut self, term: impl Into<String>, values: impl IntoIterator<Item = Value>) {
        self.terms.push(term.into());
        self.values.extend(values);
    }

    /// `column IN (?, ...)` for `names`, when a set is given (an empty set matches nothing).
    fn within(&mut self, column: &str, names: Option<Vec<&'static str>>) {
        let Some(names) = names else { return };
        let marks = vec!["?"; names.len()].join(", ");
        let values = names.into_iter().map(|n| Value::Text(n.to_owned()));
        self.add(format!("{column} IN ({marks})"), values);
    }

    /// The `WHERE` clause (empty when there is no condition).
    fn clause(&self) -> String {
        match self.terms.is_empty() {
            true => String::new(),
            false => format!("WHERE {}", self.terms.join(" AND ")),
        }
    }
}

/// A text value.
fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// A count or limit as SQLite's integer (saturating: no listing holds `i64::MAX` rows).
fn int(n: impl TryInto<i64>) -> Value {
    Value::Integer(n.try_into().unwrap_or(i64::MAX))
}

/// The conditions selecting the keys of `selection`.
fn selected(selection: &KeySelection) -> Conditions {
    let mut c = Conditions::default();
    let [states, specs, usages, levels] = selection.names();
    c.within("state", states);
    c.within("spec", specs);
    c.within("usage", usages);
    c.within("protection_level", levels);
    c
}

/// Runs `sql` with `values` and parses every row.
fn rows<T>(
    conn: &Connection,
    sql: &str,
    values: Vec<Value>,
    parse: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    query_all(conn, sql, params_from_iter(values), parse)
}

/// The keyset query of [`page_keys`] for `selection` and `after`, with its values.
fn page_keys_query(
    selection: &KeySelection,
    after: Option<&KeyCursor>,
    limit: usize,
) -> (String, Vec<Value>) {
    let mut c = selected(selection);
    if let Some(cursor) = after {
        let values = [Value::Integer(cursor.created_at), text(&cursor.key_id)];
        c.add("(created_at, key_id) > (?, ?)", values);
    }
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM keys INDEXED BY keys_listing {} \
         ORDER BY created_at, key_id LIMIT ?",
        c.clause()
    );
    c.values.push(int(limit));
    (sql, c.values)
}

/// At most `limit` keys of `selection` after `after`, oldest first.
pub(crate) fn page_keys(
    conn: &Connection,
    selection: &KeySelection,
    after: Option<&KeyCursor>,
    limit: usize,
) -> Result<Vec<KeyRecord>, StoreError> {
    if selection.nothing {
        return Ok(Vec::new());
    }
    let (sql, values) = page_keys_query(selection, after, limit);
    rows(conn, &sql, values, parse_key)
}

/// How many keys `selection` selects.
pub(crate) fn count_keys(conn: &Connection, selection: &KeySelection) -> Result<u64, StoreError> {
    if selection.nothing {
        return Ok(0);
    }
    let c = selected(selection);
    let sql = format!("SELECT count(*) FROM keys {}", c.clause());
    count(conn, &sql, c.values)
}

/// The cursor after the key at `index` of `selection`, read from `keys_listing` only.
pub(crate) fn key_cursor_at(
    conn: &Connection,
    selection: &KeySelection,
    index: u64,
) -> Result<Option<KeyCursor>, StoreError> {
    if selection.nothing {
        return Ok(None);
    }
    let mut c = selected(selection);
    let sql = format!(
        "SELECT created_at, key_id FROM keys INDEXED BY keys_listing {} \
         ORDER BY created_at, key_id LIMIT 1 OFFSET ?",
        c.clause()
    );
    c.values.push(int(index));
    let found = rows(conn, &sql, c.values, |row| {
        Ok(KeyCursor {
            created_at: column(row, 0, "keys.created_at")?,
            key_id: column(row, 1, "keys.key_id")?,
        })
    })?;
    Ok(found.into_iter().next())
}

/// Runs a `SELECT count(*)`.
fn count(conn: &Connection, sql: &str, values: Vec<Value>) -> Result<u64, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(|e| map_error(&e))?;
    let n: i64 = stmt
        .query_row(params_from_iter(values), |row| row.get(0))
        .map_err(|e| map_error(&e))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The conditions selecting the aliases of `key_id` (all when `None`).
fn aliases_of(key_id: Option<&str>) -> Conditions {
    let mut c = Conditions::default();
    if let Some(key_id) = key_id {
        c.add("key_id = ?", [text(key_id)]);
    }
    c
}

/// At most `limit` aliases (all, or of one key) named after `after`, sorted by name.
pub(crate) fn page_aliases(
    conn: &Connection,
    key_id: Option<&str>,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<AliasRecord>, StoreError> {
    let mut c = aliases_of(key_id);
    if let Some(name) = after {
        c.add("name > ?", [text(name)]);
    }
    let sql = format!(
        "SELECT name, key_id, created_at FROM aliases {} ORDER BY name LIMIT ?",
        c.clause()
    );
    c.values.push(int(limit));
    rows(conn, &sql, c.values, parse_alias)
}

/// How many aliases there are (all, or of one key).
pub(crate) fn count_aliases(conn: &Connection, key_id: Option<&str>) -> Result<u64, StoreError> {
    let c = aliases_of(key_id);
    let sql = format!("SELECT count(*) FROM aliases {}", c.clause());
    count(conn, &sql, c.values)
}

/// The name of the alias at `index` (all, or of one key), sorted by name.
pub(crate) fn alias_name_at(
    conn: &Connection,
    key_id: Option<&str>,
    index: u64,
) -> Result<Option<String>, StoreError> {
    let mut c = aliases_of(key_id);
    let sql = format!(
        "SELECT name FROM aliases {} ORDER BY name LIMIT 1 OFFSET ?",
        c.clause()
    );
    c.values.push(int(index));
    let found = rows(conn, &sql, c.values, |row| column(row, 0, "aliases.name"))?;
    Ok(found.into_iter().next())
}

/// The keyset query of [`page_tags`], with its values.
fn page_tags_query(
    filter: Option<&Tag>,
    after: Option<&TagCursor>,
    limit: usize,
) -> (String, Vec<Value>) {
    let mut c = Conditions::default();
    match filter {
        None => {
            if let Some(cursor) = after {
                let values = [text(&cursor.key_id), text(&cursor.tag_key)];
                c.add("(key_id, tag_key) > (?, ?)", values);
            }
        }
        Some(filter) => {
            c.add("tag_key = ?", [text(&filter.key)]);
            if !filter.value.is_empty() {
                c.add("tag_value = ?", [text(&filter.value)]);
            }
            if let Some(cursor) = after {
                // With the tag key fixed, (key_id, tag_key) > cursor is a bound on key_id.
                let op = match filter.key > cursor.tag_key {
                    true => ">=",
                    false => ">",
                };
                c.add(format!("key_id {op} ?"), [text(&cursor.key_id)]);
            }
        }
    }
    let sql = format!(
        "SELECT key_id, tag_key, tag_value FROM key_tags {} ORDER BY key_id, tag_key LIMIT ?",
        c.clause()
    );
    c.values.push(int(limit));
    (sql, c.values)
}

/// At most `limit` tag rows matching `filter` after `after`, by key id then tag key.
pub(crate) fn page_tags(
    conn: &Connection,
    filter: Option<&Tag>,
    after: Option<&TagCursor>,
    limit: usize,
) -> Result<Vec<KeyTag>, StoreError> {
    let (sql, values) = page_tags_query(filter, after, limit);
    rows(conn, &sql, values, |row| {
        Ok(KeyTag {
            key_id: column(row, 0, "key_tags.key_id")?,
            tag: Tag {
                key: column(row, 1, "key_tags.tag_key")?,
                value: column(row, 2, "key_tags.tag_value")?,
            },
        })
    })
}

/// At most `limit` users named after `after`, sorted by name.
pub(crate) fn page_users(
    conn: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<UserRecord>, StoreError> {
    let sql = "SELECT user_name, user_id, display_name, mobile_phone, email, comments, \
               created_at FROM users WHERE user_name > ?1 ORDER BY user_name LIMIT ?2";
    let values = vec![text(after.unwrap_or("")), int(limit)];
    rows(conn, sql, values, |row| records::user(&SqlRow(row)))
}

/// At most `limit` custom policies named after `after`, sorted by name.
pub(crate) fn page_policies(
    conn: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<PolicyRecord>, StoreError> {
    let sql = "SELECT policy_name, description, document, created_at FROM policies \
               WHERE policy_name > ?1 ORDER BY policy_name LIMIT ?2";
    let values = vec![text(after.unwrap_or("")), int(limit)];
    rows(conn, sql, values, |row| records::policy(&SqlRow(row)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{migrate, open_writer};
    use openkms_core::KeyState;

    fn plan(sql: &str, values: Vec<Value>) -> String {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_writer(&dir.path().join("openkms.db")).unwrap();
        migrate(&mut conn).unwrap();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map(params_from_iter(values), |r| r.get::<_, String>(3))
            .unwrap();
        rows.collect::<Result<Vec<_>, _>>().unwrap().join("\n")
    }

    #[test]
    fn a_page_of_keys_is_a_range_of_the_listing_index_without_a_sort() {
        let cursor = KeyCursor {
            created_at: 5,
            key_id: "k".into(),
        };
        let filtered = KeySelection {
            states: Some(vec![KeyState::Enabled]),
            ..KeySelection::all()
        };
        for selection in [KeySelection::all(), filtered] {
            let (sql, values) = page_keys_query(&selection, Some(&cursor), 10);
            let plan = plan(&sql, values);
            let range = "USING INDEX keys_listing ((created_at,key_id)>(?,?))";
            assert!(plan.contains(range), "{plan}");
            assert!(
                !plan.contains("TEMP B-TREE"),
                "no sort of every key: {plan}"
            );
        }
    }

    #[test]
    fn a_filtered_page_of_tags_is_a_range_of_a_tag_index() {
        let cursor = TagCursor {
            key_id: "k".into(),
            tag_key: "t".into(),
        };
        for value in ["", "v"] {
            let filter = Tag {
                key: "t".into(),
                value: value.into(),
            };
            let (sql, values) = page_tags_query(Some(&filter), Some(&cursor), 10);
            let plan = plan(&sql, values);
            assert!(plan.contains("key_tags_by_"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
        let (sql, values) = page_tags_query(None, Some(&cursor), 10);
        let plan = plan(&sql, values);
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}
