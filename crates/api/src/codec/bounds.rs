//! The longest value each parameter this server reads may have, checked on every request
//! before anything else reads it: before authentication looks up the caller, before a policy
//! is matched against a name, before the store is asked for a key, and before a request that
//! did not decode is authorized against what its names touch ([`super::lenient`]). An
//! over-long value is 400 `InvalidParameter` naming the parameter and its limit.
//!
//! Alibaba's limits are used where the API documentation states one (marked "Alibaba"); the
//! others are generous bounds no valid value comes near. The rules that make a value valid
//! (alias characters, tag characters, the exact limits of RAM names) stay where they were;
//! this table only keeps any one value from being large. Parameters no decoder reads are not
//! listed: nothing but the signature's linear hash sees them, and the body and head limits
//! bound them.
//!
//! The number of parameters is bounded too, before anything else looks at them: at most
//! [`MAX_PARAMS`] in a request, and at most a list's documented maximum of items in each
//! repeat list (`ResourceId.N`, `Tag.N.Key`/`Tag.N.Value`, `TagKey.N`). More is 400
//! `InvalidParameter` (naming the list, or saying the request has too many parameters), so
//! no decoder ever works through thousands of items.

use openkms_core::InvalidReason;
use openkms_core::context::{MAX_CONTEXT_BYTES, MAX_CONTEXT_KEY_BYTES, MAX_CONTEXT_VALUE_BYTES};
use openkms_core::policy::{MAX_KEY_POLICY_BYTES, MAX_POLICY_BYTES};
use openkms_core::service::{
    MAX_ALIAS_NAME_BYTES, MAX_DESCRIPTION_CHARS, MAX_KEY_REF_BYTES, MAX_PLAINTEXT_BYTES,
};

use crate::rpc::{Params, RpcError};

/// How a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Bytes,
    Chars,
}

/// One parameter's limit.
struct Bound {
    name: &'static str,
    max: usize,
    unit: Unit,
}

const fn bytes(name: &'static str, max: usize) -> Bound {
    Bound {
        name,
        max,
        unit: Unit::Bytes,
    }
}

const fn chars(name: &'static str, max: usize) -> Bound {
    Bound {
        name,
        max,
        unit: Unit::Chars,
    }
}

/// Identifiers this server makes (AccessKey ids, key version ids): 24–40 characters.
const MAX_ID_BYTES: usize = 128;
/// Enumerations, numbers, booleans and the signature's fields.
const MAX_WORD_BYTES: usize = 64;
/// A context in JSON: twice its canonical limit, for spacing and escapes.
const MAX_CONTEXT_JSON_BYTES: usize = 2 * MAX_CONTEXT_BYTES;
/// A CiphertextBlob: the longest this server makes (a 6 KiB plaintext sealed) is about 8.4 KiB
/// of base64.
const MAX_BLOB_BYTES: usize = 16 * 1024;
/// AsymmetricEncrypt's `Plaintext`: base64 of the largest SM2PKE plaintext, rounded up. Also
/// bounds Encrypt's, whose 6144-byte limit the service checks.
const MAX_ASYMMETRIC_PLAINTEXT_BASE64: usize = 8192;
const _: () = assert!(MAX_ASYMMETRIC_PLAINTEXT_BASE64 >= MAX_PLAINTEXT_BYTES);
/// A JSON list of tags: 20 tags of at most 128 characters a key and a value (Alibaba), spelled
/// with escapes.
const MAX_TAGS_JSON_BYTES: usize = 16 * 1024;

/// The most parameters one request may carry (query and body together). The largest request
/// an SDK sends is a TagResources of 50 keys and 20 tags: 90 list parameters beside about a
/// dozen of the envelope and signature, about 100 in all; 256 leaves room for an
/// EncryptionContext sent flattened or as numbered pairs (a context of more than about 120
/// entries goes as JSON, one parameter) while keeping any per-parameter work small.
pub const MAX_PARAMS: usize = 256;

