//! Parsing the V3 `Authorization` header value (spec §3.2, §3.3).
//!
//! `ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<a;b;c>,Signature=<hex>`,
//! read leniently: spaces around the algorithm, the parts, `=` and `;` are ignored, field
//! names match ASCII case-insensitively, unknown fields are ignored. Owns the typed result
//! and error; does not own looking the AccessKeyId up or deciding which headers must be
//! signed (see [`Authorization::signs`]).

use thiserror::Error;

use crate::v3::V3_ALGORITHM;

/// Length of a hex HMAC-SHA256 signature.
const SIGNATURE_HEX_LEN: usize = 64;

/// A V3 signature algorithm openkms accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum V3Algorithm {
    /// `ACS3-HMAC-SHA256`, the Tea SDK's default.
    HmacSha256,
}

/// A parsed `Authorization` value. Borrows from the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The algorithm named before the fields.
    pub algorithm: V3Algorithm,
    /// The AccessKeyId (`Credential=`), non-empty.
    pub credential: &'a str,
    /// The `SignedHeaders` names in the order given, trimmed, none empty.
    pub signed_headers: Vec<&'a str>,
    /// The signature: 64 hex digits (case not checked; verification compares exactly).
    pub signature: &'a str,
}

impl Authorization<'_> {
    /// Whether `name` (lowercase) is among the signed headers.
    pub fn signs(&self, name: &str) -> bool {
        self.signed_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
    }
}

/// A field of the `Authorization` value, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthField {
    /// `Credential=`
    Credential,
    /// `SignedHeaders=`
    SignedHeaders,
    /// `Signature=`
    Signature,
}

/// Why an `Authorization` value was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AuthorizationError {
    /// The value is empty or has no fields after the algorithm.
    #[error("the Authorization header is empty or has no fields")]
    Empty,
    /// The algorithm is not `ACS3-HMAC-SHA256` (e.g. `ACS3-HMAC-SM3`).
    #[error("the Authorization algorithm is not supported (only ACS3-HMAC-SHA256)")]
    UnsupportedAlgorithm,
    /// A comma-separated part has no `=`.
    #[error("an Authorization field is not of the form name=value")]
    MalformedField,
    /// A required field is absent or empty.
    #[error("the Authorization field {0:?} is missing or empty")]
    MissingField(AuthField),
    /// A field is given twice.
    #[error("the Authorization field {0:?} is given more than once")]
    DuplicateField(AuthField),
    /// `SignedHeaders` lists an empty name (e.g. `a;;b`).
    #[error("SignedHeaders contains an empty header name")]
    EmptySignedHeader,
    /// `Signature` is not 64 hex digits.
    #[error("the Authorization signature is not 64 hex digits")]
    MalformedSignature,
}

/// Parses an `Authorization` header value.
///
/// ```
/// let value = format!(
///     "ACS3-HMAC-SHA256 Credential=ak, SignedHeaders=host;x-acs-date, Signature={}",
///     "0".repeat(64)
/// );
/// let auth = openkms_sign::parse_authorization(&value)?;
/// assert_eq!(auth.credential, "ak");
/// assert_eq!(auth.signed_headers, ["host", "x-acs-date"]);
/// # Ok::<(), openkms_sign::AuthorizationError>(())
/// ```
pub fn parse_authorization(value: &str) -> Result<Authorization<'_>, AuthorizationError> {
    let value = value.trim();
    let (algorithm, fields) = value
        .split_once(char::is_whitespace)
        .ok_or(AuthorizationError::Empty)?;
    if algorithm != V3_ALGORITHM {
        return Err(AuthorizationError::UnsupportedAlgorithm);
    }
    let raw = RawFields::parse(fields)?;
    let credential = required(raw.credential, AuthField::Credential)?;
    let signed_headers =
        parse_signed_headers(required(raw.signed_headers, AuthField::SignedHeaders)?)?;
    let signature = required(raw.signature, AuthField::Signature)?;
    if signature.len() != SIGNATURE_HEX_LEN || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AuthorizationError::MalformedSignature);
    }
    Ok(Authorization {
        algorithm: V3Algorithm::HmacSha256,
        credential,
        signed_headers,
        signature,
    })
}

