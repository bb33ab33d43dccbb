//! The paged (keyset) reads: a page of keys, aliases, tags, users or custom policies after a
//! cursor, the counts the numbered listings report, and the index skip of a page asked for
//! out of order.
//!
//! Every page is `WHERE <cursor and filters> ORDER BY <listing order> LIMIT $n` over a btree
//! in that order (text compared `COLLATE "C"`, byte order, as the indexes of migration 5
//! are), so the server walks the index from the cursor and stops after the page:
//! `keys_listing` (`created_at, key_id`, then the filtered columns), `aliases_listing` and
//! `aliases_by_key`, the primary keys of `users` and `policies`, and `key_tags_listing`,
//! `key_tags_by_key` and `key_tags_by_value` for tags. Does not write (see `writes`).

use deadpool_postgres::Pool;
use openkms_core::store::records;
use openkms_core::{
    AliasRecord, KeyCursor, KeyRecord, KeySelection, KeyTag, PolicyRecord, StoreError, Tag,
    TagCursor, UserRecord,
};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{Param, column, parse_alias, parse_key, query, query_all};
use crate::error::corrupt;
use crate::row::PgRow;

/// The columns of a key, as [`parse_key`] reads them.
const KEY_COLUMNS: &str = "key_id, description, spec, usage, origin, protection_level, state, \
     creator, created_at, delete_at, primary_version, last_rotation_at, rotation_interval, \
     next_rotation_at, deletion_protection, policy, revision";

/// One owned parameter value.
type Value = Box<dyn ToSql + Sync + Send>;

/// The conditions of a `WHERE` clause and the values of their `$n` placeholders, in order.
#[derive(Default)]
struct Conditions {
    terms: Vec<String>,
    values: Vec<Value>,
}

