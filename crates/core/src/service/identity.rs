//! RAM identities: users, their AccessKeys, policies and attachments.
//!
//! The use cases behind the RAM API subset openkms serves. Names are validated as RAM
//! validates them; a user's AccessKey secret is generated here, returned once and stored only
//! wrapped under the root key (like the root AccessKey, see [`super::access`]). Custom
//! policies are validated with the policy engine before they are stored; System policies are
//! built in ([`system_policies`]). Every change that affects what a request may do clears the
//! matching cache entries, so the next request on this node sees it; other nodes see it after
//! the cache lifetime.

use super::KeyService;
use super::access::{RootAccessKey, WRAP_LABEL_AK};
use crate::error::Field;
use crate::error::{DeleteConflict, Entity, InvalidReason, KmsError};
use crate::model::{AccessKeyRecord, AttachmentRecord, PolicyRecord, PolicyType, UserRecord};
use crate::policy::{MAX_POLICY_BYTES, Policy, PolicyError};
use crate::random::random_string;
use crate::secret::SecretBytes;
use crate::store::StoreError;

/// Most AccessKeys one user may have (RAM's limit).
pub const MAX_ACCESS_KEYS_PER_USER: usize = 2;
/// The name of the root identity, which no RAM user may take.
pub const ROOT_USER: &str = "root";
/// When the built-in policies are said to have been created (2015-01-01T00:00:00Z).
const SYSTEM_POLICY_DATE: i64 = 1_420_070_400;

/// The profile fields of a new user; only the name is required.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewUser {
    /// 1–64 characters of `[A-Za-z0-9._@-]`.
    pub user_name: String,
    /// Up to 128 characters; the name when empty.
    pub display_name: String,
    /// As given, up to 64 characters.
    pub mobile_phone: String,
    /// As given, up to 64 characters.
    pub email: String,
    /// Up to 128 characters.
    pub comments: String,
}

/// A policy as listed: its record, type and how many users hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyView {
    /// The policy.
    pub record: PolicyRecord,
    /// System or Custom.
    pub policy_type: PolicyType,
    /// How many users it is attached to.
    pub attachment_count: usize,
}

/// Where a policy listing resumes: just after this policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyCursor {
    /// System or Custom.
    pub policy_type: PolicyType,
    /// The policy's name.
    pub policy_name: String,
}

impl PolicyCursor {
    /// The cursor just after `view`.
    pub fn after(view: &PolicyView) -> Self {
        Self {
            policy_type: view.policy_type,
            policy_name: view.record.policy_name.clone(),
        }
    }
}

/// The names of the System policies after the one `after` names (all when `after` is none;
/// none when it names a System policy that does not exist).
fn system_names_after(after: Option<&PolicyCursor>) -> impl Iterator<Item = &'static str> {
    let names = system_policies().iter().map(|(name, _, _)| *name);
    let skip = match after {
        Some(c) if c.policy_type == PolicyType::System => names
            .clone()
            .position(|n| n == c.policy_name)
            .map_or(usize::MAX, |at| at + 1),
        _ => 0,
    };
    names.skip(skip)
}

/// Drops what lies past the first `max` entries; whether anything did.
fn cut<T>(entries: &mut Vec<T>, max: usize) -> bool {
    let more = entries.len() > max;
    entries.truncate(max);
    more
}

/// A policy attached to a user, with its description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    /// The attachment.
    pub attachment: AttachmentRecord,
    /// The policy's description.
    pub description: String,
}

/// A new user AccessKey: the only time its secret is shown. No `Debug`: it holds the secret.
pub struct NewAccessKey {
    /// The stored record (secret wrapped).
    pub record: AccessKeyRecord,
    /// The secret, in the clear, for the reply.
    pub secret: SecretBytes,
}

