//! [`IdentityStore`]: RAM identity — users, AccessKeys, custom policies and attachments.

use async_trait::async_trait;

use super::StoreError;
use crate::model::{AccessKeyRecord, AttachmentRecord, PolicyRecord, PolicyType, UserRecord};

/// RAM users, their AccessKeys (and the root AccessKey), custom policies and which user
/// holds which policy; deletes are refused while something depends on the record.
#[async_trait]
pub trait IdentityStore: Send + Sync + 'static {
    /// Creates an AccessKey without looking at its owner: for the root AccessKey, which has
    /// no user record. A RAM user's AccessKey goes through
    /// [`IdentityStore::create_user_access_key`]. `AlreadyExists` if the id is taken.
    async fn create_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError>;

    /// Creates an AccessKey owned by the user named `key.user`, unless that user already owns
    /// `max_per_user` AccessKeys.
    ///
    /// The check of the user, the count of its AccessKeys and the insert are one atomic step:
    /// concurrent calls for one user, from any node sharing the store, cannot together take
    /// it past `max_per_user`, and a racing [`IdentityStore::delete_user`] either deletes the
    /// user before (this call is `ReferenceNotFound`) or is refused because of the new key
    /// (`Conflict`). Nothing is written on error: `ReferenceNotFound` if no user is named
    /// `key.user`, `LimitExceeded` if it owns `max_per_user` AccessKeys or more,
    /// `AlreadyExists` if the id is taken.
    async fn create_user_access_key(
        &self,
        key: &AccessKeyRecord,
        max_per_user: usize,
    ) -> Result<(), StoreError>;

    /// Reads an AccessKey by id.
    async fn get_access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyRecord>, StoreError>;

    /// Creates a user. `AlreadyExists` if the name is taken.
    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError>;

    /// Reads a user by name.
    async fn get_user(&self, user_name: &str) -> Result<Option<UserRecord>, StoreError>;

    /// Every user, sorted by name (byte order).
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError>;

    /// One page of [`IdentityStore::list_users`]: at most `limit` users, the first one named
    /// just after `after` (from the start when `None`). A keyset read over the name index.
    async fn page_users(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<UserRecord>, StoreError>;

    /// Deletes a user that owns no AccessKey and holds no policy, in one transaction:
    /// `NotFound` if there is no such user, `Conflict` if it still owns or holds something.
    async fn delete_user(&self, user_name: &str) -> Result<(), StoreError>;

    /// A user's AccessKeys, oldest first (by creation time, then AccessKeyId).
    async fn list_access_keys(&self, user_name: &str) -> Result<Vec<AccessKeyRecord>, StoreError>;

    /// Activates or deactivates an AccessKey. `NotFound` if there is no such key.
    async fn set_access_key_active(
        &self,
        access_key_id: &str,
        active: bool,
    ) -> Result<(), StoreError>;

    /// Deletes an AccessKey; returns whether it existed.
    async fn delete_access_key(&self, access_key_id: &str) -> Result<bool, StoreError>;

    /// Creates a custom policy. `AlreadyExists` if the name is taken.
    async fn create_policy(&self, policy: &PolicyRecord) -> Result<(), StoreError>;

    /// Reads a custom policy by name.
    async fn get_policy(&self, policy_name: &str) -> Result<Option<PolicyRecord>, StoreError>;

    /// Every custom policy, sorted by name (byte order).
    async fn list_policies(&self) -> Result<Vec<PolicyRecord>, StoreError>;

    /// One page of [`IdentityStore::list_policies`]: at most `limit` custom policies, the
    /// first one named just after `after` (from the start when `None`).
    async fn page_policies(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PolicyRecord>, StoreError>;

    /// Deletes a custom policy attached to nobody, in one transaction: `NotFound` if there is
    /// no such policy, `Conflict` if it is still attached.
    async fn delete_policy(&self, policy_name: &str) -> Result<(), StoreError>;

    /// Attaches a policy to a user. `AlreadyExists` if it is attached already,
    /// `ReferenceNotFound` if the user does not exist, or the policy is `Custom` and does not
    /// exist. (System policies are not stored; any name is accepted for them here.)
    async fn attach_policy(&self, attachment: &AttachmentRecord) -> Result<(), StoreError>;

    /// Detaches a policy from a user; returns whether it was attached.
    async fn detach_policy(
        &self,
        user_name: &str,
        policy_type: PolicyType,
        policy_name: &str,
    ) -> Result<bool, StoreError>;

    /// The policies attached to a user, oldest attachment first (then by type and name).
    async fn list_user_attachments(
        &self,
        user_name: &str,
    ) -> Result<Vec<AttachmentRecord>, StoreError>;

    /// The users a policy is attached to, oldest attachment first (then by user name).
    async fn list_policy_attachments(
        &self,
        policy_type: PolicyType,
        policy_name: &str,
    ) -> Result<Vec<AttachmentRecord>, StoreError>;
}
