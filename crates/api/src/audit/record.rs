//! What one audit line says about one request, and what it may never say.
//!
//! The handler fills [`Facts`] as it learns them (the claimed or authenticated caller, the
//! action, the key), then [`Record`] adds the request's identity, outcome and timing and
//! renders the JSON object the writer chains. Only identifiers go in: the claimed AccessKeyId,
//! the action, and the key as the operation's typed audit event names it — never a body, plaintext, ciphertext, key material or secret. Values a
//! client chose (a claimed AccessKeyId, a KeyId) are bounded in length; JSON escaping keeps
//! them on one line. Chaining and writing are done elsewhere.

use std::net::SocketAddr;

use http::HeaderMap;
use serde::Serialize;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::auth::Caller;
use crate::rpc::Params;
use openkms_ops::AuditEvent;

/// Longest client-chosen value kept (an alias ARN is about 330 bytes); the operations' audit
/// events keep names to the same bound.
const MAX_ID_BYTES: usize = openkms_ops::MAX_AUDIT_NAME_BYTES;

/// Longest claimed value kept in the line of a request that did not authenticate, counted
/// in bytes as written (after JSON escaping): anyone can send those, so they stay small.
pub const COMPACT_ID_BYTES: usize = 64;

/// Upper bound of the line of a request that did not authenticate, `seq`, `prev` and the
/// final newline included (checked by a test against the longest such line).
pub const MAX_COMPACT_LINE: usize = 768;

/// What the handler learned about a request that goes into its audit line.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    /// The action, once it names one this server serves (even if the request was refused).
    pub action: Option<&'static str>,
    /// The AccessKeyId: authenticated, or as claimed by a request that failed authentication.
    pub access_key_id: Option<String>,
    /// The user owning the AccessKey; set only once the request authenticated.
    pub user: Option<String>,
    /// The key and version: as the request named them, then as the operation used them.
    pub event: AuditEvent,
    /// `OK`, or the Alibaba error `Code` the request ended in.
    pub outcome: Option<&'static str>,
    /// Written whatever the unauthenticated flood budget says (the operator's init, unseal
    /// and seal: a ceremony must never be left out of the log).
    pub always_written: bool,
    /// The front end the request came through when it is not the API: the web console, with
    /// the session's public handle (never the session id, which is a bearer secret).
    pub via: Option<Via>,
}

/// A request that came through another front end than the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// The front end, e.g. `console`.
    pub front_end: &'static str,
    /// The public handle of the signed-in session (random, not the session id), so that every
    /// line of one console session can be found.
    pub session: String,
}

impl Facts {
    /// Notes who the request claims to come from: the AccessKeyId of a V1 request's
    /// parameters or of a V3 `Authorization` header (the authenticated caller replaces it).
    pub fn saw_claims(&mut self, params: &Params, headers: &HeaderMap) {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let v3_credential = header(http::header::AUTHORIZATION.as_str())
            .and_then(|a| openkms_sign::parse_authorization(a).ok())
            .map(|a| a.credential);
        let claimed = params.optional("AccessKeyId").or(v3_credential);
        self.access_key_id = claimed.map(bounded);
    }

    /// Notes the authenticated caller.
    pub fn saw_caller(&mut self, caller: &Caller) {
        self.access_key_id = Some(caller.access_key_id.clone());
        self.user = Some(caller.user.clone());
    }
}

/// One request's audit record, before it is chained.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    /// When the request arrived.
    pub time: OffsetDateTime,
    /// The `RequestId` the reply carried.
    pub request_id: &'a str,
    /// The client's address (the peer of the TCP connection).
    pub source: Option<SocketAddr>,
    /// Caller, action, key and outcome.
    pub facts: &'a Facts,
    /// The HTTP status of the reply.
    pub status: u16,
    /// Time from arrival to the reply being ready (the audit write excluded), microseconds.
    pub latency_us: u64,
}

