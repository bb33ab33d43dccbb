//! Opening connections, their PRAGMAs, and the versioned schema.
//!
//! Owns the table layout and the migration list: migration `i` (0-based) takes the database
//! from `PRAGMA user_version` `i` to `i + 1`, and all pending migrations run in one
//! transaction at open. Also owns how writer and reader connections are configured. Does not
//! own what is written or read (see `ops` and `reads`).

use std::path::Path;
use std::time::Duration;

use openkms_core::StoreError;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::map_error;

/// How long a connection waits for a lock held by another connection before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Version 1: every table the key service needs.
const V1: &str = "
CREATE TABLE meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;
CREATE TABLE keys (
    key_id              TEXT PRIMARY KEY NOT NULL,
    description         TEXT NOT NULL,
    spec                TEXT NOT NULL,
    usage               TEXT NOT NULL,
    origin              TEXT NOT NULL,
    protection_level    TEXT NOT NULL,
    state               TEXT NOT NULL,
    creator             TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    delete_at           INTEGER,
    primary_version     TEXT NOT NULL,
    last_rotation_at    INTEGER NOT NULL,
    rotation_interval   INTEGER,
    next_rotation_at    INTEGER,
    deletion_protection TEXT,
    policy              TEXT
) STRICT;
CREATE TABLE key_versions (
    version_id       TEXT PRIMARY KEY NOT NULL,
    key_id           TEXT NOT NULL REFERENCES keys (key_id),
    created_at       INTEGER NOT NULL,
    wrapped_material BLOB NOT NULL
) STRICT;
CREATE INDEX key_versions_key_id ON key_versions (key_id);
CREATE TABLE key_tags (
    key_id    TEXT NOT NULL REFERENCES keys (key_id),
    tag_key   TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (key_id, tag_key)
) STRICT, WITHOUT ROWID;
CREATE TABLE aliases (
    name       TEXT PRIMARY KEY NOT NULL,
    key_id     TEXT NOT NULL REFERENCES keys (key_id),
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX aliases_key_id ON aliases (key_id);
CREATE TABLE access_keys (
    access_key_id  TEXT PRIMARY KEY NOT NULL,
    user           TEXT NOT NULL,
    wrapped_secret BLOB NOT NULL,
    active         INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at     INTEGER NOT NULL
) STRICT;
";

/// Version 2: the key lifecycle. `revision` is the optimistic-concurrency counter of a key
/// (existing keys start at 1, as new ones do); `destroyed_versions` remembers the ids of
/// versions whose material was destroyed; the two indexes let `due_keys` find pending
/// deletions and rotations without scanning every key.
const V2: &str = "
ALTER TABLE keys ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
CREATE TABLE destroyed_versions (
    version_id   TEXT PRIMARY KEY NOT NULL,
    key_id       TEXT NOT NULL,
    destroyed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX keys_due_deletion ON keys (state, delete_at);
CREATE INDEX keys_due_rotation ON keys (state, next_rotation_at);
";

/// Version 3: the SignatureNonces seen, so a signed request cannot be replayed. A row lives
/// until its `expires_at` (after which the request's timestamp is refused anyway); the index
/// lets `purge_nonces` find the expired rows without scanning every one.
const V3: &str = "
CREATE TABLE nonces (
    access_key_id TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    expires_at    INTEGER NOT NULL,
    PRIMARY KEY (access_key_id, nonce)
) STRICT, WITHOUT ROWID;
CREATE INDEX nonces_expires_at ON nonces (expires_at);
";

/// Version 4: RAM identities. `users` and `policies` (custom ones only: system policies are
/// built in) are keyed by name; `policy_attachments` says which user holds which policy, and
/// refers to its user (so an attachment of a missing user is a foreign-key violation). A
/// custom policy cannot be a foreign key there (a system policy has no row), so the writer
/// checks it. The indexes serve the lists by policy and by AccessKey owner, and the
/// "still attached" and "still owns a key" checks of the deletes.
const V4: &str = "
CREATE TABLE users (
    user_name    TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL,
    display_name TEXT NOT NULL,
    mobile_phone TEXT NOT NULL,
    email        TEXT NOT NULL,
    comments     TEXT NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE TABLE policies (
    policy_name TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    document    TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE TABLE policy_attachments (
    user_name   TEXT NOT NULL REFERENCES users (user_name),
    policy_type TEXT NOT NULL CHECK (policy_type IN ('System', 'Custom')),
    policy_name TEXT NOT NULL,
    attached_at INTEGER NOT NULL,
    PRIMARY KEY (user_name, policy_type, policy_name)
) STRICT, WITHOUT ROWID;
CREATE INDEX policy_attachments_policy ON policy_attachments (policy_type, policy_name);
CREATE INDEX access_keys_user ON access_keys (user);
";

/// Version 5: the indexes of the paged listings (issue 13). `keys_listing` is the key
/// listing's order (creation time, then key id) followed by the columns ListKeys filters on,
/// so a page, a filtered page and the skip to a page asked for out of order walk this index
/// only; `key_tags_by_key` and `key_tags_by_value` let a tag listing filtered by tag key (and
/// value) walk just the matching rows in key id order. Existing rows are indexed by the
/// migration; nothing else changes.
const V5: &str = "
CREATE INDEX keys_listing ON keys (created_at, key_id, state, spec, usage, protection_level);
CREATE INDEX key_tags_by_key ON key_tags (tag_key, key_id);
CREATE INDEX key_tags_by_value ON key_tags (tag_key, tag_value, key_id);
";

/// Version 6: RAM users' console passwords (login profiles, issue 17). One row per user at
/// most, holding the Argon2id hash in PHC form and RAM's two flags; deleting the user deletes
/// its row (`ON DELETE CASCADE`), and a row for a missing user is a foreign-key violation.
const V6: &str = "
CREATE TABLE login_profiles (
    user_name               TEXT PRIMARY KEY NOT NULL
                            REFERENCES users (user_name) ON DELETE CASCADE,
    password_hash           TEXT NOT NULL,
    password_reset_required INTEGER NOT NULL CHECK (password_reset_required IN (0, 1)),
    mfa_bind_required       INTEGER NOT NULL CHECK (mfa_bind_required IN (0, 1)),
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
) STRICT;
";

/// Version 7: the Secrets Manager (issue 16). A secret's versions hold their values only as
/// ciphertext under a CMK; a stage label names one version of its own secret (the primary key
/// makes each label mark one version, the foreign key a version that exists); the partial
/// index lets the due-work loop find scheduled deletions without scanning every secret.
const V7: &str = "
CREATE TABLE secrets (
    name              TEXT PRIMARY KEY NOT NULL,
    secret_type       TEXT NOT NULL,
    description       TEXT NOT NULL,
    encryption_key_id TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    planned_delete_at INTEGER,
    policy            TEXT,
    revision          INTEGER NOT NULL
) STRICT;
CREATE INDEX secrets_due_deletion ON secrets (planned_delete_at)
    WHERE planned_delete_at IS NOT NULL;
CREATE TABLE secret_versions (
    secret_name TEXT NOT NULL REFERENCES secrets (name),
    version_id  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    data_type   TEXT NOT NULL CHECK (data_type IN ('text', 'binary')),
    ciphertext  BLOB NOT NULL,
    PRIMARY KEY (secret_name, version_id)
) STRICT;
CREATE TABLE secret_stages (
    secret_name TEXT NOT NULL,
    stage       TEXT NOT NULL,
    version_id  TEXT NOT NULL,
    PRIMARY KEY (secret_name, stage),
    FOREIGN KEY (secret_name, version_id) REFERENCES secret_versions (secret_name, version_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE secret_tags (
    secret_name TEXT NOT NULL REFERENCES secrets (name),
    tag_key     TEXT NOT NULL,
    tag_value   TEXT NOT NULL,
    PRIMARY KEY (secret_name, tag_key)
) STRICT, WITHOUT ROWID;
";

/// Version 8: EXTERNAL keys' import state (BYOK, issue 15): the keyed fingerprint of the first
/// material (never the material, which stays in the key's version row), its expiry, the
/// revocation time of the key's import tokens (milliseconds), the failed unwraps since it, and
/// whether the key was Disabled when its material was last deleted. A key's row goes with the
/// key (`ON DELETE CASCADE`).
const V8: &str = "
CREATE TABLE key_imports (
    key_id             TEXT PRIMARY KEY NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    fingerprint        BLOB,
    material_expire_at INTEGER,
    tokens_not_before  INTEGER NOT NULL,
    failed_unwraps     INTEGER NOT NULL,
    disabled_before_delete INTEGER NOT NULL DEFAULT 0 CHECK (disabled_before_delete IN (0, 1))
) STRICT;
";

/// The migrations, in order; the schema version is the number applied.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8];

/// Opens (creating if needed) the one read-write connection, in WAL mode with full fsync and
/// foreign keys enforced.
pub(crate) fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| map_error(&e))?;
    configure_writer(&conn).map_err(|e| map_error(&e))?;
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .map_err(|e| map_error(&e))?;
    let foreign_keys: i64 = conn
        .pragma_query_value(None, "foreign_keys", |row| row.get(0))
        .map_err(|e| map_error(&e))?;
    if !mode.eq_ignore_ascii_case("wal") || foreign_keys != 1 {
        return Err(StoreError::Unavailable(
            "sqlite refused WAL journaling or foreign keys".to_owned(),
        ));
    }
    Ok(conn)
}

/// Sets the writer's PRAGMAs. `synchronous=FULL` makes every COMMIT fsync the WAL;
/// `secure_delete` overwrites deleted rows (destroyed key material) with zeros instead of
/// leaving them in free space.
fn configure_writer(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "foreign_keys", "ON")
}

/// Opens a read-only connection to an existing database.
pub(crate) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| map_error(&e))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| map_error(&e))?;
    Ok(conn)
}

