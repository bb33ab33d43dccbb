//! Signature V1 (RPC, HMAC-SHA1) verification (§2).
//!
//! Recomputes the StringToSign from every parameter except `Signature`, with the real HTTP
//! method, sorted by raw name in code-point order or, where the SDKs disagree, UTF-16 order
//! (`V1SigningKey::verify_params` says why both), and compares signatures in constant time. A mismatch reports the server's
//! StringToSign, as the SDKs expect (§2.4). The algorithm itself lives in `openkms-sign`,
//! shared with the client.

use openkms_core::KeyService;
use openkms_sign::V1SigningKey;

use super::{RequestView, Signed, window};
use crate::rpc::RpcError;

/// Verifies a V1-signed request at time `now`.
pub async fn verify<'a>(
    service: &KeyService,
    request: RequestView<'a>,
    now: i64,
    window_secs: i64,
) -> Result<Signed<'a>, RpcError> {
    let p = request.params;
    let signature = p.required("Signature")?;
    let access_key_id = p.required("AccessKeyId")?;
    let nonce = p.required("SignatureNonce")?;
    check_method(
        p.required("SignatureMethod")?,
        p.required("SignatureVersion")?,
    )?;
    let timestamp = window::check(p.required("Timestamp")?, now, window_secs)?;
    let credential = super::active_credential(service, access_key_id).await?;
    credential
        .derived(V1SigningKey::new)
        .verify_params(request.method, p.pairs(), signature)
        .map_err(RpcError::SignatureMismatch)?;
    Ok(Signed {
        caller: super::caller_of(&credential),
        timestamp,
        nonce,
    })
}

fn check_method(method: &str, version: &str) -> Result<(), RpcError> {
    if method != "HMAC-SHA1" {
        return Err(RpcError::invalid("SignatureMethod"));
    }
    if version != "1.0" {
        return Err(RpcError::invalid("SignatureVersion"));
    }
    Ok(())
}