/// The built-in System policies: name, description, document.
pub fn system_policies() -> &'static [(&'static str, &'static str, &'static str)] {
    &[
        (
            "AdministratorAccess",
            "Full access to every resource.",
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        ),
        (
            "AliyunKMSFullAccess",
            "Full access to Key Management Service (KMS).",
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#,
        ),
        (
            "AliyunKMSReadOnlyAccess",
            "Read-only access to Key Management Service (KMS).",
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:Describe*","kms:List*","kms:Get*"],"Resource":"*"}]}"#,
        ),
        (
            "AliyunKMSCryptoUserAccess",
            "Use keys for cryptographic operations and read their metadata.",
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt","kms:GenerateDataKey","kms:GenerateDataKeyWithoutPlaintext","kms:Describe*","kms:List*"],"Resource":"*"}]}"#,
        ),
        (
            "AliyunRAMFullAccess",
            "Full access to Resource Access Management (RAM).",
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*","Resource":"*"}]}"#,
        ),
        (
            "AliyunRAMReadOnlyAccess",
            "Read-only access to Resource Access Management (RAM).",
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:Get*","ram:List*"],"Resource":"*"}]}"#,
        ),
    ]
}

fn system_policy(name: &str) -> Option<PolicyRecord> {
    system_policies()
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(n, d, doc)| PolicyRecord {
            policy_name: (*n).to_owned(),
            description: (*d).to_owned(),
            document: (*doc).to_owned(),
            created_at: SYSTEM_POLICY_DATE,
        })
}

impl KeyService {
    /// Creates a RAM user.
    pub async fn create_user(&self, input: NewUser) -> Result<UserRecord, KmsError> {
        validate_user_name(&input.user_name)?;
        limit(Field::DisplayName, &input.display_name, 128)?;
        limit(Field::MobilePhone, &input.mobile_phone, 64)?;
        limit(Field::Email, &input.email, 64)?;
        limit(Field::Comments, &input.comments, 128)?;
        let display_name = match input.display_name.is_empty() {
            true => input.user_name.clone(),
            false => input.display_name,
        };
        let digits = random_string(self.rng.as_ref(), b"0123456789", 15);
        let record = UserRecord {
            user_id: format!("2{digits}"),
            user_name: input.user_name,
            display_name,
            mobile_phone: input.mobile_phone,
            email: input.email,
            comments: input.comments,
            created_at: self.clock.now(),
        };
        let _admitted = self.admit_user().await?;
        match self.store.create_user(&record).await {
            Ok(()) => Ok(record),
            Err(StoreError::AlreadyExists) => Err(KmsError::EntityExists(Entity::User)),
            Err(e) => Err(e.into()),
        }
    }

    /// A user by name.
    pub async fn get_user(&self, user_name: &str) -> Result<UserRecord, KmsError> {
        self.store
            .get_user(user_name)
            .await?
            .ok_or(KmsError::EntityNotFound(Entity::User))
    }

    /// Every user, sorted by name.
    pub async fn list_users(&self) -> Result<Vec<UserRecord>, KmsError> {
        Ok(self.store.list_users().await?)
    }

    /// One page of the users sorted by name: at most `max` users named after `after` (from
    /// the first when `None`), and whether more follow. One keyset read of `max + 1` users.
    pub async fn list_users_page(
        &self,
        after: Option<&str>,
        max: usize,
    ) -> Result<(Vec<UserRecord>, bool), KmsError> {
        let mut users = self.store.page_users(after, max.saturating_add(1)).await?;
        let more = cut(&mut users, max);
        Ok((users, more))
    }

    /// Deletes a user that owns no AccessKey and holds no policy.
    pub async fn delete_user(&self, user_name: &str) -> Result<(), KmsError> {
        self.get_user(user_name).await?;
        match self.store.delete_user(user_name).await {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(KmsError::EntityNotFound(Entity::User)),
            Err(StoreError::Conflict) => Err(self.user_conflict(user_name).await?),
            Err(e) => Err(e.into()),
        }
    }

    /// What keeps a user from being deleted.
    async fn user_conflict(&self, user_name: &str) -> Result<KmsError, KmsError> {
        let which = match self.store.list_access_keys(user_name).await?.is_empty() {
            false => DeleteConflict::UserAccessKey,
            true => DeleteConflict::UserPolicy,
        };
        Ok(KmsError::DeleteConflict(which))
    }

