//! A lean V1 signer, so that the bench is not its own bottleneck.
//!
//! A request of the bench differs from the previous one of the same operation only in its
//! `Timestamp`, its `SignatureNonce` and (round-robin over keys) its `KeyId`. Parameter names
//! are all distinct, so their signing order never depends on these values: the StringToSign
//! and the query string are rendered once per operation with placeholders (by the shared
//! `openkms-sign` algorithm), split at the placeholders, and each request only fills in its
//! values, computes the HMAC-SHA1 with a kept key and appends `Signature`. The output is
//! byte for byte what `openkms-client` sends (a test checks it), so every request carries a
//! real, fresh signature. Sending is [`super::transport`]'s job.

use anyhow::bail;
use openkms_sign::{V1SigningKey, percent_encode, percent_encode_into, v1_string_to_sign};
use time::OffsetDateTime;

/// Placeholders: unreserved characters only, so encoding leaves them unchanged and they can
/// be found in the rendered strings.
const PLACEHOLDERS: [(&str, Slot); 3] = [
    ("zzOPENKMSxBENCHxTIMESTAMPzz", Slot::Timestamp),
    ("zzOPENKMSxBENCHxNONCEzz", Slot::Nonce),
    ("zzOPENKMSxBENCHxKEYIDzz", Slot::KeyId),
];

/// The placeholder that stands for the KeyId in business parameters.
pub const KEY_ID_SLOT: &str = PLACEHOLDERS[2].0;

/// The API version every request names.
const API_VERSION: &str = "2016-01-20";

/// A value filled in per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Timestamp,
    Nonce,
    KeyId,
}

/// A rendered string cut at its placeholders.
#[derive(Debug)]
struct Template {
    /// Literal text, then the slot that follows it (none after the last piece).
    parts: Vec<(String, Option<Slot>)>,
}

/// What one request fills in.
#[derive(Debug)]
pub struct Values<'a> {
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub timestamp: &'a str,
    /// 32 lowercase hex digits.
    pub nonce: &'a str,
    /// The key of this request ("" when the operation names none).
    pub key_id: &'a str,
}

impl Template {
    /// Splits `rendered` at each placeholder; each used slot must occur exactly once.
    fn split(rendered: &str) -> anyhow::Result<Self> {
        let mut parts = Vec::new();
        let mut rest = rendered;
        loop {
            let next = PLACEHOLDERS
                .iter()
                .filter_map(|(p, slot)| rest.find(p).map(|at| (at, p.len(), *slot)))
                .min_by_key(|(at, _, _)| *at);
            let Some((at, len, slot)) = next else { break };
            if parts.iter().any(|(_, s)| *s == Some(slot)) {
                bail!("a request parameter contains a bench placeholder");
            }
            parts.push((rest[..at].to_owned(), Some(slot)));
            rest = &rest[at + len..];
        }
        parts.push((rest.to_owned(), None));
        Ok(Self { parts })
    }

    /// Appends the template with `values` encoded `times` times (1 for the query, 2 for the
    /// StringToSign).
    fn render_into(&self, out: &mut String, values: &Values<'_>, times: u8) {
        for (literal, slot) in &self.parts {
            out.push_str(literal);
            let value = match slot {
                None => continue,
                Some(Slot::Timestamp) => values.timestamp,
                Some(Slot::Nonce) => values.nonce,
                Some(Slot::KeyId) => values.key_id,
            };
            match times {
                1 => percent_encode_into(out, value),
                _ => percent_encode_into(out, &percent_encode(value)),
            }
        }
    }

    fn len(&self) -> usize {
        self.parts.iter().map(|(l, _)| l.len()).sum()
    }
}

/// One operation's request, ready to be signed many times.
#[derive(Debug)]
pub struct Form {
    string_to_sign: Template,
    query: Template,
}

