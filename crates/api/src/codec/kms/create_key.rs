//! CreateKey (§6.1) on the wire.
//!
//! Parameters (all optional): `Description`, `KeySpec` (`Aliyun_AES_256` default,
//! `Aliyun_SM4`), `KeyUsage` (`ENCRYPT/DECRYPT`), `Origin` (`Aliyun_KMS`, or `EXTERNAL`: a
//! symmetric software key made in `PendingImport` for BYOK), `ProtectionLevel`
//! (`SOFTWARE`), `EnableAutomaticRotation` with `RotationInterval`, `Tags` (JSON array),
//! `Policy` (JSON object), `DKMSInstanceId` (this server has no dedicated instances).
//! Reply: the full `KeyMetadata`.

use openkms_core::service::CreateKeyInput;
use openkms_core::{
    KeyRecord, KeyService, KeySpec, KeyUsage, KmsError, Origin, ProtectionLevel, Tag,
};
use openkms_ops::kms::CreateKey;

use super::tags::json_tags;
use crate::codec::Wire;
use crate::codec::spec::{ActionSpec, optional};
use crate::codec::values::{Described, KeyMetadata};
use crate::rpc::{Params, RpcError};

impl Wire for CreateKey {
    const SPEC: ActionSpec = ActionSpec {
        about: "Create a customer master key (CMK)",
        params: &[
            optional("Description", "free text, up to 8192 characters"),
            optional(
                "KeySpec",
                "Aliyun_AES_256 (default), Aliyun_SM4, RSA_2048, RSA_3072, RSA_4096, EC_P256, \
                 EC_P256K or EC_SM2",
            ),
            optional(
                "KeyUsage",
                "ENCRYPT/DECRYPT or SIGN/VERIFY (the default for asymmetric specs)",
            ),
            optional(
                "Origin",
                "Aliyun_KMS (default) or EXTERNAL (import your own material)",
            ),
            optional("ProtectionLevel", "SOFTWARE"),
            optional("EnableAutomaticRotation", "true or false"),
            optional(
                "RotationInterval",
                "rotation period such as 365d, 7 to 365 days",
            ),
            optional(
                "Tags",
                "JSON array such as [{\"TagKey\":\"k\",\"TagValue\":\"v\"}]",
            ),
            optional("Policy", "key policy, a JSON object"),
            optional(
                "DKMSInstanceId",
                "dedicated KMS instance (none exist on openkms)",
            ),
        ],
    };
    type Reply<'a> = Described<'a>;

    fn decode(params: &Params, _: &KeyService) -> Result<Self, RpcError> {
        if params.optional("DKMSInstanceId").is_some() {
            return Err(KmsError::DkmsInstanceNotFound.into());
        }
        let spec = key_spec(params.optional("KeySpec"))?;
        Ok(Self(CreateKeyInput {
            description: params.get("Description").unwrap_or("").to_owned(),
            spec,
            usage: key_usage(params.optional("KeyUsage"), spec)?,
            origin: origin(params.optional("Origin"))?,
            protection_level: protection_level(params.optional("ProtectionLevel"))?,
            rotation_interval: rotation(params)?,
            tags: tags(params.optional("Tags"))?,
            policy: params.optional("Policy").map(str::to_owned),
        }))
    }

    fn encode<'a>(key: &'a KeyRecord, kms: &KeyService) -> Result<Described<'a>, RpcError> {
        Ok(Described {
            key_metadata: KeyMetadata::of(kms, key),
        })
    }
}

fn key_spec(value: Option<&str>) -> Result<KeySpec, RpcError> {
    match value {
        None => Ok(KeySpec::AliyunAes256),
        Some(v) => KeySpec::parse(v).ok_or(RpcError::invalid("KeySpec")),
    }
}

/// `KeyUsage`, defaulting by spec (§3.1: SIGN/VERIFY for a spec that can sign). Whether the
/// usage fits the spec is the service's rule.
fn key_usage(value: Option<&str>, spec: KeySpec) -> Result<KeyUsage, RpcError> {
    match value {
        None => Ok(spec.default_usage()),
        Some(v) => KeyUsage::parse(v).ok_or(RpcError::invalid("KeyUsage")),
    }
}

