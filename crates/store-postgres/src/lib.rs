//! openkms-store-postgres: the storage backend for several stateless nodes, on PostgreSQL.
//!
//! [`PostgresStore`] implements [`openkms_core::Store`], [`openkms_core::ReplayStore`],
//! [`openkms_core::AnchorStore`] (one audit anchor per node) and
//! [`openkms_core::SnapshotStore`] (backup and restore) over one PostgreSQL database (or one
//! schema of it) through a pool of tokio-postgres connections. Every node can write: unique
//! names and references are enforced by the database's constraints, so nodes need no
//! coordination of their own, and an `Ok` from a write means the commit was acknowledged.
//!
//! A used SignatureNonce is a row every node sees, so a request signed once is refused at
//! every node after the first.
//!
//! RAM users, custom policies and their attachments are tables of their own. Deleting a user
//! or a policy locks its row and checks that nothing depends on it in one transaction, and
//! attaching locks what it refers to, so nodes racing to attach and delete cannot leave an
//! attachment to something deleted.
//!
//! Tagging a key locks its row, writes and counts its tags in one transaction, so nodes
//! racing to tag one key cannot together take it past the caller's limit. Creating a user's
//! AccessKey likewise locks the user's row, counts its AccessKeys and inserts in one
//! transaction, so nodes racing to create cannot take a user past the caller's limit, nor
//! leave an AccessKey of a user deleted meanwhile.
//!
//! Destroying a key deletes its rows and keeps only tombstones of its version ids. PostgreSQL
//! has no equivalent of SQLite's `secure_delete`: the deleted rows (wrapped material, useless
//! without the root key) stay in the table files until VACUUM reuses their space, and in the
//! WAL and its archives.
//!
//! This crate owns the schema, its migrations, the transactions, the mapping of SQLSTATEs to
//! [`StoreError`], and the connection settings (including TLS). It does not own the records
//! or their rules (the core does) or where the URL comes from (the binary does), and it logs
//! nothing: no record content and no password can reach a log through it, and its `Debug`
//! output shows the database's address but never the password.
#![deny(missing_docs)]

mod config;
mod error;
mod reads;
mod row;
mod schema;
mod serving;
mod snapshot;
mod writes;

use std::fmt;

use async_trait::async_trait;
use deadpool_postgres::Pool;
use openkms_core::{
    AccessKeyRecord, AliasRecord, AliasStore, AnchorStore, AttachmentRecord, AuditAnchor,
    IdentityStore, KeyCursor, KeyRecord, KeySelection, KeyStore, KeyTag, MetaStore, PolicyRecord,
    PolicyType, ReplayStore, Rewrap, RewrapStore, SecretChange, SecretRecord, SecretStage,
    SecretStore, SecretVersion, Snapshot, SnapshotStore, StoreError, StoredSecretVersion, Tag,
    TagCursor, TagStore, UserRecord, VersionRecord, WrappedBlob,
};

use crate::error::pool_error;
pub use crate::serving::ServingLock;
use crate::writes::{IdentityWrite, SecretWrite, Write};

/// A [`openkms_core::Store`] in a PostgreSQL database.
///
/// Cheap to share behind an `Arc`; dropping it closes the pooled connections.
pub struct PostgresStore {
    /// The connections; each one starts with the schema's `search_path` when there is one.
    pool: Pool,
    /// `user@host:port/dbname (tls)`: where the store points, without the password.
    target: String,
    /// The schema holding the tables, when one was chosen.
    schema: Option<String>,
    /// One connection's pool for the serving lock (see [`PostgresStore::hold_serving_lock`]).
    lock_pool: Pool,
}

impl PostgresStore {
    /// Connects to the database at `url` with a pool of at most `pool_size` connections and
    /// brings its schema up to date; the tables live in the connection's default schema
    /// (normally `public`).
    ///
    /// `url` is a `postgres://` URL or a libpq `key=value` string. `sslmode=require` connects
    /// over TLS (rustls, aws-lc-rs) and verifies the server's certificate and name against
    /// the platform's roots; other modes connect in plaintext. Fails with `Unavailable` if
    /// the URL is invalid, the database cannot be reached, the server does not make commits
    /// durable (`synchronous_commit = off`), or the schema was written by a newer build.
    pub async fn connect(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        Self::open(url, pool_size, None).await
    }

