//! The API actions, one module each, dispatched by name.
//!
//! Every action module has the same three steps: parse its parameters into typed input,
//! apply them through the [`KeyService`], and build the reply fields. [`Action`] names the
//! actions this server serves; an unknown name is `InvalidAction.NotFound`. Shared pieces of
//! several actions (KeyMetadata, EncryptionContext, paging, base64) live in [`common`]; the
//! table the CLI is built from is each module's `SPEC` ([`spec`]).

pub mod cancel_key_deletion;
pub mod common;
pub mod create_alias;
pub mod create_key;
pub mod create_key_version;
pub mod decrypt;
pub mod delete_alias;
pub mod describe_key;
pub mod describe_key_version;
pub mod describe_regions;
pub mod disable_key;
pub mod enable_key;
pub mod encrypt;
pub mod generate_data_key;
pub mod generate_data_key_without_plaintext;
pub mod get_key_policy;
pub mod list_aliases;
pub mod list_aliases_by_key_id;
pub mod list_key_versions;
pub mod list_keys;
pub mod list_resource_tags;
pub mod list_tag_resources;
pub mod ram;
pub mod re_encrypt;
pub mod schedule_key_deletion;
pub mod set_deletion_protection;
pub mod set_key_policy;
pub mod spec;
pub mod tag_lists;
pub mod tag_resource;
pub mod tag_resources;
pub mod untag_resource;
pub mod untag_resources;
pub mod update_alias;
pub mod update_key_description;
pub mod update_rotation_policy;

use openkms_core::KeyService;
use serde_json::{Map, Value};

use crate::auth::Caller;
use crate::rpc::{Params, RpcError};

/// The reply fields of a successful action (the renderer adds `RequestId`).
pub type Fields = Map<String, Value>;

/// The actions this server serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// CreateKey.
    CreateKey,
    /// CreateAlias.
    CreateAlias,
    /// Encrypt.
    Encrypt,
    /// Decrypt.
    Decrypt,
    /// GenerateDataKey.
    GenerateDataKey,
    /// GenerateDataKeyWithoutPlaintext.
    GenerateDataKeyWithoutPlaintext,
    /// DescribeKey.
    DescribeKey,
    /// ListKeys.
    ListKeys,
    /// ListAliases.
    ListAliases,
    /// ListAliasesByKeyId.
    ListAliasesByKeyId,
    /// DescribeRegions.
    DescribeRegions,
    /// UpdateAlias.
    UpdateAlias,
    /// DeleteAlias.
    DeleteAlias,
    /// EnableKey.
    EnableKey,
    /// DisableKey.
    DisableKey,
    /// ScheduleKeyDeletion.
    ScheduleKeyDeletion,
    /// CancelKeyDeletion.
    CancelKeyDeletion,
    /// SetDeletionProtection.
    SetDeletionProtection,
    /// UpdateKeyDescription.
    UpdateKeyDescription,
    /// CreateKeyVersion.
    CreateKeyVersion,
    /// ListKeyVersions.
    ListKeyVersions,
    /// DescribeKeyVersion.
    DescribeKeyVersion,
    /// UpdateRotationPolicy.
    UpdateRotationPolicy,
    /// ReEncrypt.
    ReEncrypt,
    /// TagResource.
    TagResource,
    /// UntagResource.
    UntagResource,
    /// ListResourceTags.
    ListResourceTags,
    /// TagResources.
    TagResources,
    /// UntagResources.
    UntagResources,
    /// ListTagResources.
    ListTagResources,
    /// GetKeyPolicy.
    GetKeyPolicy,
    /// SetKeyPolicy.
    SetKeyPolicy,
    /// CreateUser (RAM).
    CreateUser,
    /// GetUser (RAM).
    GetUser,
    /// ListUsers (RAM).
    ListUsers,
    /// DeleteUser (RAM).
    DeleteUser,
    /// CreateAccessKey (RAM).
    CreateAccessKey,
    /// ListAccessKeys (RAM).
    ListAccessKeys,
    /// UpdateAccessKey (RAM).
    UpdateAccessKey,
    /// DeleteAccessKey (RAM).
    DeleteAccessKey,
    /// CreatePolicy (RAM).
    CreatePolicy,
    /// GetPolicy (RAM).
    GetPolicy,
    /// ListPolicies (RAM).
    ListPolicies,
    /// DeletePolicy (RAM).
    DeletePolicy,
    /// AttachPolicyToUser (RAM).
    AttachPolicyToUser,
    /// DetachPolicyFromUser (RAM).
    DetachPolicyFromUser,
    /// ListPoliciesForUser (RAM).
    ListPoliciesForUser,
}

