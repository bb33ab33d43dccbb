//! openkms-store-sqlite: the embedded default storage backend, on SQLite.
//!
//! [`SqliteStore`] implements [`openkms_core::Store`] (every capability),
//! [`openkms_core::ReplayStore`], [`openkms_core::AnchorStore`] and
//! [`openkms_core::SnapshotStore`] (backup and restore) over one database file (the binary uses
//! `<data-dir>/openkms.db`). Writes go to one writer thread that commits them in groups, so a
//! burst of writes shares one fsync and a write returns `Ok` only after its commit. Reads use
//! a small pool of read-only connections, which WAL lets run beside the writer.
//!
//! Destroying a key deletes its rows (with `secure_delete`, their bytes are overwritten too)
//! and keeps only tombstones of its version ids. A used SignatureNonce is a write like any
//! other, so it shares the group commit (and its fsync) with the writes queued beside it.
//!
//! RAM users, custom policies and their attachments are tables of their own. Deleting a user
//! or a policy checks that nothing still depends on it in the same writer transaction as the
//! delete, so no write can slip between the check and the delete. Tagging a key likewise
//! writes and counts its tags in one writer transaction, so racing writes cannot together
//! take it past the caller's limit; and creating a user's AccessKey checks the user and
//! counts its AccessKeys in the same transaction as the insert, so it cannot outlive a racing
//! delete of the user or take the user past the caller's limit.
//!
//! This crate owns the schema, its migrations, the group commit and the mapping of SQLite
//! errors to [`StoreError`]. It does not own the records or their rules (the core does), it
//! does not create the data directory or set its permissions (the binary does), and it logs
//! nothing, so no record content can reach a log through it.
#![deny(missing_docs)]

mod error;
mod ops;
mod pool;
mod reads;
mod row;
mod schema;
mod snapshot;
mod writer;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use openkms_core::{
    AccessKeyRecord, AliasRecord, AliasStore, AnchorStore, AttachmentRecord, AuditAnchor,
    IdentityStore, KeyCursor, KeyRecord, KeySelection, KeyStore, KeyTag, MetaStore, PolicyRecord,
    PolicyType, ReplayStore, Rewrap, RewrapStore, SecretChange, SecretRecord, SecretStage,
    SecretStore, SecretVersion, Snapshot, SnapshotStore, StoreError, StoredSecretVersion, Tag,
    TagCursor, TagStore, UserRecord, VersionRecord, WrappedBlob,
};

use crate::ops::{IdentityOp, ImportOp, LoginOp, SecretOp, WriteOp};
use crate::pool::ReadPool;
use crate::writer::Writer;

/// A [`openkms_core::Store`] in one SQLite database file.
///
/// Dropping it finishes the writes already queued, then stops the writer thread (the drop
/// waits for that, which is at most one batch of work).
pub struct SqliteStore {
    /// The writer thread that owns the only read-write connection.
    writer: Writer,
    /// Read-only connections for the lookups.
    readers: Arc<ReadPool>,
}