    /// Like [`PostgresStore::connect`], but keeps the tables in `schema`, creating it if
    /// missing; every pooled connection has `search_path` set to it.
    ///
    /// Lets several independent stores share one database (tests use a fresh schema each).
    /// `schema` must match `[a-z_][a-z0-9_]*` and be at most 63 bytes.
    pub async fn connect_with_schema(
        url: &str,
        pool_size: usize,
        schema: &str,
    ) -> Result<Self, StoreError> {
        Self::open(url, pool_size, Some(schema)).await
    }

    /// The steps of both constructors: parse, build the pool, migrate.
    async fn open(url: &str, pool_size: usize, schema: Option<&str>) -> Result<Self, StoreError> {
        let pg_config = config::parse(url, schema)?;
        let target = config::describe(&pg_config);
        let lock_pool = config::build_pool(pg_config.clone(), 1)?;
        let pool = config::build_pool(pg_config, pool_size)?;
        let mut client = pool.get().await.map_err(pool_error)?;
        schema::migrate(&mut client, schema).await?;
        drop(client);
        Ok(Self {
            pool,
            target,
            schema: schema.map(str::to_owned),
            lock_pool,
        })
    }

    /// Takes the serving lock shared, on a connection of its own, for as long as the result
    /// is kept: a node holds it while it serves. Waits while a root-key rotation holds it.
    pub async fn hold_serving_lock(&self) -> Result<ServingLock, StoreError> {
        serving::hold_shared(&self.lock_pool).await
    }

    /// Takes the serving lock exclusively, for a root-key rotation; `None` while any node
    /// holds it (serves this store).
    pub async fn try_exclusive_lock(&self) -> Result<Option<ServingLock>, StoreError> {
        serving::try_exclusive(&self.lock_pool).await
    }

    /// Runs a write that succeeds or not: whether it wrote (see [`writes::run`]).
    async fn write(&self, write: Write<'_>) -> Result<bool, StoreError> {
        writes::run(&self.pool, &write).await.map(|n| n == 1)
    }

    /// Runs an identity write: whether it wrote, or for a delete whether the record existed.
    async fn identity(&self, write: IdentityWrite<'_>) -> Result<bool, StoreError> {
        self.write(Write::Identity(write)).await
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .field("schema", &self.schema)
            .field("pool_size", &self.pool.status().max_size)
            .finish()
    }
}

#[async_trait]
impl KeyStore for PostgresStore {
    async fn create_key(
        &self,
        key: &KeyRecord,
        version: &VersionRecord,
        tags: &[Tag],
    ) -> Result<(), StoreError> {
        let write = Write::CreateKey { key, version, tags };
        self.write(write).await.map(|_| ())
    }

    async fn get_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        reads::get_key(&self.pool, key_id).await
    }

    async fn get_version(&self, version_id: &str) -> Result<Option<VersionRecord>, StoreError> {
        reads::get_version(&self.pool, version_id).await
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        reads::is_empty(&self.pool).await
    }

    async fn update_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        self.write(Write::UpdateKey(key)).await.map(|_| ())
    }

    async fn add_version(
        &self,
        key: &KeyRecord,
        version: &VersionRecord,
    ) -> Result<(), StoreError> {
        let write = Write::AddVersion { key, version };
        self.write(write).await.map(|_| ())
    }

    async fn list_versions(&self, key_id: &str) -> Result<Vec<VersionRecord>, StoreError> {
        reads::list_versions(&self.pool, key_id).await
    }

    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        reads::list_keys(&self.pool).await
    }

    async fn page_keys(
        &self,
        selection: &KeySelection,
        after: Option<&KeyCursor>,
        limit: usize,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        reads::page_keys(&self.pool, selection, after, limit).await
    }

    async fn count_keys(&self, selection: &KeySelection) -> Result<u64, StoreError> {
        reads::count_keys(&self.pool, selection).await
    }

    async fn key_cursor_at(
        &self,
        selection: &KeySelection,
        index: u64,
    ) -> Result<Option<KeyCursor>, StoreError> {
        reads::key_cursor_at(&self.pool, selection, index).await
    }

    async fn due_keys(&self, now: i64) -> Result<Vec<KeyRecord>, StoreError> {
        reads::due_keys(&self.pool, now).await
    }

    async fn destroy_key(&self, key_id: &str) -> Result<(), StoreError> {
        self.write(Write::DestroyKey(key_id)).await.map(|_| ())
    }

    async fn is_destroyed_version(&self, version_id: &str) -> Result<bool, StoreError> {
        reads::is_destroyed_version(&self.pool, version_id).await
    }
}

#[async_trait]
impl AliasStore for PostgresStore {
    async fn create_alias(&self, alias: &AliasRecord) -> Result<(), StoreError> {
        self.write(Write::CreateAlias(alias)).await.map(|_| ())
    }

