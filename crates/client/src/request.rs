//! Building and signing one RPC V1 request, without sending it.
//!
//! Owns the common parameters the old Python SDK sends (spec §2.1, §9.3), where each
//! parameter travels (query or form body), the `Timestamp` and `SignatureNonce`, and the
//! test overrides ([`RawRequest`]). The output, [`PreparedRequest`], is plain data that can
//! be inspected or sent twice (to test nonce replay). Does not own the signature algorithm
//! (`openkms-sign`) or HTTP.

use openkms_sign::{V1SigningKey, percent_encode_into, v1_string_to_sign};
use time::OffsetDateTime;

use crate::config::AccessKeySecret;
use crate::error::ClientError;

/// The API version every request names.
pub const API_VERSION: &str = "2016-01-20";

/// `User-Agent` sent with every request.
const USER_AGENT: &str = concat!("openkms-client/", env!("CARGO_PKG_VERSION"));

/// The HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `POST`, what the SDKs send.
    #[default]
    Post,
}

impl HttpMethod {
    /// The method name, uppercase.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// Where the parameters travel. All of them are signed wherever they go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParamPlacement {
    /// Everything in the query string, empty body: the old Python SDK.
    #[default]
    Query,
    /// Business parameters in an `application/x-www-form-urlencoded` body, the common
    /// ones and `Signature` in the query: like the Tea SDK's body parameters.
    BusinessInBody,
    /// Everything, `Signature` included, in a form body; the query string is empty.
    AllInBody,
}

/// What to send as `Signature`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SignatureMode {
    /// The correct signature.
    #[default]
    Compute,
    /// No `Signature` parameter at all.
    Omit,
    /// This exact value.
    Fixed(String),
}

/// One request, with every knob a test may turn. `RawRequest::new(action)` gives what
/// [`Client::call`](crate::Client::call) sends.
#[derive(Debug, Default)]
pub struct RawRequest {
    /// The `Action`, e.g. `Encrypt`.
    pub action: String,
    /// Business parameters, in order, unencoded; one named like a common parameter
    /// (`Format`, `Timestamp`…) replaces it.
    pub params: Vec<(String, String)>,
    /// The HTTP method (POST unless set).
    pub method: HttpMethod,
    /// Where parameters travel.
    pub placement: ParamPlacement,
    /// Replaces the current `Timestamp` (sent as is, so it may be malformed on purpose).
    pub timestamp: Option<String>,
    /// Replaces the random `SignatureNonce`.
    pub nonce: Option<String>,
    /// Replaces the configured `AccessKeyId`.
    pub access_key_id: Option<String>,
    /// Signs with this secret instead of the configured one.
    pub signing_secret: Option<AccessKeySecret>,
    /// Appended after the common parameters and signed, e.g. a second `Version`.
    pub extra_params: Vec<(String, String)>,
    /// Parameters (common or not) left out by name, e.g. `Timestamp`.
    pub omit_params: Vec<String>,
    /// What to send as `Signature`.
    pub signature: SignatureMode,
    /// Extra HTTP headers (not signed in V1).
    pub extra_headers: Vec<(String, String)>,
    /// The API `Version` when not KMS's, e.g. RAM's `2015-05-01`.
    pub version: Option<String>,
}

impl RawRequest {
    /// A request for `action` with no business parameters and no overrides.
    pub fn new(action: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            ..Self::default()
        }
    }

    /// Adds a business parameter.
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }
}

/// A signed request ready to send; plain data with no secret in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedRequest {
    /// The HTTP method.
    pub method: HttpMethod,
    /// `/` or `/?k=v&…`, RFC 3986-encoded.
    pub path_and_query: String,
    /// The form-encoded body; `None` sends an empty body with no `Content-Type`.
    pub form_body: Option<String>,
    /// HTTP headers besides `Host`, `Content-Type` and `Content-Length`.
    pub headers: Vec<(String, String)>,
    /// The V1 StringToSign the signature was computed over (for tests and diagnostics).
    pub string_to_sign: String,
}

/// The configured identity a request is built with.
pub(crate) struct Identity<'a> {
    pub(crate) access_key_id: &'a str,
    pub(crate) region_id: &'a str,
    pub(crate) key: &'a V1SigningKey,
}