impl SqliteStore {
    /// Opens the database at `path`, creating it if absent, and brings its schema up to date.
    ///
    /// The parent directory must exist. Opening is synchronous (a few milliseconds); call it
    /// once at startup. Fails with `Unavailable` if the file cannot be opened as SQLite in
    /// WAL mode, or if it was written by a newer schema version.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = schema::open_writer(path)?;
        schema::migrate(&mut conn)?;
        let writer = Writer::start(conn)?;
        Ok(Self {
            writer,
            readers: ReadPool::new(path.to_owned()),
        })
    }

    /// Reads every record of the existing database at `path` in one read transaction
    /// ([`SnapshotStore::export_snapshot`]) through a read-only connection: the database is
    /// neither created, migrated nor written, so a running server keeps serving and writing.
    /// `Unavailable` if the file is not an openkms database of this build's schema version.
    pub fn export_database(path: &Path) -> Result<Snapshot, StoreError> {
        let conn = schema::open_reader(path)?;
        schema::check_current(&conn)?;
        snapshot::export(&conn)
    }

    /// Queues an identity write and waits for its commit; the count of [`IdentityOp::apply`].
    async fn identity(&self, op: IdentityOp) -> Result<u64, StoreError> {
        self.writer.submit(WriteOp::Identity(op)).await
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn create_key(
        &self,
        key: &KeyRecord,
        version: &VersionRecord,
        tags: &[Tag],
    ) -> Result<(), StoreError> {
        let op = WriteOp::CreateKey {
            key: Box::new(key.clone()),
            version: version.clone(),
            tags: tags.to_vec(),
        };
        self.writer.submit(op).await.map(|_| ())
    }

    async fn get_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        let key_id = key_id.to_owned();
        self.readers
            .run(move |conn| reads::get_key(conn, &key_id))
            .await
    }

    async fn get_version(&self, version_id: &str) -> Result<Option<VersionRecord>, StoreError> {
        let version_id = version_id.to_owned();
        self.readers
            .run(move |conn| reads::get_version(conn, &version_id))
            .await
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        self.readers.run(reads::is_empty).await
    }

    async fn update_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        let op = WriteOp::UpdateKey(Box::new(key.clone()));
        self.writer.submit(op).await.map(|_| ())
    }

    async fn add_version(
        &self,
        key: &KeyRecord,
        version: &VersionRecord,
    ) -> Result<(), StoreError> {
        let op = WriteOp::AddVersion {
            key: Box::new(key.clone()),
            version: version.clone(),
        };
        self.writer.submit(op).await.map(|_| ())
    }

    async fn list_versions(&self, key_id: &str) -> Result<Vec<VersionRecord>, StoreError> {
        let key_id = key_id.to_owned();
        self.readers
            .run(move |conn| reads::list_versions(conn, &key_id))
            .await
    }

    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        self.readers.run(reads::list_keys).await
    }

    async fn page_keys(
        &self,
        selection: &KeySelection,
        after: Option<&KeyCursor>,
        limit: usize,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        let (selection, after) = (selection.clone(), after.cloned());
        self.readers
            .run(move |conn| reads::page_keys(conn, &selection, after.as_ref(), limit))
            .await
    }

    async fn count_keys(&self, selection: &KeySelection) -> Result<u64, StoreError> {
        let selection = selection.clone();
        self.readers
            .run(move |conn| reads::count_keys(conn, &selection))
            .await
    }

    async fn key_cursor_at(
        &self,
        selection: &KeySelection,
        index: u64,
    ) -> Result<Option<KeyCursor>, StoreError> {
        let selection = selection.clone();
        self.readers
            .run(move |conn| reads::key_cursor_at(conn, &selection, index))
            .await
    }

    async fn due_keys(&self, now: i64) -> Result<Vec<KeyRecord>, StoreError> {
        self.readers
            .run(move |conn| reads::due_keys(conn, now))
            .await
    }

    async fn destroy_key(&self, key_id: &str) -> Result<(), StoreError> {
        self.writer
            .submit(WriteOp::DestroyKey(key_id.to_owned()))
            .await
            .map(|_| ())
    }

    async fn is_destroyed_version(&self, version_id: &str) -> Result<bool, StoreError> {
        let version_id = version_id.to_owned();
        self.readers
            .run(move |conn| reads::is_destroyed_version(conn, &version_id))
            .await
    }
}

#[async_trait]
impl AliasStore for SqliteStore {
    async fn create_alias(&self, alias: &AliasRecord) -> Result<(), StoreError> {
        self.writer
            .submit(WriteOp::CreateAlias(alias.clone()))
            .await
            .map(|_| ())
    }

    async fn get_alias(&self, name: &str) -> Result<Option<AliasRecord>, StoreError> {
        let name = name.to_owned();
        self.readers
            .run(move |conn| reads::get_alias(conn, &name))
            .await
    }

    async fn list_aliases(&self, key_id: Option<&str>) -> Result<Vec<AliasRecord>, StoreError> {
        let key_id = key_id.map(str::to_owned);
        self.readers
            .run(move |conn| reads::list_aliases(conn, key_id.as_deref()))
            .await
    }

