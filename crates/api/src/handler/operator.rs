//! The operator endpoints on the wire (Shamir seal only; `docs/custody.md`):
//!
//! | request | body | answer |
//! |---|---|---|
//! | `GET /openkms/operator/status` | — | status |
//! | `POST /openkms/operator/init` | `{"Shares":5,"Threshold":3,"InitToken":"…"}` | `{"Shares":[…],"Threshold":3,"AccessKeyId":…,"AccessKeySecret":…}` |
//! | `POST /openkms/operator/unseal` | `{"Share":"okms1-…"}` | status |
//! | `POST /openkms/operator/seal` | — (V1-signed query, `Action=OperatorSeal`, root AccessKey) | status |
//!
//! A status is `{"Initialized":…,"Sealed":…,"Threshold":…,"Shares":…,"Progress":…}`; every
//! answer, success or error, is JSON with a `RequestId`, errors in Alibaba's format. init,
//! unseal and status cannot be signed (a sealed server has no AccessKey secrets): init carries
//! the node's one-time init token instead, refused init and unseal requests are throttled per
//! source (accepted ones never are), and their bodies are bounded in size and in time (the
//! API's body deadline); seal is signed by the root AccessKey. Every request gets an audit
//! line naming the action and the outcome; the lines of init and unseal requests a sealed node
//! looked at, and of authenticated seal requests, are always written in full (never folded
//! into a flood summary); a throttled one, one that failed on the server's side, an init or
//! unseal sent to an unsealed node and an unauthenticated seal are budgeted as any
//! unauthenticated request. init's line is written before the shares are sent, and no init,
//! unseal or seal happens while the audit volume has no room for its line. The body,
//! and so the share or token, is never in it, nor in any log or error message.

use bytes::Bytes;
use http::Method;
use hyper::body::Incoming;
use openkms_core::{KmsError, SecretBytes};
use serde::{Deserialize, Serialize};

use super::{App, Call, screen};
use crate::audit::Facts;
use crate::auth::RequestView;
use crate::operator::{Initialized, Operator, OperatorError, Status};
use crate::rpc::reply::{Rendered, Wiped};
use crate::rpc::{Params, RpcError};

/// Where the operator endpoints live.
pub(super) const PREFIX: &str = "/openkms/operator/";
/// Largest operator request body: a share is under 100 bytes.
const MAX_OPERATOR_BODY: usize = 4096;
/// The `Action` a seal request signs, so that no other signed request can be replayed here.
const SEAL_ACTION: &str = "OperatorSeal";

/// No `Debug`: it holds the init token.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct InitBody<'a> {
    shares: u32,
    threshold: u32,
    /// Missing is refused as a wrong token is (`InvalidInitToken`), not as malformed JSON.
    #[serde(default)]
    init_token: Option<&'a str>,
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
        let charge = |e: RpcError| match is_refusal(&e) {
            true => op.throttle().refused(e, source),
            false => e,
        };
        match (&parts.method, name) {
            (&Method::GET, "status") => Ok(status_reply(&op.status().await?, call.request_id)),
            (&Method::POST, "init") => {
                // An unsealed node is initialised: no step of a ceremony either.
                let sealed = self.slot.is_sealed();
                let made = self.init(op, body).await.map_err(charge);
                facts.always_written = sealed && ceremony_step(made.as_ref().err());
                Ok(init_reply(&made?, call.request_id))
            }
            (&Method::POST, "unseal") => {
                // An unsealed node does not look at the share: no step of a ceremony.
                let sealed = self.slot.is_sealed();
                let status = self.unseal(op, body).await.map_err(charge);
                facts.always_written = sealed && ceremony_step(status.as_ref().err());
                Ok(status_reply(&status?, call.request_id))
            }
            (&Method::POST, "seal") => self.seal(op, parts, params, call, facts).await,
            _ => Err(RpcError::NotFound),
        }
    }

    /// Checks the init token and initialises; refused before anything is made when the audit
    /// line (written before the reply) could not be.
    async fn init(&self, op: &Operator, body: Incoming) -> Result<Initialized, RpcError> {
        let body = self.read_bounded(body).await?;
        let asked: InitBody<'_> = parse_json(&body, "Shares")?;
        if !self.audit_has_room() {
            return Err(RpcError::AuditUnavailable);
        }
        let token = asked.init_token.unwrap_or_default().as_bytes();
        Ok(op.init(token, asked.shares, asked.threshold).await?)
    }

    async fn unseal(&self, op: &Operator, body: Incoming) -> Result<Status, RpcError> {
        let body = self.read_bounded(body).await?;
        let asked: UnsealBody<'_> = parse_json(&body, "Share")?;
        // The step must not happen without its audit line.
        if !self.audit_has_room() {
            return Err(RpcError::AuditUnavailable);
        }
        Ok(op.unseal(asked.share).await?)
    }

    /// The body, at most [`MAX_OPERATOR_BODY`] bytes within the body deadline, held wiped
    /// on drop.
    async fn read_bounded(&self, body: Incoming) -> Result<SecretBytes, RpcError> {
        let body = self.read_limited(body, MAX_OPERATOR_BODY).await?;
        let copy = SecretBytes::new(body.to_vec());
        // The collected body, when this is its only reference, is wiped too.
        if let Ok(mut collected) = body.try_into_mut() {
            zeroize::Zeroize::zeroize(collected.as_mut());
        }
        Ok(copy)
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
        // Unauthenticated lines stay under the flood budget (a failed or malformed seal
        // request is no ceremony step); an authenticated one is always written.
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
        if !self.audit_has_room() {
            return Err(RpcError::AuditUnavailable);
        }
        // This request's own reference must not keep the service alive.
        drop(engine);
        op.seal().await;
        Ok(status_reply(&op.status().await?, call.request_id))
    }
}

/// Whether `e` refuses what the client sent (charged to its source's budget), rather than
/// being the server's own failure.
fn is_refusal(e: &RpcError) -> bool {
    !matches!(
        e,
        RpcError::AuditUnavailable
            | RpcError::Operator(
                OperatorError::Store(_) | OperatorError::Open | OperatorError::Kms(_)
            )
    )
}

/// Whether a request of init, unseal or seal that ended in `error` (if any) is a step of a
/// ceremony, whose audit line is always written in full (never folded into the
/// unauthenticated flood's summary): every outcome except `Throttling`, which did nothing and
/// whose lines the flood budget keeps bounded.
fn ceremony_step(error: Option<&RpcError>) -> bool {
    match error {
        None => true,
        // Throttled, or failed on the server's side (the store down): nothing the client
        // did was looked at, and such lines must not escape the flood budget.
        Some(e) => !matches!(e, RpcError::SourceThrottled) && is_refusal(e),
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

/// The one answer that carries the shares and the root AccessKey secret: written into a
/// buffer sized once (no reallocation leaves a copy) and wiped once sent.
fn init_reply(made: &Initialized, request_id: &str) -> Rendered {
    let shares: Vec<&str> = made.shares.iter().map(text).collect();
    let reply = InitReply {
        shares,
        threshold: made.threshold,
        access_key_id: &made.root_access_key.access_key_id,
        access_key_secret: text(&made.root_access_key.secret),
        request_id,
    };
    let secrets: usize = made.shares.iter().map(|s| s.len() + 3).sum();
    let mut body = Vec::with_capacity(256 + secrets + made.root_access_key.secret.len());
    // Serializing strings and numbers into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut body, &reply);
    Rendered {
        status: 200,
        content_type: "application/json;charset=utf-8",
        body: Bytes::from_owner(Wiped(body)),
    }
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