/// Builds and signs `req`.
pub(crate) fn prepare(
    identity: &Identity<'_>,
    req: RawRequest,
) -> Result<PreparedRequest, ClientError> {
    let common = common_params(identity, &req)?;
    let version = version_of(&req).to_owned();
    let keep = |(k, _): &(String, String)| !req.omit_params.iter().any(|o| o == k);
    let business: Vec<_> = req.params.into_iter().filter(keep).collect();
    // A business parameter named like a common one (`Format`) replaces it: a server refuses
    // a name given twice.
    let common: Vec<_> = common
        .into_iter()
        .filter(|(k, _)| !business.iter().any(|(b, _)| b == k))
        .chain(req.extra_params)
        .filter(keep)
        .collect();
    let string_to_sign = v1_string_to_sign(req.method.as_str(), business.iter().chain(&common));
    let signature = match req.signature {
        SignatureMode::Compute => match &req.signing_secret {
            Some(secret) => {
                Some(V1SigningKey::new(secret.expose_secret().as_bytes()).sign(&string_to_sign))
            }
            None => Some(identity.key.sign(&string_to_sign)),
        },
        SignatureMode::Omit => None,
        SignatureMode::Fixed(value) => Some(value),
    };
    let signature = signature.map(|s| ("Signature".to_owned(), s));
    let (query, body) = place(req.placement, business, common, signature);
    Ok(PreparedRequest {
        method: req.method,
        path_and_query: if query.is_empty() {
            "/".to_owned()
        } else {
            format!("/?{query}")
        },
        form_body: body,
        headers: headers(&req.action, &version, req.extra_headers),
        string_to_sign,
    })
}

/// The common parameters, in the old Python SDK's order.
fn common_params(
    identity: &Identity<'_>,
    req: &RawRequest,
) -> Result<Vec<(String, String)>, ClientError> {
    let timestamp = req
        .timestamp
        .clone()
        .unwrap_or_else(|| timestamp(OffsetDateTime::now_utc()));
    let nonce = match &req.nonce {
        Some(nonce) => nonce.clone(),
        None => random_nonce()?,
    };
    let access_key_id = req
        .access_key_id
        .as_deref()
        .unwrap_or(identity.access_key_id);
    let mut params = vec![
        ("Version", version_of(req).to_owned()),
        ("Action", req.action.clone()),
        ("Format", "JSON".to_owned()),
    ];
    if !identity.region_id.is_empty() {
        params.push(("RegionId", identity.region_id.to_owned()));
    }
    params.extend([
        ("Timestamp", timestamp),
        ("SignatureMethod", "HMAC-SHA1".to_owned()),
        ("SignatureType", String::new()),
        ("SignatureVersion", "1.0".to_owned()),
        ("SignatureNonce", nonce),
        ("AccessKeyId", access_key_id.to_owned()),
    ]);
    Ok(params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// Splits the parameters into the query string and the optional form body.
fn place(
    placement: ParamPlacement,
    business: Vec<(String, String)>,
    common: Vec<(String, String)>,
    signature: Option<(String, String)>,
) -> (String, Option<String>) {
    let common_and_sig = || common.iter().chain(signature.iter());
    match placement {
        ParamPlacement::Query => (encode_pairs(business.iter().chain(common_and_sig())), None),
        ParamPlacement::BusinessInBody => (
            encode_pairs(common_and_sig()),
            Some(encode_pairs(&business)),
        ),
        ParamPlacement::AllInBody => (
            String::new(),
            Some(encode_pairs(business.iter().chain(common_and_sig()))),
        ),
    }
}

/// `k=v&k=v` with RFC 3986 encoding (space as `%20`), as the old Python SDK sends.
fn encode_pairs<'a>(pairs: impl IntoIterator<Item = &'a (String, String)>) -> String {
    let mut out = String::with_capacity(512);
    for (i, (k, v)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(&mut out, k);
        out.push('=');
        percent_encode_into(&mut out, v);
    }
    out
}

/// The `Version` a request is sent with.
fn version_of(req: &RawRequest) -> &str {
    req.version.as_deref().unwrap_or(API_VERSION)
}

fn headers(action: &str, version: &str, extra: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut headers = vec![
        ("x-acs-action".to_owned(), action.to_owned()),
        ("x-acs-version".to_owned(), version.to_owned()),
        ("accept".to_owned(), "application/json".to_owned()),
        ("user-agent".to_owned(), USER_AGENT.to_owned()),
    ];
    headers.extend(extra);
    headers
}

/// `YYYY-MM-DDTHH:MM:SSZ` in UTC, the `Timestamp` every signed request carries.
pub fn timestamp(now: OffsetDateTime) -> String {
    let now = now.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// 32 lowercase hex digits from the system random generator: a fresh `SignatureNonce`.
pub fn random_nonce() -> Result<String, ClientError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| ClientError::Random)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests;