/// Keys one TagResources, UntagResources or ListTagResources names (`ResourceId.N`). Alibaba's
/// tag APIs document N from 1 to 50 (ECS, Resource Directory, PrivateLink); the KMS reference
/// (spec) states no number, so this is unverified for KMS.
pub const MAX_RESOURCE_IDS: usize = 50;
/// Tags one request gives (`Tag.N`): 20, Alibaba's documented limit for TagResource(s); each
/// tag is at most two parameters (`Tag.N.Key`, `Tag.N.Value`). Applied to ListTagResources'
/// filter too (its limit is not stated in the spec; unverified).
pub const MAX_LIST_TAGS: usize = 20;
/// Tag keys one UntagResources removes (`TagKey.N`): 20, as many as a key can hold (the spec
/// states no number; unverified).
pub const MAX_TAG_KEYS: usize = 20;

/// Every named parameter a decoder reads, with its limit.
const TABLE: &[Bound] = &[
    // The request envelope and signature.
    bytes("AccessKeyId", MAX_ID_BYTES),
    bytes("Action", MAX_WORD_BYTES),
    bytes("Version", MAX_WORD_BYTES),
    bytes("Format", MAX_WORD_BYTES),
    bytes("RegionId", MAX_WORD_BYTES),
    bytes("Signature", MAX_WORD_BYTES),
    bytes("SignatureMethod", MAX_WORD_BYTES),
    bytes("SignatureVersion", MAX_WORD_BYTES),
    bytes("SignatureType", MAX_WORD_BYTES),
    bytes("SignatureNonce", MAX_ID_BYTES),
    bytes("Timestamp", MAX_WORD_BYTES),
    bytes("SecurityToken", 4096),
    // Keys and aliases.
    bytes("KeyId", MAX_KEY_REF_BYTES),
    bytes("DestinationKeyId", MAX_KEY_REF_BYTES),
    bytes("SourceKeyId", MAX_KEY_REF_BYTES),
    bytes("SourceKeyVersionId", MAX_ID_BYTES),
    bytes("SourceEncryptionAlgorithm", MAX_WORD_BYTES),
    bytes("ProtectedResourceArn", MAX_KEY_REF_BYTES),
    bytes("AliasName", MAX_ALIAS_NAME_BYTES), // Alibaba: alias/ and 1-255 characters
    bytes("KeyVersionId", MAX_ID_BYTES),
    bytes("DKMSInstanceId", MAX_ID_BYTES),
    chars("Description", MAX_DESCRIPTION_CHARS), // Alibaba: 0-8192 characters
    chars("DeletionProtectionDescription", MAX_DESCRIPTION_CHARS),
    bytes("Policy", MAX_KEY_POLICY_BYTES), // Alibaba: 32768 bytes
    bytes("Tags", MAX_TAGS_JSON_BYTES),
    bytes("TagKeys", MAX_TAGS_JSON_BYTES),
    bytes("Filters", 4096),
    bytes("KeySpec", MAX_WORD_BYTES),
    bytes("KeyUsage", MAX_WORD_BYTES),
    bytes("Origin", MAX_WORD_BYTES),
    bytes("ProtectionLevel", MAX_WORD_BYTES),
    bytes("EnableAutomaticRotation", MAX_WORD_BYTES),
    bytes("EnableDeletionProtection", MAX_WORD_BYTES),
    bytes("RotationInterval", MAX_WORD_BYTES),
    bytes("PendingWindowInDays", MAX_WORD_BYTES),
    bytes("ResourceType", MAX_WORD_BYTES),
    bytes("PageNumber", MAX_WORD_BYTES),
    bytes("PageSize", MAX_WORD_BYTES),
    bytes("Marker", 1024),
    bytes("NextToken", 1024),
    bytes("MaxItems", MAX_WORD_BYTES),
    bytes("DryRun", MAX_WORD_BYTES),
    bytes("All", MAX_WORD_BYTES),
    // Cryptography.
    // Encrypt: 6 KB (Alibaba), checked again by the service with its own message;
    // AsymmetricEncrypt: base64 of at most 6047 bytes (SM2PKE), 8064 characters.
    bytes("Plaintext", MAX_ASYMMETRIC_PLAINTEXT_BASE64),
    bytes("Digest", 1024),
    bytes("Value", 4096),
    bytes("Algorithm", MAX_WORD_BYTES),
    bytes("CiphertextBlob", MAX_BLOB_BYTES),
    bytes("EncryptionContext", MAX_CONTEXT_JSON_BYTES),
    bytes("SourceEncryptionContext", MAX_CONTEXT_JSON_BYTES),
    bytes("DestinationEncryptionContext", MAX_CONTEXT_JSON_BYTES),
    bytes("NumberOfBytes", MAX_WORD_BYTES),
    // Key import (next-surfaces §4): an RSA-2048 wrap is 344 base64 characters, an SM2PKE
    // wrap of 32 bytes about 180; a token about 1.8 KB.
    bytes("EncryptedKeyMaterial", 1024),
    bytes("ImportToken", openkms_core::byok::MAX_TOKEN_CHARS),
    bytes("WrappingAlgorithm", MAX_WORD_BYTES),
    bytes("WrappingKeySpec", MAX_WORD_BYTES),
    bytes("KeyMaterialExpireUnix", MAX_WORD_BYTES),
    bytes("PasswordLength", MAX_WORD_BYTES),
    bytes("ExcludeCharacters", 1024),
    bytes("ExcludeLowercase", MAX_WORD_BYTES),
    bytes("ExcludeUppercase", MAX_WORD_BYTES),
    bytes("ExcludeNumbers", MAX_WORD_BYTES),
    bytes("ExcludePunctuation", MAX_WORD_BYTES),
    bytes("RequireEachIncludedType", MAX_WORD_BYTES),
    // Secrets (alibaba-kms-api-next.md §5.1).
    chars("SecretName", 256), // Alibaba: 192 characters; the ARN form is longer
    bytes(
        "SecretData",
        openkms_core::service::secrets::MAX_SECRET_DATA_BYTES,
    ), // Alibaba: 30 KB
    bytes("SecretDataType", MAX_WORD_BYTES),
    bytes("SecretType", MAX_WORD_BYTES),
    bytes("VersionId", MAX_ID_BYTES), // Alibaba: 64 characters
    bytes("VersionStage", MAX_ID_BYTES),
    bytes("VersionStages", 4096),
    bytes("RemoveFromVersion", MAX_ID_BYTES),
    bytes("MoveToVersion", MAX_ID_BYTES),
    bytes("EncryptionKeyId", MAX_KEY_REF_BYTES),
    bytes("ExtendedConfig", 1024), // Alibaba: 1024 characters
    bytes("ExtendedConfig.CustomData", 1024),
    bytes("FetchExtendedConfig", MAX_WORD_BYTES),
    bytes("FetchTags", MAX_WORD_BYTES),
    bytes("IncludeDeprecated", MAX_WORD_BYTES),
    bytes("RecoveryWindowInDays", MAX_WORD_BYTES),
    bytes("ForceDeleteWithoutRecovery", MAX_WORD_BYTES),
    // RAM (its documented limits).
    chars("UserName", 64),
    chars("PolicyName", 128),
    bytes("PolicyType", MAX_WORD_BYTES),
    bytes("PolicyDocument", MAX_POLICY_BYTES), // RAM: 6144 bytes
    chars("DisplayName", 128),
    chars("MobilePhone", 64),
    chars("Email", 64),
    chars("Comments", 128),
    bytes("UserAccessKeyId", MAX_ID_BYTES),
    bytes("Status", MAX_WORD_BYTES),
    chars("Password", 128), // RAM: 8-32 characters by the default password policy
    chars("OldPassword", 128),
    chars("NewPassword", 128),
    bytes("PasswordResetRequired", MAX_WORD_BYTES),
    bytes("MFABindRequired", MAX_WORD_BYTES),
];