    async fn get_alias(&self, name: &str) -> Result<Option<AliasRecord>, StoreError> {
        reads::get_alias(&self.pool, name).await
    }

    async fn list_aliases(&self, key_id: Option<&str>) -> Result<Vec<AliasRecord>, StoreError> {
        reads::list_aliases(&self.pool, key_id).await
    }

    async fn page_aliases(
        &self,
        key_id: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AliasRecord>, StoreError> {
        reads::page_aliases(&self.pool, key_id, after, limit).await
    }

    async fn count_aliases(&self, key_id: Option<&str>) -> Result<u64, StoreError> {
        reads::count_aliases(&self.pool, key_id).await
    }

    async fn alias_name_at(
        &self,
        key_id: Option<&str>,
        index: u64,
    ) -> Result<Option<String>, StoreError> {
        reads::alias_name_at(&self.pool, key_id, index).await
    }

    async fn update_alias(&self, alias: &AliasRecord) -> Result<(), StoreError> {
        self.write(Write::UpdateAlias(alias)).await.map(|_| ())
    }

    async fn delete_alias(&self, name: &str) -> Result<bool, StoreError> {
        self.write(Write::DeleteAlias(name)).await
    }
}

#[async_trait]
impl TagStore for PostgresStore {
    async fn list_tags(&self, key_id: &str) -> Result<Vec<Tag>, StoreError> {
        reads::list_tags(&self.pool, key_id).await
    }

    async fn page_tags(
        &self,
        filter: Option<&Tag>,
        after: Option<&TagCursor>,
        limit: usize,
    ) -> Result<Vec<KeyTag>, StoreError> {
        reads::page_tags(&self.pool, filter, after, limit).await
    }

    async fn put_tags(
        &self,
        key_id: &str,
        tags: &[Tag],
        max_tags: usize,
    ) -> Result<(), StoreError> {
        let write = Write::PutTags {
            key_id,
            tags,
            max_tags,
        };
        self.write(write).await.map(|_| ())
    }

    async fn delete_tags(&self, key_id: &str, tag_keys: &[String]) -> Result<(), StoreError> {
        let write = Write::DeleteTags { key_id, tag_keys };
        self.write(write).await.map(|_| ())
    }
}

#[async_trait]
impl openkms_core::LoginStore for PostgresStore {
    async fn create_login_profile(
        &self,
        profile: &openkms_core::LoginProfileRecord,
    ) -> Result<(), StoreError> {
        let write = Write::Login(writes::LoginWrite::Create(profile));
        self.write(write).await.map(|_| ())
    }

    async fn get_login_profile(
        &self,
        user_name: &str,
    ) -> Result<Option<openkms_core::LoginProfileRecord>, StoreError> {
        reads::get_login_profile(&self.pool, user_name).await
    }

    async fn update_login_profile(
        &self,
        profile: &openkms_core::LoginProfileRecord,
    ) -> Result<(), StoreError> {
        let write = Write::Login(writes::LoginWrite::Update(profile));
        self.write(write).await.map(|_| ())
    }

    async fn delete_login_profile(&self, user_name: &str) -> Result<bool, StoreError> {
        self.write(Write::Login(writes::LoginWrite::Delete(user_name)))
            .await
    }
}

#[async_trait]
impl openkms_core::ImportStore for PostgresStore {
    async fn get_import(
        &self,
        key_id: &str,
    ) -> Result<Option<openkms_core::ImportRecord>, StoreError> {
        reads::get_import(&self.pool, key_id).await
    }

    async fn save_material(
        &self,
        key: &KeyRecord,
        wrapped: &[u8],
        import: &openkms_core::ImportRecord,
        issued_ms: i64,
    ) -> Result<(), StoreError> {
        let write = writes::ImportWrite::SaveMaterial {
            key,
            wrapped,
            import,
            issued_ms,
        };
        self.write(Write::Import(write)).await.map(|_| ())
    }

    async fn delete_material(
        &self,
        key: &KeyRecord,
        now_ms: i64,
        disabled: bool,
    ) -> Result<(), StoreError> {
        let write = writes::ImportWrite::DeleteMaterial {
            key,
            now_ms,
            disabled,
        };
        self.write(Write::Import(write)).await.map(|_| ())
    }

    async fn reserve_unwrap(
        &self,
        key_id: &str,
        issued_ms: i64,
        limit: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let write = writes::ImportWrite::Reserve {
            key_id,
            issued_ms,
            limit,
            now_ms,
        };
        self.write(Write::Import(write)).await
    }