    async fn page_aliases(
        &self,
        key_id: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AliasRecord>, StoreError> {
        let (key_id, after) = (key_id.map(str::to_owned), after.map(str::to_owned));
        self.readers
            .run(move |conn| reads::page_aliases(conn, key_id.as_deref(), after.as_deref(), limit))
            .await
    }

    async fn count_aliases(&self, key_id: Option<&str>) -> Result<u64, StoreError> {
        let key_id = key_id.map(str::to_owned);
        self.readers
            .run(move |conn| reads::count_aliases(conn, key_id.as_deref()))
            .await
    }

    async fn alias_name_at(
        &self,
        key_id: Option<&str>,
        index: u64,
    ) -> Result<Option<String>, StoreError> {
        let key_id = key_id.map(str::to_owned);
        self.readers
            .run(move |conn| reads::alias_name_at(conn, key_id.as_deref(), index))
            .await
    }

    async fn update_alias(&self, alias: &AliasRecord) -> Result<(), StoreError> {
        self.writer
            .submit(WriteOp::UpdateAlias(alias.clone()))
            .await
            .map(|_| ())
    }

    async fn delete_alias(&self, name: &str) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteOp::DeleteAlias(name.to_owned()))
            .await
            .map(|n| n == 1)
    }
}

#[async_trait]
impl TagStore for SqliteStore {
    async fn list_tags(&self, key_id: &str) -> Result<Vec<Tag>, StoreError> {
        let key_id = key_id.to_owned();
        self.readers
            .run(move |conn| reads::list_tags(conn, &key_id))
            .await
    }

    async fn page_tags(
        &self,
        filter: Option<&Tag>,
        after: Option<&TagCursor>,
        limit: usize,
    ) -> Result<Vec<KeyTag>, StoreError> {
        let (filter, after) = (filter.cloned(), after.cloned());
        self.readers
            .run(move |conn| reads::page_tags(conn, filter.as_ref(), after.as_ref(), limit))
            .await
    }

    async fn put_tags(
        &self,
        key_id: &str,
        tags: &[Tag],
        max_tags: usize,
    ) -> Result<(), StoreError> {
        let op = WriteOp::PutTags {
            key_id: key_id.to_owned(),
            tags: tags.to_vec(),
            max_tags,
        };
        self.writer.submit(op).await.map(|_| ())
    }

    async fn delete_tags(&self, key_id: &str, tag_keys: &[String]) -> Result<(), StoreError> {
        let op = WriteOp::DeleteTags {
            key_id: key_id.to_owned(),
            tag_keys: tag_keys.to_vec(),
        };
        self.writer.submit(op).await.map(|_| ())
    }
}

#[async_trait]
impl openkms_core::LoginStore for SqliteStore {
    async fn create_login_profile(
        &self,
        profile: &openkms_core::LoginProfileRecord,
    ) -> Result<(), StoreError> {
        let op = WriteOp::Login(LoginOp::Create(profile.clone()));
        self.writer.submit(op).await.map(|_| ())
    }

    async fn get_login_profile(
        &self,
        user_name: &str,
    ) -> Result<Option<openkms_core::LoginProfileRecord>, StoreError> {
        let user_name = user_name.to_owned();
        self.readers
            .run(move |conn| reads::get_login_profile(conn, &user_name))
            .await
    }

    async fn update_login_profile(
        &self,
        profile: &openkms_core::LoginProfileRecord,
    ) -> Result<(), StoreError> {
        let op = WriteOp::Login(LoginOp::Update(profile.clone()));
        self.writer.submit(op).await.map(|_| ())
    }

    async fn delete_login_profile(&self, user_name: &str) -> Result<bool, StoreError> {
        let op = WriteOp::Login(LoginOp::Delete(user_name.to_owned()));
        self.writer.submit(op).await.map(|n| n == 1)
    }
}

#[async_trait]
impl openkms_core::ImportStore for SqliteStore {
    async fn get_import(
        &self,
        key_id: &str,
    ) -> Result<Option<openkms_core::ImportRecord>, StoreError> {
        let key_id = key_id.to_owned();
        self.readers
            .run(move |conn| reads::get_import(conn, &key_id))
            .await
    }