/// A family of numbered or flattened parameters (`ResourceId.3`, `EncryptionContext.<key>`):
/// the prefix, the name errors give, the longest rest of the name, the longest value and the
/// most parameters of the family a request may hold (contexts are bounded by [`MAX_PARAMS`]
/// and their canonical size).
struct Family {
    prefix: &'static str,
    name: &'static str,
    max_rest: usize,
    max_value: usize,
    max_count: usize,
}

const FAMILIES: &[Family] = &[
    context_family("EncryptionContext.", "EncryptionContext"),
    context_family("SourceEncryptionContext.", "SourceEncryptionContext"),
    context_family(
        "DestinationEncryptionContext.",
        "DestinationEncryptionContext",
    ),
    // Numbered lists: an index and at most `.Key`/`.Value`.
    list_family(
        ("ResourceId.", "ResourceId"),
        MAX_KEY_REF_BYTES,
        MAX_RESOURCE_IDS,
    ),
    // Tag rules (128 characters, Alibaba) give their own codes; this only bounds the size.
    list_family(("Tag.", "Tag"), 1024, 2 * MAX_LIST_TAGS),
    list_family(("TagKey.", "TagKey"), 1024, MAX_TAG_KEYS),
];

/// A flattened context: the rest of the name is a context key (or `<n>.Key`), the value a
/// context value, or a key in the numbered form.
const fn context_family(prefix: &'static str, name: &'static str) -> Family {
    Family {
        prefix,
        name,
        max_rest: MAX_CONTEXT_KEY_BYTES,
        max_value: MAX_CONTEXT_VALUE_BYTES,
        max_count: MAX_PARAMS,
    }
}

