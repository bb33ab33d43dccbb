//! RPC signature V1: `SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0` (spec §2.2).
//!
//! Owns the StringToSign (`METHOD&%2F&enc(sorted canonical query)`) and the HMAC-SHA1 over
//! it with key `AccessKeySecret + "&"`, base64 with padding. Does not own collecting the
//! parameters from the query and the form body, nor the `Timestamp`/nonce checks.

use std::cmp::Ordering;

use aws_lc_rs::{constant_time, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::encode::{double_encode_into, encoded_len};
use crate::param::ParamPair;

/// The parameter that carries the signature; it is never part of what is signed.
const SIGNATURE_PARAM: &str = "Signature";

/// Length of a base64 HMAC-SHA1 tag: 20 bytes give 28 characters with padding.
const SIGNATURE_B64_LEN: usize = 28;

/// The order V1 parameters are signed in: by raw (decoded) name, then raw value (spec §2.2
/// step 3). The SDKs agree on it except in one corner, which is why there are two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V1Order {
    /// Unicode code points, which is UTF-8 byte order: Python `sorted`, Go `sort.Strings`,
    /// the old Python SDK, the aliyun CLI and openkms's own signers.
    CodePoints,
    /// UTF-16 code units: JavaScript `Object.keys().sort()` (the npm SDK) and Java's
    /// `String.compareTo`. It differs from [`V1Order::CodePoints`] only when one name has a
    /// character above U+FFFF (a surrogate pair, 0xD800-0xDFFF) where another has one in
    /// U+E000-U+FFFF.
    Utf16,
}

impl V1Order {
    fn cmp(self, a: &str, b: &str) -> Ordering {
        match self {
            Self::CodePoints => a.cmp(b),
            Self::Utf16 => a.encode_utf16().cmp(b.encode_utf16()),
        }
    }

    fn cmp_pairs<P: ParamPair>(self, a: &P, b: &P) -> Ordering {
        self.cmp(a.name(), b.name())
            .then_with(|| self.cmp(a.value(), b.value()))
    }
}

/// Builds the V1 StringToSign from the decoded request parameters, sorted in code-point
/// order ([`V1Order::CodePoints`]), as the Python and Go SDKs sign.
///
/// `method` is the HTTP method as sent, uppercase (`POST`, `GET`). Every parameter except
/// `Signature` is signed, empty values included. Pairs are sorted by their raw name before
/// it is encoded (then by raw value, so duplicates sort the same whatever order they arrived
/// in): `a/b` sorts after `a.c`, although `a%2Fb` would sort before it.
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
    v1_string_to_sign_in(V1Order::CodePoints, method, params)
}