    /// Creates an AccessKey for a user; its secret is in the result and nowhere else.
    ///
    /// `EntityNotFound(User)` if there is no such user, `AccessKeyLimit` if it already owns
    /// [`MAX_ACCESS_KEYS_PER_USER`]. The store checks both in the same step as the insert
    /// (see [`Store::create_user_access_key`]), so racing requests on any node cannot give a
    /// user one key too many, nor a racing DeleteUser leave a key whose user is gone.
    ///
    /// [`Store::create_user_access_key`]: crate::store::IdentityStore::create_user_access_key
    pub async fn create_access_key(&self, user_name: &str) -> Result<NewAccessKey, KmsError> {
        self.get_user(user_name).await?;
        let pair = RootAccessKey::generate(self);
        let record = AccessKeyRecord {
            wrapped_secret: self.root.wrap(
                self.rng.as_ref(),
                WRAP_LABEL_AK,
                &pair.access_key_id,
                pair.secret.expose_secret(),
            )?,
            access_key_id: pair.access_key_id,
            user: user_name.to_owned(),
            active: true,
            created_at: self.clock.now(),
        };
        let limit = MAX_ACCESS_KEYS_PER_USER;
        match self.store.create_user_access_key(&record, limit).await {
            Ok(()) => Ok(NewAccessKey {
                record,
                secret: pair.secret,
            }),
            // Deleted between the check above and the write.
            Err(StoreError::ReferenceNotFound) => Err(KmsError::EntityNotFound(Entity::User)),
            Err(StoreError::LimitExceeded) => Err(KmsError::AccessKeyLimit),
            Err(e) => Err(e.into()),
        }
    }

    /// A user's AccessKeys (secrets stay wrapped).
    pub async fn list_access_keys(
        &self,
        user_name: &str,
    ) -> Result<Vec<AccessKeyRecord>, KmsError> {
        self.get_user(user_name).await?;
        Ok(self.store.list_access_keys(user_name).await?)
    }

    /// Activates or deactivates one of a user's AccessKeys.
    pub async fn set_access_key_active(
        &self,
        user_name: &str,
        access_key_id: &str,
        active: bool,
    ) -> Result<(), KmsError> {
        self.owned_access_key(user_name, access_key_id).await?;
        match self
            .store
            .set_access_key_active(access_key_id, active)
            .await
        {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(KmsError::EntityNotFound(Entity::AccessKey)),
            Err(e) => return Err(e.into()),
        }
        self.cache.forget_credential(access_key_id);
        Ok(())
    }

    /// Deletes one of a user's AccessKeys.
    pub async fn delete_access_key(
        &self,
        user_name: &str,
        access_key_id: &str,
    ) -> Result<(), KmsError> {
        self.owned_access_key(user_name, access_key_id).await?;
        let existed = self.store.delete_access_key(access_key_id).await?;
        self.cache.forget_credential(access_key_id);
        match existed {
            true => Ok(()),
            false => Err(KmsError::EntityNotFound(Entity::AccessKey)),
        }
    }

    /// The AccessKey if it belongs to `user_name` (the root AccessKey belongs to no user).
    async fn owned_access_key(&self, user_name: &str, id: &str) -> Result<(), KmsError> {
        self.get_user(user_name).await?;
        match self.store.get_access_key(id).await? {
            Some(key) if key.user == user_name => Ok(()),
            _ => Err(KmsError::EntityNotFound(Entity::AccessKey)),
        }
    }

    /// Creates a custom policy from a validated document.
    pub async fn create_policy(
        &self,
        policy_name: &str,
        document: &str,
        description: &str,
    ) -> Result<PolicyRecord, KmsError> {
        validate_policy_name(policy_name)?;
        limit(Field::Description, description, 1024)?;
        if system_policy(policy_name).is_some() {
            return Err(KmsError::EntityExists(Entity::Policy));
        }
        Policy::parse(document).map_err(malformed)?;
        let record = PolicyRecord {
            policy_name: policy_name.to_owned(),
            description: description.to_owned(),
            document: document.to_owned(),
            created_at: self.clock.now(),
        };
        match self.store.create_policy(&record).await {
            Ok(()) => Ok(record),
            Err(StoreError::AlreadyExists) => Err(KmsError::EntityExists(Entity::Policy)),
            Err(e) => Err(e.into()),
        }
    }