const fn list_family(
    (prefix, name): (&'static str, &'static str),
    max_value: usize,
    max_count: usize,
) -> Family {
    Family {
        prefix,
        name,
        max_rest: 32,
        max_value,
        max_count,
    }
}

/// Refuses a request of more than [`MAX_PARAMS`] parameters, before anything reads them.
pub fn check_count(params: &Params) -> Result<(), RpcError> {
    match params.pairs().len() > MAX_PARAMS {
        true => Err(RpcError::TooManyParameters { max: MAX_PARAMS }),
        false => Ok(()),
    }
}

/// Refuses the first parameter longer than its limit, and a repeat list of more items than
/// its limit (one pass, a count per family).
pub fn check(params: &Params) -> Result<(), RpcError> {
    check_count(params)?;
    let mut counts = [0usize; FAMILIES.len()];
    params
        .pairs()
        .try_for_each(|(name, value)| check_one(name, value, &mut counts))
}

fn check_one(name: &str, value: &str, counts: &mut [usize]) -> Result<(), RpcError> {
    if let Some(bound) = TABLE.iter().find(|b| b.name == name) {
        return within(bound.name, value, bound.max, bound.unit);
    }
    let family = FAMILIES.iter().zip(counts).find_map(|(f, count)| {
        let rest = name.strip_prefix(f.prefix)?;
        Some((f, rest, count))
    });
    match family {
        Some((f, rest, count)) => {
            *count += 1;
            if *count > f.max_count {
                let max = f.max_count;
                return Err(RpcError::invalid_because(
                    f.name,
                    InvalidReason::TooLong { max },
                ));
            }
            within(f.name, rest, f.max_rest, Unit::Bytes)?;
            within(f.name, value, f.max_value, Unit::Bytes)
        }
        None => Ok(()),
    }
}