    async fn settle_failed_unwrap(
        &self,
        key_id: &str,
        limit: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let write = writes::ImportWrite::SettleFailure {
            key_id,
            limit,
            now_ms,
        };
        self.write(Write::Import(write)).await
    }

    async fn revoke_tokens(&self, key_id: &str, now_ms: i64) -> Result<(), StoreError> {
        let write = writes::ImportWrite::Revoke { key_id, now_ms };
        self.write(Write::Import(write)).await.map(|_| ())
    }
}

#[async_trait]
impl IdentityStore for PostgresStore {
    async fn create_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError> {
        self.write(Write::CreateAccessKey(key)).await.map(|_| ())
    }

    async fn create_user_access_key(
        &self,
        key: &AccessKeyRecord,
        max_per_user: usize,
    ) -> Result<(), StoreError> {
        let write = IdentityWrite::CreateUserAccessKey { key, max_per_user };
        self.identity(write).await.map(|_| ())
    }

    async fn get_access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyRecord>, StoreError> {
        reads::get_access_key(&self.pool, access_key_id).await
    }

    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let write = IdentityWrite::CreateUser(user);
        self.identity(write).await.map(|_| ())
    }

    async fn get_user(&self, user_name: &str) -> Result<Option<UserRecord>, StoreError> {
        reads::get_user(&self.pool, user_name).await
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        reads::list_users(&self.pool).await
    }

    async fn page_users(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<UserRecord>, StoreError> {
        reads::page_users(&self.pool, after, limit).await
    }

    async fn delete_user(&self, user_name: &str) -> Result<(), StoreError> {
        let write = IdentityWrite::DeleteUser(user_name);
        self.identity(write).await.map(|_| ())
    }

    async fn list_access_keys(&self, user_name: &str) -> Result<Vec<AccessKeyRecord>, StoreError> {
        reads::list_access_keys(&self.pool, user_name).await
    }

    async fn set_access_key_active(
        &self,
        access_key_id: &str,
        active: bool,
    ) -> Result<(), StoreError> {
        let write = IdentityWrite::SetAccessKeyActive {
            access_key_id,
            active,
        };
        self.identity(write).await.map(|_| ())
    }

    async fn delete_access_key(&self, access_key_id: &str) -> Result<bool, StoreError> {
        self.identity(IdentityWrite::DeleteAccessKey(access_key_id))
            .await
    }

    async fn create_policy(&self, policy: &PolicyRecord) -> Result<(), StoreError> {
        let write = IdentityWrite::CreatePolicy(policy);
        self.identity(write).await.map(|_| ())
    }

    async fn get_policy(&self, policy_name: &str) -> Result<Option<PolicyRecord>, StoreError> {
        reads::get_policy(&self.pool, policy_name).await
    }

    async fn list_policies(&self) -> Result<Vec<PolicyRecord>, StoreError> {
        reads::list_policies(&self.pool).await
    }

    async fn page_policies(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PolicyRecord>, StoreError> {
        reads::page_policies(&self.pool, after, limit).await
    }

    async fn delete_policy(&self, policy_name: &str) -> Result<(), StoreError> {
        let write = IdentityWrite::DeletePolicy(policy_name);
        self.identity(write).await.map(|_| ())
    }

    async fn attach_policy(&self, attachment: &AttachmentRecord) -> Result<(), StoreError> {
        let write = IdentityWrite::AttachPolicy(attachment);
        self.identity(write).await.map(|_| ())
    }

    async fn detach_policy(
        &self,
        user_name: &str,
        policy_type: PolicyType,
        policy_name: &str,
    ) -> Result<bool, StoreError> {
        let write = IdentityWrite::DetachPolicy {
            user_name,
            policy_type,
            policy_name,
        };
        self.identity(write).await
    }

    async fn list_user_attachments(
        &self,
        user_name: &str,
    ) -> Result<Vec<AttachmentRecord>, StoreError> {
        reads::list_user_attachments(&self.pool, user_name).await
    }

    async fn list_policy_attachments(
        &self,
        policy_type: PolicyType,
        policy_name: &str,
    ) -> Result<Vec<AttachmentRecord>, StoreError> {
        reads::list_policy_attachments(&self.pool, policy_type, policy_name).await
    }
}

#[async_trait]
impl MetaStore for PostgresStore {
    async fn get_meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        reads::get_meta(&self.pool, name).await
    }

    async fn put_meta_if_absent(&self, name: &str, value: &[u8]) -> Result<bool, StoreError> {
        self.write(Write::PutMetaIfAbsent { name, value }).await
    }

    async fn replace_meta_if(
        &self,
        name: &str,
        expected: &[u8],
        value: &[u8],
    ) -> Result<bool, StoreError> {
        let write = Write::ReplaceMetaIf {
            name,
            expected,
            value,
        };
        self.write(write).await
    }
}

#[async_trait]
impl AnchorStore for PostgresStore {
    async fn audit_anchor(&self, node: &str) -> Result<Option<AuditAnchor>, StoreError> {
        let value = reads::get_meta(&self.pool, &AuditAnchor::meta_name(node)).await?;
        value
            .map(|bytes| AuditAnchor::from_meta(&bytes))
            .transpose()
    }