fn origin(value: Option<&str>) -> Result<Origin, RpcError> {
    match value {
        None | Some("Aliyun_KMS") => Ok(Origin::AliyunKms),
        // BYOK (next-surfaces §4.1): made in PendingImport, without material; key pairs,
        // rotation and HSM keys are refused by the service.
        Some("EXTERNAL") => Ok(Origin::External),
        Some(_) => Err(RpcError::invalid("Origin")),
    }
}

fn protection_level(value: Option<&str>) -> Result<ProtectionLevel, RpcError> {
    match value {
        None | Some("SOFTWARE") => Ok(ProtectionLevel::Software),
        // Served when a PKCS#11 token is configured; otherwise the service refuses it with
        // the spec's `Unsupported.ProtectionLevel`.
        Some("HSM") => Ok(ProtectionLevel::Hsm),
        Some(_) => Err(RpcError::invalid("ProtectionLevel")),
    }
}

/// `EnableAutomaticRotation` and `RotationInterval` (`<n>d|h|m|s`), in seconds.
fn rotation(params: &Params) -> Result<Option<i64>, RpcError> {
    if !params.bool_or("EnableAutomaticRotation", false)? {
        return Ok(None);
    }
    rotation_interval(params).map(Some)
}

/// The required `RotationInterval` parameter, in seconds (also UpdateRotationPolicy's).
pub(crate) fn rotation_interval(params: &Params) -> Result<i64, RpcError> {
    let text = params.required("RotationInterval")?;
    parse_interval(text).ok_or(RpcError::invalid("RotationInterval"))
}

/// Parses `<integer><unit>` with unit `d`, `h`, `m` or `s` into seconds.
fn parse_interval(text: &str) -> Option<i64> {
    let unit = text.chars().last()?;
    let number = &text[..text.len() - unit.len_utf8()];
    let n: i64 = number.parse().ok().filter(|n| *n > 0)?;
    let scale = match unit {
        'd' => 86_400,
        'h' => 3_600,
        'm' => 60,
        's' => 1,
        _ => return None,
    };
    n.checked_mul(scale)
}

/// The optional `Tags` (JSON, read as TagResource reads it); absent is no tags.
fn tags(value: Option<&str>) -> Result<Vec<Tag>, RpcError> {
    value.map_or(Ok(Vec::new()), json_tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("7d"), Some(604_800));
        assert_eq!(parse_interval("604800s"), Some(604_800));
        assert_eq!(parse_interval("12h"), Some(43_200));
        assert_eq!(parse_interval("d"), None);
        assert_eq!(parse_interval("7"), None);
        assert_eq!(parse_interval("-7d"), None);
        assert_eq!(parse_interval(""), None);
        assert_eq!(parse_interval("30dé"), None);
        assert_eq!(parse_interval("é"), None);
        assert_eq!(parse_interval("99999999999999999d"), None);
    }

    #[test]
    fn specs() {
        assert_eq!(key_spec(None).unwrap(), KeySpec::AliyunAes256);
        assert_eq!(key_spec(Some("Aliyun_SM4")).unwrap(), KeySpec::AliyunSm4);
        assert_eq!(key_spec(Some("RSA_2048")).unwrap(), KeySpec::Rsa2048);
        assert_eq!(key_spec(Some("EC_SM2")).unwrap(), KeySpec::EcSm2);
        assert!(key_spec(Some("rsa_2048")).is_err());
        assert!(key_spec(Some("nonsense")).is_err());
    }

    #[test]
    fn usage_defaults_by_spec() {
        let usage = |v, spec| key_usage(v, spec).unwrap();
        assert_eq!(usage(None, KeySpec::Rsa2048), KeyUsage::SignVerify);
        assert_eq!(usage(None, KeySpec::AliyunSm4), KeyUsage::EncryptDecrypt);
        assert_eq!(
            usage(Some("ENCRYPT/DECRYPT"), KeySpec::EcSm2),
            KeyUsage::EncryptDecrypt
        );
        assert!(key_usage(Some("SIGN"), KeySpec::EcP256).is_err());
    }

    #[test]
    fn tag_parsing() {
        let t = tags(Some(r#"[{"TagKey":"env","TagValue":"prod"}]"#)).unwrap();
        assert_eq!(
            t,
            vec![Tag {
                key: "env".into(),
                value: "prod".into()
            }]
        );
        assert!(tags(Some("not json")).is_err());
        assert!(tags(Some(r#"[{"TagValue":"x"}]"#)).is_err());
    }
}