impl Action {
    /// Every action, for listings (the CLI's table, documentation checks).
    pub const ALL: &'static [Action] = &[
        Self::CreateKey,
        Self::CreateAlias,
        Self::Encrypt,
        Self::Decrypt,
        Self::GenerateDataKey,
        Self::GenerateDataKeyWithoutPlaintext,
        Self::DescribeKey,
        Self::ListKeys,
        Self::ListAliases,
        Self::ListAliasesByKeyId,
        Self::DescribeRegions,
        Self::UpdateAlias,
        Self::DeleteAlias,
        Self::EnableKey,
        Self::DisableKey,
        Self::ScheduleKeyDeletion,
        Self::CancelKeyDeletion,
        Self::SetDeletionProtection,
        Self::UpdateKeyDescription,
        Self::CreateKeyVersion,
        Self::ListKeyVersions,
        Self::DescribeKeyVersion,
        Self::UpdateRotationPolicy,
        Self::ReEncrypt,
        Self::TagResource,
        Self::UntagResource,
        Self::ListResourceTags,
        Self::TagResources,
        Self::UntagResources,
        Self::ListTagResources,
        Self::GetKeyPolicy,
        Self::SetKeyPolicy,
        Self::CreateUser,
        Self::GetUser,
        Self::ListUsers,
        Self::DeleteUser,
        Self::CreateAccessKey,
        Self::ListAccessKeys,
        Self::UpdateAccessKey,
        Self::DeleteAccessKey,
        Self::CreatePolicy,
        Self::GetPolicy,
        Self::ListPolicies,
        Self::DeletePolicy,
        Self::AttachPolicyToUser,
        Self::DetachPolicyFromUser,
        Self::ListPoliciesForUser,
    ];

    /// Looks an action up by its API name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.name() == name)
    }

    /// The API name.
    pub fn name(self) -> &'static str {
        match self {
            Self::CreateKey => "CreateKey",
            Self::CreateAlias => "CreateAlias",
            Self::Encrypt => "Encrypt",
            Self::Decrypt => "Decrypt",
            Self::GenerateDataKey => "GenerateDataKey",
            Self::GenerateDataKeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
            Self::DescribeKey => "DescribeKey",
            Self::ListKeys => "ListKeys",
            Self::ListAliases => "ListAliases",
            Self::ListAliasesByKeyId => "ListAliasesByKeyId",
            Self::DescribeRegions => "DescribeRegions",
            Self::UpdateAlias => "UpdateAlias",
            Self::DeleteAlias => "DeleteAlias",
            Self::EnableKey => "EnableKey",
            Self::DisableKey => "DisableKey",
            Self::ScheduleKeyDeletion => "ScheduleKeyDeletion",
            Self::CancelKeyDeletion => "CancelKeyDeletion",
            Self::SetDeletionProtection => "SetDeletionProtection",
            Self::UpdateKeyDescription => "UpdateKeyDescription",
            Self::CreateKeyVersion => "CreateKeyVersion",
            Self::ListKeyVersions => "ListKeyVersions",
            Self::DescribeKeyVersion => "DescribeKeyVersion",
            Self::UpdateRotationPolicy => "UpdateRotationPolicy",
            Self::ReEncrypt => "ReEncrypt",
            Self::TagResource => "TagResource",
            Self::UntagResource => "UntagResource",
            Self::ListResourceTags => "ListResourceTags",
            Self::TagResources => "TagResources",
            Self::UntagResources => "UntagResources",
            Self::ListTagResources => "ListTagResources",
            Self::GetKeyPolicy => "GetKeyPolicy",
            Self::SetKeyPolicy => "SetKeyPolicy",
            Self::CreateUser => "CreateUser",
            Self::GetUser => "GetUser",
            Self::ListUsers => "ListUsers",
            Self::DeleteUser => "DeleteUser",
            Self::CreateAccessKey => "CreateAccessKey",
            Self::ListAccessKeys => "ListAccessKeys",
            Self::UpdateAccessKey => "UpdateAccessKey",
            Self::DeleteAccessKey => "DeleteAccessKey",
            Self::CreatePolicy => "CreatePolicy",
            Self::GetPolicy => "GetPolicy",
            Self::ListPolicies => "ListPolicies",
            Self::DeletePolicy => "DeletePolicy",
            Self::AttachPolicyToUser => "AttachPolicyToUser",
            Self::DetachPolicyFromUser => "DetachPolicyFromUser",
            Self::ListPoliciesForUser => "ListPoliciesForUser",
        }
    }

    /// The API version the action belongs to: KMS `2016-01-20` or RAM `2015-05-01`.
    pub fn api_version(self) -> &'static str {
        match self.is_ram() {
            true => ram::RAM_VERSION,
            false => crate::handler::API_VERSION,
        }
    }

    /// Whether the action is one of RAM's.
    pub fn is_ram(self) -> bool {
        matches!(
            self,
            Self::CreateUser
                | Self::GetUser
                | Self::ListUsers
                | Self::DeleteUser
                | Self::CreateAccessKey
                | Self::ListAccessKeys
                | Self::UpdateAccessKey
                | Self::DeleteAccessKey
                | Self::CreatePolicy
                | Self::GetPolicy
                | Self::ListPolicies
                | Self::DeletePolicy
                | Self::AttachPolicyToUser
                | Self::DetachPolicyFromUser
                | Self::ListPoliciesForUser
        )
    }

    /// The action as policies name it: `kms:Encrypt`, `ram:CreateUser`.
    pub fn policy_action(self) -> String {
        let service = match self.is_ram() {
            true => "ram",
            false => "kms",
        };
        format!("{service}:{}", self.name())
    }

    /// What the action accepts (the CLI's table).
    pub fn spec(self) -> &'static spec::ActionSpec {
        match self {
            Self::CreateKey => &create_key::SPEC,
            Self::CreateAlias => &create_alias::SPEC,
            Self::Encrypt => &encrypt::SPEC,
            Self::Decrypt => &decrypt::SPEC,
            Self::GenerateDataKey => &generate_data_key::SPEC,
            Self::GenerateDataKeyWithoutPlaintext => &generate_data_key_without_plaintext::SPEC,
            Self::DescribeKey => &describe_key::SPEC,
            Self::ListKeys => &list_keys::SPEC,
            Self::ListAliases => &list_aliases::SPEC,
            Self::ListAliasesByKeyId => &list_aliases_by_key_id::SPEC,
            Self::DescribeRegions => &describe_regions::SPEC,
            Self::UpdateAlias => &update_alias::SPEC,
            Self::DeleteAlias => &delete_alias::SPEC,
            Self::EnableKey => &enable_key::SPEC,
            Self::DisableKey => &disable_key::SPEC,
            Self::ScheduleKeyDeletion => &schedule_key_deletion::SPEC,
            Self::CancelKeyDeletion => &cancel_key_deletion::SPEC,
            Self::SetDeletionProtection => &set_deletion_protection::SPEC,
            Self::UpdateKeyDescription => &update_key_description::SPEC,
            Self::CreateKeyVersion => &create_key_version::SPEC,
            Self::ListKeyVersions => &list_key_versions::SPEC,
            Self::DescribeKeyVersion => &describe_key_version::SPEC,
            Self::UpdateRotationPolicy => &update_rotation_policy::SPEC,
            Self::ReEncrypt => &re_encrypt::SPEC,
            Self::TagResource => &tag_resource::SPEC,
            Self::UntagResource => &untag_resource::SPEC,
            Self::ListResourceTags => &list_resource_tags::SPEC,
            Self::TagResources => &tag_resources::SPEC,
            Self::UntagResources => &untag_resources::SPEC,
            Self::ListTagResources => &list_tag_resources::SPEC,
            Self::GetKeyPolicy => &get_key_policy::SPEC,
            Self::SetKeyPolicy => &set_key_policy::SPEC,
            Self::CreateUser => &ram::create_user::SPEC,
            Self::GetUser => &ram::get_user::SPEC,
            Self::ListUsers => &ram::list_users::SPEC,
            Self::DeleteUser => &ram::delete_user::SPEC,
            Self::CreateAccessKey => &ram::create_access_key::SPEC,
            Self::ListAccessKeys => &ram::list_access_keys::SPEC,
            Self::UpdateAccessKey => &ram::update_access_key::SPEC,
            Self::DeleteAccessKey => &ram::delete_access_key::SPEC,
            Self::CreatePolicy => &ram::create_policy::SPEC,
            Self::GetPolicy => &ram::get_policy::SPEC,
            Self::ListPolicies => &ram::list_policies::SPEC,
            Self::DeletePolicy => &ram::delete_policy::SPEC,
            Self::AttachPolicyToUser => &ram::attach_policy_to_user::SPEC,
            Self::DetachPolicyFromUser => &ram::detach_policy_from_user::SPEC,
            Self::ListPoliciesForUser => &ram::list_policies_for_user::SPEC,
        }
    }

    /// Runs the action.
    pub async fn run(
        self,
        service: &KeyService,
        caller: &Caller,
        params: &Params,
    ) -> Result<Fields, RpcError> {
        let dry_run =
            self.spec().params.contains(&spec::DRY_RUN) && params.bool_or("DryRun", false)?;
        let fields = self.apply(service, caller, params).await?;
        match dry_run {
            // The crypto actions have no side effects, so checking everything and then
            // withholding the result is exactly "would have succeeded" (§6.3).
            true => Err(RpcError::DryRunOperation),
            false => Ok(fields),
        }
    }

    async fn apply(
        self,
        service: &KeyService,
        caller: &Caller,
        params: &Params,
    ) -> Result<Fields, RpcError> {
        match self {
            Self::CreateKey => create_key::run(service, params).await,
            Self::CreateAlias => create_alias::run(service, params).await,
            Self::Encrypt => encrypt::run(service, params).await,
            Self::Decrypt => decrypt::run(service, params).await,
            Self::GenerateDataKey => generate_data_key::run(service, params).await,
            Self::GenerateDataKeyWithoutPlaintext => {
                generate_data_key_without_plaintext::run(service, params).await
            }
            Self::DescribeKey => describe_key::run(service, params).await,
            Self::ListKeys => list_keys::run(service, params).await,
            Self::ListAliases => list_aliases::run(service, params).await,
            Self::ListAliasesByKeyId => list_aliases_by_key_id::run(service, params).await,
            Self::DescribeRegions => describe_regions::run(service, params).await,
            Self::UpdateAlias => update_alias::run(service, params).await,
            Self::DeleteAlias => delete_alias::run(service, params).await,
            Self::EnableKey => enable_key::run(service, params).await,
            Self::DisableKey => disable_key::run(service, params).await,
            Self::ScheduleKeyDeletion => schedule_key_deletion::run(service, params).await,
            Self::CancelKeyDeletion => cancel_key_deletion::run(service, params).await,
            Self::SetDeletionProtection => set_deletion_protection::run(service, params).await,
            Self::UpdateKeyDescription => update_key_description::run(service, params).await,
            Self::CreateKeyVersion => create_key_version::run(service, params).await,
            Self::ListKeyVersions => list_key_versions::run(service, params).await,
            Self::DescribeKeyVersion => describe_key_version::run(service, params).await,
            Self::UpdateRotationPolicy => update_rotation_policy::run(service, params).await,
            Self::ReEncrypt => re_encrypt::run(service, params).await,
            Self::TagResource => tag_resource::run(service, params).await,
            Self::UntagResource => untag_resource::run(service, params).await,
            Self::ListResourceTags => list_resource_tags::run(service, params).await,
            Self::TagResources => tag_resources::run(service, params).await,
            Self::UntagResources => untag_resources::run(service, params).await,
            Self::ListTagResources => list_tag_resources::run(service, params).await,
            Self::GetKeyPolicy => get_key_policy::run(service, params).await,
            Self::SetKeyPolicy => set_key_policy::run(service, params).await,
            Self::CreateUser => ram::create_user::run(service, params).await,
            Self::GetUser => ram::get_user::run(service, params).await,
            Self::ListUsers => ram::list_users::run(service, params).await,
            Self::DeleteUser => ram::delete_user::run(service, params).await,
            Self::CreateAccessKey => ram::create_access_key::run(service, caller, params).await,
            Self::ListAccessKeys => ram::list_access_keys::run(service, caller, params).await,
            Self::UpdateAccessKey => ram::update_access_key::run(service, caller, params).await,
            Self::DeleteAccessKey => ram::delete_access_key::run(service, caller, params).await,
            Self::CreatePolicy => ram::create_policy::run(service, params).await,
            Self::GetPolicy => ram::get_policy::run(service, params).await,
            Self::ListPolicies => ram::list_policies::run(service, params).await,
            Self::DeletePolicy => ram::delete_policy::run(service, params).await,
            Self::AttachPolicyToUser => ram::attach_policy_to_user::run(service, params).await,
            Self::DetachPolicyFromUser => ram::detach_policy_from_user::run(service, params).await,
            Self::ListPoliciesForUser => ram::list_policies_for_user::run(service, params).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Action;

    /// Exhaustive, so a new variant cannot compile without a place here; the test then
    /// checks that `ALL` lists it in that place.
    fn position(action: Action) -> usize {
        match action {
            Action::CreateKey => 0,
            Action::CreateAlias => 1,
            Action::Encrypt => 2,
            Action::Decrypt => 3,
            Action::GenerateDataKey => 4,
            Action::GenerateDataKeyWithoutPlaintext => 5,
            Action::DescribeKey => 6,
            Action::ListKeys => 7,
            Action::ListAliases => 8,
            Action::ListAliasesByKeyId => 9,
            Action::DescribeRegions => 10,
            Action::UpdateAlias => 11,
            Action::DeleteAlias => 12,
            Action::EnableKey => 13,
            Action::DisableKey => 14,
            Action::ScheduleKeyDeletion => 15,
            Action::CancelKeyDeletion => 16,
            Action::SetDeletionProtection => 17,
            Action::UpdateKeyDescription => 18,
            Action::CreateKeyVersion => 19,
            Action::ListKeyVersions => 20,
            Action::DescribeKeyVersion => 21,
            Action::UpdateRotationPolicy => 22,
            Action::ReEncrypt => 23,
            Action::TagResource => 24,
            Action::UntagResource => 25,
            Action::ListResourceTags => 26,
            Action::TagResources => 27,
            Action::UntagResources => 28,
            Action::ListTagResources => 29,
            Action::GetKeyPolicy => 30,
            Action::SetKeyPolicy => 31,
            Action::CreateUser => 32,
            Action::GetUser => 33,
            Action::ListUsers => 34,
            Action::DeleteUser => 35,
            Action::CreateAccessKey => 36,
            Action::ListAccessKeys => 37,
            Action::UpdateAccessKey => 38,
            Action::DeleteAccessKey => 39,
            Action::CreatePolicy => 40,
            Action::GetPolicy => 41,
            Action::ListPolicies => 42,
            Action::DeletePolicy => 43,
            Action::AttachPolicyToUser => 44,
            Action::DetachPolicyFromUser => 45,
            Action::ListPoliciesForUser => 46,
        }
    }

    #[test]
    fn all_lists_every_action_once_and_names_round_trip() {
        assert_eq!(Action::ALL.len(), 47);
        for (i, a) in Action::ALL.iter().enumerate() {
            assert_eq!(position(*a), i);
            assert_eq!(Action::from_name(a.name()), Some(*a));
            assert!(a.spec().params.iter().all(|p| !p.help.is_empty()));
        }
    }
}