    async fn set_audit_anchor(&self, node: &str, anchor: &AuditAnchor) -> Result<(), StoreError> {
        let name = AuditAnchor::meta_name(node);
        let value = anchor.to_meta();
        let write = Write::SetMeta {
            name: &name,
            value: &value,
        };
        writes::run(&self.pool, &write).await.map(|_| ())
    }
}

#[async_trait]
impl ReplayStore for PostgresStore {
    async fn use_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let write = Write::UseNonce {
            access_key_id,
            nonce,
            expires_at,
            now,
        };
        self.write(write).await
    }

    async fn purge_nonces(&self, now: i64) -> Result<u64, StoreError> {
        writes::run(&self.pool, &Write::PurgeNonces(now)).await
    }
}

#[async_trait]
impl RewrapStore for PostgresStore {
    async fn wrapped_blobs(&self) -> Result<Vec<WrappedBlob>, StoreError> {
        reads::wrapped_blobs(&self.pool).await
    }

    async fn replace_wrapped(&self, changes: &[Rewrap]) -> Result<(), StoreError> {
        self.write(Write::ReplaceWrapped(changes)).await.map(|_| ())
    }
}

#[async_trait]
impl SnapshotStore for PostgresStore {
    async fn export_snapshot(&self) -> Result<Snapshot, StoreError> {
        snapshot::export(&self.pool).await
    }

    async fn import_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        self.write(Write::ImportSnapshot(snapshot))
            .await
            .map(|_| ())
    }
}

impl PostgresStore {
    /// Runs a secret write.
    async fn secret(&self, write: SecretWrite<'_>) -> Result<(), StoreError> {
        self.write(Write::Secret(write)).await.map(|_| ())
    }
}

#[async_trait]
impl SecretStore for PostgresStore {
    async fn create_secret(
        &self,
        secret: &SecretRecord,
        first: &StoredSecretVersion,
        stages: &[SecretStage],
        tags: &[Tag],
    ) -> Result<(), StoreError> {
        let write = SecretWrite::Create {
            secret,
            first,
            stages,
            tags,
        };
        self.secret(write).await
    }

    async fn get_secret(&self, name: &str) -> Result<Option<SecretRecord>, StoreError> {
        reads::get_secret(&self.pool, name).await
    }

    async fn list_secret_versions(&self, name: &str) -> Result<Vec<SecretVersion>, StoreError> {
        reads::list_secret_versions(&self.pool, name).await
    }

    async fn list_secret_stages(&self, name: &str) -> Result<Vec<SecretStage>, StoreError> {
        reads::list_secret_stages(&self.pool, name).await
    }

    async fn secret_ciphertext(
        &self,
        name: &str,
        version_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        reads::secret_ciphertext(&self.pool, name, version_id).await
    }

    async fn update_secret(&self, change: &SecretChange) -> Result<(), StoreError> {
        self.secret(SecretWrite::Update(change)).await
    }

    async fn page_secrets(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SecretRecord>, StoreError> {
        reads::page_secrets(&self.pool, after, limit).await
    }

    async fn due_secrets(&self, now: i64) -> Result<Vec<String>, StoreError> {
        reads::due_secrets(&self.pool, now).await
    }

    async fn destroy_secret(&self, name: &str) -> Result<(), StoreError> {
        self.secret(SecretWrite::Destroy(name)).await
    }

    async fn list_secret_tags(&self, name: &str) -> Result<Vec<Tag>, StoreError> {
        reads::list_secret_tags(&self.pool, name).await
    }

    async fn put_secret_tags(
        &self,
        name: &str,
        tags: &[Tag],
        max_tags: usize,
    ) -> Result<(), StoreError> {
        let write = SecretWrite::PutTags {
            name,
            tags,
            max_tags,
        };
        self.secret(write).await
    }

    async fn delete_secret_tags(&self, name: &str, tag_keys: &[String]) -> Result<(), StoreError> {
        self.secret(SecretWrite::DeleteTags { name, tag_keys })
            .await
    }
}