/// The three fields as found, before validation.
#[derive(Default)]
struct RawFields<'a> {
    credential: Option<&'a str>,
    signed_headers: Option<&'a str>,
    signature: Option<&'a str>,
}

impl<'a> RawFields<'a> {
    fn parse(fields: &'a str) -> Result<Self, AuthorizationError> {
        let mut raw = Self::default();
        for part in fields.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or(AuthorizationError::MalformedField)?;
            let (name, value) = (name.trim(), value.trim());
            let (slot, field) = if name.eq_ignore_ascii_case("Credential") {
                (&mut raw.credential, AuthField::Credential)
            } else if name.eq_ignore_ascii_case("SignedHeaders") {
                (&mut raw.signed_headers, AuthField::SignedHeaders)
            } else if name.eq_ignore_ascii_case("Signature") {
                (&mut raw.signature, AuthField::Signature)
            } else {
                continue;
            };
            if slot.replace(value).is_some() {
                return Err(AuthorizationError::DuplicateField(field));
            }
        }
        Ok(raw)
    }
}

fn required(value: Option<&str>, field: AuthField) -> Result<&str, AuthorizationError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or(AuthorizationError::MissingField(field))
}

fn parse_signed_headers(list: &str) -> Result<Vec<&str>, AuthorizationError> {
    list.split(';')
        .map(str::trim)
        .map(|name| {
            if name.is_empty() {
                Err(AuthorizationError::EmptySignedHeader)
            } else {
                Ok(name)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "bfa7e5e0e9395c4a3606d822cd2b341622883c69a33e83748964d5fc2de74ab2";

    #[test]
    fn parses_the_tea_sdk_header() {
        let value = format!(
            "ACS3-HMAC-SHA256 Credential=testakid,SignedHeaders=host;x-acs-action;x-acs-date,Signature={SIG}"
        );
        let auth = parse_authorization(&value).unwrap();
        assert_eq!(auth.algorithm, V3Algorithm::HmacSha256);
        assert_eq!(auth.credential, "testakid");
        assert_eq!(auth.signed_headers, ["host", "x-acs-action", "x-acs-date"]);
        assert_eq!(auth.signature, SIG);
        assert!(auth.signs("x-acs-date"));
        assert!(!auth.signs("x-acs-signature-nonce"));
    }

    #[test]
    fn lenient_on_spaces_case_and_unknown_fields() {
        let value = format!(
            "  ACS3-HMAC-SHA256   credential = ak ,  SignedHeaders= host ; x-acs-date ,Extra=1, Signature = {SIG} , "
        );
        let auth = parse_authorization(&value).unwrap();
        assert_eq!(auth.credential, "ak");
        assert_eq!(auth.signed_headers, ["host", "x-acs-date"]);
        assert_eq!(auth.signature, SIG);
    }

    #[test]
    fn typed_errors() {
        use AuthorizationError as E;
        let ok_sig = format!("Signature={SIG}");
        let cases = [
            (String::new(), E::Empty),
            ("ACS3-HMAC-SHA256".into(), E::Empty),
            (
                format!("ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,{ok_sig}"),
                E::UnsupportedAlgorithm,
            ),
            (
                format!("ACS3-HMAC-SHA256 Credential,SignedHeaders=host,{ok_sig}"),
                E::MalformedField,
            ),
            (
                format!("ACS3-HMAC-SHA256 SignedHeaders=host,{ok_sig}"),
                E::MissingField(AuthField::Credential),
            ),
            (
                format!("ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,{ok_sig}"),
                E::MissingField(AuthField::Credential),
            ),
            (
                format!("ACS3-HMAC-SHA256 Credential=a,{ok_sig}"),
                E::MissingField(AuthField::SignedHeaders),
            ),
            (
                "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host".into(),
                E::MissingField(AuthField::Signature),
            ),
            (
                format!("ACS3-HMAC-SHA256 Credential=a,Credential=b,SignedHeaders=host,{ok_sig}"),
                E::DuplicateField(AuthField::Credential),
            ),
            (
                format!("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host;;x,{ok_sig}"),
                E::EmptySignedHeader,
            ),
            (
                "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=abc".into(),
                E::MalformedSignature,
            ),
            (
                format!(
                    "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature={}",
                    "g".repeat(64)
                ),
                E::MalformedSignature,
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_authorization(&value), Err(expected), "{value}");
        }
    }
}