fn within(name: &'static str, value: &str, max: usize, unit: Unit) -> Result<(), RpcError> {
    // A value within `max` bytes is within `max` characters: count only longer ones.
    let fits = value.len() <= max || (unit == Unit::Chars && value.chars().count() <= max);
    match fits {
        true => Ok(()),
        false => Err(RpcError::invalid_because(
            name,
            InvalidReason::TooLong { max },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(name: &str, value: &str) -> Option<String> {
        let params = Params::from_pairs(vec![(name.into(), value.into())]);
        check(&params).err().map(|e| e.wire().message)
    }

    #[test]
    fn limits_are_inclusive_and_named() {
        let id = "k".repeat(MAX_KEY_REF_BYTES);
        assert_eq!(refused("KeyId", &id), None);
        let message = refused("KeyId", &format!("{id}k")).unwrap_or_default();
        assert!(
            message.contains("\"KeyId\"") && message.contains("512"),
            "{message}"
        );
        assert_eq!(
            refused("AliasName", &format!("alias/{}", "a".repeat(255))),
            None
        );
        assert!(refused("AliasName", &format!("alias/{}", "a".repeat(256))).is_some());
    }

    #[test]
    fn characters_count_for_text_limits() {
        let description = "名".repeat(MAX_DESCRIPTION_CHARS);
        assert_eq!(refused("Description", &description), None);
        assert!(refused("Description", &format!("{description}x")).is_some());
        assert!(refused("UserName", &"u".repeat(65)).is_some());
    }

    #[test]
    fn families_bound_names_and_values() {
        let key = "k".repeat(MAX_CONTEXT_KEY_BYTES);
        assert_eq!(refused(&format!("EncryptionContext.{key}"), "v"), None);
        assert!(refused(&format!("EncryptionContext.{key}k"), "v").is_some());
        let value = "v".repeat(MAX_CONTEXT_VALUE_BYTES + 1);
        assert!(refused("EncryptionContext.k", &value).is_some());
        assert!(refused("ResourceId.1", &"r".repeat(MAX_KEY_REF_BYTES + 1)).is_some());
        assert!(refused(&format!("Tag.{}", "1".repeat(40)), "v").is_some());
    }

    fn numbered(prefix: &str, suffix: &str, n: usize) -> Vec<(String, String)> {
        (1..=n)
            .map(|i| (format!("{prefix}{i}{suffix}"), "v".to_owned()))
            .collect()
    }

    fn list_refused(pairs: Vec<(String, String)>) -> Option<String> {
        check(&Params::from_pairs(pairs))
            .err()
            .map(|e| e.wire().message)
    }

    #[test]
    fn repeat_lists_are_bounded_in_length() {
        for (prefix, suffix, max) in [
            ("ResourceId.", "", MAX_RESOURCE_IDS),
            ("TagKey.", "", MAX_TAG_KEYS),
            ("Tag.", ".Key", 2 * MAX_LIST_TAGS),
        ] {
            assert_eq!(
                list_refused(numbered(prefix, suffix, max)),
                None,
                "{prefix}"
            );
            let message = list_refused(numbered(prefix, suffix, max + 1)).unwrap_or_default();
            let name = prefix.trim_end_matches('.');
            assert!(
                message.contains(&format!("\"{name}\"")) && message.contains(&max.to_string()),
                "{message}"
            );
        }
        let mut tags = numbered("Tag.", ".Key", MAX_LIST_TAGS);
        tags.extend(numbered("Tag.", ".Value", MAX_LIST_TAGS));
        assert_eq!(list_refused(tags), None, "20 tags with their values");
    }

    #[test]
    fn the_number_of_parameters_is_bounded() {
        let mut pairs = numbered("EncryptionContext.", "", MAX_PARAMS);
        assert_eq!(list_refused(pairs.clone()), None);
        pairs.push(("Action".into(), "Encrypt".into()));
        let refused = check(&Params::from_pairs(pairs)).unwrap_err().wire();
        assert_eq!((refused.status, refused.code), (400, "InvalidParameter"));
        assert!(refused.message.contains("256"), "{}", refused.message);
        // Thousands of list items are refused at the first over the limit, whatever follows.
        let flood = numbered("ResourceId.", "", 7_000);
        assert!(check(&Params::from_pairs(flood)).is_err());
    }

    #[test]
    fn unread_parameters_are_left_alone() {
        assert_eq!(refused("Unread", &"x".repeat(100_000)), None);
    }
}