    /// A policy by type and name.
    pub async fn get_policy(
        &self,
        policy_type: PolicyType,
        policy_name: &str,
    ) -> Result<PolicyView, KmsError> {
        let record = match policy_type {
            PolicyType::System => system_policy(policy_name),
            PolicyType::Custom => self.store.get_policy(policy_name).await?,
        };
        let record = record.ok_or(KmsError::EntityNotFound(Entity::Policy))?;
        self.policy_view(record, policy_type).await
    }

    /// Every policy of a type (or both), System first, each sorted by name.
    pub async fn list_policies(
        &self,
        policy_type: Option<PolicyType>,
    ) -> Result<Vec<PolicyView>, KmsError> {
        let mut out = Vec::new();
        if policy_type != Some(PolicyType::Custom) {
            for (name, _, _) in system_policies() {
                out.push(self.get_policy(PolicyType::System, name).await?);
            }
        }
        if policy_type != Some(PolicyType::System) {
            for record in self.store.list_policies().await? {
                out.push(self.policy_view(record, PolicyType::Custom).await?);
            }
        }
        Ok(out)
    }

    /// One page of [`KeyService::list_policies`] (System first, each sorted by name): at
    /// most `max` policies after the one `after` names (from the first when `None`), and
    /// whether more follow. The System policies are built in; the Custom ones are one keyset
    /// read of at most `max + 1` policies, then one attachment count per policy shown.
    /// A cursor naming a System policy that does not exist lists no System policy.
    pub async fn list_policies_page(
        &self,
        policy_type: Option<PolicyType>,
        after: Option<&PolicyCursor>,
        max: usize,
    ) -> Result<(Vec<PolicyView>, bool), KmsError> {
        let want = max.saturating_add(1);
        let mut out = Vec::new();
        let custom_after = match after {
            Some(c) if c.policy_type == PolicyType::Custom => Some(c.policy_name.as_str()),
            _ => None,
        };
        if policy_type != Some(PolicyType::Custom) && custom_after.is_none() {
            for name in system_names_after(after).take(want) {
                out.push(self.get_policy(PolicyType::System, name).await?);
            }
        }
        if policy_type != Some(PolicyType::System) && out.len() < want {
            let rest = want - out.len();
            for record in self.store.page_policies(custom_after, rest).await? {
                out.push(self.policy_view(record, PolicyType::Custom).await?);
            }
        }
        let more = cut(&mut out, max);
        Ok((out, more))
    }

    async fn policy_view(
        &self,
        record: PolicyRecord,
        policy_type: PolicyType,
    ) -> Result<PolicyView, KmsError> {
        let attached = self
            .store
            .list_policy_attachments(policy_type, &record.policy_name)
            .await?;
        Ok(PolicyView {
            record,
            policy_type,
            attachment_count: attached.len(),
        })
    }

    /// Deletes a custom policy attached to nobody.
    pub async fn delete_policy(&self, policy_name: &str) -> Result<(), KmsError> {
        match self.store.delete_policy(policy_name).await {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(KmsError::EntityNotFound(Entity::Policy)),
            Err(StoreError::Conflict) => {
                return Err(KmsError::DeleteConflict(DeleteConflict::PolicyUser));
            }
            Err(e) => return Err(e.into()),
        }
        self.cache.changed_grants();
        Ok(())
    }