/// Refuses a database whose schema is not exactly this build's (older or newer): for a
/// reader that must not migrate it.
pub(crate) fn check_current(conn: &Connection) -> Result<(), StoreError> {
    let current: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| map_error(&e))?;
    let known = MIGRATIONS.len() as i64;
    match current == known {
        true => Ok(()),
        false => Err(StoreError::Unavailable(format!(
            "database schema version {current} is not this build's ({known}); use the openkms \
             version the server runs"
        ))),
    }
}

/// Brings the schema up to date in one transaction. Refuses a database made by a newer build.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| map_error(&e))?;
    let current: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| map_error(&e))?;
    let known = MIGRATIONS.len();
    let applied = usize::try_from(current)
        .ok()
        .filter(|&v| v <= known)
        .ok_or_else(|| {
            StoreError::Unavailable(format!(
                "database schema version {current} is not one this build knows (0..={known})"
            ))
        })?;
    for migration in &MIGRATIONS[applied..] {
        tx.execute_batch(migration).map_err(|e| map_error(&e))?;
    }
    tx.pragma_update(None, "user_version", known as i64)
        .map_err(|e| map_error(&e))?;
    tx.commit().map_err(|e| map_error(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_version(conn: &Connection) -> i64 {
        conn.pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn migrate_is_idempotent_and_sets_user_version() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_writer(&dir.path().join("openkms.db")).unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn), MIGRATIONS.len() as i64);
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn), MIGRATIONS.len() as i64);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_writer(&dir.path().join("openkms.db")).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(StoreError::Unavailable(_))
        ));
    }

    #[test]
    fn writer_pragmas_are_set() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_writer(&dir.path().join("openkms.db")).unwrap();
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        let secure: i64 = conn
            .pragma_query_value(None, "secure_delete", |r| r.get(0))
            .unwrap();
        assert_eq!(secure, 1, "secure_delete=ON");
    }

    #[test]
    fn version_1_database_is_upgraded_keeping_its_keys() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_writer(&dir.path().join("openkms.db")).unwrap();
        conn.execute_batch(V1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO keys VALUES ('k', '', 'Aliyun_AES_256', 'ENCRYPT/DECRYPT', \
             'Aliyun_KMS', 'SOFTWARE', 'Enabled', 'c', 0, NULL, 'v', 0, NULL, NULL, NULL, NULL)",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn), MIGRATIONS.len() as i64);
        let revision: i64 = conn
            .query_row("SELECT revision FROM keys WHERE key_id = 'k'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(
            revision, 1,
            "keys from before revisions start at revision 1"
        );
        let tombstones: i64 = conn
            .query_row("SELECT count(*) FROM destroyed_versions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tombstones, 0);
        let nonces: i64 = conn
            .query_row("SELECT count(*) FROM nonces", [], |r| r.get(0))
            .unwrap();
        assert_eq!(nonces, 0, "the nonce table exists after the upgrade");
        for table in ["users", "policies", "policy_attachments"] {
            let rows: i64 = conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .unwrap();
            assert_eq!(rows, 0, "the {table} table exists after the upgrade");
        }
    }

    #[test]
    fn version_3_database_is_upgraded_keeping_its_access_keys() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_writer(&dir.path().join("openkms.db")).unwrap();
        for migration in &MIGRATIONS[..3] {
            conn.execute_batch(migration).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute(
            "INSERT INTO access_keys VALUES ('ak', 'alice', x'00', 1, 0)",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn), MIGRATIONS.len() as i64);
        let owner: String = conn
            .query_row(
                "SELECT user FROM access_keys WHERE access_key_id = 'ak'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(owner, "alice", "AccessKeys from before users are kept");
    }
}
