//! Key policies: GetKeyPolicy and SetKeyPolicy.
//!
//! A key has one policy, named `default`. A key created without one has the default key
//! policy ([`super::authorize::default_key_policy`]), which is what GetKeyPolicy shows for it.
//! SetKeyPolicy replaces the document after validating it as a key policy; how it is evaluated
//! is in [`super::authorize`].

use super::authorize::default_key_policy;
use super::keys::validate_policy;
use super::{KeyRef, KeyService};
use crate::error::Field;
use crate::error::{InvalidReason, KmsError};
use crate::model::KeyRecord;

/// The only policy name a key has.
pub const KEY_POLICY_NAME: &str = "default";

impl KeyService {
    /// The policy of the key `key` names.
    pub async fn get_key_policy(&self, key: &KeyRef, name: &str) -> Result<String, KmsError> {
        check_name(name)?;
        let key_id = self.resolve(key).await?;
        let record = self.load_key(&key_id).await?;
        Ok(record
            .record
            .policy
            .clone()
            .unwrap_or_else(|| default_key_policy(&self.account_id)))
    }

    /// Replaces the policy of the key `key` names.
    pub async fn set_key_policy(
        &self,
        key: &KeyRef,
        name: &str,
        policy: &str,
    ) -> Result<KeyRecord, KmsError> {
        check_name(name)?;
        validate_policy(policy)?;
        let key_id = self.resolve(key).await?;
        self.modify_key(&key_id, |current| {
            Ok(KeyRecord {
                policy: Some(policy.to_owned()),
                ..current.clone()
            })
        })
        .await
    }
}

fn check_name(name: &str) -> Result<(), KmsError> {
    match name {
        KEY_POLICY_NAME => Ok(()),
        _ => Err(KmsError::invalid(
            Field::PolicyName,
            InvalidReason::NotAccepted,
        )),
    }
}