/// The members of a line after `seq` and `prev`, in this order.
#[derive(Serialize)]
struct Members<'a> {
    time: &'a str,
    request_id: &'a str,
    access_key_id: Option<&'a str>,
    user: Option<&'a str>,
    source: Option<SocketAddr>,
    action: Option<&'a str>,
    key_id: Option<&'a str>,
    key_version_id: Option<&'a str>,
    /// Present only on a ReEncrypt's line once it ran: the key that opened its source.
    #[serde(skip_serializing_if = "Option::is_none")]
    source_key_id: Option<&'a str>,
    /// With `source_key_id`: the version of it that opened the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    source_key_version_id: Option<&'a str>,
    outcome: Option<&'a str>,
    status: u16,
    latency_us: u64,
    /// Present only on lines of requests made through another front end (the console).
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<&'a str>,
    /// The console session's public handle, with `via`.
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<&'a str>,
    /// Present (and true) only when a claimed value was cut.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
}

impl Record<'_> {
    /// Whether the request authenticated: its caller is known. The others (bad signature,
    /// unknown AccessKey, unsigned or undecodable requests) are written compactly and may be
    /// summarised instead of written one by one (see `docs/audit.md`).
    pub fn authenticated(&self) -> bool {
        self.facts.user.is_some()
    }

    /// The record as a JSON object on one line, members in a fixed order. For a request
    /// that did not authenticate, claimed values are cut to [`COMPACT_ID_BYTES`] as written,
    /// and `truncated` says when one was.
    pub fn to_json(&self) -> String {
        let f = self.facts;
        let full = self.authenticated();
        let (access_key_id, cut_ak) = claim(full, f.access_key_id.as_deref());
        let (key_id, cut_key) = claim(full, f.event.key_id.as_deref());
        let (key_version_id, cut_version) = claim(full, f.event.key_version_id.as_deref());
        let members = Members {
            time: &timestamp(self.time),
            request_id: self.request_id,
            access_key_id,
            user: f.user.as_deref(),
            source: self.source,
            action: f.action,
            key_id,
            key_version_id,
            source_key_id: f.event.source_key_id.as_deref(),
            source_key_version_id: f.event.source_key_version_id.as_deref(),
            outcome: f.outcome,
            status: self.status,
            latency_us: self.latency_us,
            via: f.via.as_ref().map(|v| v.front_end),
            session: f.via.as_ref().map(|v| v.session.as_str()),
            truncated: cut_ak || cut_key || cut_version,
        };
        // Serializing strings, numbers and an address cannot fail.
        serde_json::to_string(&members).unwrap_or_default()
    }
}

/// `value` as written in the line: whole when the request authenticated, else
/// [`compact`]ed; and whether it was cut.
fn claim(full: bool, value: Option<&str>) -> (Option<&str>, bool) {
    match value {
        Some(v) if !full => {
            let (cut, was_cut) = compact(v);
            (Some(cut), was_cut)
        }
        other => (other, false),
    }
}

/// The longest prefix of `value` whose JSON-escaped form fits [`COMPACT_ID_BYTES`], and
/// whether that cut anything.
fn compact(value: &str) -> (&str, bool) {
    let mut written = 0;
    for (i, c) in value.char_indices() {
        written += escaped_len(c);
        if written > COMPACT_ID_BYTES {
            return (&value[..i], true);
        }
    }
    (value, false)
}

/// Bytes `c` takes in a JSON string as `serde_json` writes it.
fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
        '\0'..='\u{1f}' => 6,
        _ => c.len_utf8(),
    }
}

/// UTC with milliseconds, as lines carry it (for the log's own event lines).
pub fn now_timestamp() -> String {
    timestamp(OffsetDateTime::now_utc())
}

/// UTC with milliseconds: `2025-01-31T08:09:10.123Z`.
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let Ok(year) = u16::try_from(t.year()) else {
        return timestamp_slow(t);
    };
    if year > 9999 {
        return timestamp_slow(t);
    }
    // Written digit by digit: on every request, and the `time` formatter costs more.
    let mut out = String::with_capacity(24);
    let mut digits = |n: u16, width: u32, sep: char| {
        for i in (0..width).rev() {
            out.push(char::from(b'0' + (n / 10u16.pow(i) % 10) as u8));
        }
        out.push(sep);
    };
    digits(year, 4, '-');
    digits(u16::from(u8::from(t.month())), 2, '-');
    digits(u16::from(t.day()), 2, 'T');
    digits(u16::from(t.hour()), 2, ':');
    digits(u16::from(t.minute()), 2, ':');
    digits(u16::from(t.second()), 2, '.');
    digits(t.millisecond(), 3, 'Z');
    out
}

