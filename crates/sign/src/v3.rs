//! Signature V3, `ACS3-HMAC-SHA256` (spec §3.3).
//!
//! Owns the CanonicalRequest (method, path, sorted query, the signed headers, the payload
//! hash), the StringToSign, the hex HMAC-SHA256 with the bare AccessKeySecret as key, and
//! the `Authorization` value a signer sends. Does not own choosing which headers a client
//! signs, checking that `x-acs-content-sha256` matches the body actually received, or the
//! freshness of `x-acs-date`: those are the server's.

use aws_lc_rs::{constant_time, digest, hmac};
use zeroize::Zeroizing;

use crate::encode::{encoded_len, hex_lower_in, hex_lower_into, percent_encode_into};
use crate::param::ParamPair;

/// The only V3 algorithm openkms speaks; it opens the StringToSign and `Authorization`.
pub const V3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Hex SHA-256 of the empty body, the `x-acs-content-sha256` of most requests.
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Length of a hex HMAC-SHA256 tag.
const SIGNATURE_HEX_LEN: usize = 64;

/// Where the canonical request finds header values, by lowercase name.
///
/// Implemented for slices and vectors of `(name, value)` pairs (names compared ASCII
/// case-insensitively) and, with the `http` feature, for `http::HeaderMap`.
pub trait HeaderLookup {
    /// Calls `f` once for each value of header `name`, in the order they were received.
    fn for_each_value(&self, name: &str, f: &mut dyn FnMut(&str));
}

impl<K: AsRef<str>, V: AsRef<str>> HeaderLookup for [(K, V)] {
    fn for_each_value(&self, name: &str, f: &mut dyn FnMut(&str)) {
        self.iter()
            .filter(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
            .for_each(|(_, v)| f(v.as_ref()));
    }
}

impl<K: AsRef<str>, V: AsRef<str>> HeaderLookup for Vec<(K, V)> {
    fn for_each_value(&self, name: &str, f: &mut dyn FnMut(&str)) {
        self.as_slice().for_each_value(name, f);
    }
}

impl<T: HeaderLookup + ?Sized> HeaderLookup for &T {
    fn for_each_value(&self, name: &str, f: &mut dyn FnMut(&str)) {
        (**self).for_each_value(name, f);
    }
}

/// Values that are not UTF-8 are skipped, so a request carrying them fails verification.
#[cfg(feature = "http")]
impl HeaderLookup for http::HeaderMap {
    fn for_each_value(&self, name: &str, f: &mut dyn FnMut(&str)) {
        self.get_all(name)
            .iter()
            .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
            .for_each(f);
    }
}

/// Lowercase hex SHA-256 of `data`: the `x-acs-content-sha256` of a body.
pub fn sha256_hex(data: &[u8]) -> String {
    let mut out = String::with_capacity(SIGNATURE_HEX_LEN);
    hex_lower_into(&mut out, digest::digest(&digest::SHA256, data).as_ref());
    out
}

/// The canonical query: decoded query parameters (not the form body), sorted by raw
/// (decoded) name then raw value in code-point order, as the SDKs sort (Python `sorted`,
/// Go `sort.Strings`, the V3 documentation's sample), each `enc(name)=enc(value)`, joined by
/// `&`. Sorting the encoded names instead would put `a%2Fb` before `a.c` and `%E5…` before
/// `z` (spec §3.3, as §2.2 step 3 for V1).
pub fn v3_canonical_query<I>(query: I) -> String
where
    I: IntoIterator,
    I::Item: ParamPair,
{
    let mut pairs: Vec<I::Item> = query.into_iter().collect();
    pairs.sort_unstable_by(|a, b| {
        a.name()
            .cmp(b.name())
            .then_with(|| a.value().cmp(b.value()))
    });
    let len: usize = pairs
        .iter()
        .map(|p| encoded_len(p.name(), 3) + encoded_len(p.value(), 3) + 2)
        .sum();
    let mut out = String::with_capacity(len);
    for (i, pair) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(&mut out, pair.name());
        out.push('=');
        percent_encode_into(&mut out, pair.value());
    }
    out
}

