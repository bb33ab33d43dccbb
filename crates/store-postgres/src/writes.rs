//! The writes, the SQL each one runs, and their retry.
//!
//! Owns how a record becomes rows (enums as their API names, `Option`s as NULL), the rules a
//! write checks against the stored state (a key's revision, the existence of what it updates
//! or deletes, how many tags a key may hold), and the transaction boundaries: a write of
//! several statements is one transaction, a single statement is its own. Returning `Ok` means
//! PostgreSQL acknowledged the commit, which with `synchronous_commit` on (checked at
//! connect, see `schema`) means it is durable. A write PostgreSQL rolled back as a
//! serialization failure or deadlock is run again, a few times. Does not read records back
//! (see `reads`). The statements of RAM identities (users, policies, attachments, AccessKey
//! changes) live in [`identities`], the Secrets Manager's in [`secrets`].

mod identities;
mod imports;
mod login;
mod rewrap;
mod secrets;
mod snapshot;

use std::time::Duration;

use deadpool_postgres::{Client, GenericClient, Pool};
use openkms_core::{
    AccessKeyRecord, AliasRecord, KeyRecord, Rewrap, Snapshot, StoreError, Tag, VersionRecord,
};
use tokio_postgres::types::ToSql;

use crate::error::{is_retryable, map_error, pool_error};

pub(crate) use self::identities::IdentityWrite;
pub(crate) use self::imports::ImportWrite;
pub(crate) use self::login::LoginWrite;
pub(crate) use self::secrets::SecretWrite;

/// How many times a write is attempted when PostgreSQL asks for a retry.
const MAX_ATTEMPTS: u32 = 4;

/// The pause before retry `n` is `n` times this.
const RETRY_PAUSE: Duration = Duration::from_millis(20);

/// One parameter of a statement.
type Param<'a> = &'a (dyn ToSql + Sync);