/// [`timestamp`] for years outside 0..=9999, through the `time` formatter.
fn timestamp_slow(t: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&format).unwrap_or_default()
}

/// `value`, cut to at most [`MAX_ID_BYTES`] on a character boundary.
fn bounded(value: &str) -> String {
    let mut end = value.len().min(MAX_ID_BYTES);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use openkms_core::service::{EncryptOutput, ReEncryptOutput};
    use openkms_core::{EncryptionContext, KeyRef, SecretBytes};
    use openkms_ops::Operation;
    use openkms_ops::kms::{Encrypt, ReEncrypt};

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn record_has_only_identifiers() {
        let p = params(&[
            ("Action", "Encrypt"),
            ("AccessKeyId", "LTAIclaimed"),
            ("KeyId", "alias/app"),
            ("Plaintext", "c2VjcmV0IHBsYWludGV4dA=="),
            ("Signature", "sig/sig="),
        ]);
        let mut facts = Facts {
            action: Some("Encrypt"),
            ..Facts::default()
        };
        facts.saw_claims(&p, &HeaderMap::new());
        facts.saw_caller(&Caller {
            access_key_id: "LTAIclaimed".into(),
            user: "root".into(),
        });
        let output = EncryptOutput {
            key_id: "k-1".into(),
            version_id: "v-1".into(),
            blob: b"cipher".to_vec(),
        };
        Encrypt::audit_output(&output, &mut facts.event);
        facts.outcome = Some("OK");
        let record = Record {
            time: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
            request_id: "RID",
            source: Some("10.0.0.1:5555".parse().unwrap()),
            facts: &facts,
            status: 200,
            latency_us: 42,
        };
        let text = record.to_json();
        assert_eq!(
            text,
            "{\"time\":\"2023-11-14T22:13:20.000Z\",\"request_id\":\"RID\",\
             \"access_key_id\":\"LTAIclaimed\",\"user\":\"root\",\"source\":\"10.0.0.1:5555\",\
             \"action\":\"Encrypt\",\"key_id\":\"k-1\",\"key_version_id\":\"v-1\",\
             \"outcome\":\"OK\",\"status\":200,\"latency_us\":42}"
        );
        for secret in ["c2VjcmV0", "Y2lwaGVy", "sig/sig"] {
            assert!(!text.contains(secret), "{secret}");
        }
    }

    #[test]
    fn re_encrypt_names_the_key_that_opened_its_source() {
        let mut facts = Facts {
            action: Some("ReEncrypt"),
            user: Some("root".into()),
            ..Facts::default()
        };
        let output = ReEncryptOutput {
            source_key_id: "k-old".into(),
            source_version_id: "v-old".into(),
            sealed: EncryptOutput {
                key_id: "k-new".into(),
                version_id: "v-new".into(),
                blob: b"cipher".to_vec(),
            },
        };
        ReEncrypt::audit_output(&output, &mut facts.event);
        let record = Record {
            time: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
            request_id: "RID",
            source: None,
            facts: &facts,
            status: 200,
            latency_us: 7,
        };
        assert!(record.to_json().contains(
            "\"key_id\":\"k-new\",\"key_version_id\":\"v-new\",\
             \"source_key_id\":\"k-old\",\"source_key_version_id\":\"v-old\",\"outcome\""
        ));
    }

    #[test]
    fn refused_request_keeps_the_claims_bounded() {
        let long = format!("{}\n\"é", "k".repeat(600));
        let p = params(&[("Action", "NoSuchAction"), ("KeyId", &long)]);
        let mut headers = HeaderMap::new();
        let auth = format!(
            "ACS3-HMAC-SHA256 Credential=LTAIv3,SignedHeaders=host,Signature={}",
            "a".repeat(64)
        );
        headers.insert(http::header::AUTHORIZATION, auth.parse().unwrap());
        let mut facts = Facts::default();
        facts.saw_claims(&p, &headers);
        let named = Encrypt {
            key: KeyRef::Id(p.get("KeyId").unwrap().to_owned()),
            plaintext: SecretBytes::new(Vec::new()),
            context: EncryptionContext::empty(),
        };
        named.audit_request(&mut facts.event);
        assert_eq!(facts.action, None);
        assert_eq!(facts.access_key_id.as_deref(), Some("LTAIv3"));
        assert_eq!(facts.user, None);
        assert_eq!(facts.event.key_id.as_ref().unwrap().len(), MAX_ID_BYTES);
        let record = Record {
            time: OffsetDateTime::UNIX_EPOCH,
            request_id: "R",
            source: None,
            facts: &facts,
            status: 400,
            latency_us: 0,
        };
        assert!(!record.to_json().contains('\n'));
    }

    #[test]
    fn unauthenticated_lines_are_compact_and_say_so() {
        let claimed = "\u{1}".repeat(4096);
        let mut facts = Facts {
            action: Some("A".repeat(64).leak()),
            access_key_id: Some(claimed.clone()),
            outcome: Some("O".repeat(64).leak()),
            ..Facts::default()
        };
        facts.event.key_id = Some(format!("\"{}", "k".repeat(4096)));
        facts.event.key_version_id = Some("é".repeat(4096));
        let source = "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535";
        let record = Record {
            time: OffsetDateTime::from_unix_timestamp(253_402_300_799).unwrap(),
            request_id: "7AF9A6E2-C0B6-43FB-87D2-C335921A5BAF",
            source: Some(source.parse().unwrap()),
            facts: &facts,
            status: 500,
            latency_us: u64::MAX,
        };
        let body = record.to_json();
        let link = crate::audit::Link {
            seq: u64::MAX - 1,
            hash: "f".repeat(64),
        };
        let mut line = Vec::new();
        link.append(&body, &mut line);
        assert!(line.len() <= MAX_COMPACT_LINE, "{}", line.len());
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["truncated"], true);
        for member in ["access_key_id", "key_id", "key_version_id"] {
            let written = serde_json::to_string(&v[member]).unwrap().len() - 2;
            assert!(written <= COMPACT_ID_BYTES, "{member}: {written}");
        }
        // Authenticated: whole, and no `truncated` member.
        let time = record.time;
        facts.user = Some("root".into());
        facts.access_key_id = Some("k".repeat(200));
        let record = Record {
            time,
            request_id: "R",
            source: None,
            facts: &facts,
            status: 200,
            latency_us: 1,
        };
        let v: serde_json::Value = serde_json::from_str(&record.to_json()).unwrap();
        assert_eq!(v["access_key_id"].as_str().unwrap().len(), 200);
        assert!(v.get("truncated").is_none());
    }

    #[test]
    fn console_lines_say_so_and_api_lines_are_unchanged() {
        let mut facts = Facts {
            action: Some("CreateKey"),
            user: Some("alice".into()),
            outcome: Some("OK"),
            ..Facts::default()
        };
        let line = |facts: &Facts| {
            Record {
                time: OffsetDateTime::UNIX_EPOCH,
                request_id: "R",
                source: None,
                facts,
                status: 200,
                latency_us: 1,
            }
            .to_json()
        };
        let api = line(&facts);
        assert!(!api.contains("via") && !api.contains("session"), "{api}");
        facts.via = Some(Via {
            front_end: "console",
            session: "h4ndle".into(),
        });
        let console = line(&facts);
        assert!(
            console.ends_with(",\"latency_us\":1,\"via\":\"console\",\"session\":\"h4ndle\"}"),
            "{console}"
        );
    }

    #[test]
    fn timestamps_match_the_formatter() {
        let times = [
            OffsetDateTime::UNIX_EPOCH,
            OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_987_654_321).unwrap(),
            OffsetDateTime::from_unix_timestamp_nanos(253_402_300_799_999_999).unwrap(),
            OffsetDateTime::from_unix_timestamp(-1).unwrap(),
            OffsetDateTime::from_unix_timestamp(1_000_000_000)
                .unwrap()
                .to_offset(time::macros::offset!(+8)),
        ];
        for t in times {
            let expected = timestamp_slow(t.to_offset(time::UtcOffset::UTC));
            assert_eq!(timestamp(t), expected);
        }
        assert_eq!(
            timestamp(OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()),
            "2023-11-14T22:13:20.000Z"
        );
    }
}