    /// Attaches a policy to a user.
    pub async fn attach_policy(
        &self,
        user_name: &str,
        policy_type: PolicyType,
        policy_name: &str,
    ) -> Result<(), KmsError> {
        self.get_user(user_name).await?;
        self.get_policy(policy_type, policy_name).await?;
        let attachment = AttachmentRecord {
            user_name: user_name.to_owned(),
            policy_type,
            policy_name: policy_name.to_owned(),
            attached_at: self.clock.now(),
        };
        match self.store.attach_policy(&attachment).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists) => {
                return Err(KmsError::EntityExists(Entity::UserPolicy));
            }
            Err(StoreError::ReferenceNotFound) => {
                // Deleted between the checks above and the write.
                return Err(KmsError::EntityNotFound(Entity::Policy));
            }
            Err(e) => return Err(e.into()),
        }
        self.cache.changed_grants();
        Ok(())
    }

    /// Detaches a policy from a user.
    pub async fn detach_policy(
        &self,
        user_name: &str,
        policy_type: PolicyType,
        policy_name: &str,
    ) -> Result<(), KmsError> {
        self.get_user(user_name).await?;
        self.get_policy(policy_type, policy_name).await?;
        let detached = self
            .store
            .detach_policy(user_name, policy_type, policy_name)
            .await?;
        self.cache.changed_grants();
        match detached {
            true => Ok(()),
            false => Err(KmsError::EntityNotFound(Entity::UserPolicy)),
        }
    }

    /// The policies attached to a user, with their descriptions.
    pub async fn list_policies_for_user(
        &self,
        user_name: &str,
    ) -> Result<Vec<AttachedPolicy>, KmsError> {
        self.get_user(user_name).await?;
        let mut out = Vec::new();
        for attachment in self.store.list_user_attachments(user_name).await? {
            let description = self
                .policy_record(attachment.policy_type, &attachment.policy_name)
                .await?
                .map(|p| p.description)
                .unwrap_or_default();
            out.push(AttachedPolicy {
                attachment,
                description,
            });
        }
        Ok(out)
    }

    /// A policy's record, `None` if it no longer exists.
    pub(crate) async fn policy_record(
        &self,
        policy_type: PolicyType,
        policy_name: &str,
    ) -> Result<Option<PolicyRecord>, KmsError> {
        Ok(match policy_type {
            PolicyType::System => system_policy(policy_name),
            PolicyType::Custom => self.store.get_policy(policy_name).await?,
        })
    }
}

fn malformed(e: PolicyError) -> KmsError {
    match e {
        PolicyError::Malformed(why) => KmsError::MalformedPolicy(why),
        PolicyError::TooLarge => KmsError::invalid(
            Field::PolicyDocument,
            InvalidReason::TooLong {
                max: MAX_POLICY_BYTES,
            },
        ),
    }
}

/// Validates a user name: 1–64 characters of `[A-Za-z0-9._@-]`, and not `root`.
fn validate_user_name(name: &str) -> Result<(), KmsError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._@-".contains(c);
    name_rule(Field::UserName, name, 64, allowed)?;
    match name == ROOT_USER {
        true => Err(KmsError::invalid(
            Field::UserName,
            InvalidReason::NotAccepted,
        )),
        false => Ok(()),
    }
}

/// Validates a policy name: 1–128 characters of `[A-Za-z0-9-]`.
fn validate_policy_name(name: &str) -> Result<(), KmsError> {
    name_rule(Field::PolicyName, name, 128, |c: char| {
        c.is_ascii_alphanumeric() || c == '-'
    })
}

fn name_rule(
    param: Field,
    name: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
) -> Result<(), KmsError> {
    if name.is_empty() {
        return Err(KmsError::invalid(param, InvalidReason::Empty));
    }
    limit(param, name, max)?;
    match name.chars().all(allowed) {
        true => Ok(()),
        false => Err(KmsError::invalid(param, InvalidReason::BadFormat)),
    }
}

/// At most `max` characters of plain text (see [`super::keys::plain_text`]: no NUL, no
/// control character XML cannot carry).
fn limit(param: Field, value: &str, max: usize) -> Result<(), KmsError> {
    super::keys::plain_text(param, value)?;
    match value.chars().count() <= max {
        true => Ok(()),
        false => Err(KmsError::invalid(param, InvalidReason::TooLong { max })),
    }
}
