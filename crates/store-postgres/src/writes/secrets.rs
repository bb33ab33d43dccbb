//! The writes of the Secrets Manager on PostgreSQL: a secret with its first version, a whole
//! change of a secret under its revision, its destruction, its tags.
//!
//! Each multi-statement write is one transaction (the parent module opens it). A change first
//! updates the secret's row over the revision before its own: a racing writer of the same
//! secret waits on that row lock and then finds the revision moved (`Conflict`), so the stage
//! labels it replaces are never mixed with another change's. Tagging locks the secret's row
//! and counts in the same transaction, as tagging a key does. Transactions, retries and error
//! mapping are the parent's.

use deadpool_postgres::GenericClient;
use openkms_core::{SecretChange, SecretRecord, SecretStage, StoreError, StoredSecretVersion, Tag};

use super::{Failure, Param, execute, execute_one};

/// One secret write, borrowing the caller's records.
pub(crate) enum SecretWrite<'a> {
    /// Insert a secret, its first version, its stages and its tags.
    Create {
        /// The record.
        secret: &'a SecretRecord,
        /// The first version.
        first: &'a StoredSecretVersion,
        /// Its stage labels.
        stages: &'a [SecretStage],
        /// Its tags.
        tags: &'a [Tag],
    },
    /// Apply a change over the revision before it.
    Update(&'a SecretChange),
    /// Delete a secret and every row of it.
    Destroy(&'a str),
    /// Upsert tags unless the secret would hold too many.
    PutTags {
        /// The secret.
        name: &'a str,
        /// The tags.
        tags: &'a [Tag],
        /// The most tags after the write.
        max_tags: usize,
    },
    /// Delete tags by tag key.
    DeleteTags {
        /// The secret.
        name: &'a str,
        /// The tag keys.
        tag_keys: &'a [String],
    },
}

impl SecretWrite<'_> {
    /// Whether the write runs several statements (all but removing tags do).
    pub(super) fn needs_transaction(&self) -> bool {
        !matches!(self, Self::DeleteTags { .. })
    }

    /// Refuses what no stored state could make valid: a version or label of another secret.
    pub(super) fn check(&self) -> Result<(), StoreError> {
        let foreign = match self {
            Self::Create {
                secret,
                first,
                stages,
                ..
            } => {
                first.version.secret_name != secret.name
                    || stages.iter().any(|s| s.secret_name != secret.name)
            }
            Self::Update(change) => {
                let name = &change.secret.name;
                change
                    .added
                    .as_ref()
                    .is_some_and(|a| &a.version.secret_name != name)
                    || change.stages.iter().any(|s| &s.secret_name != name)
            }
            _ => false,
        };
        match foreign {
            true => Err(StoreError::ReferenceNotFound),
            false => Ok(()),
        }
    }

    /// Runs the write's statements; `true` when it wrote.
    pub(super) async fn apply(&self, client: &impl GenericClient) -> Result<bool, Failure> {
        match *self {
            Self::Create {
                secret,
                first,
                stages,
                tags,
            } => create(client, secret, first, stages, tags).await,
            Self::Update(change) => update(client, change).await,
            Self::Destroy(name) => destroy(client, name).await,
            Self::PutTags {
                name,
                tags,
                max_tags,
            } => put_tags(client, name, tags, max_tags).await,
            Self::DeleteTags { name, tag_keys } => {
                let sql = "DELETE FROM secret_tags WHERE secret_name = $1 AND tag_key = $2";
                for key in tag_keys {
                    execute(client, sql, &[&name, key]).await?;
                }
                Ok(true)
            }
        }
    }
}

async fn create(
    client: &impl GenericClient,
    secret: &SecretRecord,
    first: &StoredSecretVersion,
    stages: &[SecretStage],
    tags: &[Tag],
) -> Result<bool, Failure> {
    insert_secret(client, secret).await?;
    insert_secret_version(client, first).await?;
    insert_stages(client, stages).await?;
    for tag in tags {
        insert_secret_tag(client, &secret.name, tag).await?;
    }
    Ok(true)
}

fn secret_params(s: &SecretRecord) -> [Param<'_>; 9] {
    [
        &s.name,
        &s.secret_type,
        &s.description,
        &s.encryption_key_id,
        &s.created_at,
        &s.updated_at,
        &s.planned_delete_at,
        &s.policy,
        &s.revision,
    ]
}

pub(super) async fn insert_secret(
    client: &impl GenericClient,
    s: &SecretRecord,
) -> Result<bool, Failure> {
    let sql = "INSERT INTO secrets (name, secret_type, description, encryption_key_id, \
               created_at, updated_at, planned_delete_at, policy, revision) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    execute_one(client, sql, &secret_params(s)).await
}

