//! [`LoginStore`]: RAM users' console passwords (login profiles).
//!
//! A login profile belongs to one RAM user and holds only the Argon2id hash of the console
//! password (never the password) with RAM's two flags. Deleting the user deletes its profile
//! (the profile is part of the user, as in RAM, where a user is deleted with its console
//! access). This module does not hash or check passwords (the service does).

use async_trait::async_trait;

use super::StoreError;

/// A RAM user's login profile.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginProfileRecord {
    /// The user it belongs to.
    pub user_name: String,
    /// The password's Argon2id hash in PHC string form (salt and parameters included).
    pub password_hash: String,
    /// The user must choose a new password at the next sign-in.
    pub password_reset_required: bool,
    /// The user must bind an MFA device at the next sign-in (recorded; openkms has no MFA).
    pub mfa_bind_required: bool,
    /// Creation time, seconds since the epoch.
    pub created_at: i64,
    /// Last change, seconds since the epoch.
    pub updated_at: i64,
}

impl std::fmt::Debug for LoginProfileRecord {
    /// The hash is left out: it is not a secret by itself, but an offline guess needs it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginProfileRecord")
            .field("user_name", &self.user_name)
            .field("password_reset_required", &self.password_reset_required)
            .field("mfa_bind_required", &self.mfa_bind_required)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

/// Login profiles, one per RAM user at most.
#[async_trait]
pub trait LoginStore: Send + Sync + 'static {
    /// Creates a profile: `ReferenceNotFound` if no user is named `profile.user_name`,
    /// `AlreadyExists` if it has one. The user check and the insert are one atomic step.
    async fn create_login_profile(&self, profile: &LoginProfileRecord) -> Result<(), StoreError>;

    /// Reads a user's profile.
    async fn get_login_profile(
        &self,
        user_name: &str,
    ) -> Result<Option<LoginProfileRecord>, StoreError>;

    /// Replaces a profile's hash, flags and `updated_at` (its `created_at` is kept):
    /// `NotFound` if the user has none.
    async fn update_login_profile(&self, profile: &LoginProfileRecord) -> Result<(), StoreError>;

    /// Deletes a user's profile; returns whether it existed.
    async fn delete_login_profile(&self, user_name: &str) -> Result<bool, StoreError>;
}
