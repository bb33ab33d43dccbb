//! Signature V3 (`ACS3-HMAC-SHA256`) verification (§3), the Tea SDK's default.
//!
//! The signed-header list is taken from the request's `Authorization` header; `host`,
//! `x-acs-date`, `x-acs-signature-nonce` and `x-acs-content-sha256` must be among the signed
//! headers, and so must every `x-acs-*` header the request carries and its `content-type`
//! (Alibaba's V3 rule, which the SDKs follow: otherwise an unsigned `x-acs-action` could turn
//! a request signed as Encrypt into a DisableKey). `x-acs-content-sha256` must be the
//! SHA-256 of the body actually received. Only
//! the query string is signed (not a form body, whose hash is). The algorithm lives in
//! `openkms-sign`.

use http::HeaderValue;
use openkms_core::KeyService;
use openkms_sign::{
    parse_authorization, sha256_hex, v3_canonical_request, v3_string_to_sign, v3_verify,
};

use super::{RequestView, Signed, active_credential, window};
use crate::rpc::RpcError;

/// Headers every V3 request must sign.
const REQUIRED_SIGNED: [&str; 4] = [
    "host",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
];

/// Whether every `x-acs-*` header the request carries, and its `content-type`, is signed.
fn signs_what_it_carries(
    request: &RequestView<'_>,
    auth: &openkms_sign::Authorization<'_>,
) -> bool {
    request
        .headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|name| name.starts_with("x-acs-") || *name == "content-type")
        .all(|name| auth.signs(name))
}

/// Verifies a V3-signed request at time `now`.
pub async fn verify<'a>(
    service: &KeyService,
    request: RequestView<'a>,
    authorization: &'a HeaderValue,
    now: i64,
    window_secs: i64,
) -> Result<Signed<'a>, RpcError> {
    let text = authorization
        .to_str()
        .map_err(|_| RpcError::IncompleteSignature)?;
    let auth = parse_authorization(text).map_err(|_| RpcError::IncompleteSignature)?;
    if REQUIRED_SIGNED.iter().any(|h| !auth.signs(h)) || !signs_what_it_carries(&request, &auth) {
        return Err(RpcError::IncompleteSignature);
    }
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
    let timestamp = window::check(
        header("x-acs-date").ok_or(RpcError::IncompleteSignature)?,
        now,
        window_secs,
    )?;
    let nonce = header("x-acs-signature-nonce").ok_or(RpcError::IncompleteSignature)?;
    let payload_hash = sha256_hex(request.body);
    if !header("x-acs-content-sha256").is_some_and(|h| h.eq_ignore_ascii_case(&payload_hash)) {
        return Err(RpcError::IncompleteSignature);
    }
    let credential = active_credential(service, auth.credential).await?;
    let query = request.params.query_pairs();
    let canonical = v3_canonical_request(
        request.method,
        "/",
        query,
        request.headers,
        &auth.signed_headers,
        &payload_hash,
    );
    let string_to_sign = v3_string_to_sign(&canonical);
    if !v3_verify(
        credential.secret.expose_secret(),
        &string_to_sign,
        auth.signature,
    ) {
        return Err(RpcError::SignatureMismatch(string_to_sign));
    }
    Ok(Signed {
        caller: super::caller_of(&credential),
        timestamp,
        nonce,
    })
}