impl Form {
    /// Builds the form of `action` with `business` parameters (a value may be
    /// [`KEY_ID_SLOT`]), sent by `access_key_id` in `region_id`, all in the query like the
    /// old Python SDK and `openkms-client`.
    pub fn new(
        action: &str,
        business: &[(&str, &str)],
        access_key_id: &str,
        region_id: &str,
    ) -> anyhow::Result<Self> {
        let mut pairs: Vec<(&str, &str)> = business.to_vec();
        pairs.extend([
            ("Version", API_VERSION),
            ("Action", action),
            ("Format", "JSON"),
        ]);
        if !region_id.is_empty() {
            pairs.push(("RegionId", region_id));
        }
        pairs.extend([
            ("Timestamp", PLACEHOLDERS[0].0),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureType", ""),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", PLACEHOLDERS[1].0),
            ("AccessKeyId", access_key_id),
        ]);
        let mut query = String::new();
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                query.push('&');
            }
            percent_encode_into(&mut query, k);
            query.push('=');
            percent_encode_into(&mut query, v);
        }
        Ok(Self {
            string_to_sign: Template::split(&v1_string_to_sign("POST", &pairs))?,
            query: Template::split(&query)?,
        })
    }

    /// The path and query of one request signed with `key`: `/?…&Signature=…`.
    pub fn sign(&self, key: &V1SigningKey, values: &Values<'_>) -> String {
        let mut sts = String::with_capacity(self.string_to_sign.len() + 160);
        self.string_to_sign.render_into(&mut sts, values, 2);
        let signature = key.sign(&sts);
        let mut out = String::with_capacity(self.query.len() + 160);
        out.push_str("/?");
        self.query.render_into(&mut out, values, 1);
        out.push_str("&Signature=");
        percent_encode_into(&mut out, &signature);
        out
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` in UTC, now (the client's format, so both signers agree).
pub fn timestamp_now() -> String {
    openkms_client::timestamp(OffsetDateTime::now_utc())
}

/// A fresh 32-hex-digit `SignatureNonce`, as the client makes it.
pub fn fresh_nonce() -> anyhow::Result<String> {
    openkms_client::random_nonce().map_err(|_| anyhow::anyhow!("no system randomness"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openkms_client::{AccessKeySecret, Client, ClientConfig, RawRequest};

    const SECRET: &str = "testsecret";

    /// An action, its business parameters and the KeyId filled in.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

    fn reference(action: &str, business: &[(&str, &str)], v: &Values<'_>) -> (String, String) {
        let client = Client::new(ClientConfig {
            endpoint: "http://127.0.0.1:1".into(),
            ca_file: None,
            access_key_id: "testakid".into(),
            access_key_secret: AccessKeySecret::new(SECRET),
            region_id: "cn-hangzhou".into(),
        })
        .unwrap();
        let mut raw = RawRequest::new(action);
        raw.params = business
            .iter()
            .map(|(k, val)| (k.to_string(), val.replace(KEY_ID_SLOT, v.key_id)))
            .collect();
        raw.timestamp = Some(v.timestamp.to_owned());
        raw.nonce = Some(v.nonce.to_owned());
        let p = client.prepare(raw).unwrap();
        (p.path_and_query, p.string_to_sign)
    }

    #[test]
    fn same_bytes_as_the_client() {
        let key = V1SigningKey::new(SECRET.as_bytes());
        let cases: [Case<'_>; 3] = [
            (
                "Encrypt",
                vec![("KeyId", KEY_ID_SLOT), ("Plaintext", "aGk+/= x*~")],
                "alias/a b",
            ),
            ("Decrypt", vec![("CiphertextBlob", "AAEC+/8=")], ""),
            ("CreateKey", vec![("Description", "openkms bench")], ""),
        ];
        for (action, business, key_id) in cases {
            let form = Form::new(action, &business, "testakid", "cn-hangzhou").unwrap();
            let nonce = fresh_nonce().unwrap();
            let v = Values {
                timestamp: "2024-01-01T00:00:00Z",
                nonce: &nonce,
                key_id,
            };
            let (query, sts) = reference(action, &business, &v);
            assert_eq!(form.sign(&key, &v), query, "{action}");
            let mut mine = String::new();
            form.string_to_sign.render_into(&mut mine, &v, 2);
            assert_eq!(mine, sts, "{action}");
        }
    }

    #[test]
    fn placeholders_in_values_are_refused() {
        let business = [("Plaintext", KEY_ID_SLOT), ("KeyId", KEY_ID_SLOT)];
        assert!(Form::new("Encrypt", &business, "ak", "").is_err());
    }

    #[test]
    fn timestamp_and_nonce_shapes() {
        let t = timestamp_now();
        assert_eq!((t.len(), &t[10..11], &t[19..]), (20, "T", "Z"));
        let n = fresh_nonce().unwrap();
        assert!(n.len() == 32 && n.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(n, fresh_nonce().unwrap());
    }
}
