//! The versioned schema and how it is brought up to date at connect.
//!
//! Owns the table layout (the same tables and columns as the SQLite backend, with BYTEA
//! blobs, BIGINT times and BOOLEAN flags; text that must sort in byte order is sorted with
//! `COLLATE "C"`) and the migration list. Migration `i` (0-based)
//! takes the schema from version `i` to `i + 1`; the versions applied are rows of
//! `openkms_schema_migrations`. Each migration runs in its own transaction that first takes
//! a transaction-scoped advisory lock with a fixed key, so nodes starting at once apply each
//! migration exactly once. Also refuses a server whose commits are not durable. Does not own
//! what is written or read (see `writes` and `reads`).

use deadpool_postgres::{Client, Transaction};
use openkms_core::StoreError;

use crate::error::unavailable;

/// The `pg_advisory_xact_lock` key every openkms node takes around a migration
/// (the ASCII bytes of "openkms" followed by 0x01).
const MIGRATION_LOCK: i64 = 0x6f70_656e_6b6d_7301;

/// How long a migration waits for the migration lock or a table lock before giving up.
const LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '60s'";

/// Version 1: every table the key service needs.
const V1: &str = r#"
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
CREATE TABLE keys (
    key_id              TEXT PRIMARY KEY,
    description         TEXT NOT NULL,
    spec                TEXT NOT NULL,
    usage               TEXT NOT NULL,
    origin              TEXT NOT NULL,
    protection_level    TEXT NOT NULL,
    state               TEXT NOT NULL,
    creator             TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    delete_at           BIGINT,
    primary_version     TEXT NOT NULL,
    last_rotation_at    BIGINT NOT NULL,
    rotation_interval   BIGINT,
    next_rotation_at    BIGINT,
    deletion_protection TEXT,
    policy              TEXT
);
CREATE TABLE key_versions (
    version_id       TEXT PRIMARY KEY,
    key_id           TEXT NOT NULL REFERENCES keys (key_id),
    created_at       BIGINT NOT NULL,
    wrapped_material BYTEA NOT NULL
);
CREATE INDEX key_versions_key_id ON key_versions (key_id);
CREATE TABLE key_tags (
    key_id    TEXT NOT NULL REFERENCES keys (key_id),
    tag_key   TEXT COLLATE "C" NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (key_id, tag_key)
);
CREATE TABLE aliases (
    name       TEXT PRIMARY KEY,
    key_id     TEXT NOT NULL REFERENCES keys (key_id),
    created_at BIGINT NOT NULL
);
CREATE INDEX aliases_key_id ON aliases (key_id);
CREATE TABLE access_keys (
    access_key_id  TEXT PRIMARY KEY,
    "user"         TEXT NOT NULL,
    wrapped_secret BYTEA NOT NULL,
    active         BOOLEAN NOT NULL,
    created_at     BIGINT NOT NULL
);
"#;

/// Version 2: the key lifecycle. `revision` is the optimistic-concurrency counter of a key
/// (existing keys start at 1, as new ones do); `destroyed_versions` remembers the ids of
/// versions whose material was destroyed; the two indexes let `due_keys` find pending
/// deletions and rotations without scanning every key.
const V2: &str = r#"
ALTER TABLE keys ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
CREATE TABLE destroyed_versions (
    version_id   TEXT PRIMARY KEY,
    key_id       TEXT NOT NULL,
    destroyed_at BIGINT NOT NULL
);
CREATE INDEX keys_due_deletion ON keys (state, delete_at);
CREATE INDEX keys_due_rotation ON keys (state, next_rotation_at);
"#;

/// Version 3: the SignatureNonces seen, shared by every node so a signed request cannot be
/// replayed at another one. A row lives until its `expires_at` (after which the request's
/// timestamp is refused anyway); the index lets `purge_nonces` find the expired rows without
/// scanning every one.
const V3: &str = r#"
CREATE TABLE nonces (
    access_key_id TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (access_key_id, nonce)
);
CREATE INDEX nonces_expires_at ON nonces (expires_at);
"#;