/// Builds the V3 CanonicalRequest.
///
/// * `path` is the decoded request path; it is encoded with `/` kept (empty means `/`).
/// * `query` holds the decoded query parameters only.
/// * `signed_headers` are the lowercase names, in the order the request's `SignedHeaders`
///   lists them (signers list them sorted). A listed header that is absent gives `name:`;
///   the server decides separately which headers must be present.
/// * Several values of one header are trimmed and joined by `,`.
pub fn v3_canonical_request<I, H>(
    method: &str,
    path: &str,
    query: I,
    headers: &H,
    signed_headers: &[&str],
    payload_sha256_hex: &str,
) -> String
where
    I: IntoIterator,
    I::Item: ParamPair,
    H: HeaderLookup + ?Sized,
{
    let query = v3_canonical_query(query);
    let mut out = String::with_capacity(256 + path.len() + query.len());
    out.push_str(method);
    out.push('\n');
    push_canonical_path(&mut out, path);
    out.push('\n');
    out.push_str(&query);
    out.push('\n');
    push_canonical_headers(&mut out, headers, signed_headers);
    out.push('\n');
    push_joined(&mut out, signed_headers, ';');
    out.push('\n');
    out.push_str(payload_sha256_hex);
    out
}

fn push_canonical_path(out: &mut String, path: &str) {
    if path.is_empty() {
        out.push('/');
        return;
    }
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        percent_encode_into(out, segment);
    }
}

fn push_canonical_headers<H: HeaderLookup + ?Sized>(out: &mut String, headers: &H, names: &[&str]) {
    for name in names {
        out.push_str(name);
        out.push(':');
        let mut first = true;
        headers.for_each_value(name, &mut |value| {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(value.trim());
        });
        out.push('\n');
    }
}

fn push_joined(out: &mut String, items: &[&str], separator: char) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(separator);
        }
        out.push_str(item);
    }
}

/// The V3 StringToSign: `ACS3-HMAC-SHA256\n` + hex SHA-256 of the canonical request.
pub fn v3_string_to_sign(canonical_request: &str) -> String {
    let mut out = String::with_capacity(V3_ALGORITHM.len() + 1 + SIGNATURE_HEX_LEN);
    out.push_str(V3_ALGORITHM);
    out.push('\n');
    let hash = digest::digest(&digest::SHA256, canonical_request.as_bytes());
    hex_lower_into(&mut out, hash.as_ref());
    out
}

/// An HMAC-SHA256 key made from an AccessKeySecret (used as is, with no `&`).
///
/// Opaque: no accessor, and `Debug` prints nothing of it.
pub struct V3SigningKey {
    key: hmac::Key,
}

impl V3SigningKey {
    /// Derives the key from `secret`.
    pub fn new(secret: &[u8]) -> Self {
        let material = Zeroizing::new(secret.to_vec());
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &material),
        }
    }

    /// The lowercase hex signature of `string_to_sign`.
    pub fn sign(&self, string_to_sign: &str) -> String {
        let mut out = String::with_capacity(SIGNATURE_HEX_LEN);
        hex_lower_into(
            &mut out,
            hmac::sign(&self.key, string_to_sign.as_bytes()).as_ref(),
        );
        out
    }

    /// Whether `signature` is exactly the lowercase hex this key gives for
    /// `string_to_sign`. Constant time in the signature bytes.
    pub fn verify(&self, string_to_sign: &str, signature: &str) -> bool {
        let tag = hmac::sign(&self.key, string_to_sign.as_bytes());
        let mut buf = [0u8; SIGNATURE_HEX_LEN];
        match hex_lower_in(tag.as_ref(), &mut buf) {
            Some(expected) => {
                constant_time::verify_slices_are_equal(expected, signature.as_bytes()).is_ok()
            }
            None => false,
        }
    }
}

impl std::fmt::Debug for V3SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("V3SigningKey(<redacted>)")
    }
}

/// The V3 signature of `string_to_sign` under `secret`: hex(HMAC-SHA256(secret)).
pub fn v3_signature(secret: &[u8], string_to_sign: &str) -> String {
    V3SigningKey::new(secret).sign(string_to_sign)
}

/// Whether `signature` is the V3 signature of `string_to_sign` under `secret`, compared in
/// constant time. Prefer a kept [`V3SigningKey`] when verifying often.
pub fn v3_verify(secret: &[u8], string_to_sign: &str, signature: &str) -> bool {
    V3SigningKey::new(secret).verify(string_to_sign, signature)
}

/// The `Authorization` header value a V3 signer sends.
pub fn v3_authorization(access_key_id: &str, signed_headers: &[&str], signature: &str) -> String {
    let mut out = String::with_capacity(128 + access_key_id.len() + SIGNATURE_HEX_LEN);
    out.push_str(V3_ALGORITHM);
    out.push_str(" Credential=");
    out.push_str(access_key_id);
    out.push_str(",SignedHeaders=");
    push_joined(&mut out, signed_headers, ';');
    out.push_str(",Signature=");
    out.push_str(signature);
    out
}

#[cfg(test)]
mod tests;