impl Conditions {
    /// The placeholder of the next value, after adding it.
    fn bind(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    /// `column = ANY($n)` for `names`, when a set is given (an empty set matches nothing).
    fn within(&mut self, column: &str, names: Option<Vec<&'static str>>) {
        let Some(names) = names else { return };
        let names: Vec<String> = names.into_iter().map(str::to_owned).collect();
        let mark = self.bind(Box::new(names));
        self.terms.push(format!("{column} = ANY({mark})"));
    }

    /// The `WHERE` clause (empty when there is no condition).
    fn clause(&self) -> String {
        match self.terms.is_empty() {
            true => String::new(),
            false => format!("WHERE {}", self.terms.join(" AND ")),
        }
    }

    /// Runs `sql` with the values bound so far.
    async fn rows(&self, pool: &Pool, sql: &str) -> Result<Vec<Row>, StoreError> {
        let params: Vec<Param<'_>> = self
            .values
            .iter()
            .map(|v| v.as_ref() as Param<'_>)
            .collect();
        query(pool, sql, &params).await
    }
}

/// A text value.
fn text(s: &str) -> Value {
    Box::new(s.to_owned())
}

/// A count or limit as PostgreSQL's BIGINT (saturating).
fn int(n: impl TryInto<i64>) -> Value {
    Box::new(n.try_into().unwrap_or(i64::MAX))
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

/// The listing order of keys.
const KEY_ORDER: &str = "ORDER BY created_at, key_id COLLATE \"C\"";

/// At most `limit` keys of `selection` after `after`, oldest first.
pub(crate) async fn page_keys(
    pool: &Pool,
    selection: &KeySelection,
    after: Option<&KeyCursor>,
    limit: usize,
) -> Result<Vec<KeyRecord>, StoreError> {
    if selection.nothing {
        return Ok(Vec::new());
    }
    let mut c = selected(selection);
    if let Some(cursor) = after {
        let at = c.bind(Box::new(cursor.created_at));
        let id = c.bind(text(&cursor.key_id));
        c.terms
            .push(format!("(created_at, key_id COLLATE \"C\") > ({at}, {id})"));
    }
    let clause = c.clause();
    let lim = c.bind(int(limit));
    let sql = format!("SELECT {KEY_COLUMNS} FROM keys {clause} {KEY_ORDER} LIMIT {lim}");
    c.rows(pool, &sql).await?.iter().map(parse_key).collect()
}

/// How many keys `selection` selects.
pub(crate) async fn count_keys(pool: &Pool, selection: &KeySelection) -> Result<u64, StoreError> {
    if selection.nothing {
        return Ok(0);
    }
    let c = selected(selection);
    let sql = format!("SELECT count(*) FROM keys {}", c.clause());
    count(&c.rows(pool, &sql).await?)
}

/// The cursor after the key at `index` of `selection`, read from `keys_listing`.
pub(crate) async fn key_cursor_at(
    pool: &Pool,
    selection: &KeySelection,
    index: u64,
) -> Result<Option<KeyCursor>, StoreError> {
    if selection.nothing {
        return Ok(None);
    }
    let mut c = selected(selection);
    let clause = c.clause();
    let skip = c.bind(int(index));
    let sql =
        format!("SELECT created_at, key_id FROM keys {clause} {KEY_ORDER} LIMIT 1 OFFSET {skip}");
    let rows = c.rows(pool, &sql).await?;
    let cursor = |row: &Row| {
        Ok(KeyCursor {
            created_at: column(row, 0, "keys.created_at")?,
            key_id: column(row, 1, "keys.key_id")?,
        })
    };
    rows.first().map(cursor).transpose()
}

/// The number a `SELECT count(*)` returned.
fn count(rows: &[Row]) -> Result<u64, StoreError> {
    let row = rows.first().ok_or_else(|| corrupt("count"))?;
    let n: i64 = column(row, 0, "count")?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The conditions selecting the aliases of `key_id` (all when `None`).
fn aliases_of(key_id: Option<&str>) -> Conditions {
    let mut c = Conditions::default();
    if let Some(key_id) = key_id {
        let mark = c.bind(text(key_id));
        c.terms.push(format!("key_id = {mark}"));
    }
    c
}

/// The listing order of aliases.
const ALIAS_ORDER: &str = "ORDER BY name COLLATE \"C\"";

/// At most `limit` aliases (all, or of one key) named after `after`, sorted by name.
pub(crate) async fn page_aliases(
    pool: &Pool,
    key_id: Option<&str>,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<AliasRecord>, StoreError> {
    let mut c = aliases_of(key_id);
    if let Some(name) = after {
        let mark = c.bind(text(name));
        c.terms.push(format!("name COLLATE \"C\" > {mark}"));
    }
    let clause = c.clause();
    let lim = c.bind(int(limit));
    let sql =
        format!("SELECT name, key_id, created_at FROM aliases {clause} {ALIAS_ORDER} LIMIT {lim}");
    c.rows(pool, &sql).await?.iter().map(parse_alias).collect()
}

/// How many aliases there are (all, or of one key).
pub(crate) async fn count_aliases(pool: &Pool, key_id: Option<&str>) -> Result<u64, StoreError> {
    let c = aliases_of(key_id);
    let sql = format!("SELECT count(*) FROM aliases {}", c.clause());
    count(&c.rows(pool, &sql).await?)
}

/// The name of the alias at `index` (all, or of one key), sorted by name.
pub(crate) async fn alias_name_at(
    pool: &Pool,
    key_id: Option<&str>,
    index: u64,
) -> Result<Option<String>, StoreError> {
    let mut c = aliases_of(key_id);
    let clause = c.clause();
    let skip = c.bind(int(index));
    let sql = format!("SELECT name FROM aliases {clause} {ALIAS_ORDER} LIMIT 1 OFFSET {skip}");
    let rows = c.rows(pool, &sql).await?;
    rows.first()
        .map(|row| column(row, 0, "aliases.name"))
        .transpose()
}

/// At most `limit` tag rows matching `filter` after `after`, by key id then tag key.
pub(crate) async fn page_tags(
    pool: &Pool,
    filter: Option<&Tag>,
    after: Option<&TagCursor>,
    limit: usize,
) -> Result<Vec<KeyTag>, StoreError> {
    let mut c = Conditions::default();
    match filter {
        None => {
            if let Some(cursor) = after {
                let id = c.bind(text(&cursor.key_id));
                let tag = c.bind(text(&cursor.tag_key));
                c.terms
                    .push(format!("(key_id COLLATE \"C\", tag_key) > ({id}, {tag})"));
            }
        }
        Some(filter) => filtered_tags(&mut c, filter, after),
    }
    let clause = c.clause();
    let lim = c.bind(int(limit));
    let sql = format!(
        "SELECT key_id, tag_key, tag_value FROM key_tags {clause} \
         ORDER BY key_id COLLATE \"C\", tag_key LIMIT {lim}"
    );
    c.rows(pool, &sql).await?.iter().map(key_tag).collect()
}

/// The conditions of a tag page filtered by `filter`: with the tag key fixed, the cursor is
/// a bound on the key id.
fn filtered_tags(c: &mut Conditions, filter: &Tag, after: Option<&TagCursor>) {
    let key = c.bind(text(&filter.key));
    c.terms.push(format!("tag_key = {key}"));
    if !filter.value.is_empty() {
        let value = c.bind(text(&filter.value));
        c.terms.push(format!("tag_value = {value}"));
    }
    if let Some(cursor) = after {
        let op = match filter.key > cursor.tag_key {
            true => ">=",
            false => ">",
        };
        let id = c.bind(text(&cursor.key_id));
        c.terms.push(format!("key_id COLLATE \"C\" {op} {id}"));
    }
}

/// A tag row from `key_id, tag_key, tag_value`.
fn key_tag(row: &Row) -> Result<KeyTag, StoreError> {
    Ok(KeyTag {
        key_id: column(row, 0, "key_tags.key_id")?,
        tag: Tag {
            key: column(row, 1, "key_tags.tag_key")?,
            value: column(row, 2, "key_tags.tag_value")?,
        },
    })
}

/// At most `limit` users named after `after`, sorted by name.
pub(crate) async fn page_users(
    pool: &Pool,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<UserRecord>, StoreError> {
    let sql = "SELECT user_name, user_id, display_name, mobile_phone, email, comments, \
               created_at FROM users WHERE user_name > $1 ORDER BY user_name LIMIT $2";
    let (after, limit) = (
        after.unwrap_or(""),
        i64::try_from(limit).unwrap_or(i64::MAX),
    );
    query_all(pool, sql, &[&after, &limit], |row| {
        records::user(&PgRow(row))
    })
    .await
}

/// At most `limit` custom policies named after `after`, sorted by name.
pub(crate) async fn page_policies(
    pool: &Pool,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<PolicyRecord>, StoreError> {
    let sql = "SELECT policy_name, description, document, created_at FROM policies \
               WHERE policy_name > $1 ORDER BY policy_name LIMIT $2";
    let (after, limit) = (
        after.unwrap_or(""),
        i64::try_from(limit).unwrap_or(i64::MAX),
    );
    query_all(pool, sql, &[&after, &limit], |row| {
        records::policy(&PgRow(row))
    })
    .await
}