/// The V1 StringToSign with the pairs sorted in `order` (see [`v1_string_to_sign`]).
pub fn v1_string_to_sign_in<I>(order: V1Order, method: &str, params: I) -> String
where
    I: IntoIterator,
    I::Item: ParamPair,
{
    let params = params.into_iter();
    let (fewest, most) = params.size_hint();
    let mut pairs: Vec<I::Item> = Vec::with_capacity(most.unwrap_or(fewest));
    pairs.extend(params.filter(|p| p.name() != SIGNATURE_PARAM));
    pairs.sort_unstable_by(|a, b| order.cmp_pairs(a, b));
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

/// Whether the two [`V1Order`]s can sort `params` differently: some name or value holds a
/// character above U+FFFF (UTF-8 lead byte 0xF0-0xF4) and some one in U+E000-U+FFFF (lead
/// byte 0xEE or 0xEF). A cheap test, so a server builds the second StringToSign only when
/// it may differ.
pub fn v1_orders_may_differ<I>(params: I) -> bool
where
    I: IntoIterator,
    I::Item: ParamPair,
{
    let (mut high, mut private_use) = (false, false);
    for p in params {
        for b in p.name().bytes().chain(p.value().bytes()) {
            high |= b >= 0xF0;
            private_use |= b == 0xEE || b == 0xEF;
        }
        if high && private_use {
            return true;
        }
    }
    false
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

impl V1SigningKey {
    /// Verifies the V1 `signature` of a request's decoded `params` sent with `method`;
    /// on a mismatch, the code-point StringToSign, which the server reports (spec §2.4).
    ///
    /// The SDKs disagree on one corner of the order (see [`V1Order`]): Python and Go sign
    /// code-point order, the npm SDK (and Java's `compareTo`) UTF-16 order. Both are real
    /// Alibaba clients, so the server accepts either: code-point order first and, when the
    /// two orders can differ for these names and the first check failed, UTF-16 order.
    /// This admits no forgery: both strings list the same pairs (each `enc(k)=enc(v)`
    /// unambiguous), only in another order, so either signature still covers exactly these
    /// parameters under this secret. Each check compares in constant time; whether the
    /// second one runs depends only on the (public) parameter names.
    pub fn verify_params<I>(&self, method: &str, params: I, signature: &str) -> Result<(), String>
    where
        I: IntoIterator + Clone,
        I::Item: ParamPair,
    {
        let code_points = v1_string_to_sign(method, params.clone());
        if self.verify(&code_points, signature) {
            return Ok(());
        }
        if v1_orders_may_differ(params.clone()) {
            let utf16 = v1_string_to_sign_in(V1Order::Utf16, method, params);
            if utf16 != code_points && self.verify(&utf16, signature) {
                return Ok(());
            }
        }
        Err(code_points)
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

    const ORDER_VECTORS: &str = include_str!("../../../testdata/signatures/v1-order.json");

    fn order_of(v: &serde_json::Value) -> V1Order {
        match v["order"].as_str().unwrap() {
            "code_points" => V1Order::CodePoints,
            "utf16" => V1Order::Utf16,
            other => panic!("unknown order {other}"),
        }
    }

    #[test]
    fn sorts_raw_names_as_the_sdks_do() {
        let vectors = load(ORDER_VECTORS);
        assert_eq!(vectors.len(), 3);
        for v in &vectors {
            let name = v["name"].as_str().unwrap();
            let params = query_params(v);
            let sts = v1_string_to_sign_in(order_of(v), "POST", &params);
            assert_eq!(sts, v["string_to_sign"].as_str().unwrap(), "{name}");
            let sig = v["signature"].as_str().unwrap();
            let key = V1SigningKey::new(v["secret"].as_str().unwrap().as_bytes());
            assert_eq!(key.sign(&sts), sig, "{name}");
            // The server accepts the signature whichever order the SDK used.
            assert_eq!(key.verify_params("POST", &params, sig), Ok(()), "{name}");
            let mismatch = key.verify_params("GET", &params, sig).unwrap_err();
            assert_eq!(mismatch, v1_string_to_sign("GET", &params), "{name}");
        }
    }

    #[test]
    fn raw_order_is_not_encoded_order() {
        let sts = v1_string_to_sign("POST", [("a/b", "1"), ("a.c", "2"), ("\u{540d}", "3")]);
        assert_eq!(sts, "POST&%2F&a.c%3D2%26a%252Fb%3D1%26%25E5%2590%258D%3D3");
    }

    #[test]
    fn the_orders_differ_only_with_both_planes() {
        let (bmp, astral) = ("\u{ff21}", "\u{1f600}");
        let both = [(bmp, ""), (astral, "")];
        assert!(v1_orders_may_differ(both));
        let cp = v1_string_to_sign_in(V1Order::CodePoints, "POST", both);
        let utf16 = v1_string_to_sign_in(V1Order::Utf16, "POST", both);
        assert!(cp.find("%25EF").unwrap() < cp.find("%25F0").unwrap());
        assert!(utf16.find("%25F0").unwrap() < utf16.find("%25EF").unwrap());
        for one in [[("a", ""), (astral, "")], [("a", ""), (bmp, "")]] {
            assert!(!v1_orders_may_differ(one));
            assert_eq!(
                v1_string_to_sign_in(V1Order::CodePoints, "POST", one),
                v1_string_to_sign_in(V1Order::Utf16, "POST", one)
            );
        }
        // A signature of another parameter set is refused in both orders.
        let key = V1SigningKey::new(b"k");
        let sig = key.sign(&utf16);
        let other = [(bmp, "x"), (astral, "")];
        assert_eq!(
            key.verify_params("POST", other, &sig),
            Err(v1_string_to_sign("POST", other))
        );
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