    async fn save_material(
        &self,
        key: &KeyRecord,
        wrapped: &[u8],
        import: &openkms_core::ImportRecord,
        issued_ms: i64,
    ) -> Result<(), StoreError> {
        let op = ImportOp::SaveMaterial {
            key: Box::new(key.clone()),
            wrapped: wrapped.to_vec(),
            import: import.clone(),
            issued_ms,
        };
        self.writer.submit(WriteOp::Import(op)).await.map(|_| ())
    }

    async fn delete_material(
        &self,
        key: &KeyRecord,
        now_ms: i64,
        disabled: bool,
    ) -> Result<(), StoreError> {
        let op = ImportOp::DeleteMaterial {
            key: Box::new(key.clone()),
            now_ms,
            disabled,
        };
        self.writer.submit(WriteOp::Import(op)).await.map(|_| ())
    }

    async fn reserve_unwrap(
        &self,
        key_id: &str,
        issued_ms: i64,
        limit: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let op = ImportOp::Reserve {
            key_id: key_id.to_owned(),
            issued_ms,
            limit,
            now_ms,
        };
        self.writer
            .submit(WriteOp::Import(op))
            .await
            .map(|n| n == 1)
    }

    async fn settle_failed_unwrap(
        &self,
        key_id: &str,
        limit: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let op = ImportOp::SettleFailure {
            key_id: key_id.to_owned(),
            limit,
            now_ms,
        };
        self.writer
            .submit(WriteOp::Import(op))
            .await
            .map(|n| n == 1)
    }

