//! The import half of [`openkms_core::SnapshotStore`] on PostgreSQL: a whole snapshot written
//! into empty tables in one transaction, with the statements the ordinary writes use.
//!
//! The transaction first locks every table of the snapshot in `EXCLUSIVE` mode (readers go
//! on, writers wait), so the emptiness check and the inserts cannot interleave with a write
//! from a node started too early; a failure anywhere rolls everything back.

use deadpool_postgres::GenericClient;
use openkms_core::StoreError;
use openkms_core::store::{SNAPSHOT_TABLES, Snapshot, check_importable};

use super::identities::{attach_policy, insert_policy, insert_user};
use super::{
    Failure, execute, insert_access_key, insert_alias, insert_key, insert_tags, insert_version,
    put_meta_if_absent,
};

/// Writes `snapshot` if no table of the snapshot holds a row (`NotEmpty` otherwise). Must run
/// in a transaction.
pub(super) async fn import(
    client: &impl GenericClient,
    snapshot: &Snapshot,
) -> Result<bool, Failure> {
    check_importable(snapshot).map_err(Failure::Refused)?;
    let tables = SNAPSHOT_TABLES.join(", ");
    client
        .batch_execute(&format!("LOCK TABLE {tables} IN EXCLUSIVE MODE"))
        .await?;
    if !is_empty(client).await? {
        return Err(Failure::Refused(StoreError::NotEmpty));
    }
    for m in &snapshot.meta {
        if !put_meta_if_absent(client, &m.name, &m.value).await? {
            return Err(Failure::Refused(StoreError::AlreadyExists));
        }
    }
    import_keys(client, snapshot).await?;
    import_identities(client, snapshot).await?;
    import_secrets(client, snapshot).await?;
    Ok(true)
}

/// Secrets, their versions, stages and tags.
async fn import_secrets(client: &impl GenericClient, snapshot: &Snapshot) -> Result<(), Failure> {
    use super::secrets::{insert_secret, insert_secret_tag, insert_secret_version, insert_stages};
    for secret in &snapshot.secrets {
        insert_secret(client, secret).await?;
    }
    for version in &snapshot.secret_versions {
        insert_secret_version(client, version).await?;
    }
    insert_stages(client, &snapshot.secret_stages).await?;
    for row in &snapshot.secret_tags {
        insert_secret_tag(client, &row.secret_name, &row.tag).await?;
    }
    Ok(())
}

/// Whether every table of the snapshot is empty.
async fn is_empty(client: &impl GenericClient) -> Result<bool, Failure> {
    for table in SNAPSHOT_TABLES {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {table})");
        let row = client.query_one(&sql, &[]).await?;
        if row.try_get::<_, bool>(0)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Keys, versions, tags, aliases and tombstones.
async fn import_keys(client: &impl GenericClient, snapshot: &Snapshot) -> Result<(), Failure> {
    for key in &snapshot.keys {
        insert_key(client, key).await?;
    }
    for version in &snapshot.versions {
        insert_version(client, version).await?;
    }
    for row in &snapshot.tags {
        insert_tags(client, &row.key_id, std::slice::from_ref(&row.tag)).await?;
    }
    for alias in &snapshot.aliases {
        insert_alias(client, alias).await?;
    }
    for import in &snapshot.imports {
        super::imports::insert_import(client, import).await?;
    }
    let sql = "INSERT INTO destroyed_versions (version_id, key_id, destroyed_at) \
               VALUES ($1, $2, $3)";
    for d in &snapshot.destroyed {
        execute(client, sql, &[&d.version_id, &d.key_id, &d.destroyed_at]).await?;
    }
    Ok(())
}

/// Users, custom policies, attachments, AccessKeys and login profiles.
async fn import_identities(
    client: &impl GenericClient,
    snapshot: &Snapshot,
) -> Result<(), Failure> {
    for user in &snapshot.users {
        insert_user(client, user).await?;
    }
    for policy in &snapshot.policies {
        insert_policy(client, policy).await?;
    }
    for attachment in &snapshot.attachments {
        attach_policy(client, attachment).await?;
    }
    for key in &snapshot.access_keys {
        insert_access_key(client, key).await?;
    }
    for profile in &snapshot.login_profiles {
        super::login::insert_login_profile(client, profile).await?;
    }
    Ok(())
}