pub(super) async fn insert_secret_version(
    client: &impl GenericClient,
    v: &StoredSecretVersion,
) -> Result<bool, Failure> {
    let sql = "INSERT INTO secret_versions (secret_name, version_id, created_at, data_type, \
               ciphertext) VALUES ($1, $2, $3, $4, $5)";
    let version = &v.version;
    let data_type = version.data_type.as_str();
    let params: [Param<'_>; 5] = [
        &version.secret_name,
        &version.version_id,
        &version.created_at,
        &data_type,
        &v.ciphertext,
    ];
    execute_one(client, sql, &params).await
}

pub(super) async fn insert_stages(
    client: &impl GenericClient,
    stages: &[SecretStage],
) -> Result<(), Failure> {
    let sql = "INSERT INTO secret_stages (secret_name, stage, version_id) VALUES ($1, $2, $3)";
    for s in stages {
        execute(client, sql, &[&s.secret_name, &s.stage, &s.version_id]).await?;
    }
    Ok(())
}

pub(super) async fn insert_secret_tag(
    client: &impl GenericClient,
    name: &str,
    tag: &Tag,
) -> Result<(), Failure> {
    let sql = "INSERT INTO secret_tags (secret_name, tag_key, tag_value) VALUES ($1, $2, $3)";
    execute(client, sql, &[&name, &tag.key, &tag.value]).await?;
    Ok(())
}

async fn update(client: &impl GenericClient, change: &SecretChange) -> Result<bool, Failure> {
    let name = &change.secret.name;
    update_record(client, &change.secret).await?;
    execute(
        client,
        "DELETE FROM secret_stages WHERE secret_name = $1",
        &[name],
    )
    .await?;
    let drop = "DELETE FROM secret_versions WHERE secret_name = $1 AND version_id = $2";
    for id in &change.dropped {
        execute(client, drop, &[name, id]).await?;
    }
    if let Some(added) = &change.added {
        insert_secret_version(client, added).await?;
    }
    insert_stages(client, &change.stages).await?;
    Ok(true)
}

/// Replaces the record over the revision before its own: `Conflict` or `NotFound` otherwise.
async fn update_record(client: &impl GenericClient, s: &SecretRecord) -> Result<(), Failure> {
    let sql = "UPDATE secrets SET secret_type = $2, description = $3, encryption_key_id = $4, \
               created_at = $5, updated_at = $6, planned_delete_at = $7, policy = $8, \
               revision = $9 WHERE name = $1 AND revision = $10";
    let Some(expected) = s.revision.checked_sub(1) else {
        return Err(Failure::Refused(StoreError::Conflict));
    };
    let mut params = secret_params(s).to_vec();
    params.push(&expected);
    if execute_one(client, sql, &params).await? {
        return Ok(());
    }
    match secret_exists(client, &s.name).await? {
        true => Err(Failure::Refused(StoreError::Conflict)),
        false => Err(Failure::Refused(StoreError::NotFound)),
    }
}

async fn secret_exists(client: &impl GenericClient, name: &str) -> Result<bool, Failure> {
    let sql = "SELECT EXISTS (SELECT 1 FROM secrets WHERE name = $1)";
    let statement = client.prepare_cached(sql).await?;
    Ok(client.query_one(&statement, &[&name]).await?.try_get(0)?)
}

async fn destroy(client: &impl GenericClient, name: &str) -> Result<bool, Failure> {
    for table in ["secret_stages", "secret_tags", "secret_versions"] {
        let sql = format!("DELETE FROM {table} WHERE secret_name = $1");
        execute(client, &sql, &[&name]).await?;
    }
    if execute_one(client, "DELETE FROM secrets WHERE name = $1", &[&name]).await? {
        Ok(true)
    } else {
        Err(Failure::Refused(StoreError::NotFound))
    }
}

async fn put_tags(
    client: &impl GenericClient,
    name: &str,
    tags: &[Tag],
    max_tags: usize,
) -> Result<bool, Failure> {
    let lock = client
        .prepare_cached("SELECT 1 FROM secrets WHERE name = $1 FOR NO KEY UPDATE")
        .await?;
    if client.query_opt(&lock, &[&name]).await?.is_none() {
        return Err(Failure::Refused(StoreError::ReferenceNotFound));
    }
    let sql = "INSERT INTO secret_tags (secret_name, tag_key, tag_value) VALUES ($1, $2, $3) \
               ON CONFLICT (secret_name, tag_key) DO UPDATE SET tag_value = EXCLUDED.tag_value";
    for tag in tags {
        execute(client, sql, &[&name, &tag.key, &tag.value]).await?;
    }
    let max = i64::try_from(max_tags).unwrap_or(i64::MAX);
    let sql = "SELECT count(*) > $2 FROM secret_tags WHERE secret_name = $1";
    let statement = client.prepare_cached(sql).await?;
    let over: bool = client
        .query_one(&statement, &[&name, &max])
        .await?
        .try_get(0)?;
    match over {
        true => Err(Failure::Refused(StoreError::LimitExceeded)),
        false => Ok(true),
    }
}
