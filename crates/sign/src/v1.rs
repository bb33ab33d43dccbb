//! RPC signature V1: `SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0` (spec §2.2).
//!
//! Owns the StringToSign (`METHOD&%2F&enc(sorted canonical query)`) and the HMAC-SHA1 over
//! it with key `AccessKeySecret + "&"`, base64 with padding. Does not own collecting the
//! parameters from the query and the form body, nor the `Timestamp`/nonce checks.

use aws_lc_rs::{constant_time, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::encode::{cmp_encoded, double_encode_into, encoded_len};
use crate::param::ParamPair;

/// The parameter that carries the signature; it is never part of what is signed.
const SIGNATURE_PARAM: &str = "Signature";

/// Length of a base64 HMAC-SHA1 tag: 20 bytes give 28 characters with padding.
const SIGNATURE_B64_LEN: usize = 28;

/// Builds the V1 StringToSign from the decoded request parameters.
///
/// `method` is the HTTP method as sent, uppercase (`POST`, `GET`). Every parameter except
/// `Signature` is signed, empty values included. Pairs are sorted by their encoded name
/// (then encoded value, so duplicates sort the same whatever order they arrived in).
///
/// ```
/// let sts = openkms_sign::v1_string_to_sign("GET", [("b", "x y"), ("a", ""), ("Signature", "z")]);
/// assert_eq!(sts, "GET&%2F&a%3D%26b%3Dx%2520y");
/// ```
pub fn v1_string_to_sign<I>(method: &str, params: I) -> String
where
    I: IntoIterator,
    I::Item: ParamPair,
{
    let params = params.into_iter();
    let (fewest, most) = params.size_hint();
    let mut pairs: Vec<I::Item> = Vec::with_capacity(most.unwrap_or(fewest));
    pairs.extend(params.filter(|p| p.name() != SIGNATURE_PARAM));
    pairs.sort_unstable_by(|a, b| {
        cmp_encoded(a.name(), b.name()).then_with(|| cmp_encoded(a.value(), b.value()))
    });
    let mut out = String::with_capacity(string_to_sign_len(method, &pairs));
    out.push_str(method);
    out.push_str("&%2F&");
    for (i, pair) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str("%26");
        }
        double_encode_into(&mut out, pair.name());
        out.push_str("%3D");
        double_encode_into(&mut out, pair.value());
    }
    out
}

/// Exact length of the StringToSign, so it is built with one allocation.
fn string_to_sign_len<P: ParamPair>(method: &str, pairs: &[P]) -> usize {
    let body: usize = pairs
        .iter()
        .map(|p| encoded_len(p.name(), 5) + 3 + encoded_len(p.value(), 5) + 3)
        .sum();
    method.len() + 5 + body.saturating_sub(3)
}

/// An HMAC-SHA1 key derived from an AccessKeySecret, ready to sign or verify many times.
///
/// Building it hashes the key once; a server can keep one per AccessKeyId. The key is
/// opaque: it has no accessor, and `Debug` prints nothing of it.
pub struct V1SigningKey {
    key: hmac::Key,
}

impl V1SigningKey {
    /// Derives the key `secret + "&"`.
    pub fn new(secret: &[u8]) -> Self {
        let mut material = Zeroizing::new(Vec::with_capacity(secret.len() + 1));
        material.extend_from_slice(secret);
        material.push(b'&');
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &material);
        Self { key }
    }

    /// The `Signature` for `string_to_sign`: standard base64 with padding.
    pub fn sign(&self, string_to_sign: &str) -> String {
        let tag = hmac::sign(&self.key, string_to_sign.as_bytes());
        STANDARD.encode(tag.as_ref())
    }

    /// Whether `signature` (decoded from the request, still base64) is exactly the one
    /// this key gives for `string_to_sign`. Constant time in the signature bytes.
    pub fn verify(&self, string_to_sign: &str, signature: &str) -> bool {
        let tag = hmac::sign(&self.key, string_to_sign.as_bytes());
        let mut expected = [0u8; SIGNATURE_B64_LEN];
        match STANDARD.encode_slice(tag.as_ref(), &mut expected) {
            Ok(n) => {
                constant_time::verify_slices_are_equal(&expected[..n], signature.as_bytes()).is_ok()
            }
            Err(_) => false,
        }
    }
}

impl std::fmt::Debug for V1SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("V1SigningKey(<redacted>)")
    }
}

/// The V1 `Signature` of `string_to_sign` under `secret`: base64(HMAC-SHA1(secret + "&")).
pub fn v1_signature(secret: &[u8], string_to_sign: &str) -> String {
    V1SigningKey::new(secret).sign(string_to_sign)
}

/// Whether `signature` is the V1 signature of `string_to_sign` under `secret`, compared
/// in constant time. Prefer a kept [`V1SigningKey`] when verifying often.
pub fn v1_verify(secret: &[u8], string_to_sign: &str, signature: &str) -> bool {
    V1SigningKey::new(secret).verify(string_to_sign, signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_vectors::{load, query_params};

    const VECTORS: &str = include_str!("../../../testdata/signatures/v1.json");

    #[test]
    fn known_answer_vectors() {
        let vectors = load(VECTORS);
        assert!(vectors.len() >= 6);
        for v in &vectors {
            let name = v["name"].as_str().unwrap();
            let params = query_params(v);
            let sts = v1_string_to_sign(v["method"].as_str().unwrap(), &params);
            if let Some(expected) = v["string_to_sign"].as_str() {
                assert_eq!(sts, expected, "{name}: StringToSign");
            }
            let secret = v["secret"].as_str().unwrap().as_bytes();
            let expected_sig = v["signature"].as_str().unwrap();
            assert_eq!(
                v1_signature(secret, &sts),
                expected_sig,
                "{name}: Signature"
            );
            assert!(v1_verify(secret, &sts, expected_sig), "{name}: verify");
            let sent = params.iter().find(|(k, _)| k == "Signature");
            if let Some((_, sent)) = sent {
                assert_eq!(sent, expected_sig, "{name}: Signature on the wire");
            }
        }
    }

    #[test]
    fn exact_length_is_exact() {
        let params = [("a b", "c*d"), ("é", ""), ("x", "~")];
        let sts = v1_string_to_sign("POST", params);
        assert_eq!(sts.len(), string_to_sign_len("POST", &params));
        assert_eq!(
            v1_string_to_sign("GET", Vec::<(&str, &str)>::new()),
            "GET&%2F&"
        );
    }

    #[test]
    fn verify_rejects_near_misses() {
        let key = V1SigningKey::new(b"testsecret");
        let sig = key.sign("POST&%2F&a%3Db");
        assert!(key.verify("POST&%2F&a%3Db", &sig));
        assert!(!key.verify("POST&%2F&a%3Dc", &sig));
        assert!(!key.verify("POST&%2F&a%3Db", &sig[..27]));
        assert!(!key.verify("POST&%2F&a%3Db", ""));
        assert!(!V1SigningKey::new(b"other").verify("POST&%2F&a%3Db", &sig));
        assert_eq!(format!("{key:?}"), "V1SigningKey(<redacted>)");
    }
}
