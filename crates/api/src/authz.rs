//! Authorization of a request: what each action touches, asked of the key service.
//!
//! Authentication said who signed; this says whether they may. For every action [`targets`]
//! lists what it touches — a key (by `KeyId`, alias, ARN, or the ciphertext that names it),
//! an alias, a RAM user or policy, or the account's key or alias container for listings and
//! CreateKey — and each is
//! checked with the caller's policies (and the key's policy) by
//! [`KeyService::authorize`]; all must allow. The root identity skips the whole step.
//! The decision happens before the action runs, so a refused request changes nothing, and
//! a malformed parameter is checked against the key container rather than skipped.

use std::collections::BTreeMap;

use openkms_core::model::PolicyType;
use openkms_core::policy::ConditionContext;
use openkms_core::service::{AccessRequest, ROOT_USER, Target};
use openkms_core::{KeyService, KmsError};

use crate::action::{Action, common, ram};
use crate::auth::Caller;
use crate::rpc::{Params, RpcError};

pub use openkms_ops::Origin;

/// One thing an action touches, with the parameter holding its EncryptionContext, if any,
/// and the parameter that named it when it is a key the action reads again (to pin).
type Touch = (Target, Option<&'static str>, Option<String>);

/// Parameters to replace before the action runs: each key named by alias, as the key id the
/// decision was made for.
pub type Pins = Vec<(String, String)>;

/// Allows the request, or answers `Forbidden.NoPermission` (`NoPermission` for RAM actions).
/// What it answers on success are the [`Pins`]: the action must run with them applied
/// ([`Params::with_values`]), so that an alias moved after the check cannot make it act on
/// a key that was not checked.
pub async fn authorize(
    service: &KeyService,
    caller: &Caller,
    action: Action,
    params: &Params,
    origin: Origin,
) -> Result<Pins, RpcError> {
    let mut pins = Pins::new();
    if caller.user == ROOT_USER {
        return Ok(pins);
    }
    for (target, context_param, pin) in targets(service, action, params, caller) {
        let request = AccessRequest {
            action: action.policy_action(),
            target,
            context: ConditionContext {
                source_ip: origin.source_ip,
                current_time: service.clock().now(),
                secure_transport: origin.secure,
                encryption_context: context_param
                    .map(|p| context(params, p))
                    .unwrap_or_default(),
            },
        };
        match service.authorize(&caller.user, request).await {
            Ok(Some(key_id)) => pins.extend(pin.map(|name| (name, key_id))),
            Ok(None) => {}
            Err(KmsError::Forbidden) if action.is_ram() => return Err(RpcError::RamForbidden),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(pins)
}

/// What `action` touches; empty only for DescribeRegions, which Alibaba leaves open to every
/// authenticated caller.
fn targets(service: &KeyService, action: Action, params: &Params, caller: &Caller) -> Vec<Touch> {
    let key = |name: &'static str, context| {
        // DeleteAlias names its alias, not a key: nothing to pin.
        let pin = (name != "AliasName").then(|| name.to_owned());
        (key_target(service, params, name), context, pin)
    };
    match action {
        Action::Encrypt | Action::GenerateDataKey | Action::GenerateDataKeyWithoutPlaintext => {
            vec![key("KeyId", Some("EncryptionContext"))]
        }
        Action::Decrypt => vec![blob_target(service, params, Some("EncryptionContext"))],
        Action::ReEncrypt => vec![
            blob_target(service, params, Some("SourceEncryptionContext")),
            key("DestinationKeyId", Some("DestinationEncryptionContext")),
        ],
        Action::DescribeKey
        | Action::ListAliasesByKeyId
        | Action::EnableKey
        | Action::DisableKey
        | Action::ScheduleKeyDeletion
        | Action::CancelKeyDeletion
        | Action::UpdateKeyDescription
        | Action::CreateKeyVersion
        | Action::ListKeyVersions
        | Action::DescribeKeyVersion
        | Action::UpdateRotationPolicy
        | Action::TagResource
        | Action::UntagResource
        | Action::ListResourceTags
        | Action::GetKeyPolicy
        | Action::SetKeyPolicy => vec![key("KeyId", None)],
        Action::SetDeletionProtection => vec![key("ProtectedResourceArn", None)],
        Action::CreateAlias | Action::UpdateAlias => {
            vec![key("KeyId", None), alias_target(service, params)]
        }
        Action::DeleteAlias => vec![key("AliasName", None)],
        Action::TagResources | Action::UntagResources | Action::ListTagResources => {
            resource_ids(service, params)
        }
        Action::CreateKey | Action::ListKeys => vec![kms_container(service, "key")],
        Action::ListAliases => vec![kms_container(service, "alias")],
        Action::DescribeRegions => Vec::new(),
        Action::CreateUser
        | Action::GetUser
        | Action::ListUsers
        | Action::DeleteUser
        | Action::CreateAccessKey
        | Action::ListAccessKeys
        | Action::UpdateAccessKey
        | Action::DeleteAccessKey
        | Action::CreatePolicy
        | Action::GetPolicy
        | Action::ListPolicies
        | Action::DeletePolicy
        | Action::AttachPolicyToUser
        | Action::DetachPolicyFromUser
        | Action::ListPoliciesForUser => ram_targets(service, action, params, caller),
    }
}

/// What a RAM action touches: users, policies, or the account (ListUsers, ListPolicies).
fn ram_targets(
    service: &KeyService,
    action: Action,
    params: &Params,
    caller: &Caller,
) -> Vec<Touch> {
    let arn = |a: String| (Target::Resources(vec![a]), None, None);
    let user = |name: Option<&str>| arn(ram::user_arn(service, name.unwrap_or("*")));
    let named_user = || user(params.optional("UserName"));
    let policy = |t: PolicyType| {
        arn(ram::policy_arn(
            service,
            t,
            params.optional("PolicyName").unwrap_or("*"),
        ))
    };
    let given_type = || {
        params
            .optional("PolicyType")
            .and_then(PolicyType::parse)
            .unwrap_or(PolicyType::Custom)
    };
    match action {
        Action::CreateUser | Action::GetUser | Action::DeleteUser | Action::ListPoliciesForUser => {
            vec![named_user()]
        }
        Action::CreateAccessKey
        | Action::ListAccessKeys
        | Action::UpdateAccessKey
        | Action::DeleteAccessKey => vec![user(ram::user_or_caller(params, caller).ok())],
        Action::CreatePolicy | Action::DeletePolicy => vec![policy(PolicyType::Custom)],
        Action::GetPolicy => vec![policy(given_type())],
        Action::AttachPolicyToUser | Action::DetachPolicyFromUser => {
            vec![named_user(), policy(given_type())]
        }
        _ => vec![arn(ram::account_arn(service))],
    }
}

/// The key a parameter names; the account when it is absent or unreadable.
fn key_target(service: &KeyService, params: &Params, name: &str) -> Target {
    params
        .optional(name)
        .and_then(|text| service.parse_key_ref(text).ok())
        .map_or_else(|| kms_container(service, "key").0, Target::Key)
}

/// The key that made the `CiphertextBlob`; the account when the blob is not base64.
fn blob_target(service: &KeyService, params: &Params, context: Option<&'static str>) -> Touch {
    let blob = params
        .optional("CiphertextBlob")
        .and_then(|b| common::decode_blob(b).ok());
    match blob {
        Some(blob) => (Target::Ciphertext(blob), context, None),
        None => kms_container(service, "key"),
    }
}

/// The alias an `AliasName` names, as a resource.
fn alias_target(service: &KeyService, params: &Params) -> Touch {
    let name = params.optional("AliasName").unwrap_or("alias/*");
    (Target::Resources(vec![service.alias_arn(name)]), None, None)
}

/// Every `ResourceId.N` key; the account when none is given.
fn resource_ids(service: &KeyService, params: &Params) -> Vec<Touch> {
    let keys: Vec<Touch> = common::repeat_list(params, "ResourceId")
        .into_iter()
        .map(|(index, _, id)| match service.parse_key_ref(id) {
            Ok(key) => (Target::Key(key), None, Some(format!("ResourceId.{index}"))),
            Err(_) => kms_container(service, "key"),
        })
        .collect();
    match keys.is_empty() {
        true => vec![kms_container(service, "key")],
        false => keys,
    }
}

/// The container resource of account-wide KMS actions, as Alibaba documents them:
/// `acs:kms:<region>:<account>:key` (CreateKey, ListKeys) or `…:alias` (ListAliases).
fn kms_container(service: &KeyService, container: &str) -> Touch {
    let arn = format!(
        "acs:kms:{}:{}:{container}",
        service.region_id(),
        service.account_id()
    );
    (Target::Resources(vec![arn]), None, None)
}

/// The request's EncryptionContext from `param`, for conditions; empty when unreadable (the
/// action then refuses the request itself).
fn context(params: &Params, param: &str) -> BTreeMap<String, String> {
    common::json_context(params, param)
        .map(|c| {
            c.entries()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .unwrap_or_default()
}