    async fn revoke_tokens(&self, key_id: &str, now_ms: i64) -> Result<(), StoreError> {
        let op = ImportOp::Revoke {
            key_id: key_id.to_owned(),
            now_ms,
        };
        self.writer.submit(WriteOp::Import(op)).await.map(|_| ())
    }
}

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn create_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError> {
        self.writer
            .submit(WriteOp::CreateAccessKey(key.clone()))
            .await
            .map(|_| ())
    }

    async fn create_user_access_key(
        &self,
        key: &AccessKeyRecord,
        max_per_user: usize,
    ) -> Result<(), StoreError> {
        let op = IdentityOp::CreateUserAccessKey {
            key: key.clone(),
            max_per_user,
        };
        self.identity(op).await.map(|_| ())
    }

    async fn get_access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyRecord>, StoreError> {
        let access_key_id = access_key_id.to_owned();
        self.readers
            .run(move |conn| reads::get_access_key(conn, &access_key_id))
            .await
    }

    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        self.identity(IdentityOp::CreateUser(user.clone()))
            .await
            .map(|_| ())
    }

    async fn get_user(&self, user_name: &str) -> Result<Option<UserRecord>, StoreError> {
        let user_name = user_name.to_owned();
        self.readers
            .run(move |conn| reads::get_user(conn, &user_name))
            .await
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.readers.run(reads::list_users).await
    }

    async fn page_users(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<UserRecord>, StoreError> {
        let after = after.map(str::to_owned);
        self.readers
            .run(move |conn| reads::page_users(conn, after.as_deref(), limit))
            .await
    }

    async fn delete_user(&self, user_name: &str) -> Result<(), StoreError> {
        self.identity(IdentityOp::DeleteUser(user_name.to_owned()))
            .await
            .map(|_| ())
    }

    async fn list_access_keys(&self, user_name: &str) -> Result<Vec<AccessKeyRecord>, StoreError> {
        let user_name = user_name.to_owned();
        self.readers
            .run(move |conn| reads::list_access_keys(conn, &user_name))
            .await
    }

    async fn set_access_key_active(
        &self,
        access_key_id: &str,
        active: bool,
    ) -> Result<(), StoreError> {
        let op = IdentityOp::SetAccessKeyActive {
            access_key_id: access_key_id.to_owned(),
            active,
        };
        self.identity(op).await.map(|_| ())
    }

    async fn delete_access_key(&self, access_key_id: &str) -> Result<bool, StoreError> {
        self.identity(IdentityOp::DeleteAccessKey(access_key_id.to_owned()))
            .await
            .map(|n| n == 1)
    }

    async fn create_policy(&self, policy: &PolicyRecord) -> Result<(), StoreError> {
        self.identity(IdentityOp::CreatePolicy(policy.clone()))
            .await
            .map(|_| ())
    }

    async fn get_policy(&self, policy_name: &str) -> Result<Option<PolicyRecord>, StoreError> {
        let policy_name = policy_name.to_owned();
        self.readers
            .run(move |conn| reads::get_policy(conn, &policy_name))
            .await
    }

    async fn list_policies(&self) -> Result<Vec<PolicyRecord>, StoreError> {
        self.readers.run(reads::list_policies).await
    }

    async fn page_policies(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PolicyRecord>, StoreError> {
        let after = after.map(str::to_owned);
        self.readers
            .run(move |conn| reads::page_policies(conn, after.as_deref(), limit))
            .await
    }

    async fn delete_policy(&self, policy_name: &str) -> Result<(), StoreError> {
        self.identity(IdentityOp::DeletePolicy(policy_name.to_owned()))
            .await
            .map(|_| ())
    }

    async fn attach_policy(&self, attachment: &AttachmentRecord) -> Result<(), StoreError> {
        self.identity(IdentityOp::AttachPolicy(attachment.clone()))
            .await
            .map(|_| ())
    }

    async fn detach_policy(
        &self,
        user_name: &str,
        policy_type: PolicyType,
        policy_name: &str,
    ) -> Result<bool, StoreError> {
        let op = IdentityOp::DetachPolicy {
            user_name: user_name.to_owned(),
            policy_type,
            policy_name: policy_name.to_owned(),
        };
        self.identity(op).await.map(|n| n == 1)
    }

    async fn list_user_attachments(
        &self,
        user_name: &str,
    ) -> Result<Vec<AttachmentRecord>, StoreError> {
        let user_name = user_name.to_owned();
        self.readers
            .run(move |conn| reads::list_user_attachments(conn, &user_name))
            .await
    }

    async fn list_policy_attachments(
        &self,
        policy_type: PolicyType,
        policy_name: &str,
    ) -> Result<Vec<AttachmentRecord>, StoreError> {
        let policy_name = policy_name.to_owned();
        self.readers
            .run(move |conn| reads::list_policy_attachments(conn, policy_type, &policy_name))
            .await
    }
}

#[async_trait]
impl MetaStore for SqliteStore {
    async fn get_meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let name = name.to_owned();
        self.readers
            .run(move |conn| reads::get_meta(conn, &name))
            .await
    }

    async fn put_meta_if_absent(&self, name: &str, value: &[u8]) -> Result<bool, StoreError> {
        let op = WriteOp::PutMetaIfAbsent {
            name: name.to_owned(),
            value: value.to_vec(),
        };
        self.writer.submit(op).await.map(|n| n == 1)
    }

    async fn replace_meta_if(
        &self,
        name: &str,
        expected: &[u8],
        value: &[u8],
    ) -> Result<bool, StoreError> {
        let op = WriteOp::ReplaceMetaIf {
            name: name.to_owned(),
            expected: expected.to_vec(),
            value: value.to_vec(),
        };
        self.writer.submit(op).await.map(|n| n == 1)
    }
}

#[async_trait]
impl AnchorStore for SqliteStore {
    async fn audit_anchor(&self, node: &str) -> Result<Option<AuditAnchor>, StoreError> {
        let value = self.get_meta(&AuditAnchor::meta_name(node)).await?;
        value
            .map(|bytes| AuditAnchor::from_meta(&bytes))
            .transpose()
    }

    async fn set_audit_anchor(&self, node: &str, anchor: &AuditAnchor) -> Result<(), StoreError> {
        let op = WriteOp::SetMeta {
            name: AuditAnchor::meta_name(node),
            value: anchor.to_meta(),
        };
        self.writer.submit(op).await.map(|_| ())
    }
}

#[async_trait]
impl ReplayStore for SqliteStore {
    async fn use_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let op = WriteOp::UseNonce {
            access_key_id: access_key_id.to_owned(),
            nonce: nonce.to_owned(),
            expires_at,
            now,
        };
        self.writer.submit(op).await.map(|n| n == 1)
    }

    async fn purge_nonces(&self, now: i64) -> Result<u64, StoreError> {
        self.writer.submit(WriteOp::PurgeNonces(now)).await
    }
}

