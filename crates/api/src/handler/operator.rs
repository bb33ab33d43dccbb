//! The operator endpoints on the wire (Shamir seal only; `docs/custody.md`):
//!
//! | request | body | answer |
//! |---|---|---|
//! | `GET /openkms/operator/status` | — | status |
//! | `POST /openkms/operator/init` | `{"Shares":5,"Threshold":3}` | `{"Shares":[…],"Threshold":3,"AccessKeyId":…,"AccessKeySecret":…}` |
//! | `POST /openkms/operator/unseal` | `{"Share":"okms1-…"}` | status |
//! | `POST /openkms/operator/seal` | — (V1-signed query, `Action=OperatorSeal`, root AccessKey) | status |
//!
//! A status is `{"Initialized":…,"Sealed":…,"Threshold":…,"Shares":…,"Progress":…}`; every
//! answer, success or error, is JSON with a `RequestId`, errors in Alibaba's format. init,
//! unseal and status cannot be signed (a sealed server has no AccessKey secrets), so init and
//! unseal are throttled per source and their bodies bounded; seal is signed by the root
//! AccessKey. Every request gets an audit line naming the action and the outcome — the body,
//! and so the share, is never in it, nor in any log or error message.

use bytes::Bytes;
use http::Method;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use openkms_core::{KmsError, SecretBytes};
use serde::{Deserialize, Serialize};

use super::{App, Call, screen};
use crate::audit::Facts;
use crate::auth::RequestView;
use crate::operator::{Initialized, Operator, Status};
use crate::rpc::reply::Rendered;
use crate::rpc::{Params, RpcError};

/// Where the operator endpoints live.
pub(super) const PREFIX: &str = "/openkms/operator/";
/// Largest operator request body: a share is under 100 bytes.
const MAX_OPERATOR_BODY: usize = 4096;
/// The `Action` a seal request signs, so that no other signed request can be replayed here.
const SEAL_ACTION: &str = "OperatorSeal";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct InitBody {
    shares: u32,
    threshold: u32,
}

/// No `Debug`: it holds a share.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct UnsealBody<'a> {
    share: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatusReply<'a> {
    initialized: bool,
    sealed: bool,
    threshold: u8,
    shares: u8,
    progress: u8,
    request_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InitReply<'a> {
    shares: Vec<&'a str>,
    threshold: u8,
    access_key_id: &'a str,
    access_key_secret: &'a str,
    request_id: &'a str,
}

impl App {
    /// Answers one request under [`PREFIX`].
    pub(super) async fn operator_call(
        &self,
        parts: &http::request::Parts,
        body: Incoming,
        params: Params,
        call: Call<'_>,
        facts: &mut Facts,
    ) -> Result<Rendered, RpcError> {
        let Some(op) = self.operator.as_deref() else {
            return Err(RpcError::NotFound);
        };
        let source = call.origin.source_ip;
        let name = parts.uri.path().strip_prefix(PREFIX).unwrap_or_default();
        facts.action = action_name(&parts.method, name);
        match (&parts.method, name) {
            (&Method::GET, "status") => Ok(status_reply(&op.status().await?, call.request_id)),
            (&Method::POST, "init") => {
                op.throttle().admit(source)?;
                let body = read_bounded(body).await?;
                let asked: InitBody = parse_json(&body, "Shares")?;
                let made = op.init(asked.shares, asked.threshold).await?;
                Ok(init_reply(&made, call.request_id))
            }
            (&Method::POST, "unseal") => {
                op.throttle().admit(source)?;
                let body = read_bounded(body).await?;
                let asked: UnsealBody<'_> = parse_json(&body, "Share")?;
                Ok(status_reply(
                    &op.unseal(asked.share).await?,
                    call.request_id,
                ))
            }
            (&Method::POST, "seal") => self.seal(op, parts, params, call, facts).await,
            _ => Err(RpcError::NotFound),
        }
    }

