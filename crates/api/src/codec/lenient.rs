//! What a request whose parameters do not all decode is authorized against: the names it
//! does carry, read leniently, so that a caller refused the key it named is told so before
//! it hears about a parameter it got wrong, exactly as for a well-formed request; where a
//! name cannot be read, the account's container stands in for it.
//!
//! Only [`super::Wire::fallback`] uses these. Nothing is pinned: a request that failed to
//! decode never runs. Every value read here has passed the parameter bounds
//! ([`super::bounds`]) before authentication, so none can make the policy matching behind it
//! costly; a key reference over its limit is not read at all (the core refuses it, and the
//! key container stands in).

use std::borrow::Cow;

use openkms_core::KeyRef;
use openkms_core::model::PolicyType;
use openkms_ops::{Call, Touch, ram};

use super::request;
use crate::rpc::Params;

/// The key parameter `name` names, with the context parameter `context` (empty when
/// unreadable); the key container when the key cannot be read.
pub fn key(params: &Params, call: &Call<'_>, name: &str, context: Option<&str>) -> Touch<'static> {
    match key_ref(params, call, name) {
        Some(key) => Touch::Named {
            key,
            context: context.map(|c| request::json_context(params, c).unwrap_or_default()),
        },
        None => Touch::key_container(call.kms),
    }
}

/// The key the `CiphertextBlob` names (with its context); the key container when the blob
/// is not base64.
pub fn ciphertext(params: &Params, call: &Call<'_>, context: &str) -> Touch<'static> {
    let blob = params
        .optional("CiphertextBlob")
        .and_then(|b| request::decode_blob(b).ok());
    match blob {
        Some(blob) => Touch::Ciphertext {
            blob: blob.into(),
            context: Some(Cow::Owned(
                request::json_context(params, context).unwrap_or_default(),
            )),
        },
        None => Touch::key_container(call.kms),
    }
}

/// The alias `AliasName` names, as a resource (`alias/*` when absent).
pub fn alias(params: &Params, call: &Call<'_>) -> Touch<'static> {
    let name = params.optional("AliasName").unwrap_or("alias/*");
    Touch::resource(call.kms.alias_arn(name))
}

/// Every key a `ResourceId.<anything>` names; the key container for each that cannot be
/// read, and when there is none.
pub fn resource_ids(params: &Params, call: &Call<'_>) -> Vec<Touch<'static>> {
    let keys: Vec<Touch<'static>> = params
        .with_prefix("ResourceId.")
        .map(|(_, id)| match call.kms.parse_key_ref(id) {
            Ok(key) => Touch::named(key),
            Err(_) => Touch::key_container(call.kms),
        })
        .collect();
    match keys.is_empty() {
        true => vec![Touch::key_container(call.kms)],
        false => keys,
    }
}

/// The user `UserName` names (every user, `*`, when absent).
pub fn user(params: &Params, call: &Call<'_>) -> Touch<'static> {
    ram::user_touch(call.kms, params.optional("UserName").unwrap_or("*"))
}

/// The user an AccessKey action acts on: `UserName`, else the caller's own.
pub fn own_user(params: &Params, call: &Call<'_>) -> Touch<'static> {
    let named = ram::named_or_own(params.optional("UserName"), call.caller);
    ram::user_touch(call.kms, named.unwrap_or("*"))
}

/// The policy `PolicyName` names, of `PolicyType` (custom when absent or unreadable), or
/// of `policy_type` when given.
pub fn policy(params: &Params, call: &Call<'_>, policy_type: Option<PolicyType>) -> Touch<'static> {
    let policy_type = policy_type.unwrap_or_else(|| {
        params
            .optional("PolicyType")
            .and_then(PolicyType::parse)
            .unwrap_or(PolicyType::Custom)
    });
    let name = params.optional("PolicyName").unwrap_or("*");
    ram::policy_touch(call.kms, policy_type, name)
}

/// The account, for account-wide RAM actions.
pub fn ram_account(call: &Call<'_>) -> Touch<'static> {
    Touch::resource(ram::account_arn(call.kms))
}

fn key_ref(params: &Params, call: &Call<'_>, name: &str) -> Option<KeyRef> {
    params
        .optional(name)
        .and_then(|text| call.kms.parse_key_ref(text).ok())
}
