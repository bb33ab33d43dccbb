//! The write of root-key rotation: every wrapped blob replaced in one transaction, each row
//! only over the bytes it was read with.

use deadpool_postgres::GenericClient;
use openkms_core::{Rewrap, StoreError, WrappedRow};

use super::{Failure, execute_one};

/// Replaces every blob; a row that is missing or changed refuses the whole write with
/// `Conflict` (the caller rolls the transaction back).
pub(super) async fn replace_wrapped(
    client: &impl GenericClient,
    changes: &[Rewrap],
) -> Result<bool, Failure> {
    for change in changes {
        let (sql, id) = match &change.row {
            WrappedRow::Version { version_id, .. } => (
                "UPDATE key_versions SET wrapped_material = $1 \
                 WHERE version_id = $2 AND wrapped_material = $3",
                version_id,
            ),
            WrappedRow::AccessKey { access_key_id } => (
                "UPDATE access_keys SET wrapped_secret = $1 \
                 WHERE access_key_id = $2 AND wrapped_secret = $3",
                access_key_id,
            ),
            WrappedRow::Meta { name } => (
                "UPDATE meta SET value = $1 WHERE name = $2 AND value = $3",
                name,
            ),
        };
        if !execute_one(client, sql, &[&change.new, id, &change.old]).await? {
            return Err(Failure::Refused(StoreError::Conflict));
        }
    }
    Ok(true)
}