    /// Seals the node for a request signed by the root AccessKey; a sealed node just says so.
    async fn seal(
        &self,
        op: &Operator,
        parts: &http::request::Parts,
        params: Params,
        call: Call<'_>,
        facts: &mut Facts,
    ) -> Result<Rendered, RpcError> {
        facts.saw_claims(&params, &parts.headers);
        let Some(engine) = self.slot.engine() else {
            return Ok(status_reply(&op.status().await?, call.request_id));
        };
        screen(&params)?;
        let view = RequestView {
            method: parts.method.as_str(),
            params: &params,
            headers: &parts.headers,
            body: &[],
        };
        let caller = match self.auth.authenticate(engine.kms(), view).await {
            Ok(caller) => caller,
            Err(e) => return Err(self.limits.failed(e, call.origin.source_ip)),
        };
        facts.saw_caller(&caller);
        if params.optional("Action") != Some(SEAL_ACTION) {
            return Err(RpcError::InvalidParameter("Action"));
        }
        if !caller.is_root() {
            return Err(KmsError::Forbidden.into());
        }
        // This request's own reference must not keep the service alive.
        drop(engine);
        op.seal().await;
        Ok(status_reply(&op.status().await?, call.request_id))
    }
}

/// The audit line's action of an operator request.
fn action_name(method: &Method, name: &str) -> Option<&'static str> {
    match (method, name) {
        (&Method::GET, "status") => Some("OperatorStatus"),
        (&Method::POST, "init") => Some("OperatorInit"),
        (&Method::POST, "unseal") => Some("OperatorUnseal"),
        (&Method::POST, "seal") => Some(SEAL_ACTION),
        _ => None,
    }
}

/// The body, at most [`MAX_OPERATOR_BODY`] bytes, held wiped on drop.
async fn read_bounded(body: Incoming) -> Result<SecretBytes, RpcError> {
    match Limited::new(body, MAX_OPERATOR_BODY).collect().await {
        Ok(collected) => Ok(SecretBytes::new(Vec::from(collected.to_bytes()))),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(RpcError::BodyTooLarge),
        Err(_) => Err(RpcError::BodyUnreadable),
    }
}

/// The JSON body as `T`; anything else is `InvalidParameter` naming `field` (never echoing
/// the body).
fn parse_json<'a, T: Deserialize<'a>>(
    body: &'a SecretBytes,
    field: &'static str,
) -> Result<T, RpcError> {
    serde_json::from_slice(body.expose_secret()).map_err(|_| RpcError::InvalidParameter(field))
}

fn json(status: u16, body: Vec<u8>) -> Rendered {
    Rendered {
        status,
        content_type: "application/json;charset=utf-8",
        body: Bytes::from(body),
    }
}

fn status_reply(status: &Status, request_id: &str) -> Rendered {
    let reply = StatusReply {
        initialized: status.initialized,
        sealed: status.sealed,
        threshold: status.threshold,
        shares: status.shares,
        progress: status.progress,
        request_id,
    };
    json(200, serde_json::to_vec(&reply).unwrap_or_default())
}

/// The one answer that carries the shares and the root AccessKey secret.
fn init_reply(made: &Initialized, request_id: &str) -> Rendered {
    let shares: Vec<&str> = made.shares.iter().map(text).collect();
    let reply = InitReply {
        shares,
        threshold: made.threshold,
        access_key_id: &made.root_access_key.access_key_id,
        access_key_secret: text(&made.root_access_key.secret),
        request_id,
    };
    json(200, serde_json::to_vec(&reply).unwrap_or_default())
}

/// A secret's text form (shares and generated secrets are ASCII).
fn text(secret: &SecretBytes) -> &str {
    std::str::from_utf8(secret.expose_secret()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_named_for_the_audit_line() {
        assert_eq!(action_name(&Method::POST, "unseal"), Some("OperatorUnseal"));
        assert_eq!(action_name(&Method::GET, "unseal"), None);
        assert_eq!(action_name(&Method::GET, "status"), Some("OperatorStatus"));
    }

    #[test]
    fn a_body_that_is_not_the_expected_json_names_the_field_only() {
        let body = SecretBytes::new(br#"{"Share":"okms1-abc","Extra":1}"#.to_vec());
        let e = parse_json::<UnsealBody<'_>>(&body, "Share").err();
        let wire = e.map(|e| e.wire());
        assert_eq!(wire.as_ref().map(|w| w.code), Some("InvalidParameter"));
        assert!(wire.is_some_and(|w| !w.message.contains("okms1-abc")));
    }
}