/// Version 4: RAM identities. `users` and `policies` (custom ones only: system policies are
/// built in) are keyed by name; `policy_attachments` says which user holds which policy, and
/// refers to its user (so an attachment of a missing user is a foreign-key violation, and the
/// key lock that check takes orders it with a delete of the user). A custom policy cannot be
/// a foreign key there (a system policy has no row), so the writes lock its row themselves.
/// Names are `COLLATE "C"`, so the primary keys serve the byte-order lists. The indexes serve
/// the lists by policy and by AccessKey owner, and the "still attached" and "still owns a
/// key" checks of the deletes.
const V4: &str = r#"
CREATE TABLE users (
    user_name    TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT NOT NULL,
    display_name TEXT NOT NULL,
    mobile_phone TEXT NOT NULL,
    email        TEXT NOT NULL,
    comments     TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE TABLE policies (
    policy_name TEXT COLLATE "C" PRIMARY KEY,
    description TEXT NOT NULL,
    document    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE policy_attachments (
    user_name   TEXT COLLATE "C" NOT NULL REFERENCES users (user_name),
    policy_type TEXT COLLATE "C" NOT NULL CHECK (policy_type IN ('System', 'Custom')),
    policy_name TEXT COLLATE "C" NOT NULL,
    attached_at BIGINT NOT NULL,
    PRIMARY KEY (user_name, policy_type, policy_name)
);
CREATE INDEX policy_attachments_policy ON policy_attachments (policy_type, policy_name);
CREATE INDEX access_keys_user ON access_keys ("user");
"#;

/// Version 5: the indexes of the paged listings (issue 13), each in its listing's order with
/// text in byte order (`COLLATE "C"`, which the older primary keys of `keys`, `aliases` and
/// `key_tags` do not have). `keys_listing` is the key listing's order followed by the columns
/// ListKeys filters on; `aliases_listing` and `aliases_by_key` the alias listings;
/// `key_tags_listing` the tag listing, and `key_tags_by_key` and `key_tags_by_value` a tag
/// listing filtered by tag key (and value).
const V5: &str = r#"
CREATE INDEX keys_listing ON keys
    (created_at, key_id COLLATE "C", state, spec, usage, protection_level);
CREATE INDEX aliases_listing ON aliases (name COLLATE "C");
CREATE INDEX aliases_by_key ON aliases (key_id, name COLLATE "C");
CREATE INDEX key_tags_listing ON key_tags (key_id COLLATE "C", tag_key);
CREATE INDEX key_tags_by_key ON key_tags (tag_key, key_id COLLATE "C");
CREATE INDEX key_tags_by_value ON key_tags (tag_key, tag_value, key_id COLLATE "C");
"#;

/// Version 6: RAM users' console passwords (login profiles, issue 17). One row per user at
/// most, holding the Argon2id hash in PHC form and RAM's two flags; deleting the user deletes
/// its row (`ON DELETE CASCADE`), and a row for a missing user is a foreign-key violation.
const V6: &str = r#"
CREATE TABLE login_profiles (
    user_name               TEXT COLLATE "C" PRIMARY KEY
                            REFERENCES users (user_name) ON DELETE CASCADE,
    password_hash           TEXT NOT NULL,
    password_reset_required BOOLEAN NOT NULL,
    mfa_bind_required       BOOLEAN NOT NULL,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
"#;

/// Version 7: the Secrets Manager (issue 16). A secret's versions hold their values only as
/// ciphertext under a CMK; a stage label names one version of its own secret (the primary key
/// makes each label mark one version, the foreign key a version that exists); the partial
/// index lets the due-work loop find scheduled deletions without scanning every secret. Names
/// sort in byte order (`COLLATE "C"`) for the keyset page.
const V7: &str = r#"
CREATE TABLE secrets (
    name              TEXT COLLATE "C" PRIMARY KEY,
    secret_type       TEXT NOT NULL,
    description       TEXT NOT NULL,
    encryption_key_id TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    planned_delete_at BIGINT,
    policy            TEXT,
    revision          BIGINT NOT NULL
);
CREATE INDEX secrets_due_deletion ON secrets (planned_delete_at)
    WHERE planned_delete_at IS NOT NULL;
CREATE TABLE secret_versions (
    secret_name TEXT COLLATE "C" NOT NULL REFERENCES secrets (name),
    version_id  TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    data_type   TEXT NOT NULL CHECK (data_type IN ('text', 'binary')),
    ciphertext  BYTEA NOT NULL,
    PRIMARY KEY (secret_name, version_id)
);
CREATE TABLE secret_stages (
    secret_name TEXT COLLATE "C" NOT NULL,
    stage       TEXT COLLATE "C" NOT NULL,
    version_id  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (secret_name, stage),
    FOREIGN KEY (secret_name, version_id) REFERENCES secret_versions (secret_name, version_id)
);
CREATE TABLE secret_tags (
    secret_name TEXT COLLATE "C" NOT NULL REFERENCES secrets (name),
    tag_key     TEXT COLLATE "C" NOT NULL,
    tag_value   TEXT NOT NULL,
    PRIMARY KEY (secret_name, tag_key)
);
"#;

/// Version 8: EXTERNAL keys' import state (BYOK, issue 15): the keyed fingerprint of the first
/// material (never the material, which stays in the key's version row), its expiry, the
/// revocation time of the key's import tokens (milliseconds), the failed unwraps since it, and
/// whether the key was Disabled when its material was last deleted. A key's row goes with the
/// key (`ON DELETE CASCADE`).
const V8: &str = r#"
CREATE TABLE key_imports (
    key_id             TEXT PRIMARY KEY REFERENCES keys (key_id) ON DELETE CASCADE,
    fingerprint        BYTEA,
    material_expire_at BIGINT,
    tokens_not_before  BIGINT NOT NULL,
    failed_unwraps     BIGINT NOT NULL,
    disabled_before_delete BOOLEAN NOT NULL DEFAULT FALSE
);
"#;

/// The migrations, in order; the schema version is the number applied. A migration, once
/// released, never changes: a change to the schema is a new one.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8];

/// The table recording which versions have been applied.
const CREATE_VERSIONS: &str = "CREATE TABLE IF NOT EXISTS openkms_schema_migrations (\
     version BIGINT PRIMARY KEY, \
     applied_at BIGINT NOT NULL)";

/// Brings the schema (`schema`, or the connection's default) up to date.
///
/// Fails with `Unavailable` if the server does not make commits durable, if the schema was
/// written by a newer build, or if any statement fails.
pub(crate) async fn migrate(client: &mut Client, schema: Option<&str>) -> Result<(), StoreError> {
    check_durable_commits(client).await?;
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let version = i64::try_from(index + 1)
            .map_err(|_| StoreError::Unavailable("too many migrations".to_owned()))?;
        apply(client, schema, version, sql).await?;
    }
    Ok(())
}

/// Refuses `synchronous_commit = off`, under which an acknowledged commit can be lost.
async fn check_durable_commits(client: &Client) -> Result<(), StoreError> {
    let row = client
        .query_one("SELECT current_setting('synchronous_commit')", &[])
        .await
        .map_err(|e| unavailable(&e))?;
    let setting: String = row.try_get(0).map_err(|e| unavailable(&e))?;
    if setting.eq_ignore_ascii_case("off") {
        return Err(StoreError::Unavailable(
            "the server has synchronous_commit = off, so acknowledged writes could be lost; \
             set it to on (or local, remote_write, remote_apply) for the openkms role"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Applies migration `version` in one transaction under the migration lock, unless another
/// node already did. On failure the rollback is awaited, so the lock is free on return.
async fn apply(
    client: &mut Client,
    schema: Option<&str>,
    version: i64,
    sql: &str,
) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(|e| unavailable(&e))?;
    match apply_in(&tx, schema, version, sql).await {
        Ok(()) => tx.commit().await.map_err(|e| unavailable(&e)),
        Err(error) => {
            // The first error is the one worth reporting; a failed rollback ends the session.
            let _ = tx.rollback().await;
            Err(error)
        }
    }
}

/// The statements of [`apply`], inside its transaction.
async fn apply_in(
    tx: &Transaction<'_>,
    schema: Option<&str>,
    version: i64,
    sql: &str,
) -> Result<(), StoreError> {
    // Fail (and let the operator see why) rather than wait forever behind a stuck node.
    tx.batch_execute(LOCK_TIMEOUT)
        .await
        .map_err(|e| unavailable(&e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(|e| unavailable(&e))?;
    if let Some(schema) = schema {
        // The name was checked by `config::check_schema_name`: it needs no escaping.
        let create = format!(
            "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET LOCAL search_path TO \"{schema}\""
        );
        tx.batch_execute(&create)
            .await
            .map_err(|e| unavailable(&e))?;
    }
    tx.batch_execute(CREATE_VERSIONS)
        .await
        .map_err(|e| unavailable(&e))?;
    if current_version(tx).await? < version {
        tx.batch_execute(sql).await.map_err(|e| unavailable(&e))?;
        record_version(tx, version).await?;
    }
    Ok(())
}

/// The highest version applied; an error if it is newer than this build knows.
async fn current_version(tx: &Transaction<'_>) -> Result<i64, StoreError> {
    let row = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM openkms_schema_migrations",
            &[],
        )
        .await
        .map_err(|e| unavailable(&e))?;
    let current: i64 = row.try_get(0).map_err(|e| unavailable(&e))?;
    let known = MIGRATIONS.len();
    if usize::try_from(current).is_ok_and(|v| v <= known) {
        return Ok(current);
    }
    Err(StoreError::Unavailable(format!(
        "database schema version {current} is not one this build knows (0..={known})"
    )))
}

/// Records that `version` has been applied, with the server's clock.
async fn record_version(tx: &Transaction<'_>, version: i64) -> Result<(), StoreError> {
    let sql = "INSERT INTO openkms_schema_migrations (version, applied_at) \
               VALUES ($1, EXTRACT(EPOCH FROM now())::BIGINT)";
    tx.execute(sql, &[&version])
        .await
        .map_err(|e| unavailable(&e))?;
    Ok(())
}