/// One write, borrowing the caller's records.
pub(crate) enum Write<'a> {
    /// Insert a metadata value unless the name is taken.
    PutMetaIfAbsent {
        /// The metadata name.
        name: &'a str,
        /// The value to store.
        value: &'a [u8],
    },
    /// Replace a metadata value only if it is `expected` now.
    ReplaceMetaIf {
        /// The metadata name.
        name: &'a str,
        /// The value it must have.
        expected: &'a [u8],
        /// The value to store.
        value: &'a [u8],
    },
    /// Insert a metadata value or replace the one under its name (an audit anchor).
    SetMeta {
        /// The metadata name.
        name: &'a str,
        /// The value to store.
        value: &'a [u8],
    },
    /// Insert a key, its first version and its tags, all or nothing.
    CreateKey {
        /// The key row.
        key: &'a KeyRecord,
        /// The first version.
        version: &'a VersionRecord,
        /// The tags.
        tags: &'a [Tag],
    },
    /// Insert an alias.
    CreateAlias(&'a AliasRecord),
    /// Insert an AccessKey without looking at its owner (the root AccessKey; a user's goes
    /// through [`IdentityWrite`]).
    CreateAccessKey(&'a AccessKeyRecord),
    /// Replace a key row over the revision before the new one.
    UpdateKey(&'a KeyRecord),
    /// Replace a key row as `UpdateKey` does and insert a new version of it.
    AddVersion {
        /// The new key row.
        key: &'a KeyRecord,
        /// The new version.
        version: &'a VersionRecord,
    },
    /// Point an existing alias at another key.
    UpdateAlias(&'a AliasRecord),
    /// Delete an alias by name.
    DeleteAlias(&'a str),
    /// Insert or replace tags of an existing key, unless it would then hold too many.
    PutTags {
        /// The key.
        key_id: &'a str,
        /// The tags to set.
        tags: &'a [Tag],
        /// The most tags the key may hold after the write.
        max_tags: usize,
    },
    /// Delete tags of a key by tag key.
    DeleteTags {
        /// The key.
        key_id: &'a str,
        /// The tag keys to remove.
        tag_keys: &'a [String],
    },
    /// Delete a key with its versions, aliases and tags, keeping tombstones of the versions.
    DestroyKey(&'a str),
    /// Record a SignatureNonce unless an unexpired record of it exists.
    UseNonce {
        /// The AccessKey that signed with the nonce.
        access_key_id: &'a str,
        /// The nonce.
        nonce: &'a str,
        /// Until when the record refuses the nonce (seconds since the epoch).
        expires_at: i64,
        /// The current time: a record expiring before it is replaced.
        now: i64,
    },
    /// Delete the nonce records that expired before this time.
    PurgeNonces(i64),
    /// A write of users, AccessKeys, policies or attachments.
    Identity(IdentityWrite<'a>),
    /// A write of login profiles (one statement each).
    Login(LoginWrite<'a>),
    /// A write of EXTERNAL keys' import state (and their material).
    Import(ImportWrite<'a>),
    /// A write of secrets, their versions, stages or tags.
    Secret(SecretWrite<'a>),
    /// Replace every wrapped blob of a root-key rotation, all or none.
    ReplaceWrapped(&'a [Rewrap]),
    /// Write a whole snapshot into the empty tables.
    ImportSnapshot(&'a Snapshot),
}

impl Write<'_> {
    /// Whether the write runs several statements, and so needs a transaction of its own.
    fn needs_transaction(&self) -> bool {
        match self {
            Self::Identity(write) => write.needs_transaction(),
            Self::Secret(write) => write.needs_transaction(),
            Self::Import(write) => write.needs_transaction(),
            _ => matches!(
                self,
                Self::CreateKey { .. }
                    | Self::AddVersion { .. }
                    | Self::PutTags { .. }
                    | Self::DestroyKey(_)
                    | Self::ReplaceWrapped(_)
                    | Self::ImportSnapshot(_)
            ),
        }
    }

    /// Refuses what no stored state could make valid: a version of another key.
    fn check(&self) -> Result<(), StoreError> {
        match self {
            Self::CreateKey { key, version, .. } | Self::AddVersion { key, version }
                if version.key_id != key.key_id =>
            {
                Err(StoreError::ReferenceNotFound)
            }
            Self::Secret(write) => write.check(),
            Self::Import(write) => write.check(),
            _ => Ok(()),
        }
    }
}

/// Why one attempt at a write failed.
enum Failure {
    /// PostgreSQL refused a statement (a constraint, a lost connection, ...).
    Postgres(tokio_postgres::Error),
    /// The write found a stored state its contract refuses (`NotFound`, `Conflict`, ...).
    Refused(StoreError),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(error: tokio_postgres::Error) -> Self {
        Self::Postgres(error)
    }
}

/// Runs `write` until it commits, fails for good, or runs out of attempts.
///
/// Answers a count: 1 or 0 for a write that may find nothing to do (0 when a put-if-absent
/// found the name taken, a delete found nothing, or a nonce was already recorded), and the
/// rows deleted for a purge.
pub(crate) async fn run(pool: &Pool, write: &Write<'_>) -> Result<u64, StoreError> {
    write.check()?;
    let mut client = pool.get().await.map_err(pool_error)?;
    let mut attempt = 1;
    loop {
        match attempt_write(&mut client, write).await {
            Ok(written) => return Ok(written),
            Err(Failure::Refused(error)) => return Err(error),
            Err(Failure::Postgres(error)) if attempt < MAX_ATTEMPTS && is_retryable(&error) => {
                tokio::time::sleep(RETRY_PAUSE * attempt).await;
                attempt += 1;
            }
            Err(Failure::Postgres(error)) => return Err(map_error(&error)),
        }
    }
}

/// One attempt. On `Err` nothing of the write is kept: a failed single statement changes
/// nothing, and a failed transaction is rolled back (awaited, so the connection goes back to
/// the pool idle and holding no locks).
async fn attempt_write(client: &mut Client, write: &Write<'_>) -> Result<u64, Failure> {
    if !write.needs_transaction() {
        return apply(&*client, write).await;
    }
    let tx = client.transaction().await?;
    match apply(&tx, write).await {
        Ok(written) => {
            tx.commit().await?;
            Ok(written)
        }
        Err(failure) => {
            // The statement's error is the one to report; a failed rollback ends the session.
            let _ = tx.rollback().await;
            Err(failure)
        }
    }
}

/// Runs the write's statements on `client` (a transaction when it needs one); the count
/// [`run`] answers.
async fn apply(client: &impl GenericClient, write: &Write<'_>) -> Result<u64, Failure> {
    let written = match *write {
        Write::PutMetaIfAbsent { name, value } => put_meta_if_absent(client, name, value).await,
        Write::ReplaceMetaIf {
            name,
            expected,
            value,
        } => replace_meta_if(client, name, expected, value).await,
        Write::SetMeta { name, value } => set_meta(client, name, value).await,
        Write::CreateKey { key, version, tags } => {
            insert_key(client, key).await?;
            insert_version(client, version).await?;
            insert_tags(client, &key.key_id, tags).await.map(|()| true)
        }
        Write::CreateAlias(alias) => insert_alias(client, alias).await,
        Write::CreateAccessKey(key) => insert_access_key(client, key).await,
        Write::UpdateKey(key) => update_key(client, key).await,
        Write::AddVersion { key, version } => {
            update_key(client, key).await?;
            insert_version(client, version).await
        }
        Write::UpdateAlias(alias) => update_alias(client, alias).await,
        Write::DeleteAlias(name) => delete_alias(client, name).await,
        Write::PutTags {
            key_id,
            tags,
            max_tags,
        } => put_tags(client, key_id, tags, max_tags).await,
        Write::DeleteTags { key_id, tag_keys } => delete_tags(client, key_id, tag_keys).await,
        Write::DestroyKey(key_id) => destroy_key(client, key_id).await,
        Write::UseNonce {
            access_key_id,
            nonce,
            expires_at,
            now,
        } => use_nonce(client, access_key_id, nonce, expires_at, now).await,
        Write::PurgeNonces(now) => return purge_nonces(client, now).await,
        Write::Identity(ref identity) => identity.apply(client).await,
        Write::Login(ref login) => login.apply(client).await,
        Write::Import(ref import) => import.apply(client).await,
        Write::Secret(ref secret) => secret.apply(client).await,
        Write::ReplaceWrapped(changes) => rewrap::replace_wrapped(client, changes).await,
        Write::ImportSnapshot(snapshot) => snapshot::import(client, snapshot).await,
    };
    written.map(u64::from)
}

/// Prepares `sql` (cached per connection) and runs it; the number of rows changed.
async fn execute(
    client: &impl GenericClient,
    sql: &str,
    params: &[Param<'_>],
) -> Result<u64, tokio_postgres::Error> {
    let statement = client.prepare_cached(sql).await?;
    client.execute(&statement, params).await
}

/// Runs `sql` and answers `Ok(true)` if it changed exactly one row.
async fn execute_one(
    client: &impl GenericClient,
    sql: &str,
    params: &[Param<'_>],
) -> Result<bool, Failure> {
    Ok(execute(client, sql, params).await? == 1)
}

async fn put_meta_if_absent(
    client: &impl GenericClient,
    name: &str,
    value: &[u8],
) -> Result<bool, Failure> {
    let sql = "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
    execute_one(client, sql, &[&name, &value]).await
}

async fn replace_meta_if(
    client: &impl GenericClient,
    name: &str,
    expected: &[u8],
    value: &[u8],
) -> Result<bool, Failure> {
    let sql = "UPDATE meta SET value = $3 WHERE name = $1 AND value = $2";
    execute_one(client, sql, &[&name, &expected, &value]).await
}

async fn set_meta(client: &impl GenericClient, name: &str, value: &[u8]) -> Result<bool, Failure> {
    let sql = "INSERT INTO meta (name, value) VALUES ($1, $2) \
               ON CONFLICT (name) DO UPDATE SET value = excluded.value";
    execute_one(client, sql, &[&name, &value]).await
}

/// The API names of the key's enums, in column order: spec, usage, origin, protection
/// level, state.
fn enum_names(key: &KeyRecord) -> [&'static str; 5] {
    [
        key.spec.as_str(),
        key.usage.as_str(),
        key.origin.as_str(),
        key.protection_level.as_str(),
        key.state.as_str(),
    ]
}

/// Every column of `key` as `$1`..`$17`, in the order `insert_key` names them.
fn key_params<'a>(key: &'a KeyRecord, names: &'a [&'static str; 5]) -> [Param<'a>; 17] {
    [
        &key.key_id,
        &key.description,
        &names[0],
        &names[1],
        &names[2],
        &names[3],
        &names[4],
        &key.creator,
        &key.created_at,
        &key.delete_at,
        &key.primary_version,
        &key.last_rotation_at,
        &key.rotation_interval,
        &key.next_rotation_at,
        &key.deletion_protection,
        &key.policy,
        &key.revision,
    ]
}

async fn insert_key(client: &impl GenericClient, key: &KeyRecord) -> Result<bool, Failure> {
    let sql = "INSERT INTO keys (key_id, description, spec, usage, origin, protection_level, \
               state, creator, created_at, delete_at, primary_version, last_rotation_at, \
               rotation_interval, next_rotation_at, deletion_protection, policy, revision) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
               $17)";
    let names = enum_names(key);
    execute_one(client, sql, &key_params(key, &names)).await
}

/// Replaces the key row if its stored revision is `key.revision - 1`; otherwise `Conflict`
/// (the key exists at another revision) or `NotFound` (it does not exist).
async fn update_key(client: &impl GenericClient, key: &KeyRecord) -> Result<bool, Failure> {
    let sql = "UPDATE keys SET description = $2, spec = $3, usage = $4, origin = $5, \
               protection_level = $6, state = $7, creator = $8, created_at = $9, \
               delete_at = $10, primary_version = $11, last_rotation_at = $12, \
               rotation_interval = $13, next_rotation_at = $14, deletion_protection = $15, \
               policy = $16, revision = $17 \
               WHERE key_id = $1 AND revision = $18";
    let updated = match key.revision.checked_sub(1) {
        Some(expected) => {
            let names = enum_names(key);
            let mut params = key_params(key, &names).to_vec();
            params.push(&expected);
            execute_one(client, sql, &params).await?
        }
        None => false,
    };
    if updated {
        Ok(true)
    } else if key_exists(client, &key.key_id).await? {
        Err(Failure::Refused(StoreError::Conflict))
    } else {
        Err(Failure::Refused(StoreError::NotFound))
    }
}

async fn key_exists(client: &impl GenericClient, key_id: &str) -> Result<bool, Failure> {
    let sql = "SELECT EXISTS (SELECT 1 FROM keys WHERE key_id = $1)";
    let statement = client.prepare_cached(sql).await?;
    let row = client.query_one(&statement, &[&key_id]).await?;
    Ok(row.try_get(0)?)
}

async fn insert_version(
    client: &impl GenericClient,
    version: &VersionRecord,
) -> Result<bool, Failure> {
    let sql = "INSERT INTO key_versions (version_id, key_id, created_at, wrapped_material) \
               VALUES ($1, $2, $3, $4)";
    let params: [Param<'_>; 4] = [
        &version.version_id,
        &version.key_id,
        &version.created_at,
        &version.wrapped_material,
    ];
    execute_one(client, sql, &params).await
}

/// Inserts the tags of a new key; a tag key given twice is a primary-key violation.
async fn insert_tags(
    client: &impl GenericClient,
    key_id: &str,
    tags: &[Tag],
) -> Result<(), Failure> {
    let sql = "INSERT INTO key_tags (key_id, tag_key, tag_value) VALUES ($1, $2, $3)";
    for tag in tags {
        execute(client, sql, &[&key_id, &tag.key, &tag.value]).await?;
    }
    Ok(())
}

/// Inserts or replaces the tags of an existing key (`ReferenceNotFound` if there is none,
/// even when `tags` is empty). A tag key given twice keeps its last value.
///
/// Locks the key row first, then upserts and counts the key's tags: `LimitExceeded` if there
/// are more than `max_tags`, and the caller rolls the transaction back. The lock is
/// `FOR NO KEY UPDATE`, so racing `put_tags` of one key, on any node, run one after another
/// (each counting what the one before committed), while aliases and versions of the key can
/// still be added meanwhile.
async fn put_tags(
    client: &impl GenericClient,
    key_id: &str,
    tags: &[Tag],
    max_tags: usize,
) -> Result<bool, Failure> {
    let lock = client
        .prepare_cached("SELECT 1 FROM keys WHERE key_id = $1 FOR NO KEY UPDATE")
        .await?;
    if client.query_opt(&lock, &[&key_id]).await?.is_none() {
        return Err(Failure::Refused(StoreError::ReferenceNotFound));
    }
    // One statement per tag: a single multi-row upsert refuses a tag key given twice.
    let sql = "INSERT INTO key_tags (key_id, tag_key, tag_value) VALUES ($1, $2, $3) \
               ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = EXCLUDED.tag_value";
    for tag in tags {
        execute(client, sql, &[&key_id, &tag.key, &tag.value]).await?;
    }
    if more_tags_than(client, key_id, max_tags).await? {
        return Err(Failure::Refused(StoreError::LimitExceeded));
    }
    Ok(true)
}

/// Whether the key holds more than `max` tags.
async fn more_tags_than(
    client: &impl GenericClient,
    key_id: &str,
    max: usize,
) -> Result<bool, Failure> {
    let max = i64::try_from(max).unwrap_or(i64::MAX);
    let sql = "SELECT count(*) > $2 FROM key_tags WHERE key_id = $1";
    let statement = client.prepare_cached(sql).await?;
    let row = client.query_one(&statement, &[&key_id, &max]).await?;
    Ok(row.try_get(0)?)
}

async fn delete_tags(
    client: &impl GenericClient,
    key_id: &str,
    tag_keys: &[String],
) -> Result<bool, Failure> {
    let sql = "DELETE FROM key_tags WHERE key_id = $1 AND tag_key = ANY ($2)";
    execute(client, sql, &[&key_id, &tag_keys]).await?;
    Ok(true)
}

async fn insert_alias(client: &impl GenericClient, alias: &AliasRecord) -> Result<bool, Failure> {
    let sql = "INSERT INTO aliases (name, key_id, created_at) VALUES ($1, $2, $3)";
    let params: [Param<'_>; 3] = [&alias.name, &alias.key_id, &alias.created_at];
    execute_one(client, sql, &params).await
}

/// Points an existing alias at `alias.key_id`, keeping its creation time: `NotFound` if no
/// alias has the name, `ReferenceNotFound` (a foreign-key violation) if the key is missing.
async fn update_alias(client: &impl GenericClient, alias: &AliasRecord) -> Result<bool, Failure> {
    let sql = "UPDATE aliases SET key_id = $2 WHERE name = $1";
    if execute_one(client, sql, &[&alias.name, &alias.key_id]).await? {
        Ok(true)
    } else {
        Err(Failure::Refused(StoreError::NotFound))
    }
}

async fn delete_alias(client: &impl GenericClient, name: &str) -> Result<bool, Failure> {
    execute_one(client, "DELETE FROM aliases WHERE name = $1", &[&name]).await
}

/// Locks the key row (so no alias, tag or version can be added to it meanwhile), tombstones
/// its versions, then deletes its aliases, tags, versions (the material) and its row:
/// `NotFound` if there was no row.
async fn destroy_key(client: &impl GenericClient, key_id: &str) -> Result<bool, Failure> {
    let lock = client
        .prepare_cached("SELECT 1 FROM keys WHERE key_id = $1 FOR UPDATE")
        .await?;
    if client.query_opt(&lock, &[&key_id]).await?.is_none() {
        return Err(Failure::Refused(StoreError::NotFound));
    }
    let statements = [
        "INSERT INTO destroyed_versions (version_id, key_id, destroyed_at) \
         SELECT version_id, key_id, EXTRACT(EPOCH FROM now())::BIGINT \
         FROM key_versions WHERE key_id = $1 \
         ON CONFLICT (version_id) DO NOTHING",
        "DELETE FROM aliases WHERE key_id = $1",
        "DELETE FROM key_tags WHERE key_id = $1",
        "DELETE FROM key_versions WHERE key_id = $1",
        "DELETE FROM keys WHERE key_id = $1",
    ];
    for sql in statements {
        execute(client, sql, &[&key_id]).await?;
    }
    Ok(true)
}

async fn insert_access_key(
    client: &impl GenericClient,
    key: &AccessKeyRecord,
) -> Result<bool, Failure> {
    let sql = "INSERT INTO access_keys \
               (access_key_id, \"user\", wrapped_secret, active, created_at) \
               VALUES ($1, $2, $3, $4, $5)";
    let params: [Param<'_>; 5] = [
        &key.access_key_id,
        &key.user,
        &key.wrapped_secret,
        &key.active,
        &key.created_at,
    ];
    execute_one(client, sql, &params).await
}

/// Records the nonce in one statement (one round trip): inserts it, or replaces a record
/// that expired before `now`; a row comes back only then. `false` if an unexpired record
/// exists (a replay). Concurrent calls with one nonce serialize on its primary-key entry:
/// the waiting ones re-check the committed row, which no longer expires before `now`.
async fn use_nonce(
    client: &impl GenericClient,
    access_key_id: &str,
    nonce: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool, Failure> {
    let sql = "INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES ($1, $2, $3) \
               ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at \
               WHERE nonces.expires_at < $4 \
               RETURNING 1";
    let statement = client.prepare_cached(sql).await?;
    let params: [Param<'_>; 4] = [&access_key_id, &nonce, &expires_at, &now];
    Ok(client.query_opt(&statement, &params).await?.is_some())
}

/// Deletes the nonce records that expired before `now`; how many.
async fn purge_nonces(client: &impl GenericClient, now: i64) -> Result<u64, Failure> {
    let sql = "DELETE FROM nonces WHERE expires_at < $1";
    Ok(execute(client, sql, &[&now]).await?)
}