#[async_trait]
impl RewrapStore for SqliteStore {
    async fn wrapped_blobs(&self) -> Result<Vec<WrappedBlob>, StoreError> {
        self.readers.run(reads::wrapped_blobs).await
    }

    async fn replace_wrapped(&self, changes: &[Rewrap]) -> Result<(), StoreError> {
        let op = WriteOp::ReplaceWrapped(changes.to_vec());
        self.writer.submit(op).await.map(|_| ())
    }
}

#[async_trait]
impl SnapshotStore for SqliteStore {
    async fn export_snapshot(&self) -> Result<Snapshot, StoreError> {
        self.readers.run(snapshot::export).await
    }

    async fn import_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let op = WriteOp::ImportSnapshot(Box::new(snapshot.clone()));
        self.writer.submit(op).await.map(|_| ())
    }
}

impl SqliteStore {
    /// Queues a secret write and waits for its commit.
    async fn secret(&self, op: SecretOp) -> Result<(), StoreError> {
        self.writer.submit(WriteOp::Secret(op)).await.map(|_| ())
    }
}

#[async_trait]
impl SecretStore for SqliteStore {
    async fn create_secret(
        &self,
        secret: &SecretRecord,
        first: &StoredSecretVersion,
        stages: &[SecretStage],
        tags: &[Tag],
    ) -> Result<(), StoreError> {
        self.secret(SecretOp::Create {
            secret: Box::new(secret.clone()),
            first: first.clone(),
            stages: stages.to_vec(),
            tags: tags.to_vec(),
        })
        .await
    }

    async fn get_secret(&self, name: &str) -> Result<Option<SecretRecord>, StoreError> {
        let name = name.to_owned();
        self.readers
            .run(move |conn| reads::get_secret(conn, &name))
            .await
    }

    async fn list_secret_versions(&self, name: &str) -> Result<Vec<SecretVersion>, StoreError> {
        let name = name.to_owned();
        self.readers
            .run(move |conn| reads::list_secret_versions(conn, &name))
            .await
    }

    async fn list_secret_stages(&self, name: &str) -> Result<Vec<SecretStage>, StoreError> {
        let name = name.to_owned();
        self.readers
            .run(move |conn| reads::list_secret_stages(conn, &name))
            .await
    }

    async fn secret_ciphertext(
        &self,
        name: &str,
        version_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let (name, version_id) = (name.to_owned(), version_id.to_owned());
        self.readers
            .run(move |conn| reads::secret_ciphertext(conn, &name, &version_id))
            .await
    }

    async fn update_secret(&self, change: &SecretChange) -> Result<(), StoreError> {
        self.secret(SecretOp::Update(Box::new(change.clone())))
            .await
    }

    async fn page_secrets(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SecretRecord>, StoreError> {
        let after = after.map(str::to_owned);
        self.readers
            .run(move |conn| reads::page_secrets(conn, after.as_deref(), limit))
            .await
    }

    async fn due_secrets(&self, now: i64) -> Result<Vec<String>, StoreError> {
        self.readers
            .run(move |conn| reads::due_secrets(conn, now))
            .await
    }

    async fn destroy_secret(&self, name: &str) -> Result<(), StoreError> {
        self.secret(SecretOp::Destroy(name.to_owned())).await
    }

    async fn list_secret_tags(&self, name: &str) -> Result<Vec<Tag>, StoreError> {
        let name = name.to_owned();
        self.readers
            .run(move |conn| reads::list_secret_tags(conn, &name))
            .await
    }

    async fn put_secret_tags(
        &self,
        name: &str,
        tags: &[Tag],
        max_tags: usize,
    ) -> Result<(), StoreError> {
        self.secret(SecretOp::PutTags {
            name: name.to_owned(),
            tags: tags.to_vec(),
            max_tags,
        })
        .await
    }

    async fn delete_secret_tags(&self, name: &str, tag_keys: &[String]) -> Result<(), StoreError> {
        self.secret(SecretOp::DeleteTags {
            name: name.to_owned(),
            tag_keys: tag_keys.to_vec(),
        })
        .await
    }
}
